//! Building and signing the two certificates of the attestation chain.
//!
//! Certificates are assembled field by field from `x509-cert` types (RFC 5280
//! §4.1) so that every extension and its criticality is chosen here, then the
//! DER `TBSCertificate` is signed with ECDSA P-256 / SHA-256 (RFC 5758 §3.2).
//! Signing is deterministic (RFC 6979), so the same inputs give the same
//! certificate bytes.

use const_oid::db::{rfc4519, rfc5280, rfc5912};
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::asn1::{Any, BitString, OctetString, SetOfVec};
use der::asn1::{GeneralizedTime, UtcTime};
use der::DateTime;
use der::{Encode, Tag};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use signature::Signer;
use spki::{AlgorithmIdentifierOwned, EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::AttestationError;

/// `id-fido-gen-ce-aaguid` (FIDO Metadata / WebAuthn §8.2.1): OCTET STRING
/// holding the 16-byte AAGUID, never critical.
pub const OID_FIDO_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// `id-fido-u2f-ce-transports` (FIDO U2F Authenticator Transports Extension
/// v1.2 §3): a BIT STRING of transports; bit 3 is NFC.
pub const OID_FIDO_TRANSPORTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.2.1.1");

/// Bit 3 (`nFC`) of the transports BIT STRING, counted from the most
/// significant bit of the first octet.
const TRANSPORT_NFC: u8 = 0x10;

/// `ecdsa-with-SHA256` with absent parameters (RFC 5758 §3.2).
pub fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::ECDSA_WITH_SHA_256,
        parameters: None,
    }
}

/// One attribute value in a distinguished name.
pub enum NameValue<'a> {
    /// `PrintableString` (used for countryName, RFC 5280 Appendix A.1).
    Printable(&'a str),
    /// `UTF8String`.
    Utf8(&'a str),
    /// An attribute copied unchanged from another name.
    Copied(&'a AttributeTypeAndValue),
}

/// A name of single-valued RDNs in the given order (most significant first).
pub fn name(parts: &[(ObjectIdentifier, NameValue<'_>)]) -> Result<Name, AttestationError> {
    let mut rdns = Vec::with_capacity(parts.len());
    for (oid, value) in parts {
        let atv = match value {
            NameValue::Printable(s) => AttributeTypeAndValue {
                oid: *oid,
                value: Any::new(Tag::PrintableString, s.as_bytes())?,
            },
            NameValue::Utf8(s) => AttributeTypeAndValue {
                oid: *oid,
                value: Any::new(Tag::Utf8String, s.as_bytes())?,
            },
            NameValue::Copied(atv) => (*atv).clone(),
        };
        rdns.push(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?));
    }
    Ok(RdnSequence(rdns))
}

/// The first attribute of type `oid` in `name`.
pub fn find_attribute(name: &Name, oid: ObjectIdentifier) -> Option<&AttributeTypeAndValue> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
}

/// Key identifier: the leftmost 160 bits of SHA-256 over the
/// subjectPublicKey bits (RFC 7093 §2 method 1).
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let digest = Sha256::digest(spki.subject_public_key.raw_bytes());
    digest[..20].to_vec()
}

/// The SubjectPublicKeyInfo of a P-256 public key.
pub fn spki_of(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, AttestationError> {
    let der = key.to_public_key_der()?;
    Ok(SubjectPublicKeyInfoOwned::try_from(der.as_bytes())?)
}

/// An extension with DER-encoded `value`.
pub fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, AttestationError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// basicConstraints (RFC 5280 §4.2.1.9), always critical here.
pub fn basic_constraints(ca: bool, path_len: Option<u8>) -> Result<Extension, AttestationError> {
    extension(
        BasicConstraints::OID,
        true,
        &BasicConstraints {
            ca,
            path_len_constraint: path_len,
        },
    )
}

/// keyUsage (RFC 5280 §4.2.1.3), critical.
pub fn key_usage(usage: KeyUsage) -> Result<Extension, AttestationError> {
    extension(KeyUsage::OID, true, &usage)
}

/// keyUsage for a CA: keyCertSign | cRLSign.
pub fn ca_key_usage() -> KeyUsage {
    KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
}

/// keyUsage for the batch certificate: digitalSignature only.
pub fn leaf_key_usage() -> KeyUsage {
    KeyUsage(KeyUsages::DigitalSignature.into())
}

/// subjectKeyIdentifier (RFC 5280 §4.2.1.2), non-critical.
pub fn subject_key_identifier(id: &[u8]) -> Result<Extension, AttestationError> {
    extension(
        SubjectKeyIdentifier::OID,
        false,
        &SubjectKeyIdentifier(OctetString::new(id)?),
    )
}

/// authorityKeyIdentifier (RFC 5280 §4.2.1.1) with the keyIdentifier only.
pub fn authority_key_identifier(id: &[u8]) -> Result<Extension, AttestationError> {
    extension(
        AuthorityKeyIdentifier::OID,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(id)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

/// The FIDO AAGUID extension: `04 10 <aaguid>` inside extnValue, non-critical.
pub fn aaguid_extension(aaguid: &[u8; 16]) -> Result<Extension, AttestationError> {
    extension(
        OID_FIDO_AAGUID,
        false,
        &OctetString::new(aaguid.as_slice())?,
    )
}

/// The FIDO transports extension advertising NFC only: `03 02 04 10`.
pub fn transports_extension() -> Result<Extension, AttestationError> {
    extension(
        OID_FIDO_TRANSPORTS,
        false,
        &BitString::new(4, [TRANSPORT_NFC])?,
    )
}

/// The subjectKeyIdentifier value of `cert`, if it carries one.
pub fn subject_key_identifier_of(cert: &Certificate) -> Option<Vec<u8>> {
    let extensions = cert.tbs_certificate.extensions.as_ref()?;
    let ext = extensions
        .iter()
        .find(|ext| ext.extn_id == rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)?;
    let ski: SubjectKeyIdentifier = der::Decode::from_der(ext.extn_value.as_bytes()).ok()?;
    Some(ski.0.as_bytes().to_vec())
}

/// A positive serial number (RFC 5280 §4.1.2.2) from 16 bytes: the top bit is
/// cleared and the next one set, so the encoding is always 16 octets.
pub fn serial_from(mut bytes: [u8; 16]) -> Result<SerialNumber, AttestationError> {
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::new(&bytes)?)
}

/// A validity date in the type RFC 5280 §4.1.2.5 requires: "CAs conforming
/// to this profile MUST always encode certificate validity dates through the
/// year 2049 as UTCTime; certificate validity dates in 2050 or later MUST be
/// encoded as GeneralizedTime."
/// ```text
///  2024-01-01T00:00:00Z  ->  17 0D "240101000000Z"          (UTCTime)
///  2050-01-01T00:00:00Z  ->  18 0F "20500101000000Z"        (GeneralizedTime)
/// ```
/// (`Time::try_from(SystemTime)` in x509-cert always picks GeneralizedTime,
/// which a verifier that re-encodes the certificate turns into different
/// bytes and a broken signature.)
pub fn rfc5280_time(at: DateTime) -> Result<Time, AttestationError> {
    if at.year() <= UtcTime::MAX_YEAR {
        Ok(Time::UtcTime(UtcTime::from_date_time(at)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(at)))
    }
}

/// Whether `time` is encoded in the type [`rfc5280_time`] would choose.
pub fn is_rfc5280_time(time: &Time) -> bool {
    match time {
        Time::UtcTime(_) => true,
        Time::GeneralTime(t) => t.to_date_time().year() > UtcTime::MAX_YEAR,
    }
}

/// `validity` with both dates in their RFC 5280 time type (same instants).
pub fn rfc5280_validity(validity: &Validity) -> Result<Validity, AttestationError> {
    Ok(Validity {
        not_before: rfc5280_time(validity.not_before.to_date_time())?,
        not_after: rfc5280_time(validity.not_after.to_date_time())?,
    })
}

/// Everything that differs between the CA and the batch certificate.
pub struct CertFields {
    pub serial: SerialNumber,
    pub issuer: Name,
    pub subject: Name,
    pub validity: Validity,
    pub subject_key: SubjectPublicKeyInfoOwned,
    pub extensions: Vec<Extension>,
}

/// Assemble a v3 certificate and sign it with `issuer_key`; returns its DER.
pub fn sign_certificate(
    fields: CertFields,
    issuer_key: &SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: fields.serial,
        signature: ecdsa_with_sha256(),
        issuer: fields.issuer,
        validity: fields.validity,
        subject: fields.subject,
        subject_public_key_info: fields.subject_key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(fields.extensions),
    };
    sign_tbs(tbs, issuer_key)
}

/// Sign an assembled `TBSCertificate` with `issuer_key`; returns the
/// certificate's DER.
pub fn sign_tbs(tbs: TbsCertificate, issuer_key: &SigningKey) -> Result<Vec<u8>, AttestationError> {
    let tbs_der = tbs.to_der()?;
    let signature: DerSignature = issuer_key
        .try_sign(&tbs_der)
        .map_err(|_| AttestationError::Signing)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_with_sha256(),
        signature: BitString::from_bytes(signature.as_bytes())?,
    };
    Ok(cert.to_der()?)
}

/// The attribute types used in names, re-exported for the builders.
pub mod attr {
    pub use super::rfc4519::{
        COMMON_NAME, COUNTRY_NAME, ORGANIZATIONAL_UNIT_NAME, ORGANIZATION_NAME, SERIAL_NUMBER,
    };
}
