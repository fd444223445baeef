//! The `PublicKeyCredential` JSON a browser hands to a server
//! (`PublicKeyCredential.toJSON()`, WebAuthn Level 3 §5.1.8), with its
//! binary members in base64url (RFC 4648 §5, padding optional).
//!
//! ```json
//! {"id":"…","rawId":"…","type":"public-key",
//!  "response":{"attestationObject":"…","clientDataJSON":"…"}}            registration
//! {"id":"…","rawId":"…","type":"public-key",
//!  "response":{"authenticatorData":"…","clientDataJSON":"…","signature":"…","userHandle":"…"}}
//! ```

use serde::Deserialize;

/// Why the JSON is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON of the expected shape.
    #[error("not a PublicKeyCredential JSON: {0}")]
    Shape(String),
    /// A member is not base64url.
    #[error("member {0} is not base64url")]
    Base64(&'static str),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseJson {
    attestation_object: Option<String>,
    authenticator_data: Option<String>,
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    signature: Option<String>,
    user_handle: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialJson {
    raw_id: Option<String>,
    id: Option<String>,
    response: ResponseJson,
}

/// A decoded credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialJsonKind {
    /// From `navigator.credentials.create()`.
    Registration {
        /// attestationObject.
        attestation_object: Vec<u8>,
        /// clientDataJSON.
        client_data_json: Vec<u8>,
    },
    /// From `navigator.credentials.get()`.
    Assertion {
        /// Credential ID (rawId).
        credential_id: Vec<u8>,
        /// authenticatorData.
        authenticator_data: Vec<u8>,
        /// clientDataJSON.
        client_data_json: Vec<u8>,
        /// signature.
        signature: Vec<u8>,
        /// userHandle.
        user_handle: Option<Vec<u8>>,
    },
}

/// base64url (RFC 4648 §5) as WebAuthn's JSON serialization uses it:
/// the URL-safe alphabet only (`+` and `/` are refused), padding optional,
/// non-zero trailing bits refused.
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

/// Decode base64url, with or without padding.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    base64::Engine::decode(&BASE64URL, text).ok()
}

fn b64(field: Option<&String>, name: &'static str) -> Result<Vec<u8>, JsonError> {
    let text = field.ok_or_else(|| JsonError::Shape(format!("{name} missing")))?;
    base64url_decode(text).ok_or(JsonError::Base64(name))
}

/// Parse a `PublicKeyCredential` JSON.
pub fn parse_credential_json(json: &[u8]) -> Result<CredentialJsonKind, JsonError> {
    let c: CredentialJson =
        serde_json::from_slice(json).map_err(|e| JsonError::Shape(e.to_string()))?;
    let client_data_json = base64url_decode(&c.response.client_data_json)
        .ok_or(JsonError::Base64("clientDataJSON"))?;
    if let Some(ao) = &c.response.attestation_object {
        return Ok(CredentialJsonKind::Registration {
            attestation_object: base64url_decode(ao)
                .ok_or(JsonError::Base64("attestationObject"))?,
            client_data_json,
        });
    }
    let credential_id = b64(c.raw_id.as_ref().or(c.id.as_ref()), "rawId")?;
    Ok(CredentialJsonKind::Assertion {
        credential_id,
        authenticator_data: b64(c.response.authenticator_data.as_ref(), "authenticatorData")?,
        client_data_json,
        signature: b64(c.response.signature.as_ref(), "signature")?,
        user_handle: match &c.response.user_handle {
            Some(h) => Some(base64url_decode(h).ok_or(JsonError::Base64("userHandle"))?),
            None => None,
        },
    })
}
