//! The embedded card served to vpcd by this process (the serve API of
//! `tapfido card`), so a flow runs through pcscd like any client's would.
//!
//! ```text
//!  thread "tapfido-vpcd-card": tokio ─ serve::serve_cards ═TCP═▶ vpcd (in pcscd)
//!  caller: CardSession ─ PcscTransport ─▶ pcscd ─▶ "Virtual PCD 00 0N" ─▶ …
//!  "remove card": SCardReconnect(UNPOWER) → vpcd 00 / 01 → Bridge power off / on
//! ```

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use x509_cert::Certificate;

use super::embedded::EmbeddedCard;
use super::{params, run_flow, DemoError, DemoOptions, DemoReport};
use crate::control::CardHandle;
use crate::serve::{serve_cards, ReadyCard};
use host::pcsc::{
    list_readers, wait_for_card, wait_for_removal, PcscTransport, ReaderInfo, ReaderSelector,
};
use host::{CardSession, HostError, Transport};

/// vpcd's name for its readers: `Virtual PCD 00 0N` for slot N.
pub const VPCD_READER: &str = "Virtual PCD";
/// vpcd's port for slot 0; slot N listens on this + N.
pub const VPCD_PORT: u16 = 35_963;

/// The vpcd reader of `slot`, when pcscd lists it.
pub fn vpcd_reader(readers: &[ReaderInfo], slot: u16) -> Option<&ReaderInfo> {
    let suffix = format!("{slot:02}");
    readers
        .iter()
        .filter(|r| r.name.contains(VPCD_READER))
        .find(|r| r.name.trim_end().ends_with(&suffix))
}

/// A free vpcd slot (reader listed, no card in it, its lock free), locked
/// against the end-to-end tests and other demos until the value is dropped.
pub fn free_vpcd_slot() -> Option<super::slot_lock::SlotLock> {
    let readers = list_readers().ok()?;
    super::slot_lock::lock_free_slot(&readers)
}

type ServeResult = Result<(), String>;

/// The embedded card in a vpcd reader for as long as this value lives.
pub struct ServedCard {
    /// Trust anchors of the card's attestation.
    pub anchors: Vec<Certificate>,
    /// The profile's AAGUID.
    pub aaguid: [u8; 16],
    /// Profile name.
    pub profile: String,
    /// The PC/SC reader the card sits in.
    pub reader: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<ServeResult>>,
}

impl std::fmt::Debug for ServedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedCard")
            .field("profile", &self.profile)
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl ServedCard {
    /// Serve the embedded card of built-in `profile` on vpcd `slot` at
    /// `vpcd` (`HOST:PORT` of that slot) and wait (up to 10 s) until pcscd
    /// sees it.
    pub fn start(profile: &str, vpcd: &str, slot: u16) -> Result<Self, DemoError> {
        let readers = list_readers()?;
        let reader = vpcd_reader(&readers, slot)
            .ok_or_else(|| HostError::NoSuchReader(format!("{VPCD_READER} slot {slot}")))?
            .name
            .clone();
        // A card that was just taken away may still be listed for a moment.
        wait_for_removal(
            &ReaderSelector::Name(reader.clone()),
            Some(Duration::from_secs(10)),
        )?;
        let embedded = EmbeddedCard::build(profile)?;
        let handle = Arc::new(CardHandle::new(slot, vpcd, embedded.profile.clone()));
        let card: Arc<Mutex<dyn vsmartcard::VirtualCard>> = Arc::new(Mutex::new(embedded.card));
        let ready = ReadyCard { handle, card };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tapfido-vpcd-card".to_owned())
            .spawn(move || -> ServeResult {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(serve_cards(vec![ready], None, async {
                    let _ = stop_rx.await;
                }))
                .map_err(|e| e.to_string())
            })
            .map_err(|e| DemoError::Card(format!("cannot start the card thread: {e}")))?;
        let served = Self {
            anchors: embedded.anchors,
            aaguid: embedded.aaguid,
            profile: embedded.profile,
            reader,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        wait_for_card(&served.selector(), Some(Duration::from_secs(10)))?;
        Ok(served)
    }

    /// The selector of the card's reader.
    pub fn selector(&self) -> ReaderSelector {
        ReaderSelector::Name(self.reader.clone())
    }

    /// Take the card out of the reader and stop serving it.
    pub fn stop(mut self) -> Result<(), DemoError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), DemoError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let joined = self.thread.take().map(JoinHandle::join);
        if joined.is_some() {
            // Return once pcscd has noticed: the next card may use the slot.
            wait_for_removal(&self.selector(), Some(Duration::from_secs(10)))?;
        }
        match joined {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(DemoError::Card(format!("serving the card: {e}"))),
            Some(Err(_)) => Err(DemoError::Card("the card thread panicked".to_owned())),
        }
    }
}

impl Drop for ServedCard {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(%e, "while removing the demo card");
        }
    }
}

/// Serve the embedded card on vpcd slot `slot` at `vpcd`, run the flow
/// through pcscd, then take the card away.
pub fn run_demo_vpcd(
    options: &DemoOptions,
    vpcd: &str,
    slot: u16,
) -> Result<DemoReport, DemoError> {
    let served = ServedCard::start(&options.profile, vpcd, slot)?;
    let flow = params(options, served.anchors.clone(), Some(served.aaguid))?;
    let mut session = CardSession::new(PcscTransport::open(&served.selector())?);
    let transport = format!(
        "{}, {} profile, card served on vpcd {vpcd}",
        session.transport().describe(),
        served.profile
    );
    let report = run_flow(&mut session, &flow, transport);
    drop(session);
    served.stop()?;
    Ok(report)
}
