//! `doctor` on the FIDO applet in this process (behind the tests' minimal
//! card frame, which has command chaining but no extended length).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use host::doctor::{doctor, CheckOutcome, DoctorOptions};
use host::{CardSession, InProcess};
use relying_party::cert::parse_cert;

fn outcome(r: &host::doctor::DoctorReport, name: &str) -> CheckOutcome {
    r.check(name)
        .unwrap_or_else(|| panic!("no check {name}"))
        .outcome
}

#[test]
fn fresh_card_without_pin() {
    let (card, ca, _) = testkit::card::fido_card(11, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    let options = DoctorOptions {
        pin: None,
        anchors: vec![parse_cert(&ca, 0).unwrap()],
    };
    let r = doctor(&mut s, &options);
    println!("{r}");
    for name in [
        "select",
        "atr",
        "canonical CBOR",
        "versions",
        "clientPin",
        "discoverable creds",
        "hmac-secret",
        "AAGUID",
    ] {
        assert_eq!(outcome(&r, name), CheckOutcome::Pass, "{name}");
    }
    assert_eq!(outcome(&r, "packed attestation"), CheckOutcome::Pass);
    assert_eq!(outcome(&r, "response paging"), CheckOutcome::Pass);
    assert_eq!(outcome(&r, "UV on sign-in"), CheckOutcome::Skipped);
    assert_eq!(outcome(&r, "chaining 240"), CheckOutcome::Pass);
    assert_eq!(outcome(&r, "chaining 250"), CheckOutcome::Pass);
    // The ACS ATR advertises no extended length, and this frame has none.
    assert_eq!(outcome(&r, "extended length"), CheckOutcome::Warn);
    assert_eq!(r.changes.len(), 1);
}

#[test]
fn with_pin_uv_is_checked() {
    let (card, ca, _) = testkit::card::fido_card(12, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    s.select().unwrap();
    s.set_pin("246810").unwrap();
    let options = DoctorOptions {
        pin: Some("246810".into()),
        anchors: vec![parse_cert(&ca, 0).unwrap()],
    };
    let r = doctor(&mut s, &options);
    println!("{r}");
    assert_eq!(outcome(&r, "clientPin"), CheckOutcome::Pass);
    assert_eq!(r.check("clientPin").unwrap().reason, "PIN set");
    assert_eq!(outcome(&r, "packed attestation"), CheckOutcome::Pass);
    assert_eq!(outcome(&r, "UV on sign-in"), CheckOutcome::Pass);
}

#[test]
fn without_anchors_the_chain_is_a_warning() {
    let (card, _, _) = testkit::card::fido_card(13, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    let r = doctor(&mut s, &DoctorOptions::default());
    assert_eq!(outcome(&r, "packed attestation"), CheckOutcome::Warn);
}
