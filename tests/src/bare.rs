//! A bare responder: the smallest [`VirtualCard`] there is (it answers `90 00` to every
//! command), served by the same `vsmartcard::serve` transport as tapfido, in this process.
//! It is the floor of the benchmark (what pcscd + vpcd + the transport cost with no card
//! logic at all) and a sanity check of the stack in the harness tests.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::watch;
use vsmartcard::{Options, VirtualCard};

use crate::card::{PcscdLock, CARD_TIMEOUT};
use crate::lock::{self, Lock};
use crate::reader::Reader;

/// `3B 80 80 01 01`: PC/SC part 3 contactless layout with no historical bytes
/// (TD1 = 80, TD2 = 01 for T=1, TCK = 80 ^ 80 ^ 01).
pub const BARE_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// Answers `90 00` to everything.
#[derive(Debug, Default)]
pub struct BareCard;

impl VirtualCard for BareCard {
    fn atr(&self) -> Vec<u8> {
        BARE_ATR.to_vec()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, _command: &[u8]) -> Vec<u8> {
        vec![0x90, 0x00]
    }
}

/// A [`BareCard`] (or any in-process [`VirtualCard`]) served on a vpcd slot from a
/// background thread; removed on drop.
#[derive(Debug)]
pub struct BareResponder {
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    reader: Reader,
    _slot_lock: Lock,
    _pcscd_lock: Option<Lock>,
}

impl BareResponder {
    /// Serves a bare card on `slot` (or any free slot) and waits until pcscd sees it.
    #[must_use]
    pub fn start(slot: Option<u8>, pcscd_lock: PcscdLock) -> Self {
        Self::serve(Arc::new(Mutex::new(BareCard)), slot, pcscd_lock)
    }

    /// Serves any in-process card the same way (e.g. a `reader_bridge::bridge::Bridge`).
    #[must_use]
    pub fn serve(
        card: Arc<Mutex<dyn VirtualCard>>,
        slot: Option<u8>,
        pcscd_lock: PcscdLock,
    ) -> Self {
        let pcscd_lock = match pcscd_lock {
            PcscdLock::Shared => Some(lock::pcscd(false)),
            PcscdLock::HeldByCaller => None,
        };
        crate::pcscd::ensure().unwrap_or_else(|e| panic!("{e}"));
        let (slot, slot_lock) = match slot {
            Some(n) => (n, lock::slot(n)),
            None => lock::any_slot(0),
        };
        let reader = Reader::slot(slot);
        if let Err(e) = reader.wait(false, CARD_TIMEOUT) {
            panic!("{} is busy: {e}", reader.name);
        }
        let (stop, mut stop_rx) = watch::channel(false);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
            rt.block_on(async move {
                let (_inserted_tx, inserted) = watch::channel(true);
                let shutdown = async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                };
                let options = Options::slot("127.0.0.1", slot);
                if let Err(e) = vsmartcard::serve(card, options, inserted, None, shutdown).await {
                    eprintln!("bare responder: {e}");
                }
            });
        });
        let responder = Self {
            stop,
            thread: Some(thread),
            reader,
            _slot_lock: slot_lock,
            _pcscd_lock: pcscd_lock,
        };
        if let Err(e) = responder.reader.wait(true, CARD_TIMEOUT) {
            panic!("bare responder did not appear: {e}");
        }
        responder
    }

    /// The reader it sits in.
    #[must_use]
    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

impl Drop for BareResponder {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = self.reader.wait(false, CARD_TIMEOUT);
    }
}
