//! The host side of CTAP 2.3, on the FIDO applet in this process: `tapfido
//! info` names every CTAP 2.2/2.3 getInfo member, `doctor` lists the
//! features, `register --hmac-secret-mc` / `login --hmac-salt` give the same
//! output (CTAP 2.2 §12.7), `--third-party-payment` marks and reports a
//! credential (CTAP 2.2 §12.9), and the offline relying party checks the
//! outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use host::doctor::{doctor, CheckOutcome, DoctorOptions};
use host::{CardSession, HostError, InProcess};
use tapfido::ops::login::{login, LoginOptions};
use tapfido::ops::register::{register, RegisterOptions};
use tapfido::ops::{info, pin_set, Verification};

const PIN: &str = "271828";

#[test]
fn info_names_the_ctap23_members() {
    let (card, _, _) = testkit::card::fido_card(31, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    let r = info(&mut s).unwrap();
    let c = &r.info.ctap23;
    assert_eq!(c.attestation_formats, ["packed", "none"]);
    assert_eq!(c.transports_for_reset, ["nfc"]);
    assert_eq!(c.pin_complexity_policy, Some(false));
    assert_eq!(c.max_pin_length, Some(63));
    // enableEnterpriseAttestation (1) only on an ep-capable card (it lists `ep`).
    let ep_capable = r.info.option("ep").is_some();
    let expected = if ep_capable {
        vec![1, 2, 3]
    } else {
        vec![2, 3]
    };
    assert_eq!(c.authenticator_config_commands, Some(expected.clone()));
    assert_eq!(c.enc_identifier_len, None);
    let text = r.to_string();
    for line in [
        "FIDO_2_3",
        "attestationFormats packed none",
        "transportsForReset nfc",
        "pinComplexityPolicy false",
        "maxPINLength 63",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let listed: Vec<String> = expected.iter().map(u64::to_string).collect();
    let line = format!("authenticatorConfigCommands {}", listed.join(" "));
    assert!(text.contains(&line), "{line:?} in\n{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["info"]["max_pin_length"], 63);
    assert_eq!(json["info"]["attestation_formats"][1], "none");
    assert_eq!(
        r.info.ctap23_features(),
        [
            "FIDO_2_3",
            "hmac-secret-mc",
            "thirdPartyPayment",
            "pinComplexityPolicy",
            "perCredMgmtRO",
            "attestationFormats",
            "transportsForReset",
            "pinComplexityPolicy(0x1B)",
            "maxPINLength",
            "authenticatorConfigCommands",
        ]
    );
}

#[test]
fn doctor_lists_ctap23_features() {
    for config in [Config::default(), Config::pocketkey()] {
        let (card, _, _) = testkit::card::fido_card(32, config);
        let mut s = CardSession::new(InProcess::new(card));
        let r = doctor(&mut s, &DoctorOptions::default());
        let row = r.check("ctap 2.3").unwrap();
        assert_eq!(row.outcome, CheckOutcome::Pass, "{r}");
        let expected = if r.check("versions").unwrap().reason.contains("FIDO_2_3") {
            "FIDO_2_3 hmac-secret-mc thirdPartyPayment"
        } else {
            "none: a CTAP 2.1"
        };
        assert!(row.reason.contains(expected), "{r}");
    }
}

#[test]
fn hmac_secret_mc_and_third_party_payment_round_trip() {
    let (card, _, _) = testkit::card::fido_card(33, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    pin_set(&mut s, PIN).unwrap();
    let salt = [0x5a; 32];
    let o = RegisterOptions {
        rp_id: "pay.example".into(),
        user: "payer".into(),
        resident_key: true,
        uv: true,
        hmac_secret_mc_salt: Some(salt),
        third_party_payment: true,
        pin: Some(PIN.into()),
        ..Default::default()
    };
    let r = register(&mut s, &o).unwrap();
    assert!(r.passed(), "{r}");
    assert_eq!(r.hmac_secret_mc_len, Some(32));
    let Verification::Passed { result } = &r.verification else {
        panic!("{r}")
    };
    assert_eq!(result.extensions.hmac_secret, Some(true));
    assert_eq!(result.extensions.hmac_secret_mc_len, Some(48), "32 + IV");
    let fp = r.hmac_secret_fingerprint.clone().unwrap();
    assert!(r.to_string().contains(&fp));

    let l = login(
        &mut s,
        &LoginOptions {
            rp_id: "pay.example".into(),
            uv: true,
            pin: Some(PIN.into()),
            hmac_salt: Some(salt),
            third_party_payment: true,
            records: vec![r.record.clone().unwrap()],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(l.passed(), "{l}");
    assert_eq!(l.hmac_secret_fingerprint.as_deref(), Some(fp.as_str()));
    assert_eq!(l.third_party_payment, Some(true));
    let Some(Verification::Passed { result }) = &l.verification else {
        panic!("{l}")
    };
    assert_eq!(result.extensions.third_party_payment, Some(true));

    // Another salt: another output.
    let l2 = login(
        &mut s,
        &LoginOptions {
            rp_id: "pay.example".into(),
            uv: true,
            pin: Some(PIN.into()),
            hmac_salt: Some([0xa5; 32]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_ne!(l2.hmac_secret_fingerprint.as_deref(), Some(fp.as_str()));
    assert_eq!(l2.third_party_payment, None, "not asked");
}

#[test]
fn pocketkey_refuses_the_ctap23_requests_before_sending() {
    let (card, _, _) = testkit::card::fido_card(34, Config::pocketkey());
    let mut s = CardSession::new(InProcess::new(card));
    for (mc, pay) in [(true, false), (false, true)] {
        let o = RegisterOptions {
            rp_id: "pay.example".into(),
            user: "payer".into(),
            hmac_secret_mc_salt: mc.then_some([1; 32]),
            third_party_payment: pay,
            ..Default::default()
        };
        assert!(matches!(
            register(&mut s, &o).unwrap_err(),
            HostError::Unsupported(_)
        ));
    }
}
