//! An offline WebAuthn relying party: registration and assertion
//! verification plus Entra-style passkey policies.
//!
//! # Layout
//! - [`authdata`]: authenticator data parsing (WebAuthn Level 3 §6.1).
//! - [`cose`]: COSE_Key credential keys, ES256 and EdDSA signatures.
//! - [`client_data`]: clientDataJSON checks (§7.1 steps 5-9).
//! - [`cert`]: FIDO attestation certificate requirements (§8.2.1) and chains.
//! - [`registration`]: §7.1 with `packed`, `fido-u2f`, `none` (§8.2, §8.6, §8.7).
//! - [`assertion`]: §7.2 with counter regression.
//! - [`policy`]: key restrictions / passkey profile rules from TOML.
//!
//! Every failure is an [`RpError`] variant naming the rule that failed.

pub mod assertion;
pub mod authdata;
pub mod cert;
pub mod client_data;
pub mod cose;
mod error;
pub mod extensions;
pub mod json;
pub mod policy;
pub mod registration;
pub mod store;

pub use assertion::{verify_assertion, verify_assertion_hash, StoredCredential, VerifiedAssertion};
pub use authdata::AuthData;
pub use client_data::{base64url, make_client_data, Ceremony};
pub use cose::CoseKey;
pub use error::RpError;
pub use policy::{Outcome, Policy, PolicyError, PolicyReport, Rule, RuleResult};
pub use registration::{
    verify_registration, verify_registration_parts, AttestationType, Trust, VerifiedRegistration,
};

/// What the relying party expects of a ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// RP ID, e.g. `example.org`; authData carries SHA-256 of it.
    pub rp_id: String,
    /// Origin in clientDataJSON, e.g. `https://example.org`.
    pub origin: String,
    /// The challenge the RP issued.
    pub challenge: Vec<u8>,
    /// Fail with [`RpError::UserNotVerified`] when flag UV is clear.
    pub require_uv: bool,
}

/// Serialize bytes as lowercase hex in JSON reports.
pub mod hex_bytes {
    use serde::Serializer;

    /// `#[serde(with = "hex_bytes")]`: the bytes as one lowercase hex string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}
