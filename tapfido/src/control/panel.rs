//! The card panel: the control API as a page in the browser.
//!
//! ```text
//!  GET  /            Accept: text/html   200  the panel (HTML)
//!  GET  /panel.js, /panel.css            200  its script and style
//!  GET  /events                          200  text/event-stream: the live log
//!  POST /usb{N}/power/on|off             200  card JSON (as GET)
//!  POST /usb{N}/touch/on|off|withhold    200  card JSON (as GET)
//!  POST /usb{N}/tap                      200  card JSON: removed, away for
//!                                             TAP_AWAY, put back
//! ```
//!
//! Everything else (`GET /` without `text/html` in Accept, the GET
//! switches) stays with the JSON API of [`super`], so FIDO test controllers
//! keep working. The page and its assets are compiled into the binary; the
//! page loads nothing from elsewhere and its Content-Security-Policy says so.
//! Its state-changing requests are same-origin `fetch` POSTs.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;

use super::{reason, route_path, Route, Switchboard};

const PAGE: &str = include_str!("assets/panel.html");
const SCRIPT: &str = include_str!("assets/panel.js");
const STYLE: &str = include_str!("assets/panel.css");

/// How long a tap from the panel keeps the card away: more than two of
/// pcscd's 400 ms presence polls, so that every client sees the removal.
pub const TAP_AWAY: Duration = Duration::from_millis(1000);

/// A comment line sent on an idle event stream this often, so that a
/// closed browser tab is noticed and proxies do not time the stream out.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The panel's response headers: nothing but this origin, no framing.
const SECURITY_HEADERS: &str = "Content-Security-Policy: default-src 'none'; \
     script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n\
     X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\
     Cache-Control: no-store\r\n";

/// A request for the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `GET /` from a browser.
    Html,
    /// `GET /panel.js` or `/panel.css`: content type and body.
    Asset(&'static str, &'static str),
    /// `GET /events`.
    Events,
    /// `POST` of a switch.
    Switch(Route),
    /// `POST /usb{N}/tap`.
    Tap(u16),
}

/// The panel's share of the routes: `None` leaves the request to the JSON API.
pub fn route(head: &[u8]) -> Option<Page> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.lines();
    let mut parts = lines.next()?.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    let path = target.split(['?', '#']).next().unwrap_or(target);
    match method {
        "GET" => match path {
            "/" if accepts_html(lines) => Some(Page::Html),
            "/panel.js" => Some(Page::Asset("text/javascript; charset=utf-8", SCRIPT)),
            "/panel.css" => Some(Page::Asset("text/css; charset=utf-8", STYLE)),
            "/events" => Some(Page::Events),
            _ => None,
        },
        "POST" => {
            if let Some(slot) = path
                .strip_prefix("/usb")
                .and_then(|rest| rest.strip_suffix("/tap"))
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse().ok())
            {
                return Some(Page::Tap(slot));
            }
            match route_path(target)? {
                Route::Status => None,
                switch => Some(Page::Switch(switch)),
            }
        }
        _ => None,
    }
}

/// Whether an `Accept` header names `text/html` (browsers' navigations do;
/// `curl`, `urllib` and python-fido2's controller do not).
fn accepts_html<'a>(mut headers: impl Iterator<Item = &'a str>) -> bool {
    headers.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept")
                && value
                    .split(',')
                    .any(|kind| kind.trim().starts_with("text/html"))
        })
    })
}

/// Answer a panel request on `stream`.
pub async fn respond(page: Page, mut stream: TcpStream, board: &Switchboard) -> io::Result<()> {
    match page {
        Page::Html => send(&mut stream, 200, "text/html; charset=utf-8", PAGE).await,
        Page::Asset(kind, body) => send(&mut stream, 200, kind, body).await,
        Page::Switch(switch) => {
            let (status, body) = board.apply(switch).await;
            send(&mut stream, status, "application/json", &body).await
        }
        Page::Tap(slot) => {
            let (status, body) = board.apply(Route::Power { slot, on: false }).await;
            let (status, body) = if status == 200 {
                tokio::time::sleep(TAP_AWAY).await;
                board.apply(Route::Power { slot, on: true }).await
            } else {
                (status, body)
            };
            send(&mut stream, status, "application/json", &body).await
        }
        Page::Events => stream_events(stream, board).await,
    }
}

async fn send(stream: &mut TcpStream, status: u16, kind: &str, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{SECURITY_HEADERS}Connection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// `GET /events`: the recent events, then every new one, until the browser
/// goes away. A browser that falls more than the channel's depth behind is
/// told (`event: lagged`) and keeps going.
async fn stream_events(mut stream: TcpStream, board: &Switchboard) -> io::Result<()> {
    let (backlog, mut live) = board.events().subscribe();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{SECURITY_HEADERS}Connection: close\r\n\r\nretry: 2000\n\n"
    );
    let (mut rd, mut wr) = stream.split();
    wr.write_all(head.as_bytes()).await?;
    for event in backlog {
        wr.write_all(event.to_sse().as_bytes()).await?;
    }
    let mut sink = [0u8; 256];
    loop {
        let message = tokio::select! {
            received = live.recv() => match received {
                Ok(event) => event.to_sse(),
                Err(RecvError::Lagged(missed)) => format!("event: lagged\ndata: {missed}\n\n"),
                Err(RecvError::Closed) => break,
            },
            read = rd.read(&mut sink) => match read {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => continue,
            },
            () = tokio::time::sleep(KEEPALIVE) => ": keepalive\n\n".to_owned(),
        };
        wr.write_all(message.as_bytes()).await?;
    }
    wr.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use applet::env::Presence;

    fn head(s: &str) -> Vec<u8> {
        s.replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn browsers_get_the_page_clients_get_json() {
        let browser = head("GET / HTTP/1.1\nHost: 127.0.0.1\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\n\n");
        assert_eq!(route(&browser), Some(Page::Html));
        let curl = head("GET / HTTP/1.1\nHost: 127.0.0.1\nAccept: */*\n\n");
        assert_eq!(route(&curl), None);
        let urllib = head("GET / HTTP/1.1\nHost: 127.0.0.1\nAccept-Encoding: identity\n\n");
        assert_eq!(route(&urllib), None);
        let json = head("GET / HTTP/1.1\nAccept: application/json\n\n");
        assert_eq!(route(&json), None);
    }

    #[test]
    fn switches_are_posts_and_gets_stay_with_the_json_api() {
        assert_eq!(
            route(&head("POST /usb2/touch/withhold HTTP/1.1\n\n")),
            Some(Page::Switch(Route::Touch {
                slot: 2,
                presence: Presence::Withheld
            }))
        );
        assert_eq!(
            route(&head("POST /usb0/tap HTTP/1.1\n\n")),
            Some(Page::Tap(0))
        );
        assert_eq!(route(&head("GET /usb0/power/off HTTP/1.1\n\n")), None);
        assert_eq!(route(&head("POST / HTTP/1.1\n\n")), None);
        assert_eq!(route(&head("POST /usbx/tap HTTP/1.1\n\n")), None);
        assert_eq!(route(&head("GET /events HTTP/1.1\n\n")), Some(Page::Events));
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(PAGE.contains("src=\"/panel.js\""));
        assert!(PAGE.contains("href=\"/panel.css\""));
        for text in [PAGE, SCRIPT, STYLE] {
            assert!(!text.contains("http://") && !text.contains("https://"));
        }
    }
}
