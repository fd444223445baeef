//! What a relying party keeps about each registered credential, serialized
//! as a small JSON list (`tapfido register` appends, `tapfido login` reads and
//! updates the counter; the file itself is the binary's business).
//!
//! ```json
//! [{"rp_id":"example.org","credential_id":"c9a6…","public_key":"a501…",
//!   "sign_count":0,"aaguid":"876ca4f5-…","user":"alice"}]
//! ```

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
