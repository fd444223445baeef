//! Authenticator data (WebAuthn §6.1, CTAP 2.1 §6.1.2 / §6.2.2).
//!
//! ```text
//!  rpIdHash (32) | flags (1) | signCount (4, big-endian)
//!  [ attestedCredentialData: aaguid (16) | credIdLen (2, BE) | credId | COSE_Key ]  (AT)
//!  [ extensions: CBOR map ]                                                         (ED)
//!  flags: bit 0 UP, bit 2 UV, bit 6 AT, bit 7 ED
//! ```

use crate::cbor::{self, Value};

/// User present.
pub const FLAG_UP: u8 = 0x01;
/// User verified.
pub const FLAG_UV: u8 = 0x04;
/// Attested credential data included.
pub const FLAG_AT: u8 = 0x40;
/// Extension data included.
pub const FLAG_ED: u8 = 0x80;

/// Attested credential data of a new credential.
#[derive(Clone, Debug)]
pub struct AttestedCredential<'a> {
    /// The authenticator's AAGUID.
    pub aaguid: &'a [u8; 16],
    /// The credential ID (at most 1023 bytes; ours are 63).
    pub credential_id: &'a [u8],
    /// The COSE_Key public key.
    pub public_key: &'a Value,
}

/// Build authenticator data. `flags` carries UP/UV; AT and ED are set here
/// from the presence of `attested` and `extensions`.
pub fn build(
    rp_id_hash: &[u8; 32],
    flags: u8,
    sign_count: u32,
    attested: Option<&AttestedCredential<'_>>,
    extensions: Option<&Value>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(37 + attested.map_or(0, |_| 18 + 63 + 77));
    out.extend_from_slice(rp_id_hash);
    let mut f = flags & (FLAG_UP | FLAG_UV);
    if attested.is_some() {
        f |= FLAG_AT;
    }
    if extensions.is_some() {
        f |= FLAG_ED;
    }
    out.push(f);
    out.extend_from_slice(&sign_count.to_be_bytes());
    if let Some(a) = attested {
        out.extend_from_slice(a.aaguid);
        let len = u16::try_from(a.credential_id.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(a.credential_id);
        cbor::encode_into(a.public_key, &mut out);
    }
    if let Some(e) = extensions {
        cbor::encode_into(e, &mut out);
    }
    out
}
