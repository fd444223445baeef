//! Reversed mode (`serve_listening`, vsmartcard's `vicc --reversed`): the card listens and a
//! peer playing vpcd connects, frames written by hand (2-byte big-endian length, payload).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{echo_response, Event, TestCard, ATR};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use vsmartcard::{serve_listening, LinkState, Stats};

const WAIT: Duration = Duration::from_secs(5);

async fn send(stream: &mut TcpStream, payload: &[u8]) {
    let len = u16::try_from(payload.len()).unwrap().to_be_bytes();
    stream
        .write_all(&[&len[..], payload].concat())
        .await
        .unwrap();
}

async fn recv(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload).await.unwrap();
    payload
}

/// Reads until the card closes the connection; panics if it sends anything.
async fn closed(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(WAIT, stream.read(&mut byte))
        .await
        .expect("the card kept the connection open")
        .unwrap_or(0);
    assert_eq!(n, 0, "the card sent data instead of closing");
}

struct Listening {
    addr: std::net::SocketAddr,
    card: Arc<Mutex<TestCard>>,
    inserted: watch::Sender<bool>,
    link: watch::Receiver<LinkState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), vsmartcard::Error>>,
}

async fn listening() -> Listening {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let card = Arc::new(Mutex::new(TestCard::default()));
    let (inserted, inserted_rx) = watch::channel(true);
    let (link_tx, link) = watch::channel(LinkState::Idle);
    let (stop, mut stop_rx) = watch::channel(false);
    let task = tokio::spawn(serve_listening(
        Arc::clone(&card),
        listener,
        Arc::new(Stats::default()),
        inserted_rx,
        Some(link_tx),
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
    ));
    Listening {
        addr,
        card,
        inserted,
        link,
        stop,
        task,
    }
}

impl Listening {
    async fn wait_state(&mut self, state: LinkState) {
        tokio::time::timeout(WAIT, self.link.wait_for(|s| *s == state))
            .await
            .unwrap_or_else(|_| panic!("never {state:?}"))
            .unwrap();
    }
}

/// The Android Smart Card Emulator's order: connect, power on (`01`), APDUs, power off (`00`).
#[tokio::test]
async fn a_peer_connects_powers_on_and_exchanges_apdus() {
    let mut l = listening().await;
    l.wait_state(LinkState::Listening).await;
    let mut peer = TcpStream::connect(l.addr).await.unwrap();
    send(&mut peer, &[0x01]).await;
    send(&mut peer, &[0x04]).await;
    assert_eq!(recv(&mut peer).await, ATR);
    let apdu = [0x00, 0xA4, 0x04, 0x00, 0x01, 0xAA];
    send(&mut peer, &apdu).await;
    assert_eq!(recv(&mut peer).await, echo_response(&apdu));
    send(&mut peer, &[0x00]).await;
    drop(peer);
    l.wait_state(LinkState::Listening).await;
    let events = l.card.lock().unwrap().events.clone();
    assert_eq!(
        events,
        vec![
            Event::PowerOn,
            Event::Apdu(apdu.to_vec()),
            Event::PowerOff,
            Event::Disconnected
        ]
    );
    l.stop.send(true).unwrap();
    l.task.await.unwrap().unwrap();
    assert_eq!(*l.link.borrow(), LinkState::Stopped);
}

/// A tap in reversed mode: the link stays open (vpcd 3.3 makes pcscd abort on a lost link);
/// the card loses its field, answers APDUs with `6F 00` but still its ATR, and gets a new
/// field when put back.
#[tokio::test]
async fn a_tap_is_a_field_loss_on_the_open_link() {
    let mut l = listening().await;
    let mut peer = TcpStream::connect(l.addr).await.unwrap();
    l.wait_state(LinkState::Connected).await;
    send(&mut peer, &[0x01]).await;
    let apdu = [0x00, 0xB0, 0x00, 0x00];
    send(&mut peer, &apdu).await;
    assert_eq!(recv(&mut peer).await, echo_response(&apdu));
    l.inserted.send(false).unwrap();
    send(&mut peer, &apdu).await;
    assert_eq!(recv(&mut peer).await, [0x6F, 0x00]);
    send(&mut peer, &[0x04]).await;
    assert_eq!(recv(&mut peer).await, ATR);
    send(&mut peer, &[0x01]).await;
    send(&mut peer, &[0x04]).await;
    assert_eq!(recv(&mut peer).await, ATR);
    l.inserted.send(true).unwrap();
    send(&mut peer, &apdu).await;
    assert_eq!(recv(&mut peer).await, echo_response(&apdu));
    assert_eq!(*l.link.borrow(), LinkState::Connected);
    let events = l.card.lock().unwrap().events.clone();
    assert_eq!(
        events,
        vec![
            Event::PowerOn,
            Event::Apdu(apdu.to_vec()),
            Event::Disconnected,
            Event::PowerOn,
            Event::Apdu(apdu.to_vec()),
        ]
    );
    l.stop.send(true).unwrap();
    closed(&mut peer).await;
    l.task.await.unwrap().unwrap();
}
