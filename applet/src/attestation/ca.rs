//! The attestation CA: a generated test CA or one the user brings.

use std::fmt;

use der::pem::LineEnding;
use der::{DateTime, Decode, Encode};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use p256::SecretKey;
use spki::DecodePublicKey;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::cert::{self, attr, CertFields, NameValue};
use super::AttestationError;
use crate::env::CardRng;

/// Subject organisation of the generated test CA.
pub const TEST_CA_ORGANIZATION: &str = "tapfido";
/// Subject common name of the generated test CA.
pub const TEST_CA_COMMON_NAME: &str = "tapfido Test Attestation CA";

/// notBefore of the generated test CA: 2024-01-01T00:00:00Z. A fixed date in
/// the past keeps the applet free of wall-clock time; notAfter is
/// 9999-12-31T23:59:59Z ("no well-defined expiration", RFC 5280 §4.1.2.5).
const TEST_CA_NOT_BEFORE_UNIX: u64 = 1_704_067_200;

/// 2024-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as RFC 5280 §4.1.2.5 wants
/// them: `17 0D "240101000000Z"` (UTCTime), `18 0F "99991231235959Z"`
/// (GeneralizedTime).
pub(super) fn long_validity() -> Result<Validity, AttestationError> {
    let not_before =
        DateTime::from_unix_duration(std::time::Duration::from_secs(TEST_CA_NOT_BEFORE_UNIX))?;
    Ok(Validity {
        not_before: cert::rfc5280_time(not_before)?,
        not_after: cert::rfc5280_time(Time::INFINITY.to_date_time())?,
    })
}

/// The CA that certifies the batch attestation key.
///
/// `chain` holds the CA certificate followed by any further certificates
/// found after it in a user-supplied PEM file (intermediate first, root
/// last); they are appended to `x5c` after the batch certificate.
pub struct AttestationCa {
    chain: Vec<Vec<u8>>,
    cert: Certificate,
    key: SigningKey,
}

impl fmt::Debug for AttestationCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestationCa")
            .field("subject", &self.cert.tbs_certificate.subject.to_string())
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl AttestationCa {
    /// A fresh self-signed P-256 test CA (`O=tapfido, CN=tapfido Test
    /// Attestation CA`): v3, basicConstraints CA:true pathLen 0 (critical),
    /// keyUsage keyCertSign | cRLSign (critical), subjectKeyIdentifier.
    pub fn generate_test_ca(rng: &mut dyn CardRng) -> Result<Self, AttestationError> {
        let key = SigningKey::random(&mut &mut *rng);
        let mut serial = [0u8; 16];
        rng.fill_bytes(&mut serial);

        let subject = cert::name(&[
            (
                attr::ORGANIZATION_NAME,
                NameValue::Utf8(TEST_CA_ORGANIZATION),
            ),
            (attr::COMMON_NAME, NameValue::Utf8(TEST_CA_COMMON_NAME)),
        ])?;
        let spki = cert::spki_of(key.verifying_key())?;
        let key_id = cert::key_identifier(&spki);
        let fields = CertFields {
            serial: cert::serial_from(serial)?,
            issuer: subject.clone(),
            subject,
            validity: long_validity()?,
            subject_key: spki,
            extensions: vec![
                cert::basic_constraints(true, Some(0))?,
                cert::key_usage(cert::ca_key_usage())?,
                cert::subject_key_identifier(&key_id)?,
            ],
        };
        let der = cert::sign_certificate(fields, &key)?;
        Self::from_parts(vec![der], key)
    }

    /// A user-supplied CA (`--attestation-ca CERT KEY`).
    ///
    /// `cert_pem` holds one or more `CERTIFICATE` blocks: the first is the CA
    /// that signs the batch certificate, any others follow it in `x5c`.
    /// `key_pem` holds its private key as PKCS#8 (`PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`, an `EC PARAMETERS` block before it is skipped).
    /// Only P-256 is accepted, the key must match the first certificate, and
    /// that certificate must not deny being a CA (basicConstraints CA:false or
    /// a keyUsage without keyCertSign), and its signature must verify: with its own key when
    /// it is self-issued, else with the next certificate in the file, if any.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, AttestationError> {
        let mut chain = Vec::new();
        for (label, der) in pem_blocks(cert_pem, "certificate")? {
            if label == "CERTIFICATE" {
                chain.push(der);
            }
        }
        if chain.is_empty() {
            return Err(AttestationError::NoCertificate);
        }

        let mut secret = None;
        for (label, der) in pem_blocks(key_pem, "key")? {
            let der = Zeroizing::new(der);
            match label.as_str() {
                "PRIVATE KEY" => {
                    secret = Some(
                        SecretKey::from_pkcs8_der(&der)
                            .map_err(|e| AttestationError::Key(e.to_string()))?,
                    );
                }
                "EC PRIVATE KEY" => {
                    secret = Some(SecretKey::from_sec1_der(&der).map_err(|_| {
                        AttestationError::Key("not a P-256 SEC1 EC private key".into())
                    })?);
                }
                "ENCRYPTED PRIVATE KEY" => return Err(AttestationError::EncryptedKey),
                _ => continue,
            }
            break;
        }
        let secret = secret.ok_or(AttestationError::NoKey)?;
        Self::from_parts(chain, SigningKey::from(secret))
    }

    /// Validate and assemble; `chain[0]` is the CA certificate for `key`.
    fn from_parts(chain: Vec<Vec<u8>>, key: SigningKey) -> Result<Self, AttestationError> {
        let first = chain.first().ok_or(AttestationError::NoCertificate)?;
        let cert = Certificate::from_der(first)
            .map_err(|e| AttestationError::Certificate(e.to_string()))?;
        for extra in &chain[1..] {
            Certificate::from_der(extra)
                .map_err(|e| AttestationError::Certificate(e.to_string()))?;
        }

        let spki_der = cert.tbs_certificate.subject_public_key_info.to_der()?;
        let cert_key = VerifyingKey::from_public_key_der(&spki_der)
            .map_err(|_| AttestationError::NotP256Certificate)?;
        if &cert_key != key.verifying_key() {
            return Err(AttestationError::KeyMismatch);
        }
        check_issuer_signature(&cert, &cert_key, chain.get(1))?;

        for ext in cert.tbs_certificate.extensions.iter().flatten() {
            if ext.extn_id == <BasicConstraints as const_oid::AssociatedOid>::OID {
                let bc = BasicConstraints::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| AttestationError::Certificate(e.to_string()))?;
                if !bc.ca {
                    return Err(AttestationError::NotCa("basicConstraints says CA:FALSE"));
                }
            }
            if ext.extn_id == <KeyUsage as const_oid::AssociatedOid>::OID {
                let ku = KeyUsage::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| AttestationError::Certificate(e.to_string()))?;
                if !ku.key_cert_sign() {
                    return Err(AttestationError::NotCa("keyUsage lacks keyCertSign"));
                }
            }
        }

        Ok(Self { chain, cert, key })
    }

    /// DER of the CA certificate that signs batch certificates.
    pub fn cert_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], Vec::as_slice)
    }

    /// The CA certificate followed by the rest of a user-supplied chain, as
    /// they follow the batch certificate in `x5c`.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The certificates of [`Self::chain`] that belong in `x5c` after the
    /// batch certificate: all but self-signed ones (subject = issuer). A
    /// root is the verifier's trust anchor, an input to path validation
    /// (RFC 5280 §6.1.1 (d)), and never trusted because x5c carries it.
    pub fn x5c_intermediates(&self) -> Vec<Vec<u8>> {
        self.chain
            .iter()
            .filter(|der| {
                Certificate::from_der(der)
                    .is_ok_and(|c| c.tbs_certificate.subject != c.tbs_certificate.issuer)
            })
            .cloned()
            .collect()
    }

    /// Whether every validity date of the CA certificate has the time type
    /// RFC 5280 §4.1.2.5 requires (UTCTime through 2049).
    pub fn has_rfc5280_times(&self) -> bool {
        let validity = &self.cert.tbs_certificate.validity;
        cert::is_rfc5280_time(&validity.not_before) && cert::is_rfc5280_time(&validity.not_after)
    }

    /// The same self-signed CA (key, names, serial, period and extensions)
    /// re-signed with its validity dates in the RFC 5280 time types.
    ///
    /// For test CAs made before tapfido wrote `notBefore` as UTCTime: the
    /// key does not change, so chains still verify against a copy of the
    /// old certificate kept as a trust anchor. `None` when the certificate
    /// is already canonical, is not a self-signed `CN=tapfido Test
    /// Attestation CA`, or heads a longer chain (a user's CA is never
    /// rewritten).
    pub fn reissued_with_rfc5280_times(&self) -> Result<Option<Self>, AttestationError> {
        let tbs = &self.cert.tbs_certificate;
        let generated = cert::find_attribute(&tbs.subject, attr::COMMON_NAME)
            .is_some_and(|cn| cn.value.value() == TEST_CA_COMMON_NAME.as_bytes());
        if self.has_rfc5280_times()
            || self.chain.len() != 1
            || tbs.subject != tbs.issuer
            || !generated
        {
            return Ok(None);
        }
        let mut tbs = tbs.clone();
        tbs.validity = cert::rfc5280_validity(&tbs.validity)?;
        let der = cert::sign_tbs(tbs, &self.key)?;
        Self::from_parts(vec![der], self.key.clone()).map(Some)
    }

    /// The CA certificate, decoded.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The CA's signing key (signs batch certificates only).
    pub(super) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The CA's public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }

    /// The certificate chain as PEM (`CERTIFICATE` blocks, CA first).
    pub fn cert_pem(&self) -> Result<String, AttestationError> {
        let mut out = String::new();
        for der in &self.chain {
            out.push_str(&der::pem::encode_string(
                "CERTIFICATE",
                LineEnding::LF,
                der,
            )?);
        }
        Ok(out)
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`); zeroed when dropped.
    pub fn key_pem(&self) -> Result<Zeroizing<String>, AttestationError> {
        SecretKey::from(&self.key)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| AttestationError::Key(e.to_string()))
    }

    /// `(cert_pem, key_pem)`, what [`AttestationCa::from_pem`] reads back.
    pub fn to_pem(&self) -> Result<(String, Zeroizing<String>), AttestationError> {
        Ok((self.cert_pem()?, self.key_pem()?))
    }
}

/// ecdsa-with-SHA256 (RFC 5758 §3.2), the one signature algorithm of a P-256 chain.
const ECDSA_WITH_SHA256: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// Verifies the CA certificate's signature (RFC 5280 §6.1.3 (a)(1)): with its own key when it
/// is self-issued (issuer = subject, a root), else with the next certificate of the chain when
/// the file has one. An intermediate whose issuer is not in the file cannot be checked here;
/// the relying party checks it against its trust anchors.
fn check_issuer_signature(
    cert: &Certificate,
    own_key: &VerifyingKey,
    next: Option<&Vec<u8>>,
) -> Result<(), AttestationError> {
    use p256::ecdsa::signature::Verifier;

    let tbs = &cert.tbs_certificate;
    let issuer_key = if tbs.issuer == tbs.subject {
        *own_key
    } else if let Some(next) = next {
        let issuer = Certificate::from_der(next)
            .map_err(|e| AttestationError::Certificate(e.to_string()))?;
        let spki = issuer.tbs_certificate.subject_public_key_info.to_der()?;
        VerifyingKey::from_public_key_der(&spki).map_err(|_| {
            AttestationError::CaSignature("the issuer certificate's key is not EC P-256")
        })?
    } else {
        return Ok(());
    };
    if cert.signature_algorithm.oid != ECDSA_WITH_SHA256 {
        return Err(AttestationError::CaSignature(
            "signed with an algorithm other than ecdsa-with-SHA256",
        ));
    }
    let signature = cert
        .signature
        .as_bytes()
        .and_then(|der| p256::ecdsa::Signature::from_der(der).ok())
        .ok_or(AttestationError::CaSignature(
            "the signature is not a DER ECDSA signature",
        ))?;
    let tbs_der = tbs.to_der()?;
    issuer_key.verify(&tbs_der, &signature).map_err(|_| {
        AttestationError::CaSignature("the signature does not verify with the issuer's key")
    })
}

/// Split `text` into its PEM blocks (RFC 7468), in order: `(label, DER)`.
/// Text outside the blocks (comments, `openssl x509 -text` output) is ignored.
fn pem_blocks(text: &str, what: &'static str) -> Result<Vec<(String, Vec<u8>)>, AttestationError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let pem_err = |reason: String| AttestationError::Pem { what, reason };

    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let label_len = after_begin
            .find(DASHES)
            .ok_or_else(|| pem_err("unterminated BEGIN line".into()))?;
        let label = &after_begin[..label_len];
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..]
            .find(&end_marker)
            .ok_or_else(|| pem_err(format!("no END line for {label}")))?;
        let block_end = start + end + end_marker.len();
        let (decoded_label, der) = der::pem::decode_vec(&rest.as_bytes()[start..block_end])
            .map_err(|e| pem_err(format!("{label}: {e}")))?;
        blocks.push((decoded_label.to_owned(), der));
        rest = &rest[block_end..];
    }
    if blocks.is_empty() {
        return Err(pem_err("no PEM block found".into()));
    }
    Ok(blocks)
}
