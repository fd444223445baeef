//! Extension processing hooks for makeCredential and getAssertion
//! (CTAP 2.1 §12 "Defined Extensions").
//!
//! The handlers call [`make_credential`] and [`get_assertion`] after the
//! request is parsed and UV is settled, before user presence. Unknown
//! extensions are ignored (§6.1.2 step 12). Only extensions listed by
//! getInfo (`get_info::IMPLEMENTED_EXTENSIONS` ∩ profile) are processed;
//! for the others the input is ignored and no output is produced.
//!
//! To implement one (hmac-secret, credProtect, credBlob, largeBlobKey,
//! minPinLength): parse its input here, fill the returned struct, add its
//! name to `IMPLEMENTED_EXTENSIONS`.

use super::Authenticator;
use crate::cbor::{Map, Value};
use crate::error::CtapError;

/// What the makeCredential extensions decided.
#[derive(Clone, Debug, Default)]
pub struct McExtensions {
    /// credProtect level to seal into the credential (0: not requested).
    pub cred_protect: u8,
    /// credBlob to store with a discoverable credential.
    pub cred_blob: Option<Vec<u8>>,
    /// largeBlobKey to store with a discoverable credential.
    pub large_blob_key: Option<[u8; 32]>,
    /// Authenticator-data extension outputs (ED), as map pairs.
    pub outputs: Vec<(Value, Value)>,
    /// Unsigned extension outputs (response key 0x06), as map pairs.
    pub unsigned: Vec<(Value, Value)>,
}

/// What the getAssertion extensions produced for one credential.
#[derive(Clone, Debug, Default)]
pub struct GaExtensions {
    /// Authenticator-data extension outputs (ED), as map pairs.
    pub outputs: Vec<(Value, Value)>,
}

/// Process makeCredential extension inputs (type-checked: a non-map
/// `extensions` is `CBOR_UNEXPECTED_TYPE`).
pub fn make_credential(
    _auth: &mut Authenticator,
    extensions: Option<Map<'_>>,
    _uv: bool,
    _rk: bool,
) -> Result<McExtensions, CtapError> {
    let _ = extensions;
    Ok(McExtensions::default())
}

/// Process getAssertion extension inputs for the selected credential.
pub fn get_assertion(
    _auth: &mut Authenticator,
    extensions: Option<Map<'_>>,
    _uv: bool,
    _credential_id: &[u8],
) -> Result<GaExtensions, CtapError> {
    let _ = extensions;
    Ok(GaExtensions::default())
}

/// The authenticator-data extensions map, or `None` when there are no outputs.
pub fn outputs_map(outputs: &[(Value, Value)]) -> Option<Value> {
    if outputs.is_empty() {
        None
    } else {
        Some(Value::Map(outputs.to_vec()))
    }
}
