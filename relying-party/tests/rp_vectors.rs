//! The offline relying party against the WebAuthn Level 3 test vectors.
//!
//! Source: W3C Web Authentication Level 3, §16 "Test Vectors"
//! (https://www.w3.org/TR/webauthn-3/#sctn-test-vectors): §16.1 attestation
//! trust root, §16.2 none/ES256, §16.3 packed self/ES256, §16.7 packed/ES256
//! (https://www.w3.org/TR/webauthn-3/#sctn-test-vectors-packed-es256). RP ID
//! `example.org`, origin `https://example.org`. The hex values below are
//! copied from the spec as facts; nothing here was produced by this crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use relying_party::{
    cert::parse_cert, verify_assertion, verify_registration, AttestationType, CoseKey,
    Expectations, RpError, StoredCredential, Trust,
};

use testkit::rp::vectors::{CA_CERT, PACKED_REG_AO, PACKED_REG_CDJ, PACKED_REG_CHALLENGE};

/// A registration or assertion vector from §16.
struct Reg {
    attestation_object: &'static str,
    client_data_json: &'static str,
    credential_id: &'static str,
    challenge: &'static str,
}

struct Auth {
    authenticator_data: &'static str,
    client_data_json: &'static str,
    signature: &'static str,
    challenge: &'static str,
    public_key: &'static str,
}

// §16.2 none attestation, ES256.
const NONE_REG: Reg = Reg {
    attestation_object: "a363666d74646e6f6e656761747453746d74a068617574684461746158a4bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b559000000008446ccb9ab1db374750b2367ff6f3a1f0020f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220",
    client_data_json: "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a22414d4d507434557878475453746e63647134313759447742466938767049612d7077386f4f755657345441222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a20426b5165446a646354427258426941774a544c453551227d",
    credential_id: "f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4",
    challenge: "00c30fb78531c464d2b6771dab8d7b603c01162f2fa486bea70f283ae556e130",
};

const NONE_AUTH: Auth = Auth {
    authenticator_data: "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b51900000000",
    client_data_json: "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a224f63446e55685158756c5455506f334a5558543049393770767a7a59425039745a63685879617630314167222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d",
    signature: "3046022100f50a4e2e4409249c4a853ba361282f09841df4dd4547a13a87780218deffcd380221008480ac0f0b93538174f575bf11a1dd5d78c6e486013f937295ea13653e331e87",
    challenge: "39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408",
    public_key: "a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220",
};

// §16.3 packed self attestation, ES256.
const SELF_REG: Reg = Reg {
    attestation_object: "a363666d74667061636b65646761747453746d74a263616c672663736967584630440220067a20754ab925005dbf378097c92120031581c73228d1fb4f5b881bcd7da98302207fc7b147558c7c0eba3af18bd9d121fa3d3a26d17fe3f220272178f473b6006d68617574684461746158a4bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b55d00000000df850e09db6afbdfab51697791506cfc0020455ef34e2043a87db3d4afeb39bbcb6cc32df9347c789a865ecdca129cbef58ca5010203262001215820eb151c8176b225cc651559fecf07af450fd85802046656b34c18f6cf193843c5225820927b8aa427a2be1b8834d233a2d34f61f13bfd44119c325d5896e183fee484f2",
    client_data_json: "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a2265476e4374334c55745936366b336a506a796e6962506b31716e666644616966715a774c33417032392d55222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a205539685458764b453255526b4d6e625f307859485667227d",
    credential_id: "455ef34e2043a87db3d4afeb39bbcb6cc32df9347c789a865ecdca129cbef58c",
    challenge: "7869c2b772d4b58eba9378cf8f29e26cf935aa77df0da89fa99c0bdc0a76f7e5",
};

const SELF_AUTH: Auth = Auth {
    authenticator_data: "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50900000000",
    client_data_json: "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a225248696843784e534e493352594d45314f7731476d3132786e726b634a5f6666707637546e2d4a71386773222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a206754623533727a36456853576f6d58477a696d433151227d",
    signature: "304402203310b9431903c401f1be2bdc8d23a4007682dbbddcf846994947b7f465daf84002204e94dd00047b316061b3b99772b7efd95994a83ef584b3b6b825ea3550251b66",
    challenge: "4478a10b1352348dd160c1353b0d469b5db19eb91c27f7dfa6fed39fe26af20b",
    public_key: "a5010203262001215820eb151c8176b225cc651559fecf07af450fd85802046656b34c18f6cf193843c5225820927b8aa427a2be1b8834d233a2d34f61f13bfd44119c325d5896e183fee484f2",
};

// §16.7 packed attestation with x5c, ES256; AAGUID 876ca4f5-2071-c3e9-b255-09ef2cdf7ed6
// (attestationObject, clientDataJSON and challenge in testkit::rp::vectors).
const PACKED_REG: Reg = Reg {
    attestation_object: PACKED_REG_AO,
    client_data_json: PACKED_REG_CDJ,
    credential_id: "c9a6f5b3462d02873fea0c56862234f99f081728084e511bb7760201a89054a5",
    challenge: PACKED_REG_CHALLENGE,
};

const PACKED_AUTH: Auth = Auth {
    authenticator_data: "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50d00000000",
    client_data_json: "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a2273524276704770587676463446524841565833496d4b4130453958773858306b526a44426c4d6668726255222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a20415a4d77794d78496244382d756775464e7036723851227d",
    signature: "30450220694969d3ee928de6f02ef23a9c644d7d779916451734a94b432542f498a1ebe90221008b0819c824218a97152cd099c55bfb1477b29d900a49a64018314f9bfccda163",
    challenge: "b1106fa46a57bef1781511c0557dc898a03413d5f0f17d244630c194c7e1adb5",
    public_key: "a50102032620012158201cf27f25da591208a4239c2e324f104f585525479a29edeedd830f48e77aeae522582059e4b7da6c0106e206ce390c93ab98a15a5ec3887e57f0cc2bece803b920c423",
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn expect(challenge: &str, require_uv: bool) -> Expectations {
    Expectations {
        rp_id: "example.org".into(),
        origin: "https://example.org".into(),
        challenge: h(challenge),
        require_uv,
    }
}

fn ca() -> x509_cert::Certificate {
    parse_cert(&h(CA_CERT), 0).unwrap()
}

fn register(
    v: &Reg,
    anchors: &[x509_cert::Certificate],
) -> Result<relying_party::VerifiedRegistration, RpError> {
    verify_registration(
        &h(v.attestation_object),
        &h(v.client_data_json),
        &expect(v.challenge, false),
        anchors,
    )
}

fn stored(a: &Auth, count: u32) -> StoredCredential {
    StoredCredential {
        credential_id: Vec::new(),
        public_key: CoseKey::from_cbor(&h(a.public_key)).unwrap(),
        sign_count: count,
    }
}

fn assert_with(
    a: &Auth,
    sig: &[u8],
    count: u32,
    uv: bool,
) -> Result<relying_party::VerifiedAssertion, RpError> {
    verify_assertion(
        &h(a.authenticator_data),
        &h(a.client_data_json),
        sig,
        &expect(a.challenge, uv),
        &stored(a, count),
    )
}

#[test]
fn packed_es256_chains_to_the_spec_root() {
    let reg = register(&PACKED_REG, &[ca()]).unwrap();
    assert_eq!(reg.fmt, "packed");
    assert_eq!(reg.attestation_type, AttestationType::Basic);
    assert!(matches!(reg.trust, Trust::Anchored { .. }));
    assert_eq!(reg.aaguid, h("876ca4f52071c3e9b25509ef2cdf7ed6"));
    assert_eq!(reg.credential_id, h(PACKED_REG.credential_id));
    assert_eq!(reg.x5c_len, 1);
    // Flags 0x4d: UP, UV, BE, AT.
    assert!(reg.user_present && reg.user_verified && reg.backup_eligible && !reg.backed_up);
}

#[test]
fn packed_es256_without_anchors_is_unanchored() {
    let reg = register(&PACKED_REG, &[]).unwrap();
    assert_eq!(reg.trust, Trust::Unanchored);
}

#[test]
fn packed_es256_against_another_root_is_untrusted() {
    let other_key = testkit::rp::p256_key(0x42);
    let other = testkit::rp::root_ca(&other_key, "Some Other Root");
    assert_eq!(
        register(&PACKED_REG, &[other]).unwrap_err(),
        RpError::ChainUntrusted
    );
}

#[test]
fn packed_self_es256() {
    let reg = register(&SELF_REG, &[ca()]).unwrap();
    assert_eq!(reg.attestation_type, AttestationType::SelfAttestation);
    assert_eq!(reg.trust, Trust::NoChain);
    assert_eq!(reg.credential_id, h(SELF_REG.credential_id));
    assert_eq!(reg.aaguid, h("df850e09db6afbdfab51697791506cfc"));
}

#[test]
fn none_es256() {
    let reg = register(&NONE_REG, &[]).unwrap();
    assert_eq!(reg.attestation_type, AttestationType::None);
    assert_eq!(reg.credential_id, h(NONE_REG.credential_id));
}

#[test]
fn wrong_challenge_origin_rp_and_type() {
    let ao = h(PACKED_REG.attestation_object);
    let cdj = h(PACKED_REG.client_data_json);
    let mut e = expect(PACKED_REG.challenge, false);
    e.challenge[0] ^= 1;
    assert_eq!(
        verify_registration(&ao, &cdj, &e, &[]).unwrap_err(),
        RpError::ChallengeMismatch
    );
    let mut e = expect(PACKED_REG.challenge, false);
    e.origin = "https://example.com".into();
    assert!(matches!(
        verify_registration(&ao, &cdj, &e, &[]).unwrap_err(),
        RpError::OriginMismatch { .. }
    ));
    let mut e = expect(PACKED_REG.challenge, false);
    e.rp_id = "example.com".into();
    assert_eq!(
        verify_registration(&ao, &cdj, &e, &[]).unwrap_err(),
        RpError::RpIdHashMismatch
    );
    // A webauthn.get clientDataJSON offered for a registration.
    let e = expect(PACKED_AUTH.challenge, false);
    assert!(matches!(
        verify_registration(&ao, &h(PACKED_AUTH.client_data_json), &e, &[]).unwrap_err(),
        RpError::ClientDataType { .. }
    ));
}

#[test]
fn tampered_attestation_signature() {
    // The sig's last byte sits right before the "x5c" key (63 78 35 63).
    let mut ao = h(PACKED_REG.attestation_object);
    let x5c_at = ao.windows(4).position(|w| w == b"cx5c").unwrap();
    ao[x5c_at - 1] ^= 0x01;
    let err = verify_registration(
        &ao,
        &h(PACKED_REG.client_data_json),
        &expect(PACKED_REG.challenge, false),
        &[ca()],
    );
    assert_eq!(err.unwrap_err(), RpError::AttestationSignatureInvalid);
}

#[test]
fn uv_required_registration_without_uv() {
    // §16.2's flags are 0x59: UP, BE, BS, AT, no UV.
    let e = expect(NONE_REG.challenge, true);
    let err = verify_registration(
        &h(NONE_REG.attestation_object),
        &h(NONE_REG.client_data_json),
        &e,
        &[],
    );
    assert_eq!(err.unwrap_err(), RpError::UserNotVerified);
}

#[test]
fn assertions_verify() {
    for a in [&NONE_AUTH, &SELF_AUTH, &PACKED_AUTH] {
        let ok = assert_with(a, &h(a.signature), 0, false).unwrap();
        assert!(ok.user_present);
        assert_eq!(ok.sign_count, 0);
    }
    assert!(
        assert_with(&PACKED_AUTH, &h(PACKED_AUTH.signature), 0, true)
            .unwrap()
            .user_verified
    );
}

#[test]
fn tampered_assertion_signature() {
    let mut sig = h(PACKED_AUTH.signature);
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    assert_eq!(
        assert_with(&PACKED_AUTH, &sig, 0, false).unwrap_err(),
        RpError::SignatureInvalid
    );
}

#[test]
fn counter_regression() {
    // The vector's counter is 0; a stored counter of 5 means it went back.
    assert_eq!(
        assert_with(&PACKED_AUTH, &h(PACKED_AUTH.signature), 5, false).unwrap_err(),
        RpError::CounterRegression {
            stored: 5,
            received: 0
        }
    );
}

#[test]
fn assertion_without_uv_when_required() {
    // §16.2's assertion flags are 0x19: UP, BE, BS.
    assert_eq!(
        assert_with(&NONE_AUTH, &h(NONE_AUTH.signature), 0, true).unwrap_err(),
        RpError::UserNotVerified
    );
}

#[test]
fn assertion_with_wrong_key() {
    let mut s = stored(&SELF_AUTH, 0);
    s.public_key = CoseKey::from_cbor(&h(PACKED_AUTH.public_key)).unwrap();
    let err = verify_assertion(
        &h(SELF_AUTH.authenticator_data),
        &h(SELF_AUTH.client_data_json),
        &h(SELF_AUTH.signature),
        &expect(SELF_AUTH.challenge, false),
        &s,
    );
    assert_eq!(err.unwrap_err(), RpError::SignatureInvalid);
}
