//! Serve wiring against an in-process fake vpcd on 127.0.0.1:0: the card
//! appears, power off through the control API closes its vpcd connection,
//! power on reconnects, shutdown removes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tapfido::control::{self, CardHandle};
use tapfido::serve::{serve_cards, ReadyCard, ServeError, TracedCard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use vsmartcard::{LinkState, VirtualCard};

const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// Answers every command with its bytes reversed and `90 00`; records events.
struct StubCard {
    events: Arc<Mutex<Vec<&'static str>>>,
}

impl VirtualCard for StubCard {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }
    fn power_on(&mut self) {
        self.events.lock().unwrap().push("on");
    }
    fn power_off(&mut self) {
        self.events.lock().unwrap().push("off");
    }
    fn reset(&mut self) {
        self.events.lock().unwrap().push("reset");
    }
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.events.lock().unwrap().push("apdu");
        let mut r: Vec<u8> = command.iter().rev().copied().collect();
        r.extend_from_slice(&[0x90, 0x00]);
        r
    }
    fn disconnected(&mut self) {
        self.events.lock().unwrap().push("disconnected");
    }
}

/// Guard against hangs; never an assertion on timing.
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no progress in 20 s"))
}

async fn send(stream: &mut TcpStream, payload: &[u8]) {
    let len = u16::try_from(payload.len()).unwrap().to_be_bytes();
    stream.write_all(&len).await.unwrap();
    stream.write_all(payload).await.unwrap();
}

/// The next frame, or `None` when the card closed the connection.
async fn recv(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    if stream.read_exact(&mut len).await.is_err() {
        return None;
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload).await.ok()?;
    Some(payload)
}

#[tokio::test]
async fn card_appears_is_removed_and_comes_back() {
    let vpcd = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vpcd_addr = vpcd.local_addr().unwrap().to_string();
    let events = Arc::new(Mutex::new(Vec::new()));
    let handle = Arc::new(CardHandle::new(0, vpcd_addr, "stub"));
    let card: Arc<Mutex<dyn VirtualCard>> = Arc::new(Mutex::new(TracedCard::new(
        StubCard {
            events: Arc::clone(&events),
        },
        0,
        false,
    )));
    let control_listener = control::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let control_addr = control_listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_cards(
        vec![ReadyCard {
            handle: Arc::clone(&handle),
            card,
        }],
        Some(control_listener),
        async move {
            let _ = stopped.await;
        },
    ));

    // The card appears: vpcd powers it on, reads the ATR, sends an APDU.
    let (mut link, _) = within("first connection", vpcd.accept()).await.unwrap();
    send(&mut link, &[0x01]).await;
    send(&mut link, &[0x04]).await;
    assert_eq!(within("ATR", recv(&mut link)).await.unwrap(), ATR);
    send(&mut link, &[0x00, 0xA4, 0x04, 0x00]).await;
    assert_eq!(
        within("response", recv(&mut link)).await.unwrap(),
        [0x00, 0x04, 0xA4, 0x00, 0x90, 0x00]
    );
    let status: serde_json::Value =
        serde_json::from_str(&control::get(control_addr, "/").await.unwrap()).unwrap();
    assert_eq!(status["cards"][0]["link"], "connected");
    assert_eq!(status["cards"][0]["apdus"], 1);
    assert_eq!(status["cards"][0]["connections"], 1);

    // Removal through the control API closes the vpcd connection before
    // the API answers.
    let answer = control::get(control_addr, "/usb0/power/off").await.unwrap();
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["inserted"], false);
    assert_eq!(answer["link"], "removed");
    assert_eq!(*handle.link.borrow(), LinkState::Removed);
    assert_eq!(within("close on removal", recv(&mut link)).await, None);

    // Putting it back reconnects.
    control::get(control_addr, "/usb0/power/on").await.unwrap();
    let (mut link2, _) = within("reconnection", vpcd.accept()).await.unwrap();
    send(&mut link2, &[0x04]).await;
    assert_eq!(within("ATR again", recv(&mut link2)).await.unwrap(), ATR);

    // Shutdown removes the card and returns cleanly.
    stop.send(()).unwrap();
    within("shutdown", server).await.unwrap().unwrap();
    assert_eq!(within("close on shutdown", recv(&mut link2)).await, None);
    assert_eq!(*handle.link.borrow(), LinkState::Stopped);
    assert!(
        control::get(control_addr, "/").await.is_err(),
        "control API stopped"
    );
    assert_eq!(
        *events.lock().unwrap(),
        ["on", "apdu", "disconnected", "disconnected"]
    );
}

#[tokio::test]
async fn invalid_vpcd_address_is_an_error() {
    let handle = Arc::new(CardHandle::new(3, "no-port", "stub"));
    let card: Arc<Mutex<dyn VirtualCard>> = Arc::new(Mutex::new(StubCard {
        events: Arc::default(),
    }));
    let result = serve_cards(
        vec![ReadyCard { handle, card }],
        None,
        std::future::pending(),
    )
    .await;
    assert!(
        matches!(result, Err(ServeError::Vpcd { slot: 3, .. })),
        "{result:?}"
    );
}

/// `serve::run` with two cards: each its own vpcd link and state file; the
/// control API removes one without touching the other.
#[tokio::test]
async fn run_serves_two_cards_each_with_its_own_state() {
    use tapfido::serve::{run, CardPlan, ServeConfig};

    let vpcd0 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vpcd1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A free loopback port for the control API.
    let control_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let plan = |slot: u16, vpcd: &TcpListener| CardPlan {
        slot,
        vpcd: vpcd.local_addr().unwrap().to_string(),
        state: dir.path().join(format!("slot{slot}")).join("state.bin"),
    };
    let config = ServeConfig {
        cards: vec![plan(0, &vpcd0), plan(1, &vpcd1)],
        profile: "pocketkey".into(),
        state_dir: dir.path().to_path_buf(),
        attestation_ca: None,
        aaguid: None,
        control: Some(control_addr),
        echo: false,
        trace: false,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(run(config, async move {
        let _ = stopped.await;
    }));

    let pocketkey_atr = [
        0x3B, 0x89, 0x80, 0x01, 0x41, 0x43, 0x53, 0x20, 0x41, 0x46, 0x44, 0x30, 0x32, 0x38,
    ];
    let (mut link0, _) = within("slot 0 connects", vpcd0.accept()).await.unwrap();
    let (mut link1, _) = within("slot 1 connects", vpcd1.accept()).await.unwrap();
    for link in [&mut link0, &mut link1] {
        send(link, &[0x04]).await;
        assert_eq!(within("ATR", recv(link)).await.unwrap(), pocketkey_atr);
        send(link, &[0x01]).await;
        // SELECT the FIDO AID: the pocketkey profile has U2F, so "U2F_V2".
        send(
            link,
            &[
                0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00,
            ],
        )
        .await;
        assert_eq!(
            within("SELECT", recv(link)).await.unwrap(),
            b"U2F_V2\x90\x00"
        );
    }
    assert!(dir.path().join("slot0").join("state.bin").exists());
    assert!(dir.path().join("slot1").join("state.bin").exists());
    assert!(dir.path().join("ca.pem").exists());

    let answer = control::get(control_addr, "/usb1/power/off").await.unwrap();
    assert!(answer.contains("\"link\":\"removed\""), "{answer}");
    assert_eq!(within("slot 1 removed", recv(&mut link1)).await, None);
    // Slot 0 still answers.
    send(&mut link0, &[0x04]).await;
    assert_eq!(
        within("slot 0 ATR", recv(&mut link0)).await.unwrap(),
        pocketkey_atr
    );
    let status: serde_json::Value =
        serde_json::from_str(&control::get(control_addr, "/").await.unwrap()).unwrap();
    assert_eq!(status["cards"][0]["link"], "connected");
    assert_eq!(status["cards"][0]["profile"], "pocketkey");
    assert_eq!(status["cards"][1]["inserted"], false);

    stop.send(()).unwrap();
    within("shutdown", server).await.unwrap().unwrap();
    assert_eq!(within("slot 0 closed", recv(&mut link0)).await, None);
}
