//! U2F (CTAP1) through the host client on the FIDO applet, with the
//! registration checked by the relying party's `fido-u2f` format (WebAuthn
//! Level 3 §8.6) after the conversion a browser does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use ciborium::Value;
use host::u2f::U2fControl;
use host::{CardSession, InProcess, StatusWord};
use relying_party::cert::parse_cert;
use relying_party::{verify_registration, AttestationType, Expectations, RpError, Trust};
use sha2::{Digest, Sha256};
use testkit::rp::{att_object, cbor, client_data, int, text};

const RP: &str = "u2f.example.com";
const ORIGIN: &str = "https://u2f.example.com";

#[test]
fn u2f_register_authenticate_and_verify_as_fido_u2f() {
    let (card, ca, _) = testkit::card::fido_card(31, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    s.select().unwrap();
    assert_eq!(s.u2f_version().unwrap(), "U2F_V2");

    let cdj = client_data("webauthn.create", b"u2f-challenge", ORIGIN);
    let challenge: [u8; 32] = Sha256::digest(&cdj).into();
    let app: [u8; 32] = Sha256::digest(RP.as_bytes()).into();
    let reg = s.u2f_register(&challenge, &app).unwrap();
    assert_eq!(reg.public_key.len(), 65);

    // What a browser builds from a U2F registration (WebAuthn §8.6).
    let cose = cbor(&Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-7)),
        (int(-1), int(1)),
        (int(-2), Value::Bytes(reg.public_key[1..33].to_vec())),
        (int(-3), Value::Bytes(reg.public_key[33..].to_vec())),
    ]));
    let auth = testkit::rp::auth_data(RP, 0x01, 0, &[0u8; 16], &reg.key_handle, &cose);
    let stmt = |sig: &[u8]| {
        Value::Map(vec![
            (text("sig"), Value::Bytes(sig.to_vec())),
            (
                text("x5c"),
                Value::Array(vec![Value::Bytes(reg.certificate.clone())]),
            ),
        ])
    };
    let expect = Expectations {
        rp_id: RP.into(),
        origin: ORIGIN.into(),
        challenge: b"u2f-challenge".to_vec(),
        require_uv: false,
    };
    let anchors = vec![parse_cert(&ca, 0).unwrap()];
    let ok = verify_registration(
        &att_object("fido-u2f", stmt(&reg.signature), &auth),
        &cdj,
        &expect,
        &anchors,
    )
    .unwrap();
    assert_eq!(ok.fmt, "fido-u2f");
    assert_eq!(ok.attestation_type, AttestationType::Basic);
    assert!(matches!(ok.trust, Trust::Anchored { .. }));
    let mut bad = reg.signature.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        verify_registration(
            &att_object("fido-u2f", stmt(&bad), &auth),
            &cdj,
            &expect,
            &anchors
        )
        .unwrap_err(),
        RpError::AttestationSignatureInvalid
    );

    // Check-only with a valid handle: 69 85 (U2F NFC; FIDO U2F raw messages §5.1).
    let err = s
        .u2f_authenticate(U2fControl::CheckOnly, &challenge, &app, &reg.key_handle)
        .unwrap_err();
    assert_eq!(err.status_word(), Some(StatusWord::ConditionsNotSatisfied));
    // A handle of another application: 6A 80.
    let other: [u8; 32] = Sha256::digest(b"other.example").into();
    let err = s
        .u2f_authenticate(
            U2fControl::EnforcePresence,
            &challenge,
            &other,
            &reg.key_handle,
        )
        .unwrap_err();
    assert_eq!(err.status_word(), Some(StatusWord::IncorrectDataField));

    let a = s
        .u2f_authenticate(
            U2fControl::EnforcePresence,
            &challenge,
            &app,
            &reg.key_handle,
        )
        .unwrap();
    assert_eq!(a.user_presence & 0x01, 0x01);
    // U2F signature: app || UP || counter || challenge, with the credential key.
    let mut signed = app.to_vec();
    signed.push(a.user_presence);
    signed.extend_from_slice(&a.counter.to_be_bytes());
    signed.extend_from_slice(&challenge);
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&reg.public_key).unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(&a.signature).unwrap();
    signature::Verifier::verify(&key, &signed, &sig).unwrap();
}
