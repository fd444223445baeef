//! U2F over NFC: exact response layouts, independent p256 verification and
//! every status word (U2F Raw Message Formats v1.2 §4–§6, reliability §8.5 53).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::attestation::{AttestationCa, BatchAttestation};
use applet::credential::{CredFlags, IdKey, Sealed};
use applet::env::TestEnv;
use applet::iso::{Command, Status};
use applet::keys::{Algorithm, PrivateKey};
use applet::state::{CardState, Identity, Persistent, ResidentCredential};
use applet::u2f::{self, U2f, U2fError};
use der::{Decode, Encode};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use spki::DecodePublicKey;
use x509_cert::Certificate;

const AAGUID: [u8; 16] = [0x42; 16];
const MASTER: [u8; 32] = [0x17; 32];

struct Card {
    env: TestEnv,
    state: CardState,
    id_key: IdKey,
    attestation: BatchAttestation,
    /// Whether the card has batch attestation (else self attestation).
    batch: bool,
    present: bool,
}

impl Card {
    fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let ca = AttestationCa::generate_test_ca(&mut rng).unwrap();
        let attestation = BatchAttestation::generate(&ca, &AAGUID, &mut rng).unwrap();
        let mut env = TestEnv::seeded(9);
        let identity = Identity {
            master_key: MASTER,
            attestation_key: Some(*attestation.key_bytes()),
        };
        let state = CardState::new(identity, Persistent::fresh(4));
        state.store_initial(&mut env).unwrap();
        Card {
            env,
            state,
            id_key: IdKey::derive(&MASTER),
            attestation,
            batch: true,
            present: true,
        }
    }

    /// Send one command; returns (data, status word).
    fn send(&mut self, cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        let cmd = Command {
            cla,
            ins,
            p1,
            p2,
            data,
            ne: 256,
            extended: false,
        };
        let ctx = U2f {
            env: &mut self.env,
            state: &mut self.state,
            id_key: &self.id_key,
            attestation: self.batch.then_some(&self.attestation),
            user_present: self.present,
        };
        let mut reply = Vec::new();
        match u2f::process(ctx, &cmd, &mut reply) {
            Ok(()) => (reply, 0x9000),
            Err(e) => {
                assert!(reply.is_empty(), "no data with an error");
                (reply, u16::from(Status::from(e)))
            }
        }
    }

    fn stored_sign_count(&self) -> u32 {
        let bytes = self.env.storage.bytes.clone().unwrap();
        applet::state::decode(&bytes)
            .unwrap()
            .persistent()
            .sign_count
    }
}

fn app(name: &str) -> [u8; 32] {
    Sha256::digest(name.as_bytes()).into()
}

fn register_data(challenge: &[u8; 32], application: &[u8; 32]) -> Vec<u8> {
    let mut d = challenge.to_vec();
    d.extend_from_slice(application);
    d
}

fn auth_data(challenge: &[u8; 32], application: &[u8; 32], kh: &[u8]) -> Vec<u8> {
    let mut d = challenge.to_vec();
    d.extend_from_slice(application);
    d.push(u8::try_from(kh.len()).unwrap());
    d.extend_from_slice(kh);
    d
}

/// Length of the DER element at the start of `bytes` (ITU-T X.690 §8.1.3).
fn der_len(bytes: &[u8]) -> usize {
    assert_eq!(bytes[0], 0x30);
    match bytes[1] {
        n if n < 0x80 => 2 + usize::from(n),
        0x81 => 3 + usize::from(bytes[2]),
        0x82 => 4 + (usize::from(bytes[2]) << 8 | usize::from(bytes[3])),
        other => panic!("unexpected length form {other:#x}"),
    }
}

struct Registration {
    public_key: [u8; 65],
    key_handle: Vec<u8>,
}

/// Register and check every byte of the response independently.
fn register(card: &mut Card, challenge: &[u8; 32], application: &[u8; 32]) -> Registration {
    let (resp, sw) = card.send(
        0x00,
        0x01,
        0x00,
        0x00,
        &register_data(challenge, application),
    );
    assert_eq!(sw, 0x9000);
    assert_eq!(resp[0], 0x05, "reserved byte");
    let public_key: [u8; 65] = resp[1..66].try_into().unwrap();
    assert_eq!(public_key[0], 0x04, "uncompressed point");
    VerifyingKey::from_sec1_bytes(&public_key).unwrap();
    let kh_len = usize::from(resp[66]);
    let key_handle = resp[67..67 + kh_len].to_vec();
    let cert_start = 67 + kh_len;
    let cert_len = der_len(&resp[cert_start..]);
    let cert_der = &resp[cert_start..cert_start + cert_len];
    if card.batch {
        assert_eq!(cert_der, card.attestation.certificate());
    }
    let signature = &resp[cert_start + cert_len..];
    assert_eq!(der_len(signature), signature.len(), "signature is the rest");

    let cert = Certificate::from_der(cert_der).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let att_key = VerifyingKey::from_public_key_der(&spki).unwrap();
    let mut message = vec![0x00];
    message.extend_from_slice(application);
    message.extend_from_slice(challenge);
    message.extend_from_slice(&key_handle);
    message.extend_from_slice(&public_key);
    att_key
        .verify(&message, &Signature::from_der(signature).unwrap())
        .unwrap();
    Registration {
        public_key,
        key_handle,
    }
}

/// Authenticate; check layout and signature; returns the counter.
fn authenticate_ok(
    card: &mut Card,
    p1: u8,
    reg: &Registration,
    application: &[u8; 32],
    expect_presence: u8,
) -> u32 {
    let challenge = [0x5c; 32];
    let (resp, sw) = card.send(
        0x00,
        0x02,
        p1,
        0x00,
        &auth_data(&challenge, application, &reg.key_handle),
    );
    assert_eq!(sw, 0x9000);
    assert_eq!(resp[0], expect_presence);
    let counter = u32::from_be_bytes(resp[1..5].try_into().unwrap());
    let signature = &resp[5..];
    assert_eq!(der_len(signature), signature.len());
    let mut message = application.to_vec();
    message.push(expect_presence);
    message.extend_from_slice(&resp[1..5]);
    message.extend_from_slice(&challenge);
    VerifyingKey::from_sec1_bytes(&reg.public_key)
        .unwrap()
        .verify(&message, &Signature::from_der(signature).unwrap())
        .unwrap();
    // Durable before the response was returned: storage holds a ceiling at
    // or above it (counters are reserved in blocks).
    assert!(card.stored_sign_count() >= counter);
    counter
}

#[test]
fn version_answers_u2f_v2() {
    let mut card = Card::new();
    assert_eq!(
        card.send(0x00, 0x03, 0x00, 0x00, &[]),
        (b"U2F_V2".to_vec(), 0x9000)
    );
    assert_eq!(card.send(0x00, 0x03, 0x00, 0x00, &[0x00]).1, 0x6700);
    assert_eq!(card.send(0x00, 0x03, 0x01, 0x00, &[]).1, 0x6A86);
}

#[test]
fn unknown_class_and_instruction() {
    let mut card = Card::new();
    for cla in [0x80, 0x01, 0xFF, 0x90] {
        for ins in [0x01, 0x02, 0x03, 0x55] {
            assert_eq!(
                card.send(cla, ins, 0x00, 0x00, &[]).1,
                0x6E00,
                "{cla:#x} {ins:#x}"
            );
        }
    }
    for ins in [0x00, 0x04, 0x10, 0xC0, 0xA4, 0xFF] {
        assert_eq!(card.send(0x00, ins, 0x00, 0x00, &[]).1, 0x6D00, "{ins:#x}");
    }
}

#[test]
fn register_layout_and_signatures() {
    let mut card = Card::new();
    let a = register(&mut card, &[0x01; 32], &app("https://example.com"));
    let b = register(&mut card, &[0x01; 32], &app("https://example.com"));
    assert_ne!(a.key_handle, b.key_handle);
    assert_ne!(a.public_key, b.public_key);
    assert_eq!(a.key_handle.len(), applet::credential::CREDENTIAL_ID_LEN);
    // Registration does not touch the counter.
    assert_eq!(card.stored_sign_count(), 0);
    // P1 03 (as some clients send) is accepted too.
    let (_, sw) = card.send(0x00, 0x01, 0x03, 0x00, &register_data(&[2; 32], &[3; 32]));
    assert_eq!(sw, 0x9000);
}

#[test]
fn register_without_batch_attestation_is_self_attested() {
    let mut card = Card::new();
    card.batch = false;
    let application = app("https://example.com");
    // `register` verifies the signature with the certificate's key.
    let reg = register(&mut card, &[0x33; 32], &application);
    let (resp, _) = card.send(
        0x00,
        0x01,
        0x00,
        0x00,
        &register_data(&[0x33; 32], &application),
    );
    let kh_len = usize::from(resp[66]);
    let cert_start = 67 + kh_len;
    let cert = Certificate::from_der(&resp[cert_start..cert_start + der_len(&resp[cert_start..])])
        .unwrap();
    // The certificate is the new credential key's own, self-signed.
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let cert_key = VerifyingKey::from_public_key_der(&spki).unwrap();
    assert_eq!(cert_key.to_encoded_point(false).as_bytes(), &resp[1..66]);
    assert_eq!(cert.tbs_certificate.issuer, cert.tbs_certificate.subject);
    let tbs = cert.tbs_certificate.to_der().unwrap();
    cert_key
        .verify(
            &tbs,
            &Signature::from_der(cert.signature.raw_bytes()).unwrap(),
        )
        .unwrap();
    // The key handle still authenticates.
    assert_eq!(
        authenticate_ok(&mut card, 0x03, &reg, &application, 0x01),
        1
    );
}

#[test]
fn register_wrong_length_and_no_presence() {
    let mut card = Card::new();
    for len in [0, 3, 32, 63, 65, 128] {
        assert_eq!(
            card.send(0x00, 0x01, 0x00, 0x00, &vec![0; len]).1,
            0x6700,
            "{len}"
        );
    }
    card.present = false;
    let writes = card.env.storage.writes;
    assert_eq!(card.send(0x00, 0x01, 0x00, 0x00, &[0; 64]).1, 0x6985);
    assert_eq!(card.env.storage.writes, writes);
}

#[test]
fn authenticate_signs_with_an_increasing_persisted_counter() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    assert_eq!(
        authenticate_ok(&mut card, 0x03, &reg, &application, 0x01),
        1
    );
    assert_eq!(
        authenticate_ok(&mut card, 0x03, &reg, &application, 0x01),
        2
    );
    assert_eq!(
        authenticate_ok(&mut card, 0x08, &reg, &application, 0x01),
        3
    );
}

#[test]
fn dont_enforce_presence_signs_with_presence_zero() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    card.present = false;
    assert_eq!(
        authenticate_ok(&mut card, 0x08, &reg, &application, 0x00),
        1
    );
    // Enforce presence without it: refused, counter unchanged.
    let stored = card.stored_sign_count();
    let data = auth_data(&[0; 32], &application, &reg.key_handle);
    assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &data).1, 0x6985);
    assert_eq!(card.stored_sign_count(), stored);
    assert_eq!(
        authenticate_ok(&mut card, 0x08, &reg, &application, 0x00),
        2
    );
}

#[test]
fn check_only() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    let writes = card.env.storage.writes;
    let data = auth_data(&[0; 32], &application, &reg.key_handle);
    assert_eq!(card.send(0x00, 0x02, 0x07, 0x00, &data), (vec![], 0x6985));
    card.present = false;
    assert_eq!(card.send(0x00, 0x02, 0x07, 0x00, &data).1, 0x6985);
    let other = auth_data(&[0; 32], &app("https://other.example"), &reg.key_handle);
    assert_eq!(card.send(0x00, 0x02, 0x07, 0x00, &other).1, 0x6A80);
    assert_eq!(
        card.env.storage.writes, writes,
        "check-only changes nothing"
    );
}

#[test]
fn bad_key_handles_and_other_applications() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    let chal = [0u8; 32];
    // Another application.
    let other = auth_data(&chal, &app("https://evil.example"), &reg.key_handle);
    assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &other).1, 0x6A80);
    // Every single-bit flip of the key handle.
    for byte in 0..reg.key_handle.len() {
        for bit in [0x01u8, 0x80] {
            let mut kh = reg.key_handle.clone();
            kh[byte] ^= bit;
            let d = auth_data(&chal, &application, &kh);
            assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &d).1, 0x6A80);
            assert_eq!(card.send(0x00, 0x02, 0x07, 0x00, &d).1, 0x6A80);
        }
    }
    // Truncated, extended, empty and 255-byte handles with a consistent L.
    let mut longer = reg.key_handle.clone();
    longer.push(0);
    for kh in [
        &reg.key_handle[..reg.key_handle.len() - 1],
        &longer[..],
        &[][..],
        &[0xAB; 255][..],
    ] {
        let d = auth_data(&chal, &application, kh);
        assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &d).1, 0x6A80);
    }
    assert_eq!(card.stored_sign_count(), 0);
}

#[test]
fn authenticate_lengths_and_p1() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    let good = auth_data(&[0; 32], &application, &reg.key_handle);
    for p1 in [0x00, 0x01, 0x04, 0x09, 0x83, 0xFF] {
        assert_eq!(card.send(0x00, 0x02, p1, 0x00, &good).1, 0x6A86, "{p1:#x}");
    }
    // L larger or smaller than the key handle present.
    let mut l_big = good.clone();
    l_big[64] += 1;
    let mut l_small = good.clone();
    l_small[64] -= 1;
    let mut extra = good.clone();
    extra.push(0);
    for d in [
        &good[..64],
        &good[..3],
        &[][..],
        &good[..good.len() - 1],
        &l_big[..],
        &l_small[..],
        &extra[..],
    ] {
        assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, d).1, 0x6700);
        assert_eq!(card.send(0x00, 0x02, 0x07, 0x00, d).1, 0x6700);
    }
}

fn sealed_id(
    card: &mut Card,
    application: &[u8; 32],
    alg: Algorithm,
    flags: CredFlags,
) -> (Vec<u8>, PrivateKey) {
    let key = PrivateKey::generate(alg, &mut ChaCha20Rng::seed_from_u64(77));
    let sealed = Sealed {
        key: key.clone(),
        flags,
    };
    let id = card
        .id_key
        .wrap(&mut ChaCha20Rng::seed_from_u64(78), application, &sealed);
    (id, key)
}

#[test]
fn cred_protect_three_and_eddsa_credentials_are_refused() {
    let mut card = Card::new();
    let application = app("example.com");
    for (alg, protect, ok) in [
        (Algorithm::Es256, 3, false),
        (Algorithm::Es256, 2, true),
        (Algorithm::Es256, 1, true),
        (Algorithm::EdDsa, 0, false),
    ] {
        let flags = CredFlags {
            cred_protect: protect,
            u2f: false,
            discoverable: false,
            third_party_payment: false,
        };
        let (id, key) = sealed_id(&mut card, &application, alg, flags);
        let d = auth_data(&[0; 32], &application, &id);
        let expected = if ok { 0x9000 } else { 0x6A80 };
        assert_eq!(
            card.send(0x00, 0x02, 0x03, 0x00, &d).1,
            expected,
            "{alg:?} {protect}"
        );
        if ok {
            // A CTAP2 ES256 credential answers U2F for SHA-256(rpId).
            let reg = Registration {
                public_key: key.public_sec1().unwrap().try_into().unwrap(),
                key_handle: id,
            };
            authenticate_ok(&mut card, 0x03, &reg, &application, 0x01);
        }
    }
}

#[test]
fn deleted_discoverable_credential_is_refused() {
    let mut card = Card::new();
    let application = app("example.com");
    let flags = CredFlags {
        cred_protect: 1,
        u2f: false,
        discoverable: true,
        third_party_payment: false,
    };
    let (id, _) = sealed_id(&mut card, &application, Algorithm::Es256, flags);
    let d = auth_data(&[0; 32], &application, &id);
    assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &d).1, 0x6A80);
    card.state
        .update(&mut card.env, |p| {
            p.credentials.push(ResidentCredential {
                id: id.clone(),
                rp_id_hash: application,
                rp_id: "example.com".into(),
                rp_name: None,
                user_id: vec![1],
                user_name: None,
                user_display_name: None,
                created: 0,
                cred_protect: 1,
                cred_blob: None,
                large_blob_key: None,
            });
            Ok(())
        })
        .unwrap();
    assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &d).1, 0x9000);
}

#[test]
fn counter_write_failure_fails_the_command() {
    let mut card = Card::new();
    let application = app("https://example.com");
    let reg = register(&mut card, &[0x01; 32], &application);
    card.env.storage.fail_after = Some(0);
    let d = auth_data(&[0; 32], &application, &reg.key_handle);
    assert_eq!(card.send(0x00, 0x02, 0x03, 0x00, &d), (vec![], 0x6581));
    assert_eq!(card.state.persistent().sign_count, 0);
    card.env.storage.fail_after = None;
    assert_eq!(
        authenticate_ok(&mut card, 0x03, &reg, &application, 0x01),
        1
    );
}

#[test]
fn status_words_convert_to_iso_status() {
    for (e, sw, status) in [
        (U2fError::WrongLength, 0x6700, Status::WrongLength),
        (
            U2fError::ConditionsNotSatisfied,
            0x6985,
            Status::ConditionsOfUseNotSatisfied,
        ),
        (U2fError::WrongData, 0x6A80, Status::IncorrectDataParameter),
        (
            U2fError::IncorrectP1P2,
            0x6A86,
            Status::IncorrectP1OrP2Parameter,
        ),
        (
            U2fError::InsNotSupported,
            0x6D00,
            Status::InstructionNotSupportedOrInvalid,
        ),
        (U2fError::ClaNotSupported, 0x6E00, Status::ClassNotSupported),
        (U2fError::MemoryFailure, 0x6581, Status::MemoryFailure),
        (
            U2fError::Unspecified,
            0x6F00,
            Status::UnspecifiedCheckingError,
        ),
    ] {
        assert_eq!(e.sw(), sw);
        assert_eq!(Status::from(e), status);
        assert_eq!(u16::from(status), sw);
    }
}
