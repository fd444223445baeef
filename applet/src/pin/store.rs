//! What the PIN logic needs from the card's persistent state.
//!
//! The persistent state (`crate::state`) implements [`PinStore`]. The PIN
//! logic relies on this order (reliability.md §8.1 items 1-3): before a PIN
//! is compared, [`PinStore::reserve_pin_attempt`] makes the attempt durable
//! as spent (a failed write means the attempt fails without a comparison);
//! a mismatch then only updates memory; a match restores pinRetries in
//! memory, and [`PinStore::flush_pin_retries`] or the next write stores it.
//! Every method that writes is durable in `env.storage()` when it returns
//! `Ok` and leaves the previous stored state in force when it returns `Err`.

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
    /// Before a comparison: make sure storage already counts this attempt
    /// as failed (a write only when it does not yet).
    fn reserve_pin_attempt(&mut self, env: &mut dyn Env) -> Result<(), CtapError>;
    /// The compared PIN was wrong: one retry fewer (already durable).
    fn pin_mismatch(&mut self);
    /// The compared PIN was right: pinRetries back to 8, in memory.
    fn pin_match(&mut self);
    /// Store the restored pinRetries when storage lags by more than the one
    /// attempt it keeps reserved (no write otherwise). On `Err` the card
    /// goes on with the stored count.
    fn flush_pin_retries(&mut self, env: &mut dyn Env) -> Result<(), CtapError>;
    /// Persist a new PIN: its hash and code-point length, whether it meets
    /// the complexity rules, pinRetries = 8 (one attempt reserved in
    /// storage), forcePINChange = false, and no persistent pinUvAuthToken
    /// (CTAP 2.3 §6.5.5.6: changePIN resets it), in one atomic write.
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
