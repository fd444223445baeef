//! python-fido2 through the real stack: `tests/python/*.py` run against a tapfido card,
//! for both profiles, with the card process restarted between registration and sign-in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::{python, Card, CardOptions};

/// Registers in one card process and authenticates in the next: the state must survive.
fn register_restart_authenticate(script: &str, profile: &str) {
    let stack = e2e::require_python!();
    let mut card = Card::start(stack, CardOptions::profile(profile));
    let data = card.dir().join(format!("{script}.json"));
    let data = data.to_str().unwrap();
    let ca = card.dir().join("ca.pem");
    let mut args = vec!["--profile", profile, "--data", data];
    let ca_arg;
    if ca.exists() {
        ca_arg = ca.to_str().unwrap().to_owned();
        args.extend(["--ca", &ca_arg]);
    }
    let out = python::run(
        &card,
        script,
        &[&args[..], &["--phase", "register"]].concat(),
    );
    assert!(out.contains("PASS"), "{out}");
    card.restart();
    let out = python::run(
        &card,
        script,
        &[&args[..], &["--phase", "authenticate"]].concat(),
    );
    assert!(out.contains("PASS"), "{out}");
}

#[test]
fn webauthn_default_profile() {
    register_restart_authenticate("fido2_webauthn", "default");
}

#[test]
fn webauthn_pocketkey_profile() {
    register_restart_authenticate("fido2_webauthn", "pocketkey");
}

#[test]
fn u2f_default_profile() {
    register_restart_authenticate("u2f_ctap1", "default");
}

#[test]
fn u2f_pocketkey_profile() {
    register_restart_authenticate("u2f_ctap1", "pocketkey");
}
