//! python-fido2 through the real stack: `tests/python/*.py` run against a tapfido card,
//! for both profiles, with the card process restarted between registration and sign-in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::{python, Card, CardOptions};

/// Registers in one card process and authenticates in the next: the state must survive.
fn register_restart_authenticate(script: &str, profile: &str) -> String {
    let stack = e2e::stack().unwrap();
    let mut card = Card::start(
        stack,
        CardOptions {
            trace: true,
            ..CardOptions::profile(profile)
        },
    );
    let data = card.dir().join(format!("{script}.json"));
    let data = data.to_str().unwrap();
    // The test attestation CA the card created in its state directory at first start:
    // the relying party trusts it, not the root the card sends along.
    let ca = card.dir().join("ca.pem");
    assert!(ca.is_file(), "no attestation CA at {}", ca.display());
    let ca = ca.to_str().unwrap();
    let args = ["--profile", profile, "--data", data, "--ca", ca];
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
    card.log()
}

/// The card's `--trace` shows a command chained with CLA bit 0x10 (`cla`) and a response
/// paged with GET RESPONSE.
fn assert_chained_and_paged(log: &str, chained: Option<&str>) {
    if let Some(cla) = chained {
        assert!(
            log.contains(&format!(">> {cla} ")),
            "no chained command ({cla}) in the trace:\n{log}"
        );
    }
    assert!(
        log.contains(">> 00 c0 00 00 "),
        "no GET RESPONSE in the trace:\n{log}"
    );
}

#[test]
fn webauthn_default_profile() {
    let _ = e2e::require_python!();
    let log = register_restart_authenticate("fido2_webauthn", "default");
    assert_chained_and_paged(&log, Some("90 10"));
}

#[test]
fn webauthn_pocketkey_profile() {
    let _ = e2e::require_python!();
    let log = register_restart_authenticate("fido2_webauthn", "pocketkey");
    assert_chained_and_paged(&log, Some("90 10"));
}

#[test]
fn u2f_default_profile() {
    let _ = e2e::require_python!();
    let log = register_restart_authenticate("u2f_ctap1", "default");
    assert_chained_and_paged(&log, None);
}

#[test]
fn u2f_pocketkey_profile() {
    let _ = e2e::require_python!();
    let log = register_restart_authenticate("u2f_ctap1", "pocketkey");
    assert_chained_and_paged(&log, None);
}
