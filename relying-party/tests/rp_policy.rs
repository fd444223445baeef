//! Passkey policies (Entra-style key restrictions and passkey profiles) over
//! registrations and assertions taken from the WebAuthn Level 3 §16 test
//! vectors (see rp_vectors.rs for the source).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use relying_party::{
    cert::parse_cert, verify_assertion_hash, verify_registration, CoseKey, Expectations, Outcome,
    Policy, PolicyError, Rule, StoredCredential, VerifiedRegistration,
};

use testkit::rp::vectors::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn spec_registration(anchors: &[x509_cert::Certificate]) -> VerifiedRegistration {
    let e = Expectations {
        rp_id: "example.org".into(),
        origin: "https://example.org".into(),
        challenge: h(PACKED_REG_CHALLENGE),
        require_uv: false,
    };
    verify_registration(&h(PACKED_REG_AO), &h(PACKED_REG_CDJ), &e, anchors).unwrap()
}

fn write_ca(dir: &Path) {
    let ca = parse_cert(&h(CA_CERT), 0).unwrap();
    std::fs::write(dir.join("webauthn-test-root.pem"), testkit::rp::pem_of(&ca)).unwrap();
}

fn policy(dir: &Path, toml: &str) -> Policy {
    write_ca(dir);
    std::fs::write(dir.join("policy.toml"), toml).unwrap();
    Policy::load(&dir.join("policy.toml")).unwrap()
}

#[test]
fn allow_list_and_attestation_pass_device_bound_fails() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        dir.path(),
        r#"
name = "spec keys"
enforce_attestation = true
trust_anchors = ["webauthn-test-root.pem"]
device_bound_only = true
require_uv = true
[key_restrictions]
behavior = "allow"
aaguids = ["876ca4f5-2071-c3e9-b255-09ef2cdf7ed6"]
"#,
    );
    let report = p.evaluate_registration(&spec_registration(&p.trust_anchors));
    assert_eq!(
        report.rule(Rule::Attestation).unwrap().outcome,
        Outcome::Pass
    );
    assert_eq!(
        report.rule(Rule::KeyRestrictions).unwrap().outcome,
        Outcome::Pass
    );
    assert_eq!(
        report.rule(Rule::UserVerification).unwrap().outcome,
        Outcome::Pass
    );
    // The §16.7 credential has flag BE set: a synced passkey.
    assert_eq!(
        report.rule(Rule::DeviceBound).unwrap().outcome,
        Outcome::Fail
    );
    assert!(!report.passed);
}

#[test]
fn blocked_aaguid() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        dir.path(),
        r#"
[key_restrictions]
behavior = "block"
aaguids = ["876CA4F52071C3E9B25509EF2CDF7ED6"]
"#,
    );
    let report = p.evaluate_registration(&spec_registration(&[]));
    let rule = report.rule(Rule::KeyRestrictions).unwrap();
    assert_eq!(rule.outcome, Outcome::Fail);
    assert!(rule.reason.contains("block list"));
    assert_eq!(
        report.rule(Rule::Attestation).unwrap().outcome,
        Outcome::NotEnforced
    );
    assert!(!report.passed);
}

#[test]
fn aaguid_not_on_allow_list() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        dir.path(),
        r#"
[key_restrictions]
behavior = "allow"
aaguids = ["973446ca-e21c-9a9b-99f5-9b985a67af0f"]
"#,
    );
    let report = p.evaluate_registration(&spec_registration(&[]));
    assert_eq!(
        report.rule(Rule::KeyRestrictions).unwrap().outcome,
        Outcome::Fail
    );
}

#[test]
fn enforced_attestation_without_anchored_chain_fails() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        dir.path(),
        "enforce_attestation = true\ntrust_anchors = [\"webauthn-test-root.pem\"]\n",
    );
    // Verified without the policy's anchors: the chain was not anchored.
    let report = p.evaluate_registration(&spec_registration(&[]));
    assert_eq!(
        report.rule(Rule::Attestation).unwrap().outcome,
        Outcome::Fail
    );
}

#[test]
fn uv_missing_under_uv_required_policy() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path(), "require_uv = true\n");
    // §16.2 assertion: flags 0x19 (UP, BE, BS), no UV.
    let stored = StoredCredential {
        credential_id: vec![],
        public_key: CoseKey::from_cbor(&h(NONE_AUTH_KEY)).unwrap(),
        sign_count: 0,
    };
    let e = Expectations {
        rp_id: "example.org".into(),
        origin: "https://example.org".into(),
        challenge: vec![],
        require_uv: false,
    };
    let cdh: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        h(NONE_AUTH_CDJ),
    ))
    .into();
    let a =
        verify_assertion_hash(&h(NONE_AUTH_DATA), &cdh, &h(NONE_AUTH_SIG), &e, &stored).unwrap();
    let report = p.evaluate_assertion(&a);
    let rule = report.rule(Rule::UserVerification).unwrap();
    assert_eq!(rule.outcome, Outcome::Fail);
    assert!(!report.passed);
}

#[test]
fn policy_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Policy::from_toml("enforce_attestation = true\n", dir.path()).unwrap_err(),
        PolicyError::NoAnchors
    ));
    assert!(matches!(
        Policy::from_toml(
            "[key_restrictions]\nbehavior = \"allow\"\naaguids = [\"12\"]\n",
            dir.path()
        )
        .unwrap_err(),
        PolicyError::Aaguid(_)
    ));
    assert!(matches!(
        Policy::from_toml("unknown_rule = 1\n", dir.path()).unwrap_err(),
        PolicyError::Toml(_)
    ));
}

#[test]
fn every_error_serializes_to_json() {
    use relying_party::RpError;
    for e in [
        RpError::MalformedAuthData("x"),
        RpError::UnsupportedAlgorithm(-257),
        RpError::ChallengeMismatch,
        RpError::CounterRegression {
            stored: 5,
            received: 0,
        },
        RpError::UnsupportedFormat("tpm".into()),
    ] {
        let json = serde_json::to_value(&e).unwrap();
        assert!(json["rule"].is_string(), "{json}");
    }
    let json = serde_json::to_value(RpError::CounterRegression {
        stored: 5,
        received: 0,
    })
    .unwrap();
    assert_eq!(json["rule"], "counter_regression");
}
