//! The cross-process locks that keep the demo's card off a vpcd slot in use
//! by someone else: the same `flock(2)` files as the end-to-end harness
//! (`tests/src/lock.rs`), taken in the same order — pcscd shared, then one
//! slot exclusive — and held until the demo's card has left the reader.
//!
//! ```text
//!  /tmp/tapfido-e2e-pcscd.lock    shared while a card is served (exclusive: pcscd restart)
//!  /tmp/tapfido-e2e-slot-N.lock   exclusive while slot N is used
//! ```
//!
//! The demo never waits on these locks: a slot that is busy is skipped,
//! and a pcscd being restarted sends the demo in-process.

use std::fs::{File, OpenOptions, TryLockError};

use host::pcsc::ReaderInfo;

use super::vpcd::vpcd_reader;

/// The pcscd lock: shared while a card is served, exclusive to restart pcscd.
pub const PCSCD_LOCK: &str = "/tmp/tapfido-e2e-pcscd.lock";

/// The vpcd slots looked at (Debian's reader.conf.d/vpcd configures 2;
/// more are possible).
pub const MAX_SLOTS: u16 = 16;

/// Path of the lock of vpcd slot `slot`.
pub fn slot_lock_path(slot: u16) -> String {
    format!("/tmp/tapfido-e2e-slot-{slot}.lock")
}

/// A vpcd slot held for this process; released on drop.
#[derive(Debug)]
pub struct SlotLock {
    slot: u16,
    // Dropped in declaration order: the slot first, then pcscd.
    _slot: File,
    _pcscd: File,
}

impl SlotLock {
    /// The slot held.
    pub fn slot(&self) -> u16 {
        self.slot
    }
}

fn open(path: &str) -> Option<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        // A lock file made by another user can still be locked read-only.
        .or_else(|_| File::open(path))
        .ok()
}

fn try_lock(file: &File, shared: bool) -> bool {
    let result = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match result {
        Ok(()) => true,
        Err(TryLockError::WouldBlock) => false,
        Err(TryLockError::Error(e)) => {
            tracing::debug!(%e, "cannot take a slot lock");
            false
        }
    }
}

/// The first vpcd slot that pcscd lists with no card in it and whose lock
/// is free, locked; `None` when there is none (or pcscd is being restarted).
pub fn lock_free_slot(readers: &[ReaderInfo]) -> Option<SlotLock> {
    let pcscd = open(PCSCD_LOCK)?;
    if !try_lock(&pcscd, true) {
        return None;
    }
    for slot in 0..MAX_SLOTS {
        let free = vpcd_reader(readers, slot).is_some_and(|r| !r.card_present);
        if !free {
            continue;
        }
        let Some(file) = open(&slot_lock_path(slot)) else {
            continue;
        };
        if try_lock(&file, false) {
            return Some(SlotLock {
                slot,
                _slot: file,
                _pcscd: pcscd,
            });
        }
    }
    None
}
