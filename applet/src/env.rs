//! The injected environment: randomness, time, user presence and storage.
//!
//! Everything the applet cannot compute from its inputs comes through [`Env`].
//! Production code (the `tapfido` binary) supplies OS randomness, a monotonic
//! clock, the tap/touch state from the control API and an atomic state file;
//! tests use [`TestEnv`], which is seeded and whose clock moves only by hand.

use std::fmt;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// A cryptographically secure RNG usable as a trait object.
pub trait CardRng: RngCore + CryptoRng {}
impl<T: RngCore + CryptoRng> CardRng for T {}

/// User presence as the outside world reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Presence {
    /// NFC rule: the tap that powered the card is the presence gesture, valid
    /// for the applet's presence window after power-up.
    #[default]
    Field,
    /// Presence asserted now (control API `touch/on`).
    Touched,
    /// Presence withheld (control API `touch/off`): the user is not touching.
    Withheld,
}

/// Why persistent storage failed. The applet maps every variant to a CTAP or
/// ISO error and never treats a failure as success.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The medium could not be read or written (EIO, ENOSPC, permissions).
    #[error("storage I/O failed: {0}")]
    Io(String),
}

/// Whole-blob persistent storage for one card.
///
/// `store` is atomic: when it returns `Ok`, the new bytes are durable; when it
/// returns `Err`, the previously stored bytes are still what `load` returns.
pub trait Storage {
    /// The stored blob, or `Ok(None)` for a card that has never been written.
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Replace the stored blob atomically and durably.
    fn store(&mut self, bytes: &[u8]) -> Result<(), StorageError>;
}

/// Everything non-deterministic, injected.
pub trait Env {
    /// Cryptographic randomness.
    fn rng(&mut self) -> &mut dyn CardRng;
    /// Monotonic time since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// User presence as reported from outside.
    fn presence(&self) -> Presence;
    /// The card's persistent storage.
    fn storage(&mut self) -> &mut dyn Storage;
}

/// In-memory storage, with an optional injected failure for fault tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    /// Current durable contents.
    pub bytes: Option<Vec<u8>>,
    /// Number of successful `store` calls.
    pub writes: usize,
    /// When `Some(n)`, the store call made after `n` more successful writes fails.
    pub fail_after: Option<usize>,
    /// When `Some`, every successful `store` appends a copy of the bytes it
    /// made durable: the states a process killed after that write would
    /// restart from (tearing tests).
    pub journal: Option<Vec<Vec<u8>>>,
}

impl Storage for MemoryStorage {
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.bytes.clone())
    }

    fn store(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        if let Some(left) = self.fail_after.as_mut() {
            if *left == 0 {
                return Err(StorageError::Io("injected write failure".into()));
            }
            *left -= 1;
        }
        self.bytes = Some(bytes.to_vec());
        self.writes += 1;
        if let Some(journal) = self.journal.as_mut() {
            journal.push(bytes.to_vec());
        }
        Ok(())
    }
}

/// A deterministic environment: seeded ChaCha20 RNG, a clock moved by hand,
/// presence set by hand, in-memory storage.
pub struct TestEnv {
    rng: ChaCha20Rng,
    /// Current time; advance with [`TestEnv::advance`].
    pub clock: Duration,
    /// Presence reported to the applet.
    pub presence: Presence,
    /// The card's storage.
    pub storage: MemoryStorage,
}

impl fmt::Debug for TestEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestEnv")
            .field("clock", &self.clock)
            .field("presence", &self.presence)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl TestEnv {
    /// A fresh environment whose randomness is fully determined by `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            clock: Duration::ZERO,
            presence: Presence::Field,
            storage: MemoryStorage::default(),
        }
    }

    /// Move the clock forward.
    pub fn advance(&mut self, by: Duration) {
        self.clock += by;
    }
}

impl Env for TestEnv {
    fn rng(&mut self) -> &mut dyn CardRng {
        &mut self.rng
    }
    fn now(&self) -> Duration {
        self.clock
    }
    fn presence(&self) -> Presence {
        self.presence
    }
    fn storage(&mut self) -> &mut dyn Storage {
        &mut self.storage
    }
}

/// A storage failure is `CTAP1_ERR_OTHER` (0x7F): the command did not complete.
impl From<StorageError> for crate::error::CtapError {
    fn from(_: StorageError) -> Self {
        crate::error::CtapError::Other
    }
}
