//! The control API over real TCP on 127.0.0.1:0: parsing, routing, effects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use applet::env::Presence;
use tapfido::control::{
    self, route_path, route_request, CardHandle, ControlError, Reject, Route, Switchboard,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    board: Arc<Switchboard>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(slots: &[u16]) -> Self {
        let cards = slots
            .iter()
            .map(|&s| {
                Arc::new(CardHandle::new(
                    s,
                    format!("127.0.0.1:{}", 35963 + s),
                    "default",
                ))
            })
            .collect();
        let board = Arc::new(Switchboard::new(cards));
        let listener = control::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(control::serve(listener, Arc::clone(&board), async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            board,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

/// Send raw bytes, read the whole answer until the server closes.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before all bytes are written.
    let _ = stream.write_all(request).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8(answer).unwrap()
}

fn status_line(answer: &str) -> &str {
    answer.split("\r\n").next().unwrap()
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").unwrap().1
}

#[tokio::test]
async fn status_lists_every_card() {
    let server = Server::start(&[0, 1]).await;
    let answer = raw(server.addr, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    assert_eq!(status_line(&answer), "HTTP/1.1 200 OK");
    assert!(answer.contains("\r\nContent-Type: application/json\r\n"));
    let json: serde_json::Value = serde_json::from_str(body(&answer)).unwrap();
    let cards = json["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0]["slot"], 0);
    assert_eq!(cards[1]["usb"], 1);
    assert_eq!(cards[1]["vpcd"], "127.0.0.1:35964");
    assert_eq!(cards[1]["profile"], "default");
    assert_eq!(cards[1]["inserted"], true);
    assert_eq!(cards[1]["touch"], "field");
    assert_eq!(cards[1]["link"], "idle");
    assert_eq!(cards[1]["connections"], 0);
    assert_eq!(cards[1]["apdus"], 0);
    server.stop().await;
}

#[tokio::test]
async fn power_off_and_on_flip_the_insert_switch() {
    let server = Server::start(&[0, 1]).await;
    let card1 = Arc::clone(server.board.card(1).unwrap());
    let mut inserted = card1.inserted.subscribe();

    let body = control::get(server.addr, "/usb1/power/off").await.unwrap();
    assert!(!*inserted.borrow_and_update());
    assert!(
        *server.board.card(0).unwrap().inserted.borrow(),
        "card 0 untouched"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["slot"], 1);
    assert_eq!(json["inserted"], false);

    control::get(server.addr, "/usb1/power/on").await.unwrap();
    assert!(*inserted.borrow_and_update());
    server.stop().await;
}

#[tokio::test]
async fn touch_sets_presence() {
    let server = Server::start(&[0]).await;
    let card = Arc::clone(server.board.card(0).unwrap());
    assert_eq!(card.presence.get(), Presence::Field);
    control::get(server.addr, "/usb0/touch/on").await.unwrap();
    assert_eq!(card.presence.get(), Presence::Touched);
    control::get(server.addr, "/usb0/touch/off").await.unwrap();
    assert_eq!(card.presence.get(), Presence::Field);
    control::get(server.addr, "/usb0/touch/withhold")
        .await
        .unwrap();
    assert_eq!(card.presence.get(), Presence::Withheld);
    let status = control::get(server.addr, "/").await.unwrap();
    assert!(status.contains("\"touch\":\"withheld\""), "{status}");
    server.stop().await;
}

#[tokio::test]
async fn unknown_card_and_paths_are_404() {
    let server = Server::start(&[0]).await;
    for path in [
        "/usb3/power/off",
        "/nope",
        "/usb0/power",
        "/usb0/power/maybe",
        "/usbx/touch/on",
    ] {
        match control::get(server.addr, path).await {
            Err(ControlError::Status { status: 404, .. }) => {}
            other => panic!("{path}: {other:?}"),
        }
    }
    assert!(*server.board.card(0).unwrap().inserted.borrow());
    server.stop().await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let server = Server::start(&[0]).await;
    let answer = raw(
        server.addr,
        b"POST /usb0/power/off HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status_line(&answer), "HTTP/1.1 405 Method Not Allowed");
    assert!(answer.contains("\r\nAllow: GET\r\n"));
    assert!(
        *server.board.card(0).unwrap().inserted.borrow(),
        "nothing done"
    );
    server.stop().await;
}

#[tokio::test]
async fn garbage_is_400_and_the_server_survives() {
    let server = Server::start(&[0]).await;
    for garbage in [
        &b"\x00\xff\xfe\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET nopath HTTP/1.1\r\n\r\n",
        b"GET / SPDY/3\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
    ] {
        let answer = raw(server.addr, garbage).await;
        assert_eq!(
            status_line(&answer),
            "HTTP/1.1 400 Bad Request",
            "{garbage:?}"
        );
    }
    // A client that closes before finishing its request.
    let answer = raw(server.addr, b"GET / HT").await;
    assert_eq!(status_line(&answer), "HTTP/1.1 400 Bad Request");
    control::get(server.addr, "/").await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn oversized_head_is_431() {
    let server = Server::start(&[0]).await;
    let mut request = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', control::MAX_REQUEST_HEAD + 10));
    request.extend_from_slice(b"\r\n\r\n");
    let answer = raw(server.addr, &request).await;
    assert_eq!(
        status_line(&answer),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    control::get(server.addr, "/").await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn bare_lf_requests_and_queries_are_accepted() {
    let server = Server::start(&[0]).await;
    let answer = raw(server.addr, b"GET /usb0/power/off?x=1 HTTP/1.0\n\n").await;
    assert_eq!(status_line(&answer).trim_end(), "HTTP/1.1 200 OK");
    assert!(!*server.board.card(0).unwrap().inserted.borrow());
    server.stop().await;
}

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:35980"] {
        match control::bind(addr.parse().unwrap()).await {
            Err(ControlError::NotLoopback(a)) => assert_eq!(a, addr.parse().unwrap()),
            other => panic!("{addr}: {other:?}"),
        }
    }
    control::bind("[::1]:0".parse().unwrap()).await.ok();
}

#[test]
fn routes() {
    assert_eq!(route_path("/"), Some(Route::Status));
    assert_eq!(route_path("/?a=b"), Some(Route::Status));
    assert_eq!(
        route_path("/usb12/power/on/"),
        Some(Route::Power { slot: 12, on: true })
    );
    assert_eq!(
        route_path("/usb0/touch/off"),
        Some(Route::Touch {
            slot: 0,
            presence: Presence::Field
        })
    );
    for bad in [
        "/usb/power/on",
        "/usb+1/power/on",
        "/usb-1/power/on",
        "/usb70000/power/on",
        "/usb0/power/on/again",
        "/USB0/power/on",
        "/usb0/touch/",
        "//",
        "",
    ] {
        assert_eq!(route_path(bad), None, "{bad:?}");
    }
}

#[test]
fn request_lines() {
    assert_eq!(route_request(b"GET / HTTP/1.1\r\n\r\n"), Ok(Route::Status));
    assert_eq!(
        route_request(b"DELETE / HTTP/1.1\r\n\r\n"),
        Err(Reject::MethodNotAllowed)
    );
    assert_eq!(
        route_request(b"HEAD / HTTP/1.1\r\n\r\n"),
        Err(Reject::MethodNotAllowed)
    );
    assert_eq!(
        route_request(b"GET /x HTTP/1.1\r\n\r\n"),
        Err(Reject::NotFound)
    );
    assert_eq!(
        route_request(b"GET / HTTP/2\r\n\r\n"),
        Err(Reject::BadRequest)
    );
    assert_eq!(route_request(b""), Err(Reject::BadRequest));
    assert_eq!(
        route_request(b"\xc3\x28 / HTTP/1.1\n"),
        Err(Reject::BadRequest)
    );
}

proptest::proptest! {
    #[test]
    fn any_request_head_is_answered_without_panic(head in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let routed = route_request(&head);
        if let Ok(route) = routed {
            // Only a GET with an HTTP/1.x request line routes.
            proptest::prop_assert!(head.starts_with(b"GET /"), "{route:?}");
        }
    }

    #[test]
    fn any_path_routes_or_not(path in "/[a-z0-9/?#]{0,40}") {
        let _ = route_path(&path);
    }

    #[test]
    fn usb_paths_route_to_their_slot(slot in 0u16.., on in proptest::bool::ANY) {
        let path = format!("/usb{slot}/power/{}", if on { "on" } else { "off" });
        proptest::prop_assert_eq!(route_path(&path), Some(Route::Power { slot, on }));
    }
}
