//! Registration verification (WebAuthn Level 3 §7.1) and the attestation
//! statement formats `packed` (§8.2), `fido-u2f` (§8.6) and `none` (§8.7).
//!
//! ```text
//!  attestationObject = { "fmt": tstr, "attStmt": map, "authData": bstr }
//!  packed   attStmt = { "alg": int, "sig": bstr, ? "x5c": [bstr+] }
//!           signed  = authData || SHA-256(clientDataJSON)
//!  fido-u2f attStmt = { "sig": bstr, "x5c": [bstr] }
//!           signed  = 00 || rpIdHash || clientDataHash || credId || 04 || x || y
//!  none     attStmt = {}
//! ```

use ciborium::Value;
use serde::Serialize;
use x509_cert::Certificate;

use super::authdata::AuthData;
use super::cert;
use super::client_data::{check_client_data, Ceremony};
use super::cose::{verify_es256, CoseKey, ALG_ES256};
use super::{Expectations, RpError};

/// How the credential was attested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationType {
    /// Format `none`: no claim about the authenticator.
    None,
    /// `packed` without x5c: signed by the credential key itself.
    SelfAttestation,
    /// Signed by an attestation key certified by x5c.
    Basic,
}

/// Whether an x5c chain reached one of the trust anchors given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Trust {
    /// The chain ends at the trust anchor with this subject.
    Anchored {
        /// Subject DN of the anchor, RFC 4514 form.
        anchor: String,
    },
    /// A chain was present and internally valid but no anchors were given.
    Unanchored,
    /// No chain (`none` or self attestation).
    NoChain,
}

impl std::fmt::Display for AttestationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "no attestation",
            Self::SelfAttestation => "self attestation",
            Self::Basic => "basic attestation",
        })
    }
}

impl std::fmt::Display for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anchored { anchor } => write!(f, "chain to trust anchor {anchor}"),
            Self::Unanchored => f.write_str("chain not checked against a trust anchor"),
            Self::NoChain => f.write_str("no certificate chain"),
        }
    }
}

/// A registration that passed every rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedRegistration {
    /// Attestation statement format.
    pub fmt: String,
    /// Attestation type.
    pub attestation_type: AttestationType,
    /// Trust path status.
    pub trust: Trust,
    /// Authenticator model (all zero for U2F).
    #[serde(with = "super::hex_bytes")]
    pub aaguid: Vec<u8>,
    /// Credential ID.
    #[serde(with = "super::hex_bytes")]
    pub credential_id: Vec<u8>,
    /// Credential public key.
    pub public_key: CoseKey,
    /// Initial signature counter.
    pub sign_count: u32,
    /// Flag UP.
    pub user_present: bool,
    /// Flag UV.
    pub user_verified: bool,
    /// Flag BE: false for a device-bound credential.
    pub backup_eligible: bool,
    /// Flag BS.
    pub backed_up: bool,
    /// Number of certificates in x5c.
    pub x5c_len: usize,
    /// Subject of the attestation certificate (`x5c[0]`), RFC 4514 form: an
    /// enterprise attestation names the card here (CTAP 2.1 §7.1), e.g.
    /// `CN=tapfido Enterprise Attestation` with a serialNumber.
    pub attestation_subject: Option<String>,
    /// The hmac-secret extension output, when present.
    pub hmac_secret: Option<bool>,
}

fn map_get<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

/// Verify a registration: `attestationObject` and `clientDataJSON` as a
/// browser would hand them to the server.
///
/// `anchors` are the trusted roots; with none given a valid chain is
/// reported as [`Trust::Unanchored`], with some given a chain that does not
/// reach them fails with [`RpError::ChainUntrusted`].
pub fn verify_registration(
    attestation_object: &[u8],
    client_data_json: &[u8],
    expect: &Expectations,
    anchors: &[Certificate],
) -> Result<VerifiedRegistration, RpError> {
    let (value, used) = super::authdata::read_one_cbor(attestation_object)
        .ok_or(RpError::MalformedAttestationObject("not CBOR"))?;
    if used != attestation_object.len() {
        return Err(RpError::MalformedAttestationObject("trailing bytes"));
    }
    let Value::Map(map) = value else {
        return Err(RpError::MalformedAttestationObject("not a map"));
    };
    let Some(Value::Text(fmt)) = map_get(&map, "fmt") else {
        return Err(RpError::MalformedAttestationObject("fmt missing"));
    };
    let Some(Value::Bytes(auth_data)) = map_get(&map, "authData") else {
        return Err(RpError::MalformedAttestationObject("authData missing"));
    };
    let att_stmt =
        map_get(&map, "attStmt").ok_or(RpError::MalformedAttestationObject("attStmt missing"))?;
    let client_data_hash = check_client_data(
        client_data_json,
        Ceremony::Create,
        &expect.challenge,
        &expect.origin,
    )?;
    verify_registration_parts(fmt, auth_data, att_stmt, &client_data_hash, expect, anchors)
}

/// Verify the pieces of a CTAP2 makeCredential response (CTAP 2.1 §6.1:
/// `fmt` (0x01), `authData` (0x02), `attStmt` (0x03)) against a
/// clientDataHash the caller already checked.
pub fn verify_registration_parts(
    fmt: &str,
    auth_data: &[u8],
    att_stmt: &Value,
    client_data_hash: &[u8; 32],
    expect: &Expectations,
    anchors: &[Certificate],
) -> Result<VerifiedRegistration, RpError> {
    let auth = AuthData::parse_expected(auth_data, expect)?;
    let attested = auth.attested.clone().ok_or(RpError::NoAttestedCredential)?;
    let Value::Map(stmt) = att_stmt else {
        return Err(RpError::MalformedAttStmt("not a map"));
    };
    let mut signed = auth.raw.clone();
    signed.extend_from_slice(client_data_hash);

    let (attestation_type, trust, x5c_len) = match fmt {
        "none" => {
            if !stmt.is_empty() {
                return Err(RpError::MalformedAttStmt("none attStmt is not empty"));
            }
            (AttestationType::None, Trust::NoChain, 0)
        }
        "packed" => verify_packed(stmt, &signed, &attested, anchors)?,
        "fido-u2f" => verify_u2f(stmt, &auth, &attested, client_data_hash, anchors)?,
        other => return Err(RpError::UnsupportedFormat(other.to_owned())),
    };
    let attestation_subject = x5c_certs(stmt)
        .ok()
        .flatten()
        .and_then(|certs| certs.first().map(|c| c.tbs_certificate.subject.to_string()));
    let hmac_secret = auth.extensions.as_ref().and_then(|ext| match ext {
        Value::Map(m) => map_get(m, "hmac-secret").and_then(|v| v.as_bool()),
        _ => None,
    });
    Ok(VerifiedRegistration {
        fmt: fmt.to_owned(),
        attestation_type,
        trust,
        aaguid: attested.aaguid,
        credential_id: attested.credential_id,
        public_key: attested.public_key,
        sign_count: auth.sign_count,
        user_present: auth.user_present(),
        user_verified: auth.user_verified(),
        backup_eligible: auth.backup_eligible(),
        backed_up: auth.backed_up(),
        x5c_len,
        attestation_subject,
        hmac_secret,
    })
}

fn x5c_certs(stmt: &[(Value, Value)]) -> Result<Option<Vec<Certificate>>, RpError> {
    let Some(x5c) = map_get(stmt, "x5c") else {
        return Ok(None);
    };
    let Value::Array(items) = x5c else {
        return Err(RpError::MalformedAttStmt("x5c is not an array"));
    };
    if items.is_empty() {
        return Err(RpError::MalformedAttStmt("x5c is empty"));
    }
    let mut certs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Bytes(der_bytes) = item else {
            return Err(RpError::MalformedAttStmt("x5c entry is not bytes"));
        };
        let parsed = cert::parse_cert(der_bytes, index)?;
        cert::check_strict_encoding(der_bytes, &parsed, index)?;
        certs.push(parsed);
    }
    Ok(Some(certs))
}

fn sig_of(stmt: &[(Value, Value)]) -> Result<&[u8], RpError> {
    match map_get(stmt, "sig") {
        Some(Value::Bytes(b)) => Ok(b),
        _ => Err(RpError::MalformedAttStmt("sig missing")),
    }
}

fn trust_of(certs: &[Certificate], anchors: &[Certificate]) -> Result<Trust, RpError> {
    if anchors.is_empty() {
        cert::verify_links(certs)?;
        return Ok(Trust::Unanchored);
    }
    let i = cert::verify_chain(certs, anchors)?;
    let anchor = anchors
        .get(i)
        .map(|a| a.tbs_certificate.subject.to_string())
        .unwrap_or_default();
    Ok(Trust::Anchored { anchor })
}

type Attested = super::authdata::AttestedCredential;

fn verify_packed(
    stmt: &[(Value, Value)],
    signed: &[u8],
    attested: &Attested,
    anchors: &[Certificate],
) -> Result<(AttestationType, Trust, usize), RpError> {
    let alg = match map_get(stmt, "alg") {
        Some(Value::Integer(i)) => i64::try_from(i128::from(*i))
            .map_err(|_| RpError::MalformedAttStmt("alg out of range"))?,
        _ => return Err(RpError::MalformedAttStmt("alg missing")),
    };
    let sig = sig_of(stmt)?;
    match x5c_certs(stmt)? {
        Some(certs) => {
            if alg != ALG_ES256 {
                return Err(RpError::UnsupportedAlgorithm(alg));
            }
            let att_cert = certs
                .first()
                .ok_or(RpError::MalformedAttStmt("x5c is empty"))?;
            let key = cert::p256_key(att_cert, 0)?;
            if !verify_es256(&key, signed, sig) {
                return Err(RpError::AttestationSignatureInvalid);
            }
            cert::check_attestation_cert(att_cert, &attested.aaguid)?;
            let trust = trust_of(&certs, anchors)?;
            Ok((AttestationType::Basic, trust, certs.len()))
        }
        None => {
            let cred = attested.public_key.alg();
            if alg != cred {
                return Err(RpError::AlgorithmMismatch { att: alg, cred });
            }
            if !attested.public_key.verify(signed, sig) {
                return Err(RpError::AttestationSignatureInvalid);
            }
            Ok((AttestationType::SelfAttestation, Trust::NoChain, 0))
        }
    }
}

fn verify_u2f(
    stmt: &[(Value, Value)],
    auth: &AuthData,
    attested: &Attested,
    client_data_hash: &[u8; 32],
    anchors: &[Certificate],
) -> Result<(AttestationType, Trust, usize), RpError> {
    let sig = sig_of(stmt)?;
    let certs = x5c_certs(stmt)?.ok_or(RpError::MalformedAttStmt("x5c missing"))?;
    if certs.len() != 1 {
        return Err(RpError::MalformedAttStmt(
            "fido-u2f x5c must hold one certificate",
        ));
    }
    let att_key = cert::p256_key(&certs[0], 0).map_err(|_| RpError::U2fKeyNotP256)?;
    let CoseKey::Es256 { sec1 } = &attested.public_key else {
        return Err(RpError::U2fKeyNotP256);
    };
    let mut data = Vec::with_capacity(1 + 32 + 32 + attested.credential_id.len() + 65);
    data.push(0x00);
    data.extend_from_slice(&auth.rp_id_hash);
    data.extend_from_slice(client_data_hash);
    data.extend_from_slice(&attested.credential_id);
    data.extend_from_slice(sec1);
    if !verify_es256(&att_key, &data, sig) {
        return Err(RpError::AttestationSignatureInvalid);
    }
    let trust = trust_of(&certs, anchors)?;
    Ok((AttestationType::Basic, trust, 1))
}
