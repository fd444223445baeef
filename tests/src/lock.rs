//! Cross-process locks (`flock(2)` through `std::fs::File::lock`), so that test binaries,
//! threads of one binary, the python tests and the benchmark never share a vpcd slot, and
//! the test that restarts pcscd runs alone.
//!
//! `tapfido demo` takes the same locks (`tapfido::demo::slot_lock`, which owns the
//! paths), without waiting, so a demo never lands on a slot a test is using.
//!
//! Order, always: the pcscd lock first (shared, or exclusive to restart pcscd), then one
//! slot lock. Each lock is its own open file description, so two threads of one process
//! exclude each other exactly like two processes.

use std::fs::{File, OpenOptions};

/// Number of vpcd slots in Debian's `/etc/reader.conf.d/vpcd`.
pub const SLOTS: u8 = 2;

/// A held lock; released on drop (closing the file releases the `flock`).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    /// The lock file's path.
    pub path: String,
}

fn open(path: &str) -> File {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open lock file {path}: {e}"))
}

/// Path of the lock of vpcd slot `slot` (the same file `tapfido demo` locks).
#[must_use]
pub fn slot_path(slot: u8) -> String {
    tapfido::demo::slot_lock::slot_lock_path(u16::from(slot))
}

/// Path of the pcscd lock: shared while a card is in use, exclusive to restart pcscd
/// (the same file `tapfido demo` locks).
pub const PCSCD_LOCK: &str = tapfido::demo::slot_lock::PCSCD_LOCK;
/// Path of the lock held while checking for and starting pcscd.
pub const PCSCD_START_LOCK: &str = "/tmp/tapfido-e2e-pcscd-start.lock";

/// Blocks until slot `slot` is ours.
#[must_use]
pub fn slot(slot: u8) -> Lock {
    let path = slot_path(slot);
    let file = open(&path);
    file.lock().unwrap_or_else(|e| panic!("lock {path}: {e}"));
    Lock { _file: file, path }
}

/// Takes a free slot: the first one whose lock is free right now, otherwise waits for
/// the slot picked by `preference` (so waiting processes spread over the slots).
#[must_use]
pub fn any_slot(preference: u8) -> (u8, Lock) {
    for n in 0..SLOTS {
        let path = slot_path(n);
        let file = open(&path);
        if file.try_lock().is_ok() {
            return (n, Lock { _file: file, path });
        }
    }
    let n = preference % SLOTS;
    (n, slot(n))
}

/// Blocks until pcscd may be used (shared) or restarted (exclusive).
#[must_use]
pub fn pcscd(exclusive: bool) -> Lock {
    let file = open(PCSCD_LOCK);
    let result = if exclusive {
        file.lock()
    } else {
        file.lock_shared()
    };
    result.unwrap_or_else(|e| panic!("lock {PCSCD_LOCK}: {e}"));
    Lock {
        _file: file,
        path: PCSCD_LOCK.to_owned(),
    }
}

/// Blocks until this process may check for, start or restart pcscd.
#[must_use]
pub fn pcscd_start() -> Lock {
    let file = open(PCSCD_START_LOCK);
    file.lock()
        .unwrap_or_else(|e| panic!("lock {PCSCD_START_LOCK}: {e}"));
    Lock {
        _file: file,
        path: PCSCD_START_LOCK.to_owned(),
    }
}
