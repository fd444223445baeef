//! COSE_Key credential public keys (RFC 9052/9053, WebAuthn §5.8.5) and
//! signature verification for ES256 and EdDSA.
//!
//! ```text
//!  ES256 (EC2):  { 1: 2, 3: -7, -1: 1 (P-256), -2: x(32), -3: y(32) }
//!  EdDSA (OKP):  { 1: 1, 3: -8, -1: 6 (Ed25519), -2: x(32) }
//! ```
//! ES256 signatures are DER `Ecdsa-Sig-Value` over SHA-256; EdDSA signatures
//! are the raw 64 bytes of RFC 8032.

use ciborium::Value;
use serde::Serialize;
use signature::Verifier;

use super::RpError;

/// COSE algorithm ES256.
pub const ALG_ES256: i64 = -7;
/// COSE algorithm EdDSA.
pub const ALG_EDDSA: i64 = -8;

/// A credential public key, verified to be a valid point.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "alg", rename_all = "lowercase")]
pub enum CoseKey {
    /// ECDSA P-256 with SHA-256.
    Es256 {
        /// SEC1 uncompressed point `04 || x || y`.
        #[serde(with = "super::hex_bytes")]
        sec1: Vec<u8>,
    },
    /// Ed25519.
    EdDsa {
        /// The 32-byte public key.
        #[serde(with = "super::hex_bytes")]
        public: Vec<u8>,
    },
}

fn int_of(v: &Value) -> Option<i128> {
    match v {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

fn field(map: &[(Value, Value)], label: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| int_of(k) == Some(i128::from(label)))
        .map(|(_, v)| v)
}

fn bytes_field(map: &[(Value, Value)], label: i64) -> Result<Vec<u8>, RpError> {
    match field(map, label) {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(RpError::MalformedCoseKey("coordinate missing or not bytes")),
    }
}

impl CoseKey {
    /// Decode a COSE_Key from its CBOR value.
    pub fn from_value(value: &Value) -> Result<Self, RpError> {
        let Value::Map(map) = value else {
            return Err(RpError::MalformedCoseKey("not a map"));
        };
        let kty = field(map, 1)
            .and_then(int_of)
            .ok_or(RpError::MalformedCoseKey("kty missing"))?;
        let alg = field(map, 3)
            .and_then(int_of)
            .ok_or(RpError::MalformedCoseKey("alg missing"))?;
        let crv = field(map, -1)
            .and_then(int_of)
            .ok_or(RpError::MalformedCoseKey("crv missing"))?;
        match (kty, alg) {
            (2, a) if a == i128::from(ALG_ES256) => {
                if crv != 1 {
                    return Err(RpError::MalformedCoseKey("ES256 key not on P-256"));
                }
                let x = bytes_field(map, -2)?;
                let y = bytes_field(map, -3)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(RpError::MalformedCoseKey("coordinate is not 32 bytes"));
                }
                let mut sec1 = Vec::with_capacity(65);
                sec1.push(0x04);
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| RpError::MalformedCoseKey("point not on curve"))?;
                Ok(Self::Es256 { sec1 })
            }
            (1, a) if a == i128::from(ALG_EDDSA) => {
                if crv != 6 {
                    return Err(RpError::MalformedCoseKey("EdDSA key not Ed25519"));
                }
                let public = bytes_field(map, -2)?;
                let arr: [u8; 32] = public
                    .as_slice()
                    .try_into()
                    .map_err(|_| RpError::MalformedCoseKey("Ed25519 key is not 32 bytes"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&arr)
                    .map_err(|_| RpError::MalformedCoseKey("invalid Ed25519 point"))?;
                Ok(Self::EdDsa { public })
            }
            _ => Err(RpError::UnsupportedAlgorithm(
                i64::try_from(alg).unwrap_or(i64::MIN),
            )),
        }
    }

    /// Decode a COSE_Key from CBOR bytes (exactly one item).
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, RpError> {
        let (value, used) =
            super::authdata::read_one_cbor(bytes).ok_or(RpError::MalformedCoseKey("not CBOR"))?;
        if used != bytes.len() {
            return Err(RpError::MalformedCoseKey("trailing bytes"));
        }
        Self::from_value(&value)
    }

    /// Encode as COSE_Key CBOR (canonical key order: 1, 3, -1, -2, -3).
    pub fn to_cbor(&self) -> Vec<u8> {
        let int = |i: i64| Value::Integer(i.into());
        let map = match self {
            Self::Es256 { sec1 } => Value::Map(vec![
                (int(1), int(2)),
                (int(3), int(ALG_ES256)),
                (int(-1), int(1)),
                (
                    int(-2),
                    Value::Bytes(sec1.get(1..33).unwrap_or_default().to_vec()),
                ),
                (
                    int(-3),
                    Value::Bytes(sec1.get(33..65).unwrap_or_default().to_vec()),
                ),
            ]),
            Self::EdDsa { public } => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(ALG_EDDSA)),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(public.clone())),
            ]),
        };
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = ciborium::ser::into_writer(&map, &mut out);
        out
    }

    /// The COSE algorithm identifier.
    pub fn alg(&self) -> i64 {
        match self {
            Self::Es256 { .. } => ALG_ES256,
            Self::EdDsa { .. } => ALG_EDDSA,
        }
    }

    /// Verify `sig` over `message` (ES256 hashes with SHA-256 itself).
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Es256 { sec1 } => verify_es256(sec1, message, sig),
            Self::EdDsa { public } => {
                let Ok(arr) = <[u8; 32]>::try_from(public.as_slice()) else {
                    return false;
                };
                let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&arr) else {
                    return false;
                };
                let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                    return false;
                };
                key.verify_strict(message, &sig).is_ok()
            }
        }
    }
}

/// Verify a DER ECDSA P-256/SHA-256 signature with a SEC1-encoded key.
pub(crate) fn verify_es256(sec1: &[u8], message: &[u8], der_sig: &[u8]) -> bool {
    let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::DerSignature::from_bytes(der_sig) else {
        return false;
    };
    key.verify(message, &sig).is_ok()
}
