//! What the PIN logic needs from the card's persistent state.
//!
//! The persistent state (`crate::state`) implements [`PinStore`]; every
//! `persist_*` call must be durable in `env.storage()` before it returns
//! `Ok`, and must leave the previous state in force when it returns `Err`.
//! The PIN logic relies on that order: the retry counter is decremented
//! and persisted *before* a PIN is compared, so a failed write means the
//! attempt fails without a comparison (reliability.md §8.1 items 1-3).

use crate::env::Env;
use crate::error::CtapError;
use crate::pin::policy::{NewPin, PIN_HASH_LEN};

/// pinRetries of a fresh card and after every correct PIN (CTAP 2.1 §6.5.1:
/// "maximum PIN retries: 8").
pub const MAX_PIN_RETRIES: u8 = 8;

/// Persistent PIN data: CurrentStoredPIN, pinRetries, the minimum PIN
/// length and forceChangePin (CTAP 2.1 §6.5.1, §6.11.4).
pub trait PinStore {
    /// `LEFT(SHA-256(pin), 16)`, or `None` when no PIN is set.
    fn pin_hash(&self) -> Option<[u8; PIN_HASH_LEN]>;
    /// Remaining PIN attempts (0..=8).
    fn pin_retries(&self) -> u8;
    /// Current minimum PIN length in code points (getInfo `minPINLength`).
    fn min_pin_length(&self) -> u8;
    /// getInfo `forcePINChange`.
    fn force_pin_change(&self) -> bool;
    /// Persist pinRetries = `retries`.
    fn persist_pin_retries(&mut self, env: &mut dyn Env, retries: u8) -> Result<(), CtapError>;
    /// Persist a new PIN: its hash and code-point length, whether it meets
    /// the complexity rules, pinRetries = 8, forcePINChange = false, and no
    /// persistent pinUvAuthToken (CTAP 2.3 §6.5.5.6: changePIN resets it),
    /// in one atomic write.
    fn persist_new_pin(&mut self, env: &mut dyn Env, pin: &NewPin) -> Result<(), CtapError>;
    /// Whether setMinPINLength turned the PIN complexity policy on.
    fn complexity_policy_on(&self) -> bool;
    /// The persistent pinUvAuthToken (`pcmr`), if one was issued.
    fn persistent_token(&self) -> Option<[u8; 32]>;
    /// Persist a new persistent pinUvAuthToken, replacing the previous one.
    fn persist_persistent_token(
        &mut self,
        env: &mut dyn Env,
        token: [u8; 32],
    ) -> Result<(), CtapError>;
}
