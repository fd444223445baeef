//! The control API: taps and touches over HTTP/1.1 on loopback.
//!
//! The same small interface that FIDO client libraries' device-test
//! controllers drive (python-fido2's `--controller URL --pico-port N`), so
//! their suites can insert, remove and touch the card unattended.
//!
//! ```text
//!  GET /                    200  JSON status of every card
//!  GET /usb{N}/power/off    200  card on vpcd slot N leaves the reader
//!                                (answered once its vpcd connection is closed)
//!  GET /usb{N}/power/on     200  card N is put back (reconnects to vpcd)
//!  GET /usb{N}/touch/on     200  presence asserted   (Presence::Touched)
//!  GET /usb{N}/touch/off    200  back to the NFC rule (Presence::Field)
//!  GET /usb{N}/touch/withhold 200 presence refused  (Presence::Withheld)
//!  other paths / unknown N  404     other methods  405 (Allow: GET)
//!  malformed request        400     head > 8 KiB   431
//!  foreign Host, cross-site 403 / 400 ([`guard`])  all connections busy  503
//! ```
//!
//! `N` is the vpcd slot number (`Virtual PCD 00 0N`), not a position.
//! `touch/off` deliberately returns to [`Presence::Field`] rather than
//! [`Presence::Withheld`]: on NFC the tap that powered the card *is* the
//! presence gesture, and python-fido2's controller calls `touch/off` after
//! every operation, which must not make the next ordinary request fail.
//!
//! Every request is answered with `Connection: close`; one request per
//! connection keeps the server a few dozen lines and bounded.
//! The listener refuses any non-loopback address ([`bind`]); [`guard`] refuses
//! what a browser sends on a web page's behalf (foreign `Host`, cross-site
//! `Origin` / `Sec-Fetch-Site` / `Referer`); [`limit`] keeps idle connections
//! from delaying anyone (the oldest idle one makes room for a newcomer).

pub mod guard;
pub mod limit;

use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use applet::env::Presence;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use vsmartcard::{LinkState, Stats};

/// Where the control API listens unless `--control` says otherwise.
pub const DEFAULT_CONTROL_ADDR: &str = "127.0.0.1:35980";

/// Largest request head accepted (request line + headers).
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long a client may take to send its request head (a local client sends it at once),
/// and to take the answer.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest wait of `power/off` for the vpcd connection to close.
pub const POWER_OFF_WAIT: Duration = Duration::from_secs(3);

/// Connections held at once ([`limit`]).
const MAX_CONNECTIONS: usize = 32;

/// Errors of the control API, server and client side.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The control API only ever listens on loopback.
    #[error(
        "refusing to serve the control API on non-loopback address {0} (use 127.0.0.1 or [::1])"
    )]
    NotLoopback(SocketAddr),
    /// Binding the listener failed (address in use, permissions).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// A socket error while talking to the control API.
    #[error("control API at {addr}: {source}")]
    Io {
        /// The control API address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The control API answered with a non-200 status.
    #[error("control API answered {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The answer was not HTTP.
    #[error("control API at {0} sent a malformed response")]
    Malformed(SocketAddr),
}

/// Presence as set through the control API, shared with the card's `Env`.
#[derive(Clone, Debug, Default)]
pub struct PresenceSwitch(Arc<AtomicU8>);

impl PresenceSwitch {
    /// The current presence.
    pub fn get(&self) -> Presence {
        match self.0.load(Ordering::Relaxed) {
            1 => Presence::Touched,
            2 => Presence::Withheld,
            _ => Presence::Field,
        }
    }

    /// Change the presence.
    pub fn set(&self, presence: Presence) {
        let value = match presence {
            Presence::Field => 0,
            Presence::Touched => 1,
            Presence::Withheld => 2,
        };
        self.0.store(value, Ordering::Relaxed);
    }
}

/// The name of a presence value in the status JSON.
pub fn presence_name(presence: Presence) -> &'static str {
    match presence {
        Presence::Field => "field",
        Presence::Touched => "on",
        Presence::Withheld => "withheld",
    }
}

/// The name of a link state in the status JSON.
pub fn link_name(link: &LinkState) -> &'static str {
    match link {
        LinkState::Idle => "idle",
        LinkState::Connecting => "connecting",
        LinkState::Connected => "connected",
        LinkState::Retrying { .. } => "retrying",
        LinkState::Removed => "removed",
        LinkState::Stopped => "stopped",
    }
}

/// The switches and meters of one served card.
#[derive(Debug)]
pub struct CardHandle {
    /// vpcd slot number; the `N` of `/usb{N}`.
    pub slot: u16,
    /// vpcd address this card connects to.
    pub vpcd: String,
    /// Profile name.
    pub profile: String,
    /// Whether the card is in the reader (true = keep a vpcd connection).
    pub inserted: watch::Sender<bool>,
    /// Connection state, published by the vpcd connection task.
    pub link: watch::Sender<LinkState>,
    /// Presence reported to the applet.
    pub presence: PresenceSwitch,
    /// Connection, message and APDU counters of the vpcd link.
    pub stats: Arc<Stats>,
}

impl CardHandle {
    /// A handle for a card on `slot`, inserted, presence from the field.
    pub fn new(slot: u16, vpcd: impl Into<String>, profile: impl Into<String>) -> Self {
        Self {
            slot,
            vpcd: vpcd.into(),
            profile: profile.into(),
            inserted: watch::Sender::new(true),
            link: watch::Sender::new(LinkState::default()),
            presence: PresenceSwitch::default(),
            stats: Arc::new(Stats::default()),
        }
    }

    fn write_json(&self, out: &mut String) {
        let _ = write!(
            out,
            "{{\"usb\":{slot},\"slot\":{slot},\"vpcd\":{vpcd},\"profile\":{profile},\
             \"inserted\":{inserted},\"link\":\"{link}\",\"touch\":\"{touch}\",\
             \"connections\":{connections},\"apdus\":{apdus}}}",
            slot = self.slot,
            vpcd = json_string(&self.vpcd),
            profile = json_string(&self.profile),
            inserted = *self.inserted.borrow(),
            link = link_name(&self.link.borrow()),
            touch = presence_name(self.presence.get()),
            connections = self.stats.connections(),
            apdus = self.stats.apdus(),
        );
    }
}

/// All cards of one process, addressed by slot.
#[derive(Debug, Default)]
pub struct Switchboard {
    cards: Vec<Arc<CardHandle>>,
}

impl Switchboard {
    /// A switchboard over these cards.
    pub fn new(cards: Vec<Arc<CardHandle>>) -> Self {
        Self { cards }
    }

    /// The card on vpcd slot `slot`.
    pub fn card(&self, slot: u16) -> Option<&Arc<CardHandle>> {
        self.cards.iter().find(|c| c.slot == slot)
    }

    /// Every card, in the order given.
    pub fn cards(&self) -> &[Arc<CardHandle>] {
        &self.cards
    }

    /// The status document served on `GET /`.
    ///
    /// ```text
    /// {"version":"0.1.0","cards":[{"usb":0,"slot":0,"vpcd":"127.0.0.1:35963",
    ///   "profile":"default","inserted":true,"link":"connected","touch":"field",
    ///   "connections":1,"apdus":12}]}
    /// ```
    pub fn status_json(&self) -> String {
        let mut out = format!(
            "{{\"version\":\"{}\",\"cards\":[",
            env!("CARGO_PKG_VERSION")
        );
        for (i, card) in self.cards.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            card.write_json(&mut out);
        }
        out.push_str("]}");
        out
    }

    /// Carry out a routed request; returns status code and JSON body.
    ///
    /// `power/off` answers once the card's vpcd connection is closed (the
    /// link state has left `connected`), or after [`POWER_OFF_WAIT`] at most,
    /// so a client that then waits for pcscd to report the removal never
    /// races the card. `power/on` answers at once (vpcd may be absent).
    pub async fn apply(&self, route: Route) -> (u16, String) {
        let slot = match route {
            Route::Status => return (200, self.status_json()),
            Route::Power { slot, .. } | Route::Touch { slot, .. } => slot,
        };
        let Some(card) = self.card(slot) else {
            return (404, error_json(&format!("no card on slot {slot}")));
        };
        match route {
            Route::Status => {}
            Route::Power { on, .. } => {
                tracing::info!(slot, on, "control API: power");
                let mut link = card.link.subscribe();
                card.inserted.send_replace(on);
                if !on {
                    let closed = link.wait_for(|state| {
                        !matches!(state, LinkState::Connected | LinkState::Connecting)
                    });
                    if tokio::time::timeout(POWER_OFF_WAIT, closed).await.is_err() {
                        tracing::warn!(slot, "power off: the vpcd link is still up");
                    }
                }
            }
            Route::Touch { presence, .. } => {
                tracing::info!(slot, touch = presence_name(presence), "control API: touch");
                card.presence.set(presence);
            }
        }
        let mut body = String::new();
        card.write_json(&mut body);
        (200, body)
    }
}

/// A request the control API understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /`
    Status,
    /// `GET /usb{slot}/power/on|off`
    Power {
        /// vpcd slot.
        slot: u16,
        /// true for `on`.
        on: bool,
    },
    /// `GET /usb{slot}/touch/on|off|withhold`
    Touch {
        /// vpcd slot.
        slot: u16,
        /// The presence to report from now on.
        presence: Presence,
    },
}

/// Why a request was not routed, with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// 400: not an HTTP/1.x request line.
    BadRequest,
    /// 404: no such path.
    NotFound,
    /// 405: a method other than GET.
    MethodNotAllowed,
    /// 431: the head exceeded [`MAX_REQUEST_HEAD`].
    TooLarge,
}

impl Reject {
    /// HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::TooLarge => 431,
        }
    }
}

/// Route a complete request head (`METHOD SP target SP HTTP/1.x CRLF ...`).
///
/// The query string is ignored; a trailing `/` is tolerated.
pub fn route_request(head: &[u8]) -> Result<Route, Reject> {
    let line_end = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(Reject::BadRequest)?;
    let line = std::str::from_utf8(&head[..line_end]).map_err(|_| Reject::BadRequest)?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reject::BadRequest);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(Reject::BadRequest);
    }
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Reject::BadRequest);
    }
    if method != "GET" {
        return Err(Reject::MethodNotAllowed);
    }
    route_path(target).ok_or(Reject::NotFound)
}

/// Route a request target (path with optional query).
pub fn route_path(target: &str) -> Option<Route> {
    if !target.starts_with('/') {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.is_empty() {
        return Some(Route::Status);
    }
    let mut segments = path.strip_prefix('/')?.split('/');
    let (Some(usb), Some(what), Some(state), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return None;
    };
    let digits = usb.strip_prefix("usb")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let slot: u16 = digits.parse().ok()?;
    match (what, state) {
        ("power", "on") => Some(Route::Power { slot, on: true }),
        ("power", "off") => Some(Route::Power { slot, on: false }),
        ("touch", "on") => Some(Route::Touch {
            slot,
            presence: Presence::Touched,
        }),
        ("touch", "off") => Some(Route::Touch {
            slot,
            presence: Presence::Field,
        }),
        ("touch", "withhold") => Some(Route::Touch {
            slot,
            presence: Presence::Withheld,
        }),
        _ => None,
    }
}

/// Bind the control API listener, refusing anything but loopback.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ControlError> {
    if !addr.ip().is_loopback() {
        return Err(ControlError::NotLoopback(addr));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| ControlError::Bind { addr, source })
}

/// Serve the control API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    board: Arc<Switchboard>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = limit::Slots::new(MAX_CONNECTIONS);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(%err, "control API: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ticket = slots.admit();
        let board = Arc::clone(&board);
        tokio::spawn(async move {
            let result = match ticket {
                Some(ticket) => handle(stream, &board, ticket).await,
                None => respond(stream, 503, &error_json("busy; try again")).await,
            };
            if let Err(err) = result {
                tracing::debug!(%peer, %err, "control API: connection error");
            }
        });
    }
}

/// Read one request, answer it, close. A connection still without its head is closed when
/// [`limit`] needs its room or after [`READ_TIMEOUT`].
async fn handle(
    mut stream: TcpStream,
    board: &Switchboard,
    mut ticket: limit::Ticket,
) -> io::Result<()> {
    let head = tokio::select! {
        () = ticket.evicted() => return Ok(()),
        read = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)) => match read {
            Ok(result) => result?,
            Err(_) => return Ok(()),
        },
    };
    ticket.busy();
    let rejected = |reject: Reject| (reject.status(), error_json(reason(reject.status())));
    let (status, body) = match head {
        Err(reject) => rejected(reject),
        Ok(head) => match (route_request(&head), guard::check(&head)) {
            (Err(Reject::BadRequest), _) => rejected(Reject::BadRequest),
            (_, Err(refusal)) => {
                tracing::warn!(?refusal, "control API: request refused");
                (refusal.status(), error_json(refusal.message()))
            }
            (Ok(route), Ok(())) => board.apply(route).await,
            (Err(reject), Ok(())) => rejected(reject),
        },
    };
    respond(stream, status, &body).await
}

/// Write the answer and close.
async fn respond(mut stream: TcpStream, status: u16, body: &str) -> io::Result<()> {
    let mut response = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    if status == 405 {
        response.push_str("Allow: GET\r\n");
    }
    response.push_str("\r\n");
    response.push_str(body);
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(READ_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Read until the blank line that ends the head, at most [`MAX_REQUEST_HEAD`].
async fn read_head(stream: &mut TcpStream) -> io::Result<Result<Vec<u8>, Reject>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Err(Reject::BadRequest));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&head) {
            if end > MAX_REQUEST_HEAD {
                return Ok(Err(Reject::TooLarge));
            }
            head.truncate(end);
            return Ok(Ok(head));
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Ok(Err(Reject::TooLarge));
        }
    }
}

/// Index just past the `CRLF CRLF` (or bare `LF LF`) ending a head.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn error_json(message: &str) -> String {
    format!("{{\"error\":{}}}", json_string(message))
}

/// A JSON string literal (RFC 8259 §7) for `s`.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `GET path` against a control API; the body of a 200 answer.
///
/// Used by `tapfido tap` and by tests.
pub async fn get(addr: SocketAddr, path: &str) -> Result<String, ControlError> {
    let io_err = |source| ControlError::Io { addr, source };
    let mut stream = tokio::time::timeout(READ_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| io_err(io::ErrorKind::TimedOut.into()))?
        .map_err(io_err)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(io_err)?;
    let mut response = Vec::new();
    tokio::time::timeout(
        READ_TIMEOUT,
        (&mut stream).take(1 << 20).read_to_end(&mut response),
    )
    .await
    .map_err(|_| io_err(io::ErrorKind::TimedOut.into()))?
    .map_err(io_err)?;
    let end = head_end(&response).ok_or(ControlError::Malformed(addr))?;
    let head = std::str::from_utf8(&response[..end]).map_err(|_| ControlError::Malformed(addr))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ControlError::Malformed(addr))?;
    let body = String::from_utf8_lossy(&response[end..]).into_owned();
    if status == 200 {
        Ok(body)
    } else {
        Err(ControlError::Status { status, body })
    }
}
