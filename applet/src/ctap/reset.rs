//! authenticatorReset (0x07), CTAP 2.1 §6.6.
//!
//! ```text
//!  request: 07 (no parameters)       response: 00 (empty)
//!
//!  more than reset_window_secs (10 s) since power-up ─▶ CTAP2_ERR_NOT_ALLOWED
//!  no user presence ─────────────────────────────────▶ handled by the caller
//!  one atomic write: new master key (old credential IDs no longer unseal),
//!    fresh persistent state (no credentials, no PIN, 8 retries, profile's
//!    minimum PIN length, alwaysUv off); the attestation key is kept
//!  write fails ──────────────────────────────────────▶ error, nothing changed
//!  then: new key agreement keys and tokens, three-mismatch block cleared
//! ```

use std::fmt;
use std::time::Duration;

use super::{Authenticator, Failure};
use crate::config::Config;
use crate::credential::IdKey;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::PinState;
use crate::state::{CardState, Identity, Persistent};

/// What authenticatorReset works on.
pub struct ResetContext<'a> {
    /// The environment (RNG, clock, storage).
    pub env: &'a mut dyn Env,
    /// The card profile.
    pub config: &'a Config,
    /// Identity and persistent state.
    pub state: &'a mut CardState,
    /// The per-power-cycle ClientPIN state.
    pub pin: &'a mut PinState,
    /// When the current power cycle began.
    pub powered_at: Duration,
}

impl fmt::Debug for ResetContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetContext")
            .field("powered_at", &self.powered_at)
            .finish_non_exhaustive()
    }
}

/// The time check of authenticatorReset, to run before asking for user
/// presence: `CTAP2_ERR_NOT_ALLOWED` more than `reset_window_secs` after
/// power-up.
pub fn reset_allowed(
    config: &Config,
    now: Duration,
    powered_at: Duration,
) -> Result<(), CtapError> {
    if now.saturating_sub(powered_at) > Duration::from_secs(config.reset_window_secs) {
        Err(CtapError::NotAllowed)
    } else {
        Ok(())
    }
}

/// authenticatorReset, once user presence is established. The caller also
/// drops its other per-power-cycle state that refers to credentials (the
/// GetNextAssertion iterator, credential-management enumerations).
pub fn reset(ctx: ResetContext<'_>) -> Result<(), CtapError> {
    let ResetContext {
        env,
        config,
        state,
        pin,
        powered_at,
    } = ctx;
    reset_allowed(config, env.now(), powered_at)?;
    let mut master_key = [0u8; 32];
    env.rng().fill_bytes(&mut master_key);
    let identity = Identity {
        master_key,
        attestation_key: state.identity().attestation_key,
    };
    state.replace(env, identity, Persistent::fresh(config.min_pin_length))?;
    pin.reset(env);
    Ok(())
}

/// The dispatcher's entry point: the time window, then user presence, then
/// the wipe; the credential-ID key follows the new master key.
pub fn handle(auth: &mut Authenticator, env: &mut dyn Env) -> Result<(), Failure> {
    reset_allowed(&auth.config, env.now(), auth.transient.powered_at)?;
    auth.require_presence(env)?;
    reset(ResetContext {
        env,
        config: &auth.config,
        state: &mut auth.state,
        pin: &mut auth.pin,
        powered_at: auth.transient.powered_at,
    })?;
    auth.id_key = IdKey::derive(&auth.state.identity().master_key);
    auth.transient.assertions = None;
    // A large-blob write begun before the wipe does not continue after it.
    auth.transient.large_blob_write = None;
    Ok(())
}
