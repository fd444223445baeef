//! Authenticator data (WebAuthn Level 3 §6.1).
//!
//! ```text
//!  rpIdHash(32) | flags(1) | signCount(4, BE) | [attestedCredentialData] | [extensions CBOR]
//!  attestedCredentialData = aaguid(16) | credIdLen(2, BE) | credId | COSE_Key (CBOR)
//!  flags: 0x01 UP, 0x04 UV, 0x08 BE, 0x10 BS, 0x40 AT, 0x80 ED
//! ```

use ciborium::Value;
use serde::Serialize;

use super::cose::CoseKey;
use super::RpError;

/// Flag bit UP: user present.
pub const FLAG_UP: u8 = 0x01;
/// Flag bit UV: user verified.
pub const FLAG_UV: u8 = 0x04;
/// Flag bit BE: backup eligible (a synced passkey may be copied).
pub const FLAG_BE: u8 = 0x08;
/// Flag bit BS: backed up.
pub const FLAG_BS: u8 = 0x10;
/// Flag bit AT: attested credential data included.
pub const FLAG_AT: u8 = 0x40;
/// Flag bit ED: extension data included.
pub const FLAG_ED: u8 = 0x80;

/// Parsed authenticator data, keeping the raw bytes that signatures cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthData {
    /// The exact bytes received.
    #[serde(with = "super::hex_bytes")]
    pub raw: Vec<u8>,
    /// SHA-256 of the RP ID.
    #[serde(with = "super::hex_bytes")]
    pub rp_id_hash: Vec<u8>,
    /// Flag byte.
    pub flags: u8,
    /// Signature counter.
    pub sign_count: u32,
    /// Attested credential data, when flag AT is set.
    pub attested: Option<AttestedCredential>,
    /// Extension outputs (CBOR map), when flag ED is set.
    #[serde(skip)]
    pub extensions: Option<Value>,
}

/// Attested credential data (§6.5.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttestedCredential {
    /// Authenticator model identifier.
    #[serde(with = "super::hex_bytes")]
    pub aaguid: Vec<u8>,
    /// Credential ID.
    #[serde(with = "super::hex_bytes")]
    pub credential_id: Vec<u8>,
    /// Credential public key.
    pub public_key: CoseKey,
}

impl AuthData {
    /// Parse, then the checks both ceremonies make on authenticator data
    /// (WebAuthn Level 3 §7.1 steps 13-16, §7.2 steps 15-17): rpIdHash is
    /// SHA-256 of the RP ID, flag UP set, and flag UV set when required.
    pub fn parse_expected(raw: &[u8], expect: &super::Expectations) -> Result<Self, RpError> {
        use sha2::{Digest, Sha256};
        let auth = Self::parse(raw)?;
        if auth.rp_id_hash != Sha256::digest(expect.rp_id.as_bytes()).as_slice() {
            return Err(RpError::RpIdHashMismatch);
        }
        if !auth.user_present() {
            return Err(RpError::UserNotPresent);
        }
        if expect.require_uv && !auth.user_verified() {
            return Err(RpError::UserNotVerified);
        }
        Ok(auth)
    }

    /// Parse authenticator data; rejects truncated data and trailing bytes.
    pub fn parse(raw: &[u8]) -> Result<Self, RpError> {
        let head = raw
            .get(..37)
            .ok_or(RpError::MalformedAuthData("shorter than 37 bytes"))?;
        let rp_id_hash = head[..32].to_vec();
        let flags = head[32];
        let sign_count = u32::from_be_bytes([head[33], head[34], head[35], head[36]]);
        let mut rest = &raw[37..];
        let attested = if flags & FLAG_AT != 0 {
            let fixed = rest.get(..18).ok_or(RpError::MalformedAuthData(
                "attested credential data truncated",
            ))?;
            let aaguid = fixed[..16].to_vec();
            let id_len = usize::from(u16::from_be_bytes([fixed[16], fixed[17]]));
            let id_end = 18 + id_len;
            let credential_id = rest
                .get(18..id_end)
                .ok_or(RpError::MalformedAuthData("credential ID truncated"))?
                .to_vec();
            rest = &rest[id_end..];
            let (key_value, used) = read_one_cbor(rest).ok_or(RpError::MalformedAuthData(
                "credential public key is not CBOR",
            ))?;
            rest = &rest[used..];
            let public_key = CoseKey::from_value(&key_value)?;
            Some(AttestedCredential {
                aaguid,
                credential_id,
                public_key,
            })
        } else {
            None
        };
        let extensions = if flags & FLAG_ED != 0 {
            let (value, used) =
                read_one_cbor(rest).ok_or(RpError::MalformedAuthData("extensions are not CBOR"))?;
            rest = &rest[used..];
            Some(value)
        } else {
            None
        };
        if !rest.is_empty() {
            return Err(RpError::MalformedAuthData("trailing bytes"));
        }
        Ok(Self {
            raw: raw.to_vec(),
            rp_id_hash,
            flags,
            sign_count,
            attested,
            extensions,
        })
    }

    /// Flag UP.
    pub fn user_present(&self) -> bool {
        self.flags & FLAG_UP != 0
    }

    /// Flag UV.
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }

    /// Flag BE: the credential may be synced (not device-bound).
    pub fn backup_eligible(&self) -> bool {
        self.flags & FLAG_BE != 0
    }

    /// Flag BS.
    pub fn backed_up(&self) -> bool {
        self.flags & FLAG_BS != 0
    }
}

/// Decode one CBOR item from the front of `bytes`, returning it and the
/// number of bytes it used.
pub(crate) fn read_one_cbor(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut cursor = std::io::Cursor::new(bytes);
    let value: Value = ciborium::de::from_reader(&mut cursor).ok()?;
    let used = usize::try_from(cursor.position()).ok()?;
    Some((value, used))
}
