//! The card's side of the vpcd link: connect, serve frames, reconnect, follow taps, stop.
//!
//! ```text
//!  state (LinkState)  event                               next state
//!  -----------------  ----------------------------------  ------------------------------------
//!  Connecting         TCP connection established          Connected
//!  Connecting         connection refused / failed         Retrying { delay }
//!  Connected          vpcd closed the link, or an error   Connecting at once if the link
//!                                                         carried a message, else Retrying
//!  Retrying           delay over                          Connecting
//!  any                `inserted` turns false              Removed
//!  Removed            `inserted` turns true               Connecting (backoff starts over)
//!  any                shutdown future ready               Stopped (serve returns)
//! ```
//!
//! `disconnected()` is called exactly once for every connection that was established, after
//! its socket is closed, whatever ended it (vpcd, an error, a removal, shutdown). The
//! connection's frames are read, passed to the card and answered on a thread of its own with
//! a blocking socket (see `run_connection`); connecting, backoff, taps and shutdown stay on
//! the async task. The card's mutex is never held across an `.await`.

use std::future::Future;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tracing::{debug, error, info, trace, warn, Instrument};

use crate::frame::blocking;
use crate::link::{LinkState, Stats};
use crate::options::{check_addr, Options};
use crate::protocol::{VpcdMessage, SW_WRONG_LENGTH};
use crate::{socket, Error, VirtualCard};

/// SW `6F 00`, "no precise diagnosis" (ISO/IEC 7816-4:2013 §5.6, table 6): sent in place of a card response
/// that cannot go on the wire (empty, over 65,535 bytes, or the card panicked).
pub const SW_NO_PRECISE_DIAGNOSIS: [u8; 2] = [0x6F, 0x00];

/// How long after its first GET ATR a new connection may go unpowered before it is made again
/// (pcscd's presence poll is every 400 ms; a found card is powered within milliseconds).
pub const INSERTION_WINDOW: std::time::Duration = std::time::Duration::from_millis(200);

/// How long a new connection may stay without any frame from vpcd before it is made again.
pub const FIRST_FRAME_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

/// Serves `card` on the vpcd slot at `options.addr` until `shutdown` completes.
///
/// - Connects to vpcd, sets `TCP_NODELAY`, re-arms `TCP_QUICKACK` after every frame header
///   (Linux), and answers vpcd's messages until the connection drops; then calls
///   `card.disconnected()` and reconnects: at once after a link that carried messages,
///   otherwise after [`Backoff`](crate::Backoff) delays (vpcd absent, pcscd restarting).
/// - `inserted` is the card's presence in the reader. When it turns `false` the connection is
///   closed (pcscd sees the card removed), `disconnected()` is called, and nothing reconnects
///   until it turns `true`. When its sender is dropped, the last value stays in force; a
///   receiver from `watch::channel(true)` with the sender dropped means "always inserted".
/// - `link`, if given, receives every [`LinkState`] change; `options.stats` counts
///   connections, messages and APDUs.
/// - When `shutdown` completes, the socket is closed, `disconnected()` is called if a
///   connection was up, `LinkState::Stopped` is published and `Ok(())` is returned.
///
/// The card is an `Arc<Mutex<C>>`, `C` a concrete card or `dyn VirtualCard`: one process runs
/// one `serve` task per vpcd slot, each with its own card, and a control API keeps a clone of
/// the `Arc` to reach the card between APDUs. A poisoned mutex is recovered (logged), and a
/// panic inside a card call is caught and logged: an APDU then gets `6F 00`.
///
/// # Errors
/// [`Error::InvalidAddress`] when `options.addr` is not `HOST:PORT`. Link failures are never
/// returned: they are logged and retried.
pub async fn serve<C, F>(
    card: Arc<Mutex<C>>,
    options: Options,
    inserted: watch::Receiver<bool>,
    link: Option<watch::Sender<LinkState>>,
    shutdown: F,
) -> Result<(), Error>
where
    C: VirtualCard + ?Sized + 'static,
    F: Future<Output = ()>,
{
    check_addr(&options.addr)?;
    let span = tracing::info_span!("vpcd", addr = %options.addr);
    let publisher = Publisher(link);
    run(&card, &options, inserted, &publisher, shutdown)
        .instrument(span)
        .await;
    Ok(())
}

/// Publishes link states, if anyone asked for them.
pub(crate) struct Publisher(pub(crate) Option<watch::Sender<LinkState>>);

impl Publisher {
    pub(crate) fn set(&self, state: LinkState) {
        debug!(?state, "link state");
        if let Some(sender) = &self.0 {
            sender.send_replace(state);
        }
    }
}

/// How a connection ended.
pub(crate) enum End {
    Shutdown,
    Removed,
    /// vpcd closed the link or it failed; `carried` is whether any message came through.
    Lost {
        carried: bool,
    },
}

async fn run<C, F>(
    card: &Arc<Mutex<C>>,
    options: &Options,
    mut inserted: watch::Receiver<bool>,
    publisher: &Publisher,
    shutdown: F,
) where
    C: VirtualCard + ?Sized + 'static,
    F: Future<Output = ()>,
{
    let mut shutdown = std::pin::pin!(shutdown);
    let mut failures: u32 = 0;
    loop {
        if !*inserted.borrow() {
            publisher.set(LinkState::Removed);
            info!("card removed from the reader");
            tokio::select! {
                () = shutdown.as_mut() => break,
                () = wait_inserted(&mut inserted) => {}
            }
            info!("card put back in the reader");
            failures = 0;
        }

        publisher.set(LinkState::Connecting);
        let connected = tokio::select! {
            () = shutdown.as_mut() => break,
            () = wait_removed(&mut inserted) => continue,
            result = TcpStream::connect(options.addr.as_str()) => result,
        };
        match connected {
            Ok(stream) => {
                let end = run_connection(
                    stream,
                    card,
                    &options.stats,
                    &mut inserted,
                    publisher,
                    shutdown.as_mut(),
                )
                .await;
                match end {
                    End::Shutdown => break,
                    End::Removed => continue,
                    End::Lost { carried: true } => {
                        failures = 0;
                        continue;
                    }
                    End::Lost { carried: false } => {}
                }
            }
            Err(e) => {
                if failures == 0 {
                    warn!(error = %e, "cannot reach vpcd; retrying");
                } else {
                    debug!(error = %e, failures, "cannot reach vpcd");
                }
            }
        }

        failures = failures.saturating_add(1);
        let delay = options.backoff.delay(failures);
        publisher.set(LinkState::Retrying { delay });
        tokio::select! {
            () = shutdown.as_mut() => break,
            () = wait_removed(&mut inserted) => {}
            () = tokio::time::sleep(delay) => {}
        }
    }
    publisher.set(LinkState::Stopped);
    info!("stopped");
}

/// Serves one established connection until it ends, then closes it and calls
/// `disconnected()`.
///
/// The link itself (read a frame, call the card, write the reply) runs on a thread of its
/// own with a blocking socket, like a plain `std::net` responder: no async runtime, no
/// readiness poll and no task wake-up between vpcd and the card. On an idle machine every
/// thread wake-up on the APDU path is a sleeping core woken, so the path has exactly one.
/// The task here waits for the thread's end, shutdown or removal; for the last two it shuts
/// the socket down, which ends the thread's blocking read, and waits for the thread before
/// calling `disconnected()`.
pub(crate) async fn run_connection<C, F>(
    stream: TcpStream,
    card: &Arc<Mutex<C>>,
    stats: &Arc<Stats>,
    inserted: &mut watch::Receiver<bool>,
    publisher: &Publisher,
    shutdown: Pin<&mut F>,
) -> End
where
    C: VirtualCard + ?Sized + 'static,
    F: Future<Output = ()>,
{
    stats.count_connection();
    let messages_before = stats.messages();
    let lost = || End::Lost {
        carried: stats.messages() > messages_before,
    };
    let (link, closer) = match blocking_pair(stream) {
        Ok(pair) => pair,
        Err(e) => {
            warn!(error = %e, "cannot take over the vpcd socket; closing it");
            return lost();
        }
    };
    if let Err(e) = socket::configure(&link) {
        warn!(error = %e, "cannot set TCP_NODELAY/TCP_QUICKACK; APDUs may stall");
    }
    info!("connected to vpcd (or a relay)");
    publisher.set(LinkState::Connected);

    let (done_tx, mut done_rx) = oneshot::channel();
    let thread_card = Arc::clone(card);
    let thread_stats = Arc::clone(stats);
    let span = tracing::Span::current();
    let spawned = std::thread::Builder::new()
        .name("vpcd-link".into())
        .spawn(move || {
            let result = span.in_scope(|| serve_link(link, &thread_card, &thread_stats));
            let _ = done_tx.send(result);
        });
    let end = match spawned {
        Err(e) => {
            warn!(error = %e, "cannot start the link thread; closing the connection");
            close(&closer);
            lost()
        }
        Ok(_detached) => {
            let end = tokio::select! {
                () = shutdown => End::Shutdown,
                () = wait_removed(inserted) => End::Removed,
                result = &mut done_rx => {
                    match result {
                        Ok(Ok(())) => info!("vpcd closed the connection"),
                        Ok(Err(e)) => warn!(error = %e, "vpcd link failed; closing it"),
                        Err(_) => error!("the link thread ended without a result"),
                    }
                    lost()
                }
            };
            close(&closer);
            if !matches!(end, End::Lost { .. }) {
                // The thread ends once its read fails; the card is not called after this.
                let _ = done_rx.await;
            }
            end
        }
    };
    drop(closer);
    with_card(card, "disconnected", |c| c.disconnected());
    end
}

/// The connection as a blocking `std` socket for the link thread, and a second handle to it
/// that shuts it down from the task.
fn blocking_pair(stream: TcpStream) -> std::io::Result<(std::net::TcpStream, std::net::TcpStream)> {
    let link = stream.into_std()?;
    link.set_nonblocking(false)?;
    let closer = link.try_clone()?;
    Ok((link, closer))
}

/// Shuts the socket down both ways (vpcd sees the card leave; a blocked read returns).
fn close(socket: &std::net::TcpStream) {
    if let Err(e) = socket.shutdown(Shutdown::Both) {
        if e.kind() != std::io::ErrorKind::NotConnected {
            debug!(error = %e, "closing the vpcd socket");
        }
    }
}

/// Reads messages from vpcd and answers them until vpcd closes the connection (`Ok`) or the
/// link fails (`Err`). Runs on the link thread; the socket is blocking.
///
/// The first frame must come within [`FIRST_FRAME_TIMEOUT`]: vpcd asks an accepted card for
/// its ATR on pcscd's next presence poll (every 400 ms), so a silent connection is one vpcd
/// has not accepted; it is closed and made again.
///
/// A new connection must then be powered on: pcscd follows the GET ATR that finds the card
/// with a power on within milliseconds (measured: `04 04 01 04` within 10 ms). A GET ATR
/// [`INSERTION_WINDOW`] after the first without a power on (pcscd's next presence poll), or
/// a power off, before any power on means pcscd took this card for the one that was there
/// before (a card process that died and came back before pcscd's next presence poll, when a
/// client closed its handle to the dead card meanwhile): it publishes the reader as empty
/// and never powers the card until it has seen the slot empty once. The connection is
/// closed, pcscd sees the slot empty on its next poll, and the reconnected card is a fresh
/// insertion, powered at once.
fn serve_link<C>(
    mut stream: std::net::TcpStream,
    card: &Mutex<C>,
    stats: &Stats,
) -> Result<(), Error>
where
    C: VirtualCard + ?Sized,
{
    // Whether vpcd powered the card on this connection, and when it first asked for the ATR.
    let mut powered = false;
    let mut first_poll = None;
    stream.set_read_timeout(Some(FIRST_FRAME_TIMEOUT))?;
    let first = blocking::read_header(&mut stream).map_err(|e| match e {
        Error::Io(io) if matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Error::Silent
        }
        other => other,
    });
    stream.set_read_timeout(None)?;
    let mut header = first?;
    loop {
        let Some(len) = header else {
            return Ok(());
        };
        if let Err(e) = socket::rearm_quickack(&stream) {
            debug!(error = %e, "cannot re-arm TCP_QUICKACK");
        }
        let payload = blocking::read_payload(&mut stream, len)?;
        let message = VpcdMessage::decode(payload)?;
        match message {
            VpcdMessage::PowerOn | VpcdMessage::Reset | VpcdMessage::Apdu(_) => powered = true,
            VpcdMessage::PowerOff if !powered => return Err(Error::NeverPowered),
            VpcdMessage::GetAtr if !powered => {
                let now = Instant::now();
                match first_poll {
                    None => first_poll = Some(now),
                    Some(first) if now.duration_since(first) >= INSERTION_WINDOW => {
                        return Err(Error::NeverPowered);
                    }
                    Some(_) => {}
                }
            }
            _ => {}
        }
        stats.count_message();
        match message {
            VpcdMessage::PowerOff => {
                with_card(card, "power_off", |c| c.power_off());
            }
            VpcdMessage::PowerOn => {
                with_card(card, "power_on", |c| c.power_on());
            }
            VpcdMessage::Reset => {
                with_card(card, "reset", |c| c.reset());
            }
            VpcdMessage::ShortCommand(byte) => {
                debug!(byte, "one-byte command; answering 67 00");
                stats.count_apdu();
                blocking::write_frame(&mut stream, &SW_WRONG_LENGTH)?;
            }
            VpcdMessage::GetAtr => {
                let atr = with_card(card, "atr", |c| c.atr()).ok_or(Error::EmptyAtr)?;
                if atr.is_empty() {
                    return Err(Error::EmptyAtr);
                }
                blocking::write_frame(&mut stream, &atr)?;
            }
            VpcdMessage::Apdu(command) => {
                trace!(len = command.len(), "command APDU");
                let response = with_card(card, "transmit", |c| c.transmit(&command))
                    .unwrap_or_else(|| SW_NO_PRECISE_DIAGNOSIS.to_vec());
                stats.count_apdu();
                send_response(&mut stream, &response)?;
            }
        }
        header = blocking::read_header(&mut stream)?;
    }
}

/// Sends a response APDU; one that cannot go on the wire is replaced by `6F 00`.
fn send_response(stream: &mut std::net::TcpStream, response: &[u8]) -> Result<(), Error> {
    match blocking::write_frame(stream, response) {
        Err(Error::EmptyFrame) => {
            warn!("the card returned an empty response; answering 6F00 instead");
        }
        Err(Error::FrameTooLarge { len }) => {
            error!(
                len,
                "the card's response exceeds 65,535 bytes; answering 6F00 instead"
            );
        }
        other => {
            trace!(len = response.len(), "response APDU");
            return other;
        }
    }
    blocking::write_frame(stream, &SW_NO_PRECISE_DIAGNOSIS)
}

/// Calls into the card with its mutex held. A poisoned mutex is recovered; a panic in the card
/// is caught and logged, and gives `None`.
fn with_card<C, T>(card: &Mutex<C>, call: &'static str, f: impl FnOnce(&mut C) -> T) -> Option<T>
where
    C: VirtualCard + ?Sized,
{
    let mut guard = lock(card);
    match catch_unwind(AssertUnwindSafe(|| f(&mut guard))) {
        Ok(value) => Some(value),
        Err(_) => {
            error!(call, "the card panicked");
            None
        }
    }
}

/// Locks the card, recovering the value of a poisoned mutex (a panic elsewhere while it was
/// held) instead of propagating the panic.
fn lock<C: ?Sized>(card: &Mutex<C>) -> MutexGuard<'_, C> {
    card.lock().unwrap_or_else(|poisoned| {
        warn!("the card's mutex was poisoned by a panic elsewhere; continuing with its state");
        card.clear_poison();
        poisoned.into_inner()
    })
}

/// Completes when the card is in the reader. Never completes if the sender is gone while the
/// card is out.
async fn wait_inserted(inserted: &mut watch::Receiver<bool>) {
    if inserted.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Completes when the card is out of the reader. Never completes if the sender is gone while
/// the card is in.
async fn wait_removed(inserted: &mut watch::Receiver<bool>) {
    if inserted.wait_for(|v| !*v).await.is_err() {
        std::future::pending::<()>().await;
    }
}
