//! Attestation statements built by the tests with their own keys and CA
//! (x509-cert builder, p256, ed25519-dalek, ciborium), checking each FIDO
//! certificate requirement of WebAuthn Level 3 §8.2.1 and the fido-u2f
//! format of §8.6 fail for the right reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ciborium::Value;
use relying_party::{
    verify_assertion, verify_registration, AttestationType, Expectations, RpError,
    StoredCredential, Trust,
};
use sha2::{Digest, Sha256};
use testkit::rp::*;

const RP: &str = "login.example.com";
const ORIGIN: &str = "https://login.example.com";
const AAGUID: [u8; 16] = [
    0x97, 0x34, 0x46, 0xca, 0xe2, 0x1c, 0x9a, 0x9b, 0x99, 0xf5, 0x9b, 0x98, 0x5a, 0x67, 0xaf, 0x0f,
];
const OU: &str = "CN=Test Key,OU=Authenticator Attestation,O=Test,C=US";

fn expect(challenge: &[u8]) -> Expectations {
    Expectations {
        rp_id: RP.into(),
        origin: ORIGIN.into(),
        challenge: challenge.to_vec(),
        require_uv: false,
    }
}

struct Packed {
    ao: Vec<u8>,
    cdj: Vec<u8>,
    ca: x509_cert::Certificate,
}

/// A packed registration with an attestation certificate of the given shape.
fn packed(
    subject: &str,
    cert_aaguid: Option<[u8; 16]>,
    as_ca: bool,
    auth_aaguid: [u8; 16],
) -> Packed {
    let ca_key = p256_key(0x21);
    let ca = root_ca(&ca_key, "Test Root");
    let att_key = p256_key(0x22);
    let att_cert = attestation_cert(&att_key, &ca_key, &ca, subject, cert_aaguid, as_ca);
    let cred_key = p256_key(0x23);
    let auth = auth_data(
        RP,
        0x05,
        1,
        &auth_aaguid,
        &[7u8; 16],
        &es256_cose(&cred_key),
    );
    let cdj = client_data("webauthn.create", b"challenge-1", ORIGIN);
    let sig = sign_over(&att_key, &auth, &cdj);
    let stmt = Value::Map(vec![
        (text("alg"), int(-7)),
        (text("sig"), Value::Bytes(sig)),
        (
            text("x5c"),
            Value::Array(vec![Value::Bytes(der_of(&att_cert))]),
        ),
    ]);
    Packed {
        ao: att_object("packed", stmt, &auth),
        cdj,
        ca,
    }
}

fn verify(p: &Packed) -> Result<relying_party::VerifiedRegistration, RpError> {
    verify_registration(
        &p.ao,
        &p.cdj,
        &expect(b"challenge-1"),
        std::slice::from_ref(&p.ca),
    )
}

#[test]
fn packed_with_matching_aaguid_extension() {
    let reg = verify(&packed(OU, Some(AAGUID), false, AAGUID)).unwrap();
    assert_eq!(reg.attestation_type, AttestationType::Basic);
    assert!(matches!(reg.trust, Trust::Anchored { ref anchor } if anchor.contains("Test Root")));
    assert!(reg.user_verified && !reg.backup_eligible);
}

#[test]
fn wrong_aaguid_in_certificate() {
    let mut other = AAGUID;
    other[15] ^= 0xff;
    assert_eq!(
        verify(&packed(OU, Some(other), false, AAGUID)).unwrap_err(),
        RpError::CertificateAaguidMismatch
    );
}

#[test]
fn subject_without_authenticator_attestation_ou() {
    let p = packed(
        "CN=Test Key,OU=Something Else,O=Test,C=US",
        None,
        false,
        AAGUID,
    );
    assert_eq!(verify(&p).unwrap_err(), RpError::CertificateSubjectOu);
}

#[test]
fn ca_certificate_as_attestation_certificate() {
    assert_eq!(
        verify(&packed(OU, None, true, AAGUID)).unwrap_err(),
        RpError::CertificateIsCa
    );
}

#[test]
fn chain_to_a_different_root() {
    let p = packed(OU, Some(AAGUID), false, AAGUID);
    let other = root_ca(&p256_key(0x31), "Test Root");
    let err = verify_registration(&p.ao, &p.cdj, &expect(b"challenge-1"), &[other]);
    assert_eq!(err.unwrap_err(), RpError::ChainUntrusted);
}

/// A root, an intermediate and a packed attestation certificate under it, with their keys.
struct Chain {
    root_key: p256::ecdsa::SigningKey,
    root: x509_cert::Certificate,
    inter_key: p256::ecdsa::SigningKey,
    inter: x509_cert::Certificate,
    att_key: p256::ecdsa::SigningKey,
    leaf: x509_cert::Certificate,
}

/// The [`Chain`] with keys from `seed`, `seed + 1` and `seed + 2`.
fn chain(seed: u8) -> Chain {
    let root_key = p256_key(seed);
    let root = root_ca(&root_key, "Test Root");
    let inter_key = p256_key(seed + 1);
    let inter = attestation_cert(
        &inter_key,
        &root_key,
        &root,
        "CN=Test Intermediate,O=Test,C=US",
        None,
        true,
    );
    let att_key = p256_key(seed + 2);
    let leaf = attestation_cert(&att_key, &inter_key, &inter, OU, Some(AAGUID), false);
    Chain {
        root_key,
        root,
        inter_key,
        inter,
        att_key,
        leaf,
    }
}

#[test]
fn chain_with_intermediate() {
    let Chain {
        root,
        inter,
        att_key,
        leaf,
        ..
    } = chain(0x41);
    let auth = auth_data(
        RP,
        0x01,
        0,
        &AAGUID,
        &[9u8; 32],
        &es256_cose(&p256_key(0x44)),
    );
    let cdj = client_data("webauthn.create", b"c", ORIGIN);
    let stmt = |certs: Vec<&x509_cert::Certificate>| {
        Value::Map(vec![
            (text("alg"), int(-7)),
            (text("sig"), Value::Bytes(sign_over(&att_key, &auth, &cdj))),
            (
                text("x5c"),
                Value::Array(certs.into_iter().map(|c| Value::Bytes(der_of(c))).collect()),
            ),
        ])
    };
    let ok = att_object("packed", stmt(vec![&leaf, &inter]), &auth);
    let reg = verify_registration(&ok, &cdj, &expect(b"c"), std::slice::from_ref(&root)).unwrap();
    assert_eq!(reg.x5c_len, 2);
    // x5c in the wrong order: the leaf is not signed by the root.
    let swapped = att_object("packed", stmt(vec![&leaf, &root]), &auth);
    assert_eq!(
        verify_registration(&swapped, &cdj, &expect(b"c"), &[root]).unwrap_err(),
        RpError::ChainSignatureInvalid { index: 0 }
    );
}

#[test]
fn fido_u2f_registration() {
    let ca_key = p256_key(0x51);
    let ca = root_ca(&ca_key, "U2F Root");
    let att_key = p256_key(0x52);
    let att_cert = attestation_cert(
        &att_key,
        &ca_key,
        &ca,
        "CN=U2F Key,O=Test,C=US",
        None,
        false,
    );
    let cred_key = p256_key(0x53);
    let cred_id = [0xabu8; 64];
    let auth = auth_data(RP, 0x01, 0, &[0u8; 16], &cred_id, &es256_cose(&cred_key));
    let cdj = client_data("webauthn.create", b"u2f", ORIGIN);
    // §8.6: 00 || rpIdHash || clientDataHash || credentialId || 04 x y
    let mut signed = vec![0u8];
    signed.extend_from_slice(&Sha256::digest(RP.as_bytes()));
    signed.extend_from_slice(&Sha256::digest(&cdj));
    signed.extend_from_slice(&cred_id);
    signed.extend_from_slice(cred_key.verifying_key().to_encoded_point(false).as_bytes());
    let mut sig = es256_sign(&att_key, &signed);
    let build = |sig: &[u8]| {
        att_object(
            "fido-u2f",
            Value::Map(vec![
                (text("sig"), Value::Bytes(sig.to_vec())),
                (
                    text("x5c"),
                    Value::Array(vec![Value::Bytes(der_of(&att_cert))]),
                ),
            ]),
            &auth,
        )
    };
    let reg = verify_registration(
        &build(&sig),
        &cdj,
        &expect(b"u2f"),
        std::slice::from_ref(&ca),
    )
    .unwrap();
    assert_eq!(reg.fmt, "fido-u2f");
    assert_eq!(reg.credential_id, cred_id.to_vec());
    let last = sig.len() - 1;
    sig[last] ^= 1;
    assert_eq!(
        verify_registration(&build(&sig), &cdj, &expect(b"u2f"), &[ca]).unwrap_err(),
        RpError::AttestationSignatureInvalid
    );
}

#[test]
fn eddsa_self_attestation_and_assertion() {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x61; 32]);
    let cose = eddsa_cose(&key);
    let auth = auth_data(RP, 0x05, 0, &AAGUID, &[1u8; 16], &cose);
    let cdj = client_data("webauthn.create", b"ed", ORIGIN);
    let mut msg = auth.clone();
    msg.extend_from_slice(&Sha256::digest(&cdj));
    let stmt = Value::Map(vec![
        (text("alg"), int(-8)),
        (
            text("sig"),
            Value::Bytes(key.sign(&msg).to_bytes().to_vec()),
        ),
    ]);
    let reg = verify_registration(
        &att_object("packed", stmt, &auth),
        &cdj,
        &expect(b"ed"),
        &[],
    )
    .unwrap();
    assert_eq!(reg.attestation_type, AttestationType::SelfAttestation);
    assert_eq!(reg.public_key.alg(), -8);

    // A self attestation whose alg says ES256 for an EdDSA key.
    let bad = Value::Map(vec![
        (text("alg"), int(-7)),
        (
            text("sig"),
            Value::Bytes(key.sign(&msg).to_bytes().to_vec()),
        ),
    ]);
    assert_eq!(
        verify_registration(&att_object("packed", bad, &auth), &cdj, &expect(b"ed"), &[])
            .unwrap_err(),
        RpError::AlgorithmMismatch { att: -7, cred: -8 }
    );

    let stored = StoredCredential {
        credential_id: vec![1u8; 16],
        public_key: reg.public_key,
        sign_count: 3,
    };
    let a_auth = assertion_auth_data(RP, 0x05, 4);
    let a_cdj = client_data("webauthn.get", b"get", ORIGIN);
    let mut a_msg = a_auth.clone();
    a_msg.extend_from_slice(&Sha256::digest(&a_cdj));
    let sig = key.sign(&a_msg).to_bytes();
    let ok = verify_assertion(&a_auth, &a_cdj, &sig, &expect(b"get"), &stored).unwrap();
    assert_eq!(ok.sign_count, 4);
    // Same counter as stored: regression.
    let same = assertion_auth_data(RP, 0x05, 3);
    let mut s_msg = same.clone();
    s_msg.extend_from_slice(&Sha256::digest(&a_cdj));
    let sig = key.sign(&s_msg).to_bytes();
    assert_eq!(
        verify_assertion(&same, &a_cdj, &sig, &expect(b"get"), &stored).unwrap_err(),
        RpError::CounterRegression {
            stored: 3,
            received: 3
        }
    );
}

#[test]
fn malformed_inputs_are_named() {
    assert!(matches!(
        verify_registration(&[0xa0], b"{}", &expect(b"x"), &[]).unwrap_err(),
        RpError::MalformedAttestationObject(_)
    ));
    let auth = auth_data(
        RP,
        0x01,
        0,
        &AAGUID,
        &[1u8; 16],
        &es256_cose(&p256_key(0x71)),
    );
    let cdj = client_data("webauthn.create", b"x", ORIGIN);
    let mut short = auth.clone();
    short.truncate(50);
    assert!(matches!(
        verify_registration(
            &att_object("none", Value::Map(vec![]), &short),
            &cdj,
            &expect(b"x"),
            &[]
        )
        .unwrap_err(),
        RpError::MalformedAuthData(_)
    ));
    assert_eq!(
        verify_registration(
            &att_object("tpm", Value::Map(vec![]), &auth),
            &cdj,
            &expect(b"x"),
            &[]
        )
        .unwrap_err(),
        RpError::UnsupportedFormat("tpm".into())
    );
    let mut no_up = auth.clone();
    no_up[32] &= !0x01;
    assert_eq!(
        verify_registration(
            &att_object("none", Value::Map(vec![]), &no_up),
            &cdj,
            &expect(b"x"),
            &[]
        )
        .unwrap_err(),
        RpError::UserNotPresent
    );
}

/// `cert` with notBefore re-typed to GeneralizedTime (same instant) and
/// signed again by `ca_key`: valid in every way but its encoding.
fn with_generalized_not_before(
    cert: &x509_cert::Certificate,
    ca_key: &p256::ecdsa::SigningKey,
) -> x509_cert::Certificate {
    use der::Encode;
    let mut cert = cert.clone();
    let at = cert.tbs_certificate.validity.not_before.to_date_time();
    cert.tbs_certificate.validity.not_before =
        x509_cert::time::Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(at));
    let sig: p256::ecdsa::DerSignature =
        p256::ecdsa::signature::Signer::sign(ca_key, &cert.tbs_certificate.to_der().unwrap());
    cert.signature = der::asn1::BitString::from_bytes(sig.as_bytes()).unwrap();
    cert
}

/// A packed registration whose x5c is `leaf, inter` under `root`.
fn packed_chain(att_key: &p256::ecdsa::SigningKey, x5c: Vec<Vec<u8>>) -> (Vec<u8>, Vec<u8>) {
    let auth = auth_data(
        RP,
        0x01,
        0,
        &AAGUID,
        &[9u8; 32],
        &es256_cose(&p256_key(0x54)),
    );
    let cdj = client_data("webauthn.create", b"c", ORIGIN);
    let stmt = Value::Map(vec![
        (text("alg"), int(-7)),
        (text("sig"), Value::Bytes(sign_over(att_key, &auth, &cdj))),
        (
            text("x5c"),
            Value::Array(x5c.into_iter().map(Value::Bytes).collect()),
        ),
    ]);
    (att_object("packed", stmt, &auth), cdj)
}

/// RFC 5280 §4.1.2.5 time types and X.690 DER, for every x5c certificate:
/// a verifier that re-encodes certificates gets other bytes otherwise.
#[test]
fn x5c_certificates_must_be_der_with_rfc5280_time_types() {
    let Chain {
        root_key,
        root,
        inter_key,
        inter,
        att_key,
        leaf,
    } = chain(0x51);
    let anchors = std::slice::from_ref(&root);

    let (ok, cdj) = packed_chain(&att_key, vec![der_of(&leaf), der_of(&inter)]);
    verify_registration(&ok, &cdj, &expect(b"c"), anchors).unwrap();

    // The intermediate with notBefore (this year) as GeneralizedTime.
    let bad_inter = with_generalized_not_before(&inter, &root_key);
    let (ao, cdj) = packed_chain(&att_key, vec![der_of(&leaf), der_of(&bad_inter)]);
    let err = verify_registration(&ao, &cdj, &expect(b"c"), anchors).unwrap_err();
    assert!(
        matches!(
            err,
            RpError::CertificateTimeType {
                index: 1,
                field: "notBefore",
                found: "GeneralizedTime",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.rule_name(), "certificate_time_type");
    assert!(err.to_string().contains("RFC 5280 §4.1.2.5"), "{err}");

    // The attestation certificate with the same defect.
    let bad_leaf = with_generalized_not_before(&leaf, &inter_key);
    let (ao, cdj) = packed_chain(&att_key, vec![der_of(&bad_leaf), der_of(&inter)]);
    let err = verify_registration(&ao, &cdj, &expect(b"c"), anchors).unwrap_err();
    assert!(
        matches!(err, RpError::CertificateTimeType { index: 0, .. }),
        "{err:?}"
    );

    // Not DER: the certificate's outer length in a longer form than needed
    // (`30 83 00 LL LL` for `30 82 LL LL`, X.690 §10.1).
    let leaf_der = der_of(&leaf);
    assert_eq!(&leaf_der[..2], &[0x30, 0x82]);
    let mut fixed = vec![0x30, 0x83, 0x00];
    fixed.extend_from_slice(&leaf_der[2..]);
    let (ao, cdj) = packed_chain(&att_key, vec![fixed, der_of(&inter)]);
    let err = verify_registration(&ao, &cdj, &expect(b"c"), anchors).unwrap_err();
    assert!(
        matches!(
            err,
            RpError::CertificateNotDer { index: 0 } | RpError::CertificateMalformed { index: 0 }
        ),
        "{err:?}"
    );
}
