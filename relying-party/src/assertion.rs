//! Assertion verification (WebAuthn Level 3 §7.2).
//!
//! ```text
//!  signed = authenticatorData || SHA-256(clientDataJSON)
//!  ES256: DER ECDSA signature; EdDSA: 64 raw bytes
//! ```

use serde::Serialize;

use super::authdata::AuthData;
use super::client_data::{check_client_data, Ceremony};
use super::cose::CoseKey;
use super::{Expectations, RpError};

/// What the relying party stored at registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCredential {
    /// Credential ID.
    #[serde(with = "super::hex_bytes")]
    pub credential_id: Vec<u8>,
    /// Credential public key.
    pub public_key: CoseKey,
    /// Last signature counter seen.
    pub sign_count: u32,
}

/// An assertion that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedAssertion {
    /// New signature counter (store it).
    pub sign_count: u32,
    /// Flag UP.
    pub user_present: bool,
    /// Flag UV.
    pub user_verified: bool,
    /// Flag BE.
    pub backup_eligible: bool,
    /// The extension outputs, checked (`extensions::check_assertion`).
    pub extensions: super::extensions::AssertionExtensions,
}

/// Verify an assertion given the clientDataJSON the client built.
pub fn verify_assertion(
    auth_data: &[u8],
    client_data_json: &[u8],
    signature: &[u8],
    expect: &Expectations,
    stored: &StoredCredential,
) -> Result<VerifiedAssertion, RpError> {
    let hash = check_client_data(
        client_data_json,
        Ceremony::Get,
        &expect.challenge,
        &expect.origin,
    )?;
    verify_assertion_hash(auth_data, &hash, signature, expect, stored)
}

/// Verify an assertion over a clientDataHash the caller already checked
/// (CTAP 2.1 §6.2 response: `authData` 0x02, `signature` 0x03).
pub fn verify_assertion_hash(
    auth_data: &[u8],
    client_data_hash: &[u8; 32],
    signature: &[u8],
    expect: &Expectations,
    stored: &StoredCredential,
) -> Result<VerifiedAssertion, RpError> {
    let auth = AuthData::parse_expected(auth_data, expect)?;
    let extensions = super::extensions::check_assertion(auth.extensions.as_ref())?;
    let mut signed = auth.raw.clone();
    signed.extend_from_slice(client_data_hash);
    if !stored.public_key.verify(&signed, signature) {
        return Err(RpError::SignatureInvalid);
    }
    if (auth.sign_count != 0 || stored.sign_count != 0) && auth.sign_count <= stored.sign_count {
        return Err(RpError::CounterRegression {
            stored: stored.sign_count,
            received: auth.sign_count,
        });
    }
    Ok(VerifiedAssertion {
        sign_count: auth.sign_count,
        user_present: auth.user_present(),
        user_verified: auth.user_verified(),
        backup_eligible: auth.backup_eligible(),
        extensions,
    })
}
