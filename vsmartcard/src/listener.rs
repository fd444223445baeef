//! Reversed mode: the card listens, vpcd (or a relay) connects — vsmartcard's `vicc --reversed`.
//!
//! ```text
//!  state (LinkState)  event                                   next state
//!  -----------------  --------------------------------------  ---------------------------------
//!  Listening          a peer connects                         Connected
//!  Connected          the peer closes the link, or an error   Listening
//!  any                shutdown future ready                   Stopped
//! ```
//!
//! Taps never close the link. Measured with pcscd 1.9.9 and Debian's vpcd 3.3 in reversed mode
//! (`DEVICENAME HOST:0xPORT`): once vpcd loses its connection to the card — the card closes it,
//! or answers GET ATR with nothing, which makes vpcd close it — pcscd aborts ("bit out of range
//! 0 - FD_SETSIZE on fd_set") as soon as it next polls the reader. So in reversed mode a
//! removal (`inserted` false) is a field loss the card makes itself, on the open link:
//!
//! - at the next message from the peer, the card gets `disconnected()` (every piece of
//!   per-power-cycle state dropped);
//! - while removed, GET ATR is still answered (the reader stays "present" to pcscd), power
//!   messages are ignored and every APDU gets `6F 00`;
//! - put back, the card gets `power_on()` before the next message: a new field.
//!
//! One connection is served at a time; another peer waits in the accept queue until the
//! current link ends.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use crate::connection::{run_connection, End, Publisher, SW_NO_PRECISE_DIAGNOSIS};
use crate::link::{LinkState, Stats};
use crate::{Error, VirtualCard};

/// Serves `card` to whoever connects to `listener` (vpcd in reversed mode, a relay), one
/// connection at a time, until `shutdown` completes.
///
/// Link states, counters, `disconnected()` at the end of every link and shutdown behave as in
/// [`serve`](crate::serve); in place of connecting, the card waits in
/// [`LinkState::Listening`]. `inserted` switches the card in and out of the field without
/// closing the link (see the module documentation).
///
/// # Errors
/// [`Error::Io`] when the listener's address cannot be read. Accept and link failures are
/// logged and the card keeps listening.
pub async fn serve_listening<C, F>(
    card: Arc<Mutex<C>>,
    listener: TcpListener,
    stats: Arc<Stats>,
    inserted: watch::Receiver<bool>,
    link: Option<watch::Sender<LinkState>>,
    shutdown: F,
) -> Result<(), Error>
where
    C: VirtualCard + ?Sized + 'static,
    F: Future<Output = ()>,
{
    let local = listener.local_addr()?;
    let span = tracing::info_span!("vpcd", listen = %local);
    let publisher = Publisher(link);
    let present = *inserted.borrow();
    let gate = Arc::new(Mutex::new(FieldGate {
        present,
        card,
        inserted,
    }));
    async {
        let mut shutdown = std::pin::pin!(shutdown);
        // The link itself never ends on a removal: a receiver whose sender is gone and whose
        // value is `true` never reports one.
        let mut never_removed = watch::channel(true).1;
        loop {
            publisher.set(LinkState::Listening);
            let accepted = tokio::select! {
                () = shutdown.as_mut() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    info!(%peer, "peer connected");
                    let end = run_connection(
                        stream,
                        &gate,
                        &stats,
                        &mut never_removed,
                        &publisher,
                        shutdown.as_mut(),
                    )
                    .await;
                    if matches!(end, End::Shutdown) {
                        break;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
        publisher.set(LinkState::Stopped);
        info!("stopped");
    }
    .instrument(span)
    .await;
    Ok(())
}

/// The card as the peer sees it in reversed mode: in or out of the field by `inserted`, on an
/// open link.
struct FieldGate<C: ?Sized> {
    /// Whether the card is in the field as far as the card itself knows.
    present: bool,
    card: Arc<Mutex<C>>,
    inserted: watch::Receiver<bool>,
}

impl<C: VirtualCard + ?Sized> FieldGate<C> {
    /// Follows the `inserted` switch: a removal is a field loss, a return a new field.
    /// Returns whether the card is in the field.
    fn follow(&mut self) -> bool {
        let now = *self.inserted.borrow_and_update();
        if now != self.present {
            self.present = now;
            let mut card = lock(&self.card);
            if now {
                info!("card put back in the field");
                card.power_on();
            } else {
                info!("card taken out of the field (the link to the peer stays open)");
                card.disconnected();
            }
        }
        self.present
    }
}

fn lock<C: ?Sized>(card: &Mutex<C>) -> std::sync::MutexGuard<'_, C> {
    card.lock().unwrap_or_else(|poisoned| {
        card.clear_poison();
        poisoned.into_inner()
    })
}

impl<C: VirtualCard + ?Sized> VirtualCard for FieldGate<C> {
    fn atr(&self) -> Vec<u8> {
        lock(&self.card).atr()
    }

    fn power_on(&mut self) {
        let was = self.present;
        // Put back just now: `follow` already powered the card on.
        if self.follow() && was {
            lock(&self.card).power_on();
        }
    }

    fn power_off(&mut self) {
        if self.follow() {
            lock(&self.card).power_off();
        }
    }

    fn reset(&mut self) {
        if self.follow() {
            lock(&self.card).reset();
        }
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        if self.follow() {
            lock(&self.card).transmit(command)
        } else {
            SW_NO_PRECISE_DIAGNOSIS.to_vec()
        }
    }

    fn disconnected(&mut self) {
        if self.present {
            lock(&self.card).disconnected();
        }
    }
}
