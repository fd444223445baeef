//! largeBlobKey (CTAP 2.1 §12.3): a per-credential key for the large-blob
//! array (authenticatorLargeBlobs, §6.10). Discoverable credentials only.
//!
//! ```text
//!  makeCredential input:  "largeBlobKey": true   (with options.rk = true)
//!  output:                response key 0x05 largeBlobKey: bstr(32)
//!  getAssertion input:    "largeBlobKey": true
//!  output:                response key 0x07 largeBlobKey: bstr(32), when
//!                         the credential has one
//!  errors:                CTAP2_ERR_INVALID_OPTION  input other than true;
//!                         makeCredential without rk
//! ```
//! The key is not an authenticator-data extension output: nothing is
//! added to authData.

use crate::cbor::Value;
use crate::env::Env;
use crate::error::CtapError;

/// Extension identifier.
pub const NAME: &str = "largeBlobKey";

/// Check the makeCredential input: `true`, with a discoverable credential.
pub fn mc_input(v: &Value, rk: bool) -> Result<(), CtapError> {
    if !v.as_bool()? || !rk {
        return Err(CtapError::InvalidOption);
    }
    Ok(())
}

/// Check the getAssertion input: `true`.
pub fn ga_input(v: &Value) -> Result<bool, CtapError> {
    if v.as_bool()? {
        Ok(true)
    } else {
        Err(CtapError::InvalidOption)
    }
}

/// A new random largeBlobKey.
pub fn generate(env: &mut dyn Env) -> [u8; 32] {
    let mut key = [0u8; 32];
    env.rng().fill_bytes(&mut key);
    key
}
