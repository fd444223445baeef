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
//! its socket is closed, whatever ended it (vpcd, an error, a removal, shutdown). Calls into
//! the card are synchronous and made inline on the task; the card's mutex is never held across
//! an `.await`.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, error, info, trace, warn, Instrument};

use crate::frame::{read_header, read_payload};
use crate::link::{LinkState, Stats};
use crate::options::{check_addr, Options};
use crate::protocol::{write_reply, VpcdMessage, SW_WRONG_LENGTH};
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
    C: VirtualCard + ?Sized,
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
struct Publisher(Option<watch::Sender<LinkState>>);

impl Publisher {
    fn set(&self, state: LinkState) {
        debug!(?state, "link state");
        if let Some(sender) = &self.0 {
            sender.send_replace(state);
        }
    }
}

/// How a connection ended.
enum End {
    Shutdown,
    Removed,
    /// vpcd closed the link or it failed; `carried` is whether any message came through.
    Lost {
        carried: bool,
    },
}

async fn run<C, F>(
    card: &Mutex<C>,
    options: &Options,
    mut inserted: watch::Receiver<bool>,
    publisher: &Publisher,
    shutdown: F,
) where
    C: VirtualCard + ?Sized,
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
async fn run_connection<C, F>(
    mut stream: TcpStream,
    card: &Mutex<C>,
    stats: &Stats,
    inserted: &mut watch::Receiver<bool>,
    publisher: &Publisher,
    shutdown: Pin<&mut F>,
) -> End
where
    C: VirtualCard + ?Sized,
    F: Future<Output = ()>,
{
    if let Err(e) = socket::configure(&stream) {
        warn!(error = %e, "cannot set TCP_NODELAY/TCP_QUICKACK; APDUs may stall");
    }
    stats.count_connection();
    let messages_before = stats.messages();
    info!("connected to vpcd");
    publisher.set(LinkState::Connected);

    let end = tokio::select! {
        () = shutdown => End::Shutdown,
        () = wait_removed(inserted) => End::Removed,
        result = serve_link(&mut stream, card, stats) => {
            match result {
                Ok(()) => info!("vpcd closed the connection"),
                Err(e) => warn!(error = %e, "vpcd link failed; closing it"),
            }
            End::Lost { carried: stats.messages() > messages_before }
        }
    };

    if let Err(e) = stream.shutdown().await {
        debug!(error = %e, "closing the vpcd socket");
    }
    drop(stream);
    with_card(card, "disconnected", |c| c.disconnected());
    end
}

/// Reads messages from vpcd and answers them until vpcd closes the connection (`Ok`) or the
/// link fails (`Err`).
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
async fn serve_link<C>(stream: &mut TcpStream, card: &Mutex<C>, stats: &Stats) -> Result<(), Error>
where
    C: VirtualCard + ?Sized,
{
    let mut first = true;
    // Whether vpcd powered the card on this connection, and when it first asked for the ATR.
    let mut powered = false;
    let mut first_poll = None;
    loop {
        let header = if first {
            first = false;
            tokio::time::timeout(FIRST_FRAME_TIMEOUT, read_header(stream))
                .await
                .map_err(|_| Error::Silent)?
        } else {
            read_header(stream).await
        };
        let Some(len) = header? else {
            return Ok(());
        };
        if let Err(e) = socket::rearm_quickack(stream) {
            debug!(error = %e, "cannot re-arm TCP_QUICKACK");
        }
        let payload = read_payload(stream, len).await?;
        let message = VpcdMessage::decode(payload)?;
        match message {
            VpcdMessage::PowerOn | VpcdMessage::Reset | VpcdMessage::Apdu(_) => powered = true,
            VpcdMessage::PowerOff if !powered => return Err(Error::NeverPowered),
            VpcdMessage::GetAtr if !powered => {
                let now = tokio::time::Instant::now();
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
                write_reply(stream, &SW_WRONG_LENGTH).await?;
            }
            VpcdMessage::GetAtr => {
                let atr = with_card(card, "atr", |c| c.atr()).ok_or(Error::EmptyAtr)?;
                if atr.is_empty() {
                    return Err(Error::EmptyAtr);
                }
                write_reply(stream, &atr).await?;
            }
            VpcdMessage::Apdu(command) => {
                trace!(len = command.len(), "command APDU");
                let response = with_card(card, "transmit", |c| c.transmit(&command))
                    .unwrap_or_else(|| SW_NO_PRECISE_DIAGNOSIS.to_vec());
                stats.count_apdu();
                send_response(stream, &response).await?;
            }
        }
    }
}

/// Sends a response APDU; one that cannot go on the wire is replaced by `6F 00`.
async fn send_response(stream: &mut TcpStream, response: &[u8]) -> Result<(), Error> {
    match write_reply(stream, response).await {
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
    write_reply(stream, &SW_NO_PRECISE_DIAGNOSIS).await
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
