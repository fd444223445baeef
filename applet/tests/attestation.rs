//! Attestation certificates and signatures, checked with x509-cert parsing and
//! independent p256 verification against WebAuthn §8.2.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use applet::attestation::{issue_batch, AttestationCa, AttestationError, BatchAttestation};
use const_oid::db::{rfc4519, rfc5280, rfc5912};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, PrintableStringRef, Utf8StringRef};
use der::{Decode, Encode, Tagged};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::EncodePrivateKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use spki::DecodePublicKey;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::Certificate;

const AAGUID: [u8; 16] = [
    0x97, 0x34, 0x46, 0xca, 0xe2, 0x1c, 0x9a, 0x9b, 0x99, 0xf5, 0x9b, 0x98, 0x5a, 0x67, 0xaf, 0x0f,
];
const OID_AAGUID: &str = "1.3.6.1.4.1.45724.1.1.4";
const OID_TRANSPORTS: &str = "1.3.6.1.4.1.45724.2.1.1";

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn ext<'a>(cert: &'a Certificate, oid: &str) -> &'a x509_cert::ext::Extension {
    let oid = ObjectIdentifier::new(oid).unwrap();
    let found: Vec<_> = cert
        .tbs_certificate
        .extensions
        .as_ref()
        .unwrap()
        .iter()
        .filter(|e| e.extn_id == oid)
        .collect();
    assert_eq!(found.len(), 1, "exactly one extension {oid}");
    found[0]
}

/// Every value of attribute `oid` in `name`, as (tag, text).
fn attrs(name: &Name, oid: ObjectIdentifier) -> Vec<(der::Tag, String)> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid)
        .map(|atv| {
            let text = match atv.value.tag() {
                der::Tag::PrintableString => PrintableStringRef::try_from(&atv.value)
                    .unwrap()
                    .to_string(),
                der::Tag::Utf8String => Utf8StringRef::try_from(&atv.value).unwrap().to_string(),
                other => panic!("unexpected string tag {other:?}"),
            };
            (atv.value.tag(), text)
        })
        .collect()
}

fn public_key(cert: &Certificate) -> VerifyingKey {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    VerifyingKey::from_public_key_der(&spki).unwrap()
}

/// Verify `cert`'s signature with `issuer` (RFC 5280 §4.1.1.3).
fn verify_signed_by(cert: &Certificate, issuer: &VerifyingKey) {
    assert_eq!(cert.signature_algorithm.oid, rfc5912::ECDSA_WITH_SHA_256);
    assert!(cert.signature_algorithm.parameters.is_none());
    assert_eq!(cert.tbs_certificate.signature, cert.signature_algorithm);
    let tbs = cert.tbs_certificate.to_der().unwrap();
    let sig = Signature::from_der(cert.signature.raw_bytes()).unwrap();
    issuer.verify(&tbs, &sig).unwrap();
}

#[test]
fn test_ca_is_a_self_signed_p256_ca() {
    let ca = AttestationCa::generate_test_ca(&mut rng(1)).unwrap();
    let cert = Certificate::from_der(ca.cert_der()).unwrap();
    let tbs = &cert.tbs_certificate;

    assert_eq!(tbs.version, x509_cert::certificate::Version::V3);
    assert_eq!(tbs.issuer, tbs.subject);
    assert_eq!(
        attrs(&tbs.subject, rfc4519::CN),
        vec![(der::Tag::Utf8String, "tapfido Test Attestation CA".into())]
    );
    assert_eq!(
        attrs(&tbs.subject, rfc4519::O),
        vec![(der::Tag::Utf8String, "tapfido".into())]
    );
    let serial = tbs.serial_number.as_bytes();
    assert_eq!(serial.len(), 16);
    assert!(serial[0] < 0x80 && serial[0] != 0);

    let bc = ext(&cert, "2.5.29.19");
    assert!(bc.critical);
    let bc = BasicConstraints::from_der(bc.extn_value.as_bytes()).unwrap();
    assert!(bc.ca);

    let ku = ext(&cert, "2.5.29.15");
    assert!(ku.critical);
    let ku = KeyUsage::from_der(ku.extn_value.as_bytes()).unwrap();
    assert!(ku.key_cert_sign() && ku.crl_sign());
    assert!(!ku.digital_signature());

    // Long validity: not expiring before 2100.
    let not_after = tbs.validity.not_after.to_unix_duration();
    assert!(not_after > Duration::from_secs(4_102_444_800));
    assert!(tbs.validity.not_before.to_unix_duration() < not_after);

    let key = public_key(&cert);
    assert_eq!(&key, ca.verifying_key());
    verify_signed_by(&cert, &key);
}

#[test]
fn test_cas_differ_per_seed() {
    let a = AttestationCa::generate_test_ca(&mut rng(1)).unwrap();
    let b = AttestationCa::generate_test_ca(&mut rng(2)).unwrap();
    assert_ne!(a.cert_der(), b.cert_der());
    assert_ne!(a.verifying_key(), b.verifying_key());
}

#[test]
fn batch_certificate_meets_packed_requirements() {
    let mut r = rng(3);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();

    // The self-signed test CA is the verifier's trust anchor, not part of x5c.
    assert_eq!(batch.chain().len(), 1);
    assert_eq!(batch.certificate(), batch.chain()[0].as_slice());

    let leaf = Certificate::from_der(batch.certificate()).unwrap();
    let ca_cert = Certificate::from_der(ca.cert_der()).unwrap();
    let tbs = &leaf.tbs_certificate;

    // Version MUST be 3.
    assert_eq!(tbs.version, x509_cert::certificate::Version::V3);
    // Subject: C (two letters, PrintableString), O, OU exactly, CN.
    let c = attrs(&tbs.subject, rfc4519::C);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, der::Tag::PrintableString);
    assert_eq!(c[0].1.len(), 2);
    assert!(c[0].1.chars().all(|ch| ch.is_ascii_uppercase()));
    assert_eq!(attrs(&tbs.subject, rfc4519::O).len(), 1);
    assert_eq!(
        attrs(&tbs.subject, rfc4519::OU),
        vec![(der::Tag::Utf8String, "Authenticator Attestation".into())]
    );
    assert_eq!(attrs(&tbs.subject, rfc4519::CN).len(), 1);
    // Issued by the CA.
    assert_eq!(tbs.issuer, ca_cert.tbs_certificate.subject);
    assert_eq!(tbs.validity, ca_cert.tbs_certificate.validity);

    // basicConstraints CA:false.
    let bc = ext(&leaf, "2.5.29.19");
    let bc = BasicConstraints::from_der(bc.extn_value.as_bytes()).unwrap();
    assert!(!bc.ca);
    assert_eq!(bc.path_len_constraint, None);
    let ku = KeyUsage::from_der(ext(&leaf, "2.5.29.15").extn_value.as_bytes()).unwrap();
    assert!(ku.digital_signature());
    assert!(!ku.key_cert_sign());

    // AAGUID extension: non-critical, extnValue = 04 10 <aaguid>.
    let aaguid = ext(&leaf, OID_AAGUID);
    assert!(!aaguid.critical);
    let mut expected = vec![0x04, 0x10];
    expected.extend_from_slice(&AAGUID);
    assert_eq!(aaguid.extn_value.as_bytes(), expected.as_slice());

    // Transports: BIT STRING with only bit 3 (nFC) set.
    let transports = ext(&leaf, OID_TRANSPORTS);
    assert!(!transports.critical);
    let bits = BitString::from_der(transports.extn_value.as_bytes()).unwrap();
    let set: Vec<usize> = bits
        .bits()
        .enumerate()
        .filter_map(|(i, b)| b.then_some(i))
        .collect();
    assert_eq!(set, vec![3]);

    // Key identifiers link leaf to CA.
    let ca_ski =
        SubjectKeyIdentifier::from_der(ext(&ca_cert, "2.5.29.14").extn_value.as_bytes()).unwrap();
    let aki =
        AuthorityKeyIdentifier::from_der(ext(&leaf, "2.5.29.35").extn_value.as_bytes()).unwrap();
    assert_eq!(aki.key_identifier, Some(ca_ski.0));

    // Serial: positive and nonzero.
    let serial = tbs.serial_number.as_bytes();
    assert!(!serial.is_empty() && serial[0] < 0x80 && serial.iter().any(|b| *b != 0));
    assert_ne!(serial, ca_cert.tbs_certificate.serial_number.as_bytes());

    // Public key is the batch key; signature by the CA key.
    assert_eq!(&public_key(&leaf), batch.verifying_key());
    verify_signed_by(&leaf, &public_key(&ca_cert));
    // And not by some other key.
    let other = AttestationCa::generate_test_ca(&mut rng(99)).unwrap();
    let tbs_der = leaf.tbs_certificate.to_der().unwrap();
    let sig = Signature::from_der(leaf.signature.raw_bytes()).unwrap();
    assert!(other.verifying_key().verify(&tbs_der, &sig).is_err());
}

#[test]
fn batch_chain_is_rebuilt_identically_from_key_bytes() {
    let mut r = rng(4);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    let restored =
        BatchAttestation::from_key_bytes(&ca, &AAGUID, batch.key_bytes().as_slice()).unwrap();
    assert_eq!(restored.chain(), batch.chain());
    assert_eq!(restored.verifying_key(), batch.verifying_key());

    // A different AAGUID gives a different certificate for the same key.
    let other =
        BatchAttestation::from_key_bytes(&ca, &[0u8; 16], batch.key_bytes().as_slice()).unwrap();
    assert_ne!(other.certificate(), batch.certificate());
    // issue_batch is the same function.
    assert_eq!(
        issue_batch(&ca, &AAGUID, batch.verifying_key()).unwrap(),
        batch.certificate()
    );
}

#[test]
fn bad_batch_key_bytes_are_rejected() {
    let ca = AttestationCa::generate_test_ca(&mut rng(5)).unwrap();
    for key in [&[0u8; 32][..], &[0xffu8; 32][..], &[1u8; 31][..], &[][..]] {
        assert_eq!(
            BatchAttestation::from_key_bytes(&ca, &AAGUID, key).unwrap_err(),
            AttestationError::BatchKey
        );
    }
}

#[test]
fn packed_signature_verifies_with_the_leaf_key() {
    let mut r = rng(6);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    let auth_data = b"rpIdHash........................\x41\x00\x00\x00\x07rest";
    let cdh = Sha256::digest(b"client data");
    let sig = batch.sign(auth_data, &cdh).unwrap();

    let leaf = Certificate::from_der(batch.certificate()).unwrap();
    let key = public_key(&leaf);
    let mut message = auth_data.to_vec();
    message.extend_from_slice(&cdh);
    let parsed = Signature::from_der(&sig).unwrap();
    key.verify(&message, &parsed).unwrap();
    // Over authData || clientDataHash exactly: a changed byte fails.
    message[0] ^= 1;
    assert!(key.verify(&message, &parsed).is_err());
}

#[test]
fn fido_u2f_signature_layout() {
    let mut r = rng(7);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    let app = [0xaa; 32];
    let chal = [0xcc; 32];
    let kh = [0x11; 40];
    let mut pk = [0x04; 65];
    pk[1..].fill(0x22);
    let sig = batch.sign_fido_u2f(&app, &chal, &kh, &pk).unwrap();

    let mut message = vec![0x00];
    message.extend_from_slice(&app);
    message.extend_from_slice(&chal);
    message.extend_from_slice(&kh);
    message.extend_from_slice(&pk);
    let key = public_key(&Certificate::from_der(batch.certificate()).unwrap());
    key.verify(&message, &Signature::from_der(&sig).unwrap())
        .unwrap();
}

#[test]
fn pem_round_trip_gives_the_same_ca() {
    let ca = AttestationCa::generate_test_ca(&mut rng(8)).unwrap();
    let (cert_pem, key_pem) = ca.to_pem().unwrap();
    assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let back = AttestationCa::from_pem(&cert_pem, &key_pem).unwrap();
    assert_eq!(back.cert_der(), ca.cert_der());
    assert_eq!(back.verifying_key(), ca.verifying_key());
    // Same CA, same batch key: same batch certificate.
    let key = SigningKey::random(&mut rng(9));
    assert_eq!(
        issue_batch(&back, &AAGUID, key.verifying_key()).unwrap(),
        issue_batch(&ca, &AAGUID, key.verifying_key()).unwrap()
    );
}

/// Fixtures made with OpenSSL 3 (`openssl ecparam -genkey`, `openssl req -x509`),
/// independent of our encoder: a P-256 CA `C=DE, O=Example Corp`.
const EXAMPLE_CA: &str = include_str!("data/attestation/example-ca.crt.pem");
const EXAMPLE_KEY_SEC1: &str = include_str!("data/attestation/example-ca.sec1.pem");
const EXAMPLE_KEY_PKCS8: &str = include_str!("data/attestation/example-ca.pkcs8.pem");
const OTHER_CA: &str = include_str!("data/attestation/other-ca.crt.pem");
/// `CN=Example Attestation Intermediate` with the example key, issued by
/// `CN=Example Root 2` (`openssl x509 -req -CA other-ca.crt.pem`).
const EXAMPLE_INTERMEDIATE: &str = include_str!("data/attestation/example-intermediate.crt.pem");
const OTHER_KEY_SEC1: &str = include_str!("data/attestation/other.sec1.pem");
const P384_CA: &str = include_str!("data/attestation/p384-ca.crt.pem");
const P384_KEY_SEC1: &str = include_str!("data/attestation/p384.sec1.pem");
const P384_KEY_PKCS8: &str = include_str!("data/attestation/p384.pkcs8.pem");

fn pem_cert(pem: &str) -> Certificate {
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "CERTIFICATE");
    Certificate::from_der(&der).unwrap()
}

#[test]
fn user_ca_in_sec1_with_parameters_block_is_accepted() {
    // The SEC1 file starts with an `EC PARAMETERS` block, as openssl writes it.
    assert!(EXAMPLE_KEY_SEC1.starts_with("-----BEGIN EC PARAMETERS-----"));
    let cert = pem_cert(EXAMPLE_CA);
    let text = format!("Subject: C = DE, O = Example Corp\n{EXAMPLE_CA}");
    let ca = AttestationCa::from_pem(&text, EXAMPLE_KEY_SEC1).unwrap();
    assert_eq!(ca.cert_der(), cert.to_der().unwrap());
    let pkcs8 = AttestationCa::from_pem(EXAMPLE_CA, EXAMPLE_KEY_PKCS8).unwrap();
    assert_eq!(pkcs8.verifying_key(), ca.verifying_key());

    // The batch certificate takes C and O from the user's CA and links to its
    // SKI (which OpenSSL computed its own way).
    let batch_key = SigningKey::random(&mut rng(11));
    let leaf = issue_batch(&ca, &AAGUID, batch_key.verifying_key()).unwrap();
    let leaf = Certificate::from_der(&leaf).unwrap();
    let subject = &leaf.tbs_certificate.subject;
    assert_eq!(
        attrs(subject, rfc4519::C),
        vec![(der::Tag::PrintableString, "DE".into())]
    );
    assert_eq!(attrs(subject, rfc4519::O)[0].1, "Example Corp");
    assert_eq!(
        attrs(subject, rfc4519::OU)[0].1,
        "Authenticator Attestation"
    );
    let ca_ski =
        SubjectKeyIdentifier::from_der(ext(&cert, "2.5.29.14").extn_value.as_bytes()).unwrap();
    let aki =
        AuthorityKeyIdentifier::from_der(ext(&leaf, "2.5.29.35").extn_value.as_bytes()).unwrap();
    assert_eq!(aki.key_identifier, Some(ca_ski.0));
    verify_signed_by(&leaf, &public_key(&cert));
    assert_eq!(leaf.tbs_certificate.issuer, cert.tbs_certificate.subject);
    assert_eq!(leaf.tbs_certificate.validity, cert.tbs_certificate.validity);
}

#[test]
fn user_ca_chain_follows_the_leaf_in_x5c_without_its_root() {
    // An intermediate (the example key, issued by "Example Root 2") and its root.
    let chain_pem = format!("{EXAMPLE_INTERMEDIATE}{OTHER_CA}");
    let ca = AttestationCa::from_pem(&chain_pem, EXAMPLE_KEY_PKCS8).unwrap();
    assert_eq!(ca.chain().len(), 2);
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut rng(14)).unwrap();
    assert_eq!(batch.chain().len(), 2);
    assert_eq!(
        batch.chain()[1],
        pem_cert(EXAMPLE_INTERMEDIATE).to_der().unwrap()
    );
    // A self-signed CA given alone: x5c is the batch certificate only.
    let root = AttestationCa::from_pem(EXAMPLE_CA, EXAMPLE_KEY_PKCS8).unwrap();
    let batch = BatchAttestation::generate(&root, &AAGUID, &mut rng(14)).unwrap();
    assert_eq!(batch.chain().len(), 1);
}

#[test]
fn p384_ca_is_rejected() {
    assert!(matches!(
        AttestationCa::from_pem(P384_CA, P384_KEY_SEC1).unwrap_err(),
        AttestationError::Key(_)
    ));
    assert!(matches!(
        AttestationCa::from_pem(P384_CA, P384_KEY_PKCS8).unwrap_err(),
        AttestationError::Key(_)
    ));
    // A P-256 key with a P-384 certificate.
    assert_eq!(
        AttestationCa::from_pem(P384_CA, EXAMPLE_KEY_SEC1).unwrap_err(),
        AttestationError::NotP256Certificate
    );
}

#[test]
fn wrong_ca_key_is_rejected() {
    assert_eq!(
        AttestationCa::from_pem(EXAMPLE_CA, OTHER_KEY_SEC1).unwrap_err(),
        AttestationError::KeyMismatch
    );
    // Our own test CA with another test CA's key, likewise.
    let a = AttestationCa::generate_test_ca(&mut rng(17)).unwrap();
    let b = AttestationCa::generate_test_ca(&mut rng(18)).unwrap();
    let (a_cert, _) = a.to_pem().unwrap();
    let (_, b_key) = b.to_pem().unwrap();
    assert_eq!(
        AttestationCa::from_pem(&a_cert, &b_key).unwrap_err(),
        AttestationError::KeyMismatch
    );
}

#[test]
fn leaf_certificate_is_not_accepted_as_ca() {
    let mut r = rng(19);
    let ca = AttestationCa::generate_test_ca(&mut r).unwrap();
    let batch = BatchAttestation::generate(&ca, &AAGUID, &mut r).unwrap();
    let leaf_pem =
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, batch.certificate())
            .unwrap();
    let key = SigningKey::from_slice(batch.key_bytes().as_slice()).unwrap();
    let key_pem = key.to_pkcs8_pem(der::pem::LineEnding::LF).unwrap();
    assert!(matches!(
        AttestationCa::from_pem(&leaf_pem, &key_pem).unwrap_err(),
        AttestationError::NotCa(_)
    ));
}

#[test]
fn garbage_pem_is_rejected_cleanly() {
    let ca = AttestationCa::generate_test_ca(&mut rng(20)).unwrap();
    let (cert_pem, key_pem) = ca.to_pem().unwrap();

    let cases: Vec<(String, String)> = vec![
        (String::new(), key_pem.to_string()),
        ("not pem at all".into(), key_pem.to_string()),
        (cert_pem.clone(), String::new()),
        (cert_pem.clone(), "garbage".into()),
        // Broken base64 inside the block.
        (
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            key_pem.to_string(),
        ),
        // No END line.
        (
            cert_pem.replace("-----END CERTIFICATE-----", ""),
            key_pem.to_string(),
        ),
        // Valid base64, not a certificate.
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            key_pem.to_string(),
        ),
        // Valid base64, not a key.
        (
            cert_pem.clone(),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
        ),
        (
            cert_pem.clone(),
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n".into(),
        ),
        // Key where the certificate should be and vice versa.
        (key_pem.to_string(), cert_pem.clone()),
        // Truncated certificate.
        (
            cert_pem[..cert_pem.len() / 2].to_string(),
            key_pem.to_string(),
        ),
    ];
    for (cert, key) in cases {
        let err = AttestationCa::from_pem(&cert, &key).unwrap_err();
        assert!(!err.to_string().is_empty());
    }

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_eq!(
        AttestationCa::from_pem(&cert_pem, encrypted).unwrap_err(),
        AttestationError::EncryptedKey
    );
}

#[test]
fn non_p256_keys_are_rejected() {
    let ca = AttestationCa::generate_test_ca(&mut rng(21)).unwrap();
    let (cert_pem, _) = ca.to_pem().unwrap();
    // PKCS#8 Ed25519 key (RFC 8410 §10.3 example).
    let ed25519 = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                   -----END PRIVATE KEY-----\n";
    assert!(matches!(
        AttestationCa::from_pem(&cert_pem, ed25519).unwrap_err(),
        AttestationError::Key(_)
    ));
}

#[test]
fn key_identifier_method() {
    // SKI of our CA is SHA-256 over the subjectPublicKey bits, first 20 bytes.
    let ca = AttestationCa::generate_test_ca(&mut rng(22)).unwrap();
    let cert = Certificate::from_der(ca.cert_der()).unwrap();
    let point = ca.verifying_key().to_encoded_point(false);
    let ski =
        SubjectKeyIdentifier::from_der(ext(&cert, "2.5.29.14").extn_value.as_bytes()).unwrap();
    assert_eq!(
        ski.0,
        OctetString::new(&Sha256::digest(point.as_bytes())[..20]).unwrap()
    );
    let _ = rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
}

#[test]
fn self_signed_certificate_profile() {
    let key = SigningKey::random(&mut rng(23));
    let der = applet::attestation::self_signed_certificate(&key).unwrap();
    assert_eq!(
        der,
        applet::attestation::self_signed_certificate(&key).unwrap()
    );
    let cert = Certificate::from_der(&der).unwrap();
    let tbs = &cert.tbs_certificate;
    assert_eq!(tbs.version, x509_cert::certificate::Version::V3);
    assert_eq!(tbs.issuer, tbs.subject);
    assert_eq!(
        attrs(&tbs.subject, rfc4519::OU),
        vec![(der::Tag::Utf8String, "Authenticator Attestation".into())]
    );
    assert_eq!(attrs(&tbs.subject, rfc4519::C).len(), 1);
    let bc = BasicConstraints::from_der(ext(&cert, "2.5.29.19").extn_value.as_bytes()).unwrap();
    assert!(!bc.ca);
    assert_eq!(&public_key(&cert), key.verifying_key());
    verify_signed_by(&cert, key.verifying_key());
}

/// RFC 5280 §6.1.3 (a)(1): a root CA whose self-signature does not verify is refused, and the
/// error is about the certificate, not the key.
#[test]
fn ca_with_a_broken_self_signature_is_refused() {
    let ca = AttestationCa::generate_test_ca(&mut rng(7)).unwrap();
    let (_, key_pem) = ca.to_pem().unwrap();
    let mut der = ca.cert_der().to_vec();
    // The last byte of the DER is the last byte of the signature's s: still valid DER.
    *der.last_mut().unwrap() ^= 0x01;
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap();
    let err = AttestationCa::from_pem(&pem, &key_pem).unwrap_err();
    assert!(matches!(err, AttestationError::CaSignature(_)), "{err:?}");
    assert!(!err.is_about_key());
    assert!(AttestationError::KeyMismatch.is_about_key());
    assert!(AttestationError::NoKey.is_about_key());
    // The untouched certificate still loads.
    AttestationCa::from_pem(&ca.cert_pem().unwrap(), &key_pem).unwrap();
}
