//! pinComplexityPolicy (CTAP 2.3 §12 "PIN Complexity Policy Extension"):
//! tells the RP whether the card enforces a PIN complexity policy
//! (`pin::complexity`).
//!
//! ```text
//!  makeCredential input:  "pinComplexityPolicy": true
//!  output (authData ED):  "pinComplexityPolicy": bool   (enforced now)
//! ```
//! The value is the one getInfo 0x1B already shows to every platform, so
//! it is given to every RP. Processed only when the profile has a policy
//! (`pin_complexity_policy` "off" or "on", getInfo 0x1B sent); `false` as input
//! produces no output.

use crate::cbor::Value;
use crate::config::Config;
use crate::error::CtapError;
use crate::state::CardState;

/// Extension identifier.
pub const NAME: &str = "pinComplexityPolicy";

/// The makeCredential input (a boolean).
pub fn mc_input(v: &Value) -> Result<bool, CtapError> {
    v.as_bool()
}

/// Whether the policy is enforced now: on from the factory, or turned on
/// by authenticatorConfig setMinPINLength. `None` when the profile has no
/// policy.
pub fn enforced(config: &Config, state: &CardState) -> Option<bool> {
    config
        .pin_complexity_policy
        .factory()
        .map(|factory| factory || state.persistent().pin_complexity_policy)
}
