//! What a relying party keeps about each registered credential, as a small
//! JSON file (`tapfido register` appends, `tapfido login` reads and updates
//! the counter).
//!
//! ```json
//! [{"rp_id":"example.org","credential_id":"c9a6…","public_key":"a501…",
//!   "sign_count":0,"aaguid":"876ca4f5-…","user":"alice"}]
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::assertion::StoredCredential;
use super::cose::CoseKey;
use super::RpError;

/// One registered credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// RP ID.
    pub rp_id: String,
    /// Credential ID, hex.
    pub credential_id: String,
    /// COSE_Key, hex of its CBOR.
    pub public_key: String,
    /// Last signature counter.
    pub sign_count: u32,
    /// AAGUID of the authenticator.
    pub aaguid: String,
    /// User name given at registration.
    pub user: String,
}

/// Why the credential file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("credential file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a JSON list of records.
    #[error("credential file is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A record's key or ID is not valid hex / COSE.
    #[error("credential record is invalid: {0}")]
    Record(RpError),
}

impl CredentialRecord {
    /// What to keep of a verified registration for `rp_id` and `user`.
    pub fn of_registration(rp_id: &str, reg: &super::VerifiedRegistration, user: &str) -> Self {
        Self {
            rp_id: rp_id.to_owned(),
            credential_id: hex::encode(&reg.credential_id),
            public_key: hex::encode(reg.public_key.to_cbor()),
            sign_count: reg.sign_count,
            aaguid: super::policy::format_aaguid(&reg.aaguid),
            user: user.to_owned(),
        }
    }

    /// The verifier's view of this record.
    pub fn stored(&self) -> Result<StoredCredential, StoreError> {
        let bad = |_| StoreError::Record(RpError::MalformedCoseKey("not hex"));
        let key = hex::decode(&self.public_key).map_err(bad)?;
        Ok(StoredCredential {
            credential_id: hex::decode(&self.credential_id).map_err(bad)?,
            public_key: CoseKey::from_cbor(&key).map_err(StoreError::Record)?,
            sign_count: self.sign_count,
        })
    }
}

/// Load every record; a missing file is an empty list.
pub fn load(path: &Path) -> Result<Vec<CredentialRecord>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Replace the file's contents atomically (temp file, fsync, rename; mode
/// 0600), creating its directory (mode 0700) when missing.
pub fn save(path: &Path, records: &[CredentialRecord]) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(records)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            crate::storage::create_private_dir(dir)?;
        }
    }
    crate::storage::atomic_write(path, &json, 0o600)?;
    Ok(())
}

/// Insert or replace the record with the same RP and credential ID.
pub fn upsert(records: &mut Vec<CredentialRecord>, record: CredentialRecord) {
    match records
        .iter_mut()
        .find(|r| r.rp_id == record.rp_id && r.credential_id == record.credential_id)
    {
        Some(existing) => *existing = record,
        None => records.push(record),
    }
}
