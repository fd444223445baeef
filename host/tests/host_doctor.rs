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

/// A card whose attestation CA (`--attestation-ca`, an intermediate under a
/// corporate root) was made with notBefore as GeneralizedTime: the CA sits
/// in x5c, and doctor fails the attestation naming the rule (RFC 5280
/// §4.1.2.5). The same chain with UTCTime passes.
#[test]
fn a_ca_with_generalized_time_before_2050_fails_naming_the_rule() {
    use der::{Encode, EncodePem};
    use p256::pkcs8::EncodePrivateKey;
    use testkit::rp::{attestation_cert, p256_key, root_ca};

    let root_key = p256_key(0x61);
    let root = root_ca(&root_key, "Corp Root");
    let inter_key = p256_key(0x62);
    let inter = attestation_cert(
        &inter_key,
        &root_key,
        &root,
        "CN=Corp Attestation CA,O=Corp,C=DE",
        None,
        true,
    );
    let mut bad = inter.clone();
    let at = bad.tbs_certificate.validity.not_before.to_date_time();
    bad.tbs_certificate.validity.not_before =
        x509_cert::time::Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(at));
    let sig: p256::ecdsa::DerSignature =
        signature::Signer::sign(&root_key, &bad.tbs_certificate.to_der().unwrap());
    bad.signature = der::asn1::BitString::from_bytes(sig.as_bytes()).unwrap();

    let key_pem = p256::SecretKey::from(&inter_key)
        .to_pkcs8_pem(der::pem::LineEnding::LF)
        .unwrap();
    let pem = |c: &x509_cert::Certificate| c.to_pem(der::pem::LineEnding::LF).unwrap();
    let run = |inter: &x509_cert::Certificate| {
        let chain = format!("{}{}", pem(inter), pem(&root));
        let ca = applet::attestation::AttestationCa::from_pem(&chain, &key_pem).unwrap();
        let applet = applet::fido::FidoApplet::new(
            applet::env::TestEnv::seeded(14),
            Config::pocketkey(),
            Some(&ca),
        )
        .unwrap();
        let mut s = CardSession::new(InProcess::new(testkit::card::MiniCard::new(applet)));
        let options = DoctorOptions {
            pin: None,
            anchors: vec![root.clone()],
        };
        let r = doctor(&mut s, &options);
        println!("{r}");
        r.check("packed attestation").unwrap().clone()
    };
    let good = run(&inter);
    assert_eq!(good.outcome, CheckOutcome::Pass, "{}", good.reason);
    let failed = run(&bad);
    assert_eq!(failed.outcome, CheckOutcome::Fail);
    assert!(
        failed.reason.contains("certificate_time_type")
            && failed.reason.contains("certificate 1 notBefore")
            && failed.reason.contains("GeneralizedTime"),
        "{}",
        failed.reason
    );
}
