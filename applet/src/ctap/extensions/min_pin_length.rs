//! minPinLength (CTAP 2.1 §12.4).
//!
//! ```text
//!  makeCredential input:  "minPinLength": true
//!  output (authData ED):  "minPinLength": uint   the current minimum PIN
//!                         length, only when the RP ID is one of the
//!                         minPinLengthRPIDs set by authenticatorConfig
//!                         setMinPINLength (§6.11.4); otherwise no output
//! ```

use crate::cbor::Value;
use crate::error::CtapError;
use crate::pin::PinStore;
use crate::state::CardState;

/// Extension identifier.
pub const NAME: &str = "minPinLength";

/// The makeCredential input (a boolean).
pub fn mc_input(v: &Value) -> Result<bool, CtapError> {
    v.as_bool()
}

/// The output for `rp_id`: the minimum PIN length when the RP is allowed
/// to see it.
pub fn mc_output(state: &CardState, rp_id: &str) -> Option<u8> {
    state
        .persistent()
        .min_pin_length_rpids
        .iter()
        .any(|id| id == rp_id)
        .then(|| state.min_pin_length())
}
