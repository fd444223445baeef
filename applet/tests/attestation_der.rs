//! Every certificate the applet writes is canonical DER per RFC 5280, checked
//! with crates other than the x509-cert / der pair that writes them:
//!
//! - `rasn` / `rasn-pkix` decode each certificate and encode it again; the
//!   bytes must not change (X.690 §10 DER: one encoding per value, DEFAULTs
//!   omitted, minimal lengths and integers, sorted SET OF).
//! - The re-encoder also puts each validity date in the time type RFC 5280
//!   §4.1.2.5 requires (UTCTime through 2049, GeneralizedTime from 2050), as
//!   verifiers that rebuild the TBSCertificate from parsed dates do; a date in
//!   the wrong type changes the bytes and breaks the signature there.
//! - `rustls-webpki` validates the path from the batch certificate to the CA
//!   (RFC 5280 §6.1), with ECDSA P-256 / SHA-256 from `ring`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use applet::attestation::{self_signed_certificate, AttestationCa, BatchAttestation};
use der::{Decode, Encode};
use p256::ecdsa::SigningKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rasn_pkix::Time;
use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{anchor_from_trusted_cert, EndEntityCert, KeyUsage};

const AAGUID: [u8; 16] = [
    0x97, 0x34, 0x46, 0xca, 0xe2, 0x1c, 0x9a, 0x9b, 0x99, 0xf5, 0x9b, 0x98, 0x5a, 0x67, 0xaf, 0x0f,
];
const EXAMPLE_INTERMEDIATE: &str = include_str!("data/attestation/example-intermediate.crt.pem");
const EXAMPLE_KEY_PKCS8: &str = include_str!("data/attestation/example-ca.pkcs8.pem");
const OTHER_CA: &str = include_str!("data/attestation/other-ca.crt.pem");
const EXAMPLE_CA: &str = include_str!("data/attestation/example-ca.crt.pem");

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The year of a decoded validity date, and whether it is a UTCTime.
fn year_and_kind(time: &Time) -> (i32, bool) {
    use chrono::Datelike;
    match time {
        Time::Utc(t) => (t.year(), true),
        Time::General(t) => (t.year(), false),
    }
}

/// RFC 5280 §4.1.2.5 time type for the same instant.
fn rfc5280_time(time: Time) -> Time {
    match time {
        Time::General(t) if year_and_kind(&time).0 <= 2049 => Time::Utc(t.to_utc()),
        other => other,
    }
}

/// Decode with rasn, put the validity dates in their RFC 5280 types, encode.
fn strict_reencode(der: &[u8]) -> Vec<u8> {
    let mut cert: rasn_pkix::Certificate = rasn::der::decode(der).unwrap();
    let validity = &mut cert.tbs_certificate.validity;
    validity.not_before = rfc5280_time(validity.not_before);
    validity.not_after = rfc5280_time(validity.not_after);
    rasn::der::encode(&cert).unwrap()
}

/// The byte-equality check, with the dates named when it fails.
fn assert_canonical(what: &str, der: &[u8]) {
    let cert: rasn_pkix::Certificate = rasn::der::decode(der).unwrap();
    let validity = &cert.tbs_certificate.validity;
    for (name, time) in [
        ("notBefore", &validity.not_before),
        ("notAfter", &validity.not_after),
    ] {
        let (year, utc) = year_and_kind(time);
        assert_eq!(
            utc,
            year <= 2049,
            "{what}: {name} in {year} is a {}",
            if utc { "UTCTime" } else { "GeneralizedTime" }
        );
    }
    assert_eq!(
        rasn::der::encode(&cert).unwrap(),
        der,
        "{what}: re-encoding changed the bytes"
    );
    assert_eq!(strict_reencode(der), der, "{what}: not canonical");
}

fn pem_der(pem: &str) -> Vec<u8> {
    der::pem::decode_vec(pem.as_bytes()).unwrap().1
}

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap())
}

/// RFC 5280 §6.1 path validation of `leaf` through `intermediates` to `root`.
fn validate_path(leaf: &[u8], intermediates: &[Vec<u8>], root: &[u8], at: UnixTime) {
    let root = CertificateDer::from(root);
    let anchors = [anchor_from_trusted_cert(&root).unwrap().to_owned()];
    let leaf = CertificateDer::from(leaf);
    let leaf = EndEntityCert::try_from(&leaf).unwrap();
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    // Attestation certificates carry no extendedKeyUsage; webpki checks one
    // only where present (`required_if_present`), and the FIDO attestation
    // certificate requirements (WebAuthn §8.2.1) name none, so any purpose
    // OID serves here.
    leaf.verify_for_usage(
        &[webpki::ring::ECDSA_P256_SHA256],
        &anchors,
        &intermediates,
        at,
        KeyUsage::client_auth(),
        None,
        None,
    )
    .unwrap();
}

#[test]
fn test_ca_batch_and_self_signed_certificates_are_canonical_der() {
    let mut r = rng(21);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    assert!(ca.has_rfc5280_times());
    assert_canonical("test CA", ca.cert_der());
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    assert_canonical("batch certificate", batch.certificate());
    let key = SigningKey::random(&mut r);
    assert_canonical(
        "U2F self attestation certificate",
        &self_signed_certificate(&key).unwrap(),
    );
}

#[test]
fn dates_are_utc_time_through_2049_and_generalized_time_after() {
    let ca = AttestationCa::generate_test_ca(&mut rng(22)).unwrap();
    let cert: rasn_pkix::Certificate = rasn::der::decode(ca.cert_der()).unwrap();
    let validity = &cert.tbs_certificate.validity;
    assert_eq!(year_and_kind(&validity.not_before), (2024, true));
    assert_eq!(year_and_kind(&validity.not_after), (9999, false));
    // The raw bytes of the two dates (X.680 §46, §47).
    let der = ca.cert_der();
    let find = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"\x17\x0d240101000000Z"));
    assert!(find(b"\x18\x0f99991231235959Z"));
}

#[test]
fn batch_certificate_under_a_user_chain_is_canonical_and_validates() {
    let chain_pem = format!("{EXAMPLE_INTERMEDIATE}{OTHER_CA}");
    let ca = AttestationCa::from_pem(&chain_pem, EXAMPLE_KEY_PKCS8).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut rng(23)).unwrap();
    assert_canonical("batch certificate", batch.certificate());
    assert_eq!(batch.chain().len(), 2);
    validate_path(
        batch.certificate(),
        &batch.chain()[1..],
        &pem_der(OTHER_CA),
        now(),
    );
}

#[test]
fn batch_chain_validates_to_the_test_ca_with_webpki() {
    let mut r = rng(24);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    validate_path(
        batch.certificate(),
        &batch.chain()[1..],
        ca.cert_der(),
        now(),
    );
    // Any time in the validity period: 2024-01-01 itself.
    validate_path(
        batch.certificate(),
        &[],
        ca.cert_der(),
        UnixTime::since_unix_epoch(Duration::from_secs(1_704_067_200)),
    );
    // Another CA's root does not anchor it.
    let other = AttestationCa::generate_test_ca(&mut r).unwrap();
    let root = CertificateDer::from(other.cert_der());
    let anchors = [anchor_from_trusted_cert(&root).unwrap().to_owned()];
    let leaf = CertificateDer::from(batch.certificate());
    let leaf = EndEntityCert::try_from(&leaf).unwrap();
    assert!(leaf
        .verify_for_usage(
            &[webpki::ring::ECDSA_P256_SHA256],
            &anchors,
            &[],
            now(),
            KeyUsage::client_auth(),
            None,
            None,
        )
        .is_err());
}

#[test]
fn batch_under_a_self_signed_user_root_validates() {
    let ca = AttestationCa::from_pem(EXAMPLE_CA, EXAMPLE_KEY_PKCS8).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut rng(25)).unwrap();
    assert_eq!(batch.chain().len(), 1);
    assert_canonical("batch certificate", batch.certificate());
    validate_path(batch.certificate(), &[], &pem_der(EXAMPLE_CA), now());
}

/// A test CA as tapfido made them before: notBefore 2024 as GeneralizedTime.
fn legacy_generalized_time_ca() -> (Vec<u8>, String) {
    let ca = AttestationCa::generate_test_ca(&mut rng(26)).unwrap();
    let (_, key_pem) = ca.to_pem().unwrap();
    let mut cert = x509_cert::Certificate::from_der(ca.cert_der()).unwrap();
    let mut tbs = cert.tbs_certificate.clone();
    tbs.validity.not_before = x509_cert::time::Time::GeneralTime(
        der::asn1::GeneralizedTime::from_unix_duration(Duration::from_secs(1_704_067_200)).unwrap(),
    );
    let key = {
        use p256::pkcs8::DecodePrivateKey;
        SigningKey::from_pkcs8_pem(&key_pem).unwrap()
    };
    let sig: p256::ecdsa::DerSignature = signature::Signer::sign(&key, &tbs.to_der().unwrap());
    cert.tbs_certificate = tbs;
    cert.signature = der::asn1::BitString::from_bytes(sig.as_bytes()).unwrap();
    (cert.to_der().unwrap(), key_pem.to_string())
}

#[test]
fn a_generalized_time_before_2050_is_caught() {
    let (der, _) = legacy_generalized_time_ca();
    // rasn keeps the CHOICE it read, so a plain round trip is unchanged ...
    let decoded: rasn_pkix::Certificate = rasn::der::decode(&der).unwrap();
    assert_eq!(rasn::der::encode(&decoded).unwrap(), der);
    // ... but a verifier that writes the date back in its RFC 5280 type gets
    // other bytes, and the CA's signature no longer covers them.
    assert_ne!(strict_reencode(&der), der);
    let result = std::panic::catch_unwind(|| assert_canonical("legacy CA", &der));
    assert!(result.is_err());
}

#[test]
fn a_legacy_test_ca_is_reissued_with_the_same_key_and_validates_old_anchors() {
    let (der, key_pem) = legacy_generalized_time_ca();
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap();
    let legacy = AttestationCa::from_pem(&pem, &key_pem).unwrap();
    assert!(!legacy.has_rfc5280_times());
    let fixed = legacy.reissued_with_rfc5280_times().unwrap().unwrap();
    assert!(fixed.has_rfc5280_times());
    assert_canonical("re-issued test CA", fixed.cert_der());
    assert_eq!(fixed.verifying_key(), legacy.verifying_key());
    assert_eq!(
        fixed.certificate().tbs_certificate.serial_number,
        legacy.certificate().tbs_certificate.serial_number
    );
    assert!(fixed.reissued_with_rfc5280_times().unwrap().is_none());
    // A batch certificate from the re-issued CA validates against both.
    let batch = BatchAttestation::generate(&fixed, &AAGUID, &mut rng(27)).unwrap();
    validate_path(batch.certificate(), &[], fixed.cert_der(), now());
    validate_path(batch.certificate(), &[], &der, now());
    // A user's CA is never rewritten.
    let user = AttestationCa::from_pem(EXAMPLE_CA, EXAMPLE_KEY_PKCS8).unwrap();
    assert!(user.reissued_with_rfc5280_times().unwrap().is_none());
}

#[test]
fn batch_dates_are_retyped_under_a_ca_with_generalized_times() {
    let (der, key_pem) = legacy_generalized_time_ca();
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap();
    let legacy = AttestationCa::from_pem(&pem, &key_pem).unwrap();
    let batch = BatchAttestation::generate(&legacy, &AAGUID, &mut rng(28)).unwrap();
    assert_canonical("batch certificate", batch.certificate());
}
