//! The control API against hostile local input (README "Control API threat model"): web pages
//! (cross-site requests, DNS rebinding) are refused with 403 and change nothing; the requests
//! python-fido2's test controller sends still work; idle connections delay nobody.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use applet::env::Presence;
use tapfido::control::{self, CardHandle, Switchboard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

async fn start() -> (SocketAddr, Arc<Switchboard>, oneshot::Sender<()>) {
    let card = Arc::new(CardHandle::new(0, "127.0.0.1:35963", "default"));
    let board = Arc::new(Switchboard::new(vec![card]));
    let listener = control::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(control::serve(listener, Arc::clone(&board), async move {
        let _ = stopped.await;
    }));
    (addr, board, stop)
}

/// Sends `request`, returns the status code and the whole answer.
async fn exchange(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    (status, answer)
}

#[tokio::test]
async fn browser_cross_site_requests_are_403_and_change_nothing() {
    let (addr, board, _stop) = start().await;
    let card = Arc::clone(board.card(0).unwrap());
    let host = format!("Host: {addr}\r\n");
    let cases = [
        // <img src="http://127.0.0.1:35980/usb0/touch/on"> on https://evil.example, Chrome.
        format!(
            "GET /usb0/touch/on HTTP/1.1\r\n{host}Sec-Fetch-Site: cross-site\r\n\
             Sec-Fetch-Mode: no-cors\r\nReferer: https://evil.example/\r\n\r\n"
        ),
        // fetch() from another origin.
        format!("GET /usb0/power/off HTTP/1.1\r\n{host}Origin: https://evil.example\r\n\r\n"),
        // A sandboxed iframe.
        format!("GET /usb0/touch/on HTTP/1.1\r\n{host}Origin: null\r\n\r\n"),
        // A browser without Fetch Metadata, following a link.
        format!("GET /usb0/touch/on HTTP/1.1\r\n{host}Referer: http://evil.example/x\r\n\r\n"),
        // DNS rebinding: evil.example now resolves to 127.0.0.1.
        "GET /usb0/touch/on HTTP/1.1\r\nHost: evil.example:35980\r\n\r\n".to_owned(),
    ];
    for request in &cases {
        let (status, answer) = exchange(addr, request).await;
        assert_eq!(status, 403, "{request}\n{answer}");
        assert!(!answer.contains("\"cards\""), "{answer}");
    }
    assert_eq!(card.presence.get(), Presence::Field);
    assert!(*card.inserted.borrow());
    // Rebinding cannot read the status either.
    let (status, answer) = exchange(addr, "GET / HTTP/1.1\r\nHost: attacker.example\r\n\r\n").await;
    assert_eq!(status, 403);
    assert!(!answer.contains("\"cards\""), "{answer}");
    // HTTP/1.1 without Host: 400 (RFC 9112 §3.2).
    assert_eq!(exchange(addr, "GET / HTTP/1.1\r\n\r\n").await.0, 400);
}

#[tokio::test]
async fn test_controllers_and_same_origin_pages_still_work() {
    let (addr, board, _stop) = start().await;
    let card = Arc::clone(board.card(0).unwrap());
    // What python-fido2's controller (urllib) sends.
    let urllib = format!(
        "GET /usb0/touch/on HTTP/1.1\r\nAccept-Encoding: identity\r\nHost: {addr}\r\n\
         User-Agent: Python-urllib/3.11\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(exchange(addr, &urllib).await.0, 200);
    assert_eq!(card.presence.get(), Presence::Touched);
    // curl, by name.
    let port = addr.port();
    let curl = format!("GET /usb0/touch/off HTTP/1.1\r\nHost: localhost:{port}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
    assert_eq!(exchange(addr, &curl).await.0, 200);
    assert_eq!(card.presence.get(), Presence::Field);
    // A page served from the API's own origin.
    let same = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nSec-Fetch-Site: same-origin\r\n\
         Referer: http://{addr}/\r\n\r\n"
    );
    assert_eq!(exchange(addr, &same).await.0, 200);
    control::get(addr, "/usb0/power/off").await.unwrap();
    assert!(!*card.inserted.borrow());
}

/// 64 connections that never send a byte (twice the connection limit) do not delay a real
/// request: the oldest idle connection makes room. Before, each waited out a 5 s read
/// timeout in turn.
#[tokio::test]
async fn idle_connections_delay_nobody() {
    let (addr, _board, _stop) = start().await;
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    for _ in 0..3 {
        let answer = tokio::time::timeout(Duration::from_millis(1500), control::get(addr, "/"))
            .await
            .expect("a request behind 64 idle connections waited more than 1.5 s");
        assert!(answer.unwrap().contains("\"cards\""));
    }
    // The idle ones were closed, or are still waiting: none of them got an answer.
    for mut stream in idle {
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await;
        assert!(!matches!(read, Ok(Ok(1))), "an idle connection got data");
    }
}
