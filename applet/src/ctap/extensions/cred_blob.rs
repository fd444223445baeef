//! credBlob (CTAP 2.1 §12.2): a small opaque blob stored with a
//! discoverable credential.
//!
//! ```text
//!  makeCredential input:  "credBlob": bstr
//!  output (authData ED):  "credBlob": bool    true when stored: the
//!                         credential is discoverable and the blob is at
//!                         most maxCredBlobLength (getInfo 0x0F) bytes
//!  getAssertion input:    "credBlob": true
//!  output (authData ED):  "credBlob": bstr    the stored blob, empty when
//!                         there is none (non-discoverable credentials)
//! ```

use crate::cbor::Value;
use crate::error::CtapError;

/// Extension identifier.
pub const NAME: &str = "credBlob";

/// The makeCredential input (a byte string).
pub fn mc_input(v: &Value) -> Result<&[u8], CtapError> {
    v.as_bytes()
}

/// The blob to store, if it is stored: only with a discoverable credential,
/// and only when it fits `max_len`.
pub fn mc_accept(blob: &[u8], rk: bool, max_len: usize) -> Option<Vec<u8>> {
    (rk && blob.len() <= max_len).then(|| blob.to_vec())
}

/// The getAssertion input (a boolean; `false` asks for nothing).
pub fn ga_input(v: &Value) -> Result<bool, CtapError> {
    v.as_bool()
}
