//! The subcommand functions on the FIDO applet in this process: PIN,
//! register with policy, login with verification and several accounts,
//! credential list/delete, reset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use host::{CardSession, CtapStatus, HostError, InProcess};
use relying_party::cert::parse_cert;
use relying_party::policy::{Behavior, KeyRestrictions};
use relying_party::{CoseKey, Outcome, Policy, Rule};
use tapfido::ops::login::{login, LoginOptions};
use tapfido::ops::register::{register, RegisterOptions};
use tapfido::ops::{creds, info, pin_retries, pin_set, reset, Verification};

const PIN: &str = "314159";

fn policy(ca: &[u8], aaguid: [u8; 16]) -> Policy {
    Policy {
        name: "ops".into(),
        enforce_attestation: true,
        trust_anchors: vec![parse_cert(ca, 0).unwrap()],
        device_bound_only: true,
        require_uv: true,
        key_restrictions: Some(KeyRestrictions {
            behavior: Behavior::Allow,
            aaguids: vec![aaguid],
        }),
    }
}

#[test]
fn cose_key_reencodes_the_spec_key_byte_for_byte() {
    let key = hex::decode(testkit::rp::vectors::NONE_AUTH_KEY).unwrap();
    assert_eq!(CoseKey::from_cbor(&key).unwrap().to_cbor(), key);
}

#[test]
fn pin_register_login_creds_reset() {
    let (card, ca, aaguid) = testkit::card::fido_card(21, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    let i = info(&mut s).unwrap();
    assert_eq!(i.info.option("clientPin"), Some(false));
    let text = i.to_string();
    assert!(
        text.contains(&relying_party::policy::format_aaguid(&aaguid)),
        "{text}"
    );
    assert!(text.contains("FIDO_2_1"), "{text}");
    assert_eq!(pin_set(&mut s, PIN).unwrap().retries, 8);

    let p = policy(&ca, aaguid);
    let mut records = Vec::new();
    for user in ["alice", "bob"] {
        let o = RegisterOptions {
            rp_id: "example.com".into(),
            user: user.into(),
            resident_key: true,
            uv: true,
            hmac_secret: false,
            enterprise: None,
            pin: Some(PIN.into()),
            policy: Some(p.clone()),
        };
        let r = register(&mut s, &o).unwrap();
        assert!(r.passed(), "{r}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["verification"]["status"], "passed");
        assert_eq!(
            r.policy
                .as_ref()
                .unwrap()
                .rule(Rule::Attestation)
                .unwrap()
                .outcome,
            Outcome::Pass
        );
        records.push(r.record.unwrap());
    }

    // UV without a PIN is refused before anything is sent.
    let o = RegisterOptions {
        rp_id: "example.com".into(),
        user: "carol".into(),
        uv: true,
        ..Default::default()
    };
    assert!(matches!(
        register(&mut s, &o).unwrap_err(),
        HostError::PinRequired
    ));

    s.power_cycle().unwrap();
    let o = LoginOptions {
        rp_id: "example.com".into(),
        uv: true,
        pin: Some(PIN.into()),
        records: records.clone(),
        policy: Some(p.clone()),
        ..Default::default()
    };
    let l = login(&mut s, &o).unwrap();
    println!("{l}");
    assert_eq!(
        serde_json::to_value(&l).unwrap()["verification"]["status"],
        "passed"
    );
    assert!(l.passed());
    assert!(matches!(l.verification, Some(Verification::Passed { .. })));
    assert!(l.user_verified);
    assert_eq!(l.other_accounts.len(), 1, "two accounts for example.com");
    let updated = l.updated_record.unwrap();
    assert!(updated.sign_count > 0);

    // The credential file: save, load, replace the record with its new counter.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    tapfido::ops::records::save(&path, &records).unwrap();
    let mut loaded = tapfido::ops::records::load(&path).unwrap();
    assert_eq!(loaded, records);
    relying_party::store::upsert(&mut loaded, updated.clone());
    assert_eq!(loaded.len(), 2);
    assert!(loaded.contains(&updated));
    assert!(
        tapfido::ops::records::load(&dir.path().join("missing.json"))
            .unwrap()
            .is_empty()
    );

    // Replaying the old counter: the stored record now has the new one, so
    // a second login must move past it.
    let mut newer = records.clone();
    for r in newer.iter_mut() {
        if r.credential_id == updated.credential_id {
            *r = updated.clone();
        }
    }
    let l2 = login(
        &mut s,
        &LoginOptions {
            records: newer,
            ..o.clone()
        },
    )
    .unwrap();
    assert!(l2.passed());

    let card_info = info(&mut s).unwrap().info;
    if card_info.option("credMgmt") == Some(true) {
        let list = creds::list(&mut s, PIN).unwrap();
        println!("{list}");
        assert_eq!(list.existing, 2);
        let mut names: Vec<String> = list
            .credentials
            .iter()
            .filter_map(|c| c.user.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, ["alice", "bob"]);
        let victim = hex::decode(&records[0].credential_id).unwrap();
        creds::delete(&mut s, PIN, &victim).unwrap();
        assert_eq!(creds::list(&mut s, PIN).unwrap().existing, 1);
    } else {
        // The applet does not offer credential management yet: named, not faked.
        assert!(matches!(
            creds::list(&mut s, PIN).unwrap_err(),
            HostError::Unsupported(_)
        ));
    }

    assert_eq!(pin_retries(&mut s).unwrap().retries, 8);
    s.power_cycle().unwrap();
    s.select().unwrap();
    reset(&mut s).unwrap();
    assert_eq!(info(&mut s).unwrap().info.option("clientPin"), Some(false));
    let err = s
        .pin_token(PIN, 0x02, Some("example.com"), true)
        .unwrap_err();
    assert_eq!(err.ctap(), Some(CtapStatus::PinNotSet));
}

#[test]
fn change_pin_and_wrong_pin() {
    let (card, _, _) = testkit::card::fido_card(22, Config::default());
    let mut s = CardSession::new(InProcess::new(card));
    s.select().unwrap();
    pin_set(&mut s, "1111").unwrap();
    assert_eq!(
        tapfido::ops::pin_change(&mut s, "1111", "22222")
            .unwrap()
            .retries,
        8
    );
    // The old PIN is now wrong: named, and one retry is gone (CTAP 2.1 §6.5.5.7).
    let err = s
        .pin_token("1111", 0x02, Some("example.com"), true)
        .unwrap_err();
    assert_eq!(err.ctap(), Some(CtapStatus::PinInvalid));
    assert_eq!(pin_retries(&mut s).unwrap().retries, 7);
    s.pin_token("22222", 0x02, Some("example.com"), true)
        .unwrap();
    assert_eq!(pin_retries(&mut s).unwrap().retries, 8);
}

/// `tapfido register --enterprise 1|2` (CTAP 2.1 §7.1): the card enables
/// enterprise attestation (PIN set: with an acfg token), returns it with
/// epAtt, and the verifier reports the enterprise certificate's subject.
#[test]
fn register_with_enterprise_attestation() {
    let mut config = Config::pocketkey();
    config.enterprise_attestation_rp_ids = vec!["corp.example".into()];
    let (card, ca, aaguid) = testkit::card::fido_card(23, config);
    let mut s = CardSession::new(InProcess::new(card));
    pin_set(&mut s, PIN).unwrap();
    let options = |rp: &str, enterprise| RegisterOptions {
        rp_id: rp.into(),
        user: "carol".into(),
        uv: true,
        enterprise: Some(enterprise),
        pin: Some(PIN.into()),
        policy: Some(policy(&ca, aaguid)),
        ..RegisterOptions::default()
    };
    // Vendor-facilitated for an RP not on the card's list: batch attestation.
    let r = register(&mut s, &options("example.com", 1)).unwrap();
    println!("{r}");
    assert!(r.passed(), "{r}");
    assert!(r.enterprise_enabled_now);
    assert!(!r.enterprise_attestation);
    let Verification::Passed { result } = &r.verification else {
        panic!("{r}")
    };
    assert!(result
        .attestation_subject
        .as_deref()
        .unwrap()
        .contains("CN=tapfido Batch Attestation"));
    // Listed RP, and platform-managed for any RP: the enterprise certificate.
    for (rp, kind) in [("corp.example", 1), ("example.com", 2)] {
        let r = register(&mut s, &options(rp, kind)).unwrap();
        println!("{r}");
        assert!(r.passed(), "{r}");
        assert!(!r.enterprise_enabled_now, "already enabled");
        assert!(r.enterprise_attestation, "{rp} {kind}");
        let Verification::Passed { result } = &r.verification else {
            panic!("{r}")
        };
        let subject = result.attestation_subject.as_deref().unwrap();
        assert!(
            subject.contains("CN=tapfido Enterprise Attestation"),
            "{subject}"
        );
        assert!(
            subject.contains("SERIALNUMBER=") || subject.contains("serialNumber="),
            "{subject}"
        );
        assert!(r.to_string().contains("returned (epAtt)"));
    }
}
