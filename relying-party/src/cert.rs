//! X.509 checks for attestation certificates: the FIDO requirements on the
//! attestation certificate (WebAuthn Level 3 §8.2.1) and chain signatures up
//! to a trust anchor (ECDSA P-256 with SHA-256 only).
//!
//! ```text
//!  x5c[0] attestation cert ──signed by──▶ x5c[1] … ──signed by──▶ trust anchor
//!  requirements on x5c[0]: version 3; subject OU = "Authenticator Attestation";
//!  basicConstraints CA:false; id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4),
//!  when present: not critical, OCTET STRING(16) equal to authData's AAGUID
//! ```
//! Validity periods are not checked: the verifier runs offline and the
//! simulator's certificates are long-lived by design. Their encoding is:
//! every x5c certificate must be canonical DER with its dates in the RFC
//! 5280 §4.1.2.5 time types ([`check_strict_encoding`]), as strict relying
//! parties that re-encode certificates require.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::RpError;

/// id-fido-gen-ce-aaguid.
pub const OID_FIDO_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// Decode DER certificate `index` of a chain.
pub fn parse_cert(der_bytes: &[u8], index: usize) -> Result<Certificate, RpError> {
    Certificate::from_der(der_bytes).map_err(|_| RpError::CertificateMalformed { index })
}

/// Strict encoding rules for certificate `index` of x5c, as the strictest
/// relying parties apply them: validity dates in their RFC 5280 §4.1.2.5
/// time type, then the whole certificate in DER's one encoding (decoded and
/// encoded again, the bytes must not change).
pub fn check_strict_encoding(
    der_bytes: &[u8],
    cert: &Certificate,
    index: usize,
) -> Result<(), RpError> {
    let validity = &cert.tbs_certificate.validity;
    for (field, time) in [
        ("notBefore", &validity.not_before),
        ("notAfter", &validity.not_after),
    ] {
        let (year, found, utc) = match time {
            Time::UtcTime(t) => (t.to_date_time().year(), "UTCTime", true),
            Time::GeneralTime(t) => (t.to_date_time().year(), "GeneralizedTime", false),
        };
        if utc != (year <= UTC_TIME_LAST_YEAR) {
            return Err(RpError::CertificateTimeType {
                index,
                field,
                year,
                found,
            });
        }
    }
    match cert.to_der() {
        Ok(again) if again == der_bytes => Ok(()),
        _ => Err(RpError::CertificateNotDer { index }),
    }
}

/// RFC 5280 §4.1.2.5: "validity dates through the year 2049 as UTCTime".
const UTC_TIME_LAST_YEAR: u16 = 2049;

/// The SEC1 bytes of a certificate's P-256 public key.
pub fn p256_key(cert: &Certificate, index: usize) -> Result<Vec<u8>, RpError> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
        return Err(RpError::CertificateAlgorithm { index });
    }
    let sec1 = spki.subject_public_key.raw_bytes();
    p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
        .map_err(|_| RpError::CertificateAlgorithm { index })?;
    Ok(sec1.to_vec())
}

/// Check the §8.2.1 requirements on the attestation certificate.
pub fn check_attestation_cert(cert: &Certificate, aaguid: &[u8]) -> Result<(), RpError> {
    let tbs = &cert.tbs_certificate;
    if tbs.version != Version::V3 {
        return Err(RpError::CertificateNotV3);
    }
    let has_ou = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .any(|atv| {
            atv.oid == OID_OU && atv.value.value() == b"Authenticator Attestation".as_slice()
        });
    if !has_ou {
        return Err(RpError::CertificateSubjectOu);
    }
    let basic = tbs
        .extensions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|e| e.extn_id == OID_BASIC_CONSTRAINTS)
        .ok_or(RpError::CertificateIsCa)?;
    let basic = BasicConstraints::from_der(basic.extn_value.as_bytes())
        .map_err(|_| RpError::CertificateMalformed { index: 0 })?;
    if basic.ca {
        return Err(RpError::CertificateIsCa);
    }
    let aaguid_ext = tbs
        .extensions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|e| e.extn_id == OID_FIDO_AAGUID);
    if let Some(ext) = aaguid_ext {
        if ext.critical {
            return Err(RpError::CertificateAaguidMalformed);
        }
        let inner = der::asn1::OctetString::from_der(ext.extn_value.as_bytes())
            .map_err(|_| RpError::CertificateAaguidMalformed)?;
        if inner.as_bytes().len() != 16 {
            return Err(RpError::CertificateAaguidMalformed);
        }
        if inner.as_bytes() != aaguid {
            return Err(RpError::CertificateAaguidMismatch);
        }
    }
    Ok(())
}

/// Whether `issuer`'s key made `cert`'s signature.
fn signed_by(cert: &Certificate, issuer: &Certificate, index: usize) -> Result<bool, RpError> {
    if cert.signature_algorithm.oid != OID_ECDSA_SHA256 {
        return Err(RpError::CertificateAlgorithm { index });
    }
    let issuer_key = p256_key(issuer, index + 1)?;
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|_| RpError::CertificateMalformed { index })?;
    Ok(super::cose::verify_es256(
        &issuer_key,
        &tbs,
        cert.signature.raw_bytes(),
    ))
}

/// Verify that each certificate in `chain` is signed by the next one.
pub fn verify_links(chain: &[Certificate]) -> Result<(), RpError> {
    for (index, pair) in chain.windows(2).enumerate() {
        if !signed_by(&pair[0], &pair[1], index)? {
            return Err(RpError::ChainSignatureInvalid { index });
        }
    }
    Ok(())
}

/// Verify that each certificate is signed by the next one, and that the
/// last one is a trust anchor or is signed by one.
///
/// Returns the index in `anchors` of the anchor reached.
pub fn verify_chain(chain: &[Certificate], anchors: &[Certificate]) -> Result<usize, RpError> {
    verify_links(chain)?;
    let last = chain
        .last()
        .ok_or(RpError::MalformedAttStmt("x5c is empty"))?;
    let last_index = chain.len() - 1;
    for (i, anchor) in anchors.iter().enumerate() {
        if anchor == last {
            return Ok(i);
        }
        if anchor.tbs_certificate.subject == last.tbs_certificate.issuer
            && signed_by(last, anchor, last_index).unwrap_or(false)
        {
            return Ok(i);
        }
    }
    Err(RpError::ChainUntrusted)
}

/// Load every certificate from PEM text (one or more `CERTIFICATE` blocks).
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, RpError> {
    Certificate::load_pem_chain(pem).map_err(|_| RpError::CertificateMalformed { index: 0 })
}
