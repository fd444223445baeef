//! Test doubles: a fake vpcd that frames by hand (independently of the crate's codec) and a
//! card that records what reaches it.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use vsmartcard::{Backoff, Error, LinkState, Options, Stats, VirtualCard};

/// The ATR of the test card (a PC/SC part 3 contactless ATR, any would do).
pub const ATR: [u8; 10] = [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0xC8, 0x21, 0x10, 0x0E];
/// Command answered with 70,000 bytes: more than a frame can carry.
pub const CMD_OVERSIZED: [u8; 4] = [0x00, 0xEE, 0x00, 0x01];
/// Command answered with nothing at all.
pub const CMD_EMPTY: [u8; 4] = [0x00, 0xEE, 0x00, 0x02];
/// Command answered with exactly 65,535 bytes.
pub const CMD_MAX: [u8; 4] = [0x00, 0xEE, 0x00, 0x03];
/// Command during which the card panics.
pub const CMD_PANIC: [u8; 4] = [0x00, 0xEE, 0x00, 0x04];

/// What reached the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PowerOn,
    PowerOff,
    Reset,
    Apdu(Vec<u8>),
    Disconnected,
}

/// Answers a command with its bytes reversed followed by `90 00`, except the `CMD_*` commands.
#[derive(Debug, Default)]
pub struct TestCard {
    pub events: Vec<Event>,
}

/// The response `TestCard` gives to an ordinary command.
pub fn echo_response(command: &[u8]) -> Vec<u8> {
    let mut response: Vec<u8> = command.iter().rev().copied().collect();
    response.extend_from_slice(&[0x90, 0x00]);
    response
}

impl VirtualCard for TestCard {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }
    fn power_on(&mut self) {
        self.events.push(Event::PowerOn);
    }
    fn power_off(&mut self) {
        self.events.push(Event::PowerOff);
    }
    fn reset(&mut self) {
        self.events.push(Event::Reset);
    }
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.events.push(Event::Apdu(command.to_vec()));
        match command {
            c if c == CMD_OVERSIZED => vec![0xAB; 70_000],
            c if c == CMD_EMPTY => Vec::new(),
            c if c == CMD_MAX => {
                let mut response = vec![0xCD; 65_533];
                response.extend_from_slice(&[0x90, 0x00]);
                response
            }
            c if c == CMD_PANIC => panic!("test card panics on purpose"),
            _ => echo_response(command),
        }
    }
    fn disconnected(&mut self) {
        self.events.push(Event::Disconnected);
    }
}

/// A vpcd slot: listens, the card connects.
pub struct FakeVpcd {
    listener: TcpListener,
}

impl FakeVpcd {
    pub async fn bind() -> Self {
        Self::bind_to("127.0.0.1:0").await
    }

    pub async fn bind_to(addr: &str) -> Self {
        Self {
            listener: TcpListener::bind(addr).await.unwrap(),
        }
    }

    pub fn addr(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    pub async fn accept(&self) -> Peer {
        let (stream, _) = self.listener.accept().await.unwrap();
        Peer { stream }
    }
}

/// vpcd's end of one card connection.
pub struct Peer {
    stream: TcpStream,
}

impl Peer {
    /// Writes raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Sends one message the way Debian's vpcd 3.3 does: the length prefix and the payload
    /// in two separate writes.
    pub async fn send(&mut self, payload: &[u8]) {
        let len = u16::try_from(payload.len()).unwrap();
        self.send_raw(&len.to_be_bytes()).await;
        self.send_raw(payload).await;
    }

    /// Reads one reply; `None` when the card closed the connection (EOF or reset) before a
    /// new frame.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let mut header = [0u8; 2];
        match self.stream.read_exact(&mut header).await {
            Ok(_) => {}
            Err(_) => return None,
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(header))];
        self.stream.read_exact(&mut payload).await.unwrap();
        Some(payload)
    }

    pub async fn get_atr(&mut self) -> Vec<u8> {
        self.send(&[0x04]).await;
        self.recv().await.expect("an ATR")
    }

    pub async fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.send(command).await;
        self.recv().await.expect("a response")
    }

    /// Asserts that the card closed the connection, with no further bytes.
    pub async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        // EOF (FIN) or ECONNRESET both mean closed; either way no stray bytes came first.
        let _ = self.stream.read_to_end(&mut rest).await;
        assert!(
            rest.is_empty(),
            "unexpected bytes before close: {rest:02X?}"
        );
    }
}

/// A running `serve` task with every handle a test needs.
pub struct Harness<C: ?Sized> {
    pub card: Arc<Mutex<C>>,
    pub stats: Arc<Stats>,
    pub inserted: watch::Sender<bool>,
    pub link: watch::Receiver<LinkState>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), Error>>,
}

/// Options for `addr` with a short backoff.
pub fn options(addr: &str) -> Options {
    let mut options = Options::addr(addr);
    options.backoff = Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
    };
    options
}

pub fn start<C>(card: Arc<Mutex<C>>, options: Options, inserted: bool) -> Harness<C>
where
    C: VirtualCard + ?Sized + 'static,
{
    let stats = Arc::clone(&options.stats);
    let (inserted_tx, inserted_rx) = watch::channel(inserted);
    let (link_tx, link_rx) = watch::channel(LinkState::Idle);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stop_rx.await;
    };
    let task = tokio::spawn(vsmartcard::serve(
        Arc::clone(&card),
        options,
        inserted_rx,
        Some(link_tx),
        shutdown,
    ));
    Harness {
        card,
        stats,
        inserted: inserted_tx,
        link: link_rx,
        stop: Some(stop_tx),
        task,
    }
}

pub fn start_test_card(options: Options) -> Harness<TestCard> {
    start(Arc::new(Mutex::new(TestCard::default())), options, true)
}

impl<C: ?Sized> Harness<C> {
    pub async fn wait_state(&mut self, state: LinkState) {
        self.link.wait_for(|s| *s == state).await.unwrap();
    }

    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        let result = self.task.await.unwrap();
        assert_eq!(*self.link.borrow(), LinkState::Stopped);
        result
    }
}

impl Harness<TestCard> {
    /// Takes the events recorded so far.
    pub fn events(&self) -> Vec<Event> {
        std::mem::take(&mut self.card.lock().unwrap().events)
    }
}
