//! clientDataJSON checks (WebAuthn Level 3 §5.8.1, §7.1 steps 5-9).
//!
//! ```text
//!  {"type":"webauthn.create","challenge":"<base64url, no padding>","origin":"https://…",…}
//! ```

use sha2::{Digest, Sha256};

use super::RpError;

/// The ceremony a clientDataJSON belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// Registration: `webauthn.create`.
    Create,
    /// Authentication: `webauthn.get`.
    Get,
}

impl Ceremony {
    fn type_str(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

/// Check `type`, `challenge` and `origin`; returns SHA-256(clientDataJSON).
pub fn check_client_data(
    json: &[u8],
    ceremony: Ceremony,
    challenge: &[u8],
    origin: &str,
) -> Result<[u8; 32], RpError> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|_| RpError::MalformedClientData)?;
    let get = |name: &str| -> Result<String, RpError> {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or(RpError::MalformedClientData)
    };
    let found_type = get("type")?;
    if found_type != ceremony.type_str() {
        return Err(RpError::ClientDataType {
            expected: ceremony.type_str().to_owned(),
            found: found_type,
        });
    }
    if get("challenge")? != base64url(challenge) {
        return Err(RpError::ChallengeMismatch);
    }
    let found_origin = get("origin")?;
    if found_origin != origin {
        return Err(RpError::OriginMismatch {
            expected: origin.to_owned(),
            found: found_origin,
        });
    }
    Ok(Sha256::digest(json).into())
}

/// Build a clientDataJSON the way a browser would (no `crossOrigin` field is
/// needed by the verifier; it is included as `false`).
pub fn make_client_data(ceremony: Ceremony, challenge: &[u8], origin: &str) -> Vec<u8> {
    let value = serde_json::json!({
        "type": ceremony.type_str(),
        "challenge": base64url(challenge),
        "origin": origin,
        "crossOrigin": false,
    });
    value.to_string().into_bytes()
}

/// base64url without padding (RFC 4648 §5), as WebAuthn uses it.
pub fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[usize::try_from(idx).unwrap_or(0)]));
        }
    }
    out
}
