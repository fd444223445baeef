//! PIN, tokens, credential management, extensions, reset timing, authenticatorConfig and
//! the Entra-shaped sign-in through python-fido2 + pcscd + vpcd (`tests/python/pin_*.py`,
//! `tests/python/entra_flow.py`), for both profiles. Taps go through the card's control
//! API (`/usb{N}/power/off|on`); the scripts wait on the reader with SCardGetStatusChange.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::{python, Card, CardOptions};

/// Starts a card with `profile` and runs `script` against it with the common arguments
/// (`--profile`, `--data <dir>/<script>.json`, `--ca <dir>/ca.pem`) and `extra`.
fn start(profile: &str) -> Card {
    let stack = e2e::stack().unwrap();
    Card::start(stack, CardOptions::profile(profile))
}

fn run(card: &Card, script: &str, profile: &str, extra: &[&str]) -> String {
    let data = card.dir().join(format!("{script}.json"));
    let ca = card.dir().join("ca.pem");
    assert!(ca.is_file(), "no attestation CA at {}", ca.display());
    let args = [
        "--profile",
        profile,
        "--data",
        data.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ];
    let out = python::run(card, script, &[&args[..], extra].concat());
    assert!(out.contains("PASS"), "{out}");
    out
}

fn client_pin(profile: &str) {
    let card = start(profile);
    let _ = run(&card, "pin_client", profile, &[]);
}

#[test]
fn client_pin_default_profile() {
    let _ = e2e::require_python!();
    client_pin("default");
}

#[test]
fn client_pin_pocketkey_profile() {
    let _ = e2e::require_python!();
    client_pin("pocketkey");
}

#[test]
fn credential_management_default_profile() {
    let _ = e2e::require_python!();
    let _ = run(&start("default"), "pin_credman", "default", &[]);
}

#[test]
fn credential_management_pocketkey_profile() {
    let _ = e2e::require_python!();
    let _ = run(&start("pocketkey"), "pin_credman", "pocketkey", &[]);
}

/// hmac-secret, credProtect and credBlob; the card process restarts between the phases.
fn extensions(profile: &str) {
    let mut card = start(profile);
    let _ = run(&card, "pin_extensions", profile, &["--phase", "register"]);
    card.restart();
    let _ = run(
        &card,
        "pin_extensions",
        profile,
        &["--phase", "authenticate"],
    );
}

#[test]
fn extensions_default_profile() {
    let _ = e2e::require_python!();
    extensions("default");
}

#[test]
fn extensions_pocketkey_profile() {
    let _ = e2e::require_python!();
    extensions("pocketkey");
}

/// authenticatorConfig in both profiles; the late reset (one 11 s wait) in the default one.
#[test]
fn config_and_late_reset_default_profile() {
    let _ = e2e::require_python!();
    let card = start("default");
    let _ = run(&card, "pin_config", "default", &["--late-reset"]);
}

#[test]
fn config_pocketkey_profile() {
    let _ = e2e::require_python!();
    let _ = run(&start("pocketkey"), "pin_config", "pocketkey", &[]);
}

#[test]
fn entra_flow_default_profile() {
    let _ = e2e::require_python!();
    let _ = run(&start("default"), "entra_flow", "default", &[]);
}

#[test]
fn entra_flow_pocketkey_profile() {
    let _ = e2e::require_python!();
    let _ = run(&start("pocketkey"), "entra_flow", "pocketkey", &[]);
}

/// Eight wrong PINs block the card, across a card restart, until authenticatorReset.
fn pin_blocked(profile: &str) {
    let mut card = start(profile);
    let _ = run(&card, "pin_blocked", profile, &["--phase", "register"]);
    card.restart();
    let _ = run(&card, "pin_blocked", profile, &["--phase", "authenticate"]);
}

#[test]
fn pin_blocked_default_profile() {
    let _ = e2e::require_python!();
    pin_blocked("default");
}

#[test]
fn pin_blocked_pocketkey_profile() {
    let _ = e2e::require_python!();
    pin_blocked("pocketkey");
}
