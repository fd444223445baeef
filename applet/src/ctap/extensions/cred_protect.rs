//! credProtect (CTAP 2.1 §12.1).
//!
//! ```text
//!  makeCredential input:  "credProtect": uint
//!    1 userVerificationOptional
//!    2 userVerificationOptionalWithCredentialIDList
//!    3 userVerificationRequired
//!  output (authData ED):  "credProtect": uint   (the level applied)
//! ```
//! The level is sealed in the credential ID (`credential::CredFlags`) and,
//! for a discoverable credential, kept with it in the card's state. It is
//! enforced where credentials are found:
//! - getAssertion: level 3 without UV → the credential is treated as
//!   absent; level 2 without UV → not found by discovery (no allowList),
//!   found through the allowList;
//! - makeCredential excludeList: level 3 without UV is treated as absent
//!   (CTAP 2.1 §6.1.2, excludeList);
//! - U2F authenticate: a level-3 credential is refused.

use crate::cbor::Value;
use crate::error::CtapError;

/// Extension identifier.
pub const NAME: &str = "credProtect";
/// userVerificationOptional.
pub const UV_OPTIONAL: u8 = 1;
/// userVerificationOptionalWithCredentialIDList.
pub const UV_OPTIONAL_WITH_LIST: u8 = 2;
/// userVerificationRequired.
pub const UV_REQUIRED: u8 = 3;

/// The requested level: `Ok(None)` for an integer that is not a defined
/// level (the input is then ignored, no output); a non-integer is
/// `CBOR_UNEXPECTED_TYPE`.
pub fn mc_input(v: &Value) -> Result<Option<u8>, CtapError> {
    let level = match v {
        Value::Unsigned(n) => *n,
        Value::Negative(_) => return Ok(None),
        _ => return Err(CtapError::CborUnexpectedType),
    };
    Ok(u8::try_from(level)
        .ok()
        .filter(|l| (UV_OPTIONAL..=UV_REQUIRED).contains(l)))
}
