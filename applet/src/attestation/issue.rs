//! Issuing the attestation certificates: the batch certificate, the
//! enterprise attestation certificate (and its key) and the self-signed
//! certificate of U2F self attestation. Profiles in the parent module docs.

use hkdf::Hkdf;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::zeroize::Zeroizing;
use sha2::{Digest, Sha256};
use x509_cert::ext::Extension;

use super::ca::{self, AttestationCa, TEST_CA_ORGANIZATION};
use super::cert::{self, attr, CertFields, NameValue};
use super::{
    AttestationError, BATCH_COMMON_NAME, BATCH_ORGANIZATIONAL_UNIT, DEFAULT_COUNTRY,
    ENTERPRISE_COMMON_NAME,
};

/// Issue the batch certificate for `batch_key` under `ca` (profile in the
/// module docs). Deterministic: the same CA, AAGUID and key give the same DER.
pub fn issue_batch(
    ca: &AttestationCa,
    aaguid: &[u8; 16],
    batch_key: &VerifyingKey,
) -> Result<Vec<u8>, AttestationError> {
    issue_leaf(
        ca,
        aaguid,
        batch_key,
        BATCH_COMMON_NAME,
        None,
        b"tapfido batch serial",
    )
}

/// Issue the enterprise attestation certificate for `key` under `ca`: the
/// batch profile with `CN=tapfido Enterprise Attestation` and a subject
/// `serialNumber` that names this one card (CTAP 2.1 §7.1: enterprise
/// attestation "may include uniquely identifying information").
pub fn issue_enterprise(
    ca: &AttestationCa,
    aaguid: &[u8; 16],
    key: &VerifyingKey,
    card_serial: &str,
) -> Result<Vec<u8>, AttestationError> {
    issue_leaf(
        ca,
        aaguid,
        key,
        ENTERPRISE_COMMON_NAME,
        Some(card_serial),
        b"tapfido enterprise serial",
    )
}

/// An attestation certificate under `ca`: C and O from the CA (or the
/// defaults), OU "Authenticator Attestation", `common_name`, and a subject
/// serialNumber when given.
fn issue_leaf(
    ca: &AttestationCa,
    aaguid: &[u8; 16],
    key: &VerifyingKey,
    common_name: &str,
    subject_serial: Option<&str>,
    serial_label: &[u8],
) -> Result<Vec<u8>, AttestationError> {
    let ca_cert = ca.certificate();
    let ca_subject = &ca_cert.tbs_certificate.subject;

    let country = match cert::find_attribute(ca_subject, attr::COUNTRY_NAME) {
        Some(atv) => NameValue::Copied(atv),
        None => NameValue::Printable(DEFAULT_COUNTRY),
    };
    let organization = match cert::find_attribute(ca_subject, attr::ORGANIZATION_NAME) {
        Some(atv) => NameValue::Copied(atv),
        None => NameValue::Utf8(TEST_CA_ORGANIZATION),
    };
    let mut parts = vec![
        (attr::COUNTRY_NAME, country),
        (attr::ORGANIZATION_NAME, organization),
        (
            attr::ORGANIZATIONAL_UNIT_NAME,
            NameValue::Utf8(BATCH_ORGANIZATIONAL_UNIT),
        ),
        (attr::COMMON_NAME, NameValue::Utf8(common_name)),
    ];
    if let Some(serial) = subject_serial {
        // X.520 serialNumber is a PrintableString.
        parts.push((attr::SERIAL_NUMBER, NameValue::Printable(serial)));
    }
    let subject = cert::name(&parts)?;

    let spki = cert::spki_of(key)?;
    let point = key.to_encoded_point(false);
    let digest = Sha256::new()
        .chain_update(serial_label)
        .chain_update(ca.cert_der())
        .chain_update(aaguid)
        .chain_update(point.as_bytes())
        .finalize();
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);

    let authority_id = cert::subject_key_identifier_of(ca_cert)
        .unwrap_or_else(|| cert::key_identifier(&ca_cert.tbs_certificate.subject_public_key_info));
    let extensions: Vec<Extension> = vec![
        cert::basic_constraints(false, None)?,
        cert::key_usage(cert::leaf_key_usage())?,
        cert::subject_key_identifier(&cert::key_identifier(&spki))?,
        cert::authority_key_identifier(&authority_id)?,
        cert::aaguid_extension(aaguid)?,
        cert::transports_extension()?,
    ];
    let fields = CertFields {
        serial: cert::serial_from(serial)?,
        issuer: ca_subject.clone(),
        subject,
        // The CA's period, in the RFC 5280 time types even when a user's CA
        // got them wrong.
        validity: cert::rfc5280_validity(&ca_cert.tbs_certificate.validity)?,
        subject_key: spki,
        extensions,
    };
    cert::sign_certificate(fields, ca.signing_key())
}

/// Subject CN of a self-signed (self attestation) certificate.
pub const SELF_COMMON_NAME: &str = "tapfido Self Attestation";

/// A self-signed certificate for `key`, for U2F REGISTER on a card without
/// batch attestation: the U2F response must carry a certificate, and one
/// signed by the credential key itself is self attestation (WebAuthn §8.6
/// verification then checks the signature with that same key).
///
/// Subject and issuer `C=XX, O=tapfido, OU=Authenticator Attestation,
/// CN=tapfido Self Attestation`; basicConstraints CA:false; keyUsage
/// digitalSignature; validity 2024-01-01 .. 9999-12-31; serial derived from
/// the key. Deterministic.
pub fn self_signed_certificate(key: &SigningKey) -> Result<Vec<u8>, AttestationError> {
    let subject = cert::name(&[
        (attr::COUNTRY_NAME, NameValue::Printable(DEFAULT_COUNTRY)),
        (
            attr::ORGANIZATION_NAME,
            NameValue::Utf8(TEST_CA_ORGANIZATION),
        ),
        (
            attr::ORGANIZATIONAL_UNIT_NAME,
            NameValue::Utf8(BATCH_ORGANIZATIONAL_UNIT),
        ),
        (attr::COMMON_NAME, NameValue::Utf8(SELF_COMMON_NAME)),
    ])?;
    let spki = cert::spki_of(key.verifying_key())?;
    let point = key.verifying_key().to_encoded_point(false);
    let digest = Sha256::new()
        .chain_update(b"tapfido self serial")
        .chain_update(point.as_bytes())
        .finalize();
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    let key_id = cert::key_identifier(&spki);
    let fields = CertFields {
        serial: cert::serial_from(serial)?,
        issuer: subject.clone(),
        subject,
        validity: ca::long_validity()?,
        subject_key: spki,
        extensions: vec![
            cert::basic_constraints(false, None)?,
            cert::key_usage(cert::leaf_key_usage())?,
            cert::subject_key_identifier(&key_id)?,
        ],
    };
    cert::sign_certificate(fields, key)
}

/// The enterprise attestation key, derived from the batch key so that it
/// needs no state of its own and survives authenticatorReset like it:
/// ```text
///  key = HKDF-SHA256(salt "tapfido enterprise attestation", IKM batch key,
///                    info "P-256 signing key v1", 32 bytes)
/// ```
pub(super) fn enterprise_key(batch: &SigningKey) -> Result<SigningKey, AttestationError> {
    let ikm = Zeroizing::new(batch.to_bytes());
    let hk = Hkdf::<Sha256>::new(Some(b"tapfido enterprise attestation"), ikm.as_slice());
    let mut okm = Zeroizing::new([0u8; 32]);
    hk.expand(b"P-256 signing key v1", okm.as_mut_slice())
        .map_err(|_| AttestationError::BatchKey)?;
    SigningKey::from_slice(okm.as_slice()).map_err(|_| AttestationError::BatchKey)
}

/// The card serial in the enterprise certificate's subject: 16 upper-case
/// hex digits of SHA-256("tapfido card serial" || batch public key).
pub fn card_serial(batch: &VerifyingKey) -> String {
    let digest = Sha256::new()
        .chain_update(b"tapfido card serial")
        .chain_update(batch.to_encoded_point(false).as_bytes())
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02X}")).collect()
}
