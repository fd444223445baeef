//! Register and sign in through the CTAP2 entry point, checked by an
//! independent client (ciborium + p256 + ed25519-dalek + x509-cert).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use std::time::Duration;

use applet::config::Config;
use applet::env::Presence;
use applet::iso::{Applet, CtapOutcome};
use ciborium::Value as C;
use client::*;

const RP: &str = "example.com";

fn cdh(n: u8) -> [u8; 32] {
    [n; 32]
}

fn register(card: &mut Card, rp: &str, user: &[u8], alg: i64, rk: bool) -> Registered {
    let aaguid = card.config.aaguid.0;
    let resp = card
        .ctap(MC, Some(mc_request(rp, user, &cdh(1), &[alg], rk)))
        .ok();
    check_registration(&resp, rp, &cdh(1), &aaguid)
}

#[test]
fn select_answers_version() {
    let mut card = Card::new(1, Config::default(), false);
    let mut reply = Vec::new();
    card.applet().select(&mut reply).unwrap();
    assert_eq!(reply, b"U2F_V2");
    let c = Config {
        u2f: false,
        ..Config::default()
    };
    let mut card = Card::new(1, c, false);
    let mut reply = Vec::new();
    card.applet().select(&mut reply).unwrap();
    assert_eq!(reply, b"FIDO_2_0");
    assert_eq!(
        card.applet().aid(),
        [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01]
    );
}

#[test]
fn get_info_default_and_pocketkey() {
    let mut card = Card::new(1, Config::pocketkey(), false);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(
        get(&info, 1).unwrap(),
        &texts(&["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"])
    );
    assert_eq!(
        as_bytes(get(&info, 3).unwrap()),
        hex::decode("973446cae21c9a9b99f59b985a67af0f").unwrap()
    );
    assert_eq!(as_int(get(&info, 5).unwrap()), 2048);
    assert_eq!(as_int(get(&info, 7).unwrap()), 6);
    assert_eq!(as_int(get(&info, 8).unwrap()), 104);
    assert_eq!(get(&info, 9).unwrap(), &C::Array(vec![text("nfc")]));
    assert_eq!(
        get(&info, 10).unwrap(),
        &C::Array(vec![cmap(vec![
            (text("alg"), int(-7)),
            (text("type"), text("public-key"))
        ])])
    );
    assert_eq!(as_int(get(&info, 14).unwrap()), 10000);
    // Exactly the public facts (nfc-ctap.md §7), field by field.
    assert_eq!(
        get(&info, 4).unwrap(),
        &cmap(vec![
            (text("plat"), C::Bool(false)),
            (text("rk"), C::Bool(true)),
            (text("up"), C::Bool(true)),
            (text("clientPin"), C::Bool(false)),
            (text("pinUvAuthToken"), C::Bool(true)),
            (text("credMgmt"), C::Bool(true)),
            (text("credentialMgmtPreview"), C::Bool(true)),
            (text("authnrCfg"), C::Bool(true)),
            (text("setMinPINLength"), C::Bool(true)),
            (text("makeCredUvNotRqd"), C::Bool(true)),
            // No alwaysUv: the card has no toggleAlwaysUv.
        ])
    );
    let Some(C::Array(exts)) = get(&info, 2) else {
        panic!("extensions")
    };
    let mut exts: Vec<String> = exts
        .iter()
        .map(|e| e.as_text().unwrap().to_owned())
        .collect();
    exts.sort();
    assert_eq!(
        exts,
        ["credBlob", "credProtect", "hmac-secret", "minPinLength"]
    );
    let Some(C::Array(protocols)) = get(&info, 6) else {
        panic!("pinUvAuthProtocols")
    };
    let protocols: Vec<i128> = protocols.iter().map(as_int).collect();
    assert_eq!(protocols, [1, 2], "in the MDS entry's order");
    assert_eq!(as_int(get(&info, 0x0D).unwrap()), 4, "minPINLength");
    assert_eq!(as_int(get(&info, 0x0F).unwrap()), 64, "maxCredBlobLength");
    assert_eq!(
        as_int(get(&info, 0x10).unwrap()),
        3,
        "maxRPIDsForSetMinPINLength"
    );
    assert!(get(&info, 0x0B).is_none(), "no largeBlobs on the ACS card");

    let mut card = Card::new(1, Config::default(), false);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 5).unwrap()), 7609);
    let algs = get(&info, 10).unwrap();
    assert_eq!(
        algs,
        &C::Array(vec![
            cmap(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key"))
            ]),
            cmap(vec![
                (text("alg"), int(-8)),
                (text("type"), text("public-key"))
            ]),
        ])
    );
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 100);
}

#[test]
fn register_and_sign_in_es256_with_batch_attestation() {
    let mut card = Card::new(2, Config::default(), true);
    let cred = register(&mut card, RP, b"user-1", -7, false);
    assert!(cred.id.len() <= 104);
    let resp = card
        .ctap(GA, Some(ga_request(RP, &cdh(2), &[&cred.id])))
        .ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &cred);
    assert_eq!(ad.flags, 0x01, "UP only");
    assert!(ad.sign_count > cred.sign_count);
    assert!(
        get(&resp, 4).is_none(),
        "no user for a non-discoverable credential"
    );
    assert!(get(&resp, 5).is_none());
}

#[test]
fn x5c_is_the_batch_certificate_without_the_self_signed_root() {
    let mut card = Card::new(3, Config::default(), true);
    let resp = card
        .ctap(MC, Some(mc_request(RP, b"u", &cdh(1), &[-7], false)))
        .ok();
    let stmt = get(&resp, 3).unwrap();
    let Some(C::Array(chain)) = get_text(stmt, "x5c") else {
        panic!()
    };
    // WebAuthn §8.2: attestnCert first; the self-signed test CA is the
    // verifier's trust anchor (RFC 5280 §6.1.1 (d)), not sent in x5c.
    assert_eq!(chain.len(), 1);
    let ca = card.ca.as_ref().unwrap().cert_der().to_vec();
    assert_ne!(as_bytes(&chain[0]), ca);
}

#[test]
fn register_and_sign_in_eddsa_self_attestation() {
    let mut card = Card::new(4, Config::default(), false);
    let cred = register(&mut card, RP, b"user-2", -8, false);
    assert!(matches!(cred.key, PublicKey::EdDsa(_)));
    let resp = card
        .ctap(GA, Some(ga_request(RP, &cdh(3), &[&cred.id])))
        .ok();
    check_assertion(&resp, RP, &cdh(3), &cred);
}

#[test]
fn pocketkey_refuses_eddsa_and_picks_first_supported() {
    let mut card = Card::new(5, Config::pocketkey(), false);
    let r = card.ctap(MC, Some(mc_request(RP, b"u", &cdh(1), &[-8], false)));
    assert_eq!(r.status, 0x26);
    let resp = card
        .ctap(
            MC,
            Some(mc_request(RP, b"u", &cdh(1), &[-8, -257, -7], false)),
        )
        .ok();
    let cred = check_registration(&resp, RP, &cdh(1), &Config::pocketkey().aaguid.0);
    assert!(matches!(cred.key, PublicKey::Es256(_)));
}

#[test]
fn attestation_none_when_preferred() {
    let mut card = Card::new(6, Config::default(), true);
    let C::Map(mut m) = mc_request(RP, b"u", &cdh(1), &[-7], false) else {
        panic!()
    };
    m.push((int(0x0B), C::Array(vec![text("none"), text("packed")])));
    let resp = card.ctap(MC, Some(cmap(m))).ok();
    assert_eq!(get(&resp, 1), Some(&text("none")));
    check_registration(&resp, RP, &cdh(1), &Config::default().aaguid.0);
}

#[test]
fn counter_strictly_increases_and_survives_restart() {
    let mut card = Card::new(7, Config::default(), true);
    let cred = register(&mut card, RP, b"u", -7, false);
    let mut last = cred.sign_count;
    for i in 0..3 {
        let resp = card
            .ctap(GA, Some(ga_request(RP, &cdh(i), &[&cred.id])))
            .ok();
        let ad = check_assertion(&resp, RP, &cdh(i), &cred);
        assert!(ad.sign_count > last);
        last = ad.sign_count;
    }
    card.restart();
    let resp = card
        .ctap(GA, Some(ga_request(RP, &cdh(9), &[&cred.id])))
        .ok();
    let ad = check_assertion(&resp, RP, &cdh(9), &cred);
    assert!(ad.sign_count > last, "counter survived the restart");
    // The batch chain is the same after restart.
    let r2 = card
        .ctap(MC, Some(mc_request(RP, b"v", &cdh(1), &[-7], false)))
        .ok();
    check_registration(&r2, RP, &cdh(1), &Config::default().aaguid.0);
}

#[test]
fn silent_probe_has_no_up_flag_and_still_counts() {
    let mut card = Card::new(8, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    let C::Map(mut m) = ga_request(RP, &cdh(4), &[&cred.id]) else {
        panic!()
    };
    m.push((int(5), cmap(vec![(text("up"), C::Bool(false))])));
    card.env().presence = Presence::Withheld;
    let resp = card.ctap(GA, Some(cmap(m))).ok();
    let ad = check_assertion(&resp, RP, &cdh(4), &cred);
    assert_eq!(ad.flags & 0x01, 0);
    assert!(ad.sign_count > cred.sign_count);
}

#[test]
fn exclude_list_after_presence() {
    let mut card = Card::new(9, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    let C::Map(mut m) = mc_request(RP, b"u2", &cdh(1), &[-7], false) else {
        panic!()
    };
    m.push((
        int(5),
        C::Array(vec![
            cmap(vec![
                (text("id"), bytes(&[0u8; 16])),
                (text("type"), text("public-key")),
            ]),
            cmap(vec![
                (text("id"), bytes(&cred.id)),
                (text("type"), text("public-key")),
            ]),
        ]),
    ));
    let req = cmap(m);
    card.env().presence = Presence::Withheld;
    let before = card.storage();
    // CTAP 2.1/2.3 §6.1.2 step 12.1.4.2: "Regardless of whether user
    // presence is obtained or the authenticator times out, ... return
    // CTAP2_ERR_CREDENTIAL_EXCLUDED" (0x19), with or without the tap.
    let (outcome, reply) = card.ctap_may_wait(MC, req.clone());
    assert_eq!(outcome, CtapOutcome::Done);
    assert_eq!(reply, [0x19]);
    assert_eq!(card.ctap(MC, Some(req.clone())).status, 0x19);
    assert_eq!(card.storage(), before);
    card.env().presence = Presence::Touched;
    assert_eq!(card.ctap(MC, Some(req)).status, 0x19);
    assert_eq!(card.storage(), before);
    // Excluding a credential of another RP does nothing.
    let other = register(&mut card, "other.example", b"u", -7, false);
    let C::Map(mut m) = mc_request(RP, b"u3", &cdh(1), &[-7], false) else {
        panic!()
    };
    m.push((
        int(5),
        C::Array(vec![cmap(vec![
            (text("id"), bytes(&other.id)),
            (text("type"), text("public-key")),
        ])]),
    ));
    card.ctap(MC, Some(cmap(m))).ok();
}

#[test]
fn presence_window_after_power_up() {
    let mut card = Card::new(10, Config::default(), false);
    card.env().presence = Presence::Field;
    card.env().advance(Duration::from_secs(121));
    let req = mc_request(RP, b"u", &cdh(1), &[-7], false);
    // No tap for a client that cannot wait: CTAP2_ERR_OPERATION_DENIED
    // (CTAP 2.1/2.3 §6.1.2 step 14: "If the user declines permission, or the
    // operation times out").
    assert_eq!(card.ctap(MC, Some(req.clone())).status, 0x27);
    card.power_cycle();
    card.ctap(MC, Some(req)).ok();
}

#[test]
fn allow_list_picks_our_credential_and_rejects_other_rp() {
    let mut card = Card::new(11, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    let other = register(&mut card, "other.example", b"u", -7, false);
    let junk = vec![0x55u8; 63];
    let resp = card
        .ctap(
            GA,
            Some(ga_request(RP, &cdh(5), &[&junk, &other.id, &cred.id])),
        )
        .ok();
    check_assertion(&resp, RP, &cdh(5), &cred);
    let before = card.storage();
    let r = card.ctap(GA, Some(ga_request(RP, &cdh(5), &[&other.id])));
    assert_eq!(r.status, 0x2E);
    let r = card.ctap(GA, Some(ga_request("other.example", &cdh(5), &[&cred.id])));
    assert_eq!(r.status, 0x2E);
    assert_eq!(card.storage(), before);
}

#[test]
fn every_credential_id_bit_flip_is_no_credentials() {
    let mut card = Card::new(12, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    let before = card.storage();
    for bit in 0..cred.id.len() * 8 {
        let mut id = cred.id.clone();
        id[bit / 8] ^= 1 << (bit % 8);
        let r = card.ctap(GA, Some(ga_request(RP, &cdh(6), &[&id])));
        assert_eq!(r.status, 0x2E, "bit {bit}");
    }
    for id in [
        vec![],
        vec![0u8; 1024],
        cred.id[..cred.id.len() - 1].to_vec(),
    ] {
        assert_eq!(
            card.ctap(GA, Some(ga_request(RP, &cdh(6), &[&id]))).status,
            0x2E
        );
    }
    let mut longer = cred.id.clone();
    longer.push(0);
    assert_eq!(
        card.ctap(GA, Some(ga_request(RP, &cdh(6), &[&longer])))
            .status,
        0x2E
    );
    assert_eq!(card.storage(), before);
}

#[test]
fn discoverable_most_recent_first_with_next_assertion() {
    let mut card = Card::new(13, Config::default(), false);
    let a = register(&mut card, RP, b"alice", -7, true);
    let b = register(&mut card, RP, b"bob", -8, true);
    let c = register(&mut card, RP, b"carol", -7, true);
    register(&mut card, "other.example", b"dave", -7, true);
    let resp = card.ctap(GA, Some(ga_request(RP, &cdh(7), &[]))).ok();
    check_assertion(&resp, RP, &cdh(7), &c);
    assert_eq!(as_int(get(&resp, 5).unwrap()), 3);
    let user = get(&resp, 4).unwrap();
    assert_eq!(
        user,
        &cmap(vec![(text("id"), bytes(b"carol"))]),
        "only id without UV"
    );
    let resp = card.ctap(GNA, None).ok();
    check_assertion(&resp, RP, &cdh(7), &b);
    assert_eq!(
        as_bytes(get_text(get(&resp, 4).unwrap(), "id").unwrap()),
        b"bob"
    );
    assert!(get(&resp, 5).is_none());
    let resp = card.ctap(GNA, None).ok();
    check_assertion(&resp, RP, &cdh(7), &a);
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    // A single discoverable credential: no numberOfCredentials, no sequence.
    let resp = card
        .ctap(GA, Some(ga_request("other.example", &cdh(7), &[])))
        .ok();
    assert!(get(&resp, 5).is_none());
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    // Re-registering the same user replaces the credential.
    let a2 = register(&mut card, RP, b"alice", -7, true);
    let resp = card.ctap(GA, Some(ga_request(RP, &cdh(7), &[]))).ok();
    check_assertion(&resp, RP, &cdh(7), &a2);
    assert_eq!(as_int(get(&resp, 5).unwrap()), 3);
    // The old ID of the replaced credential is gone.
    assert_eq!(
        card.ctap(GA, Some(ga_request(RP, &cdh(7), &[&a.id])))
            .status,
        0x2E
    );
    // Discoverable credentials also work through an allowList, with user.id.
    let resp = card.ctap(GA, Some(ga_request(RP, &cdh(7), &[&b.id]))).ok();
    check_assertion(&resp, RP, &cdh(7), &b);
    assert_eq!(
        as_bytes(get_text(get(&resp, 4).unwrap(), "id").unwrap()),
        b"bob"
    );
}

#[test]
fn next_assertion_not_allowed_without_sequence() {
    let mut card = Card::new(14, Config::default(), false);
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    register(&mut card, RP, b"a", -7, true);
    register(&mut card, RP, b"b", -7, true);
    // After another command.
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.ctap(GET_INFO, None).ok();
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    // After a power cycle.
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.power_cycle();
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    // After the 30 s timer.
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.env().advance(Duration::from_secs(31));
    card.env().presence = Presence::Touched;
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    // After SELECT.
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.applet().select(&mut Vec::new()).unwrap();
    assert_eq!(card.ctap(GNA, None).status, 0x30);
}

#[test]
fn resident_credential_survives_restart() {
    let mut card = Card::new(15, Config::default(), true);
    let cred = register(&mut card, RP, b"u", -7, true);
    card.restart();
    let resp = card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    check_assertion(&resp, RP, &cdh(1), &cred);
}

#[test]
fn key_store_full_keeps_existing_credentials() {
    let config = Config {
        max_resident_credentials: 3,
        ..Config::default()
    };
    let mut card = Card::new(16, config, false);
    let creds: Vec<_> = (0..3u8)
        .map(|i| register(&mut card, RP, &[i], -7, true))
        .collect();
    let before = card.storage();
    let r = card.ctap(MC, Some(mc_request(RP, &[9], &cdh(1), &[-7], true)));
    assert_eq!(r.status, 0x28);
    assert_eq!(card.storage(), before);
    for c in &creds {
        card.ctap(GA, Some(ga_request(RP, &cdh(1), &[&c.id]))).ok();
    }
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 0);
}

#[test]
fn storage_failure_fails_the_command_and_changes_nothing() {
    let mut card = Card::new(17, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    // A restarted card continues above the stored counter ceiling, so its
    // first counter needs a write (within a reserved block none does).
    card.restart();
    let before = card.storage();
    card.env().storage.fail_after = Some(0);
    assert_eq!(
        card.ctap(MC, Some(mc_request(RP, b"v", &cdh(1), &[-7], true)))
            .status,
        0x7F
    );
    assert_eq!(
        card.ctap(GA, Some(ga_request(RP, &cdh(1), &[&cred.id])))
            .status,
        0x7F
    );
    assert_eq!(card.storage(), before);
    card.env().storage.fail_after = None;
    // No partial credential: discovery finds nothing.
    assert_eq!(
        card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).status,
        0x2E
    );
    let resp = card
        .ctap(GA, Some(ga_request(RP, &cdh(1), &[&cred.id])))
        .ok();
    check_assertion(&resp, RP, &cdh(1), &cred);
}

#[test]
fn corrupt_state_refuses_to_start() {
    let mut card = Card::new(18, Config::default(), false);
    register(&mut card, RP, b"u", -7, true);
    let env = card.applet.take().unwrap().into_env();
    let good = env.storage.bytes.clone().unwrap();
    for bad in [
        vec![],
        good[..good.len() / 2].to_vec(),
        {
            let mut b = good.clone();
            b[40] ^= 4;
            b
        },
        {
            let mut b = good.clone();
            b[7] = 99;
            b
        },
    ] {
        let mut env = applet::env::TestEnv::seeded(0);
        env.storage.bytes = Some(bad);
        let r = applet::fido::FidoApplet::new(env, Config::default(), None);
        let err = r.expect_err("corrupt state must not load");
        assert!(err.to_string().contains("card state"), "{err}");
    }
    // The intact blob still loads, with its credential.
    let mut env = applet::env::TestEnv::seeded(0);
    env.storage.bytes = Some(good);
    let loaded = applet::fido::FidoApplet::new(env, Config::default(), None).unwrap();
    assert_eq!(
        loaded.authenticator().state.persistent().credentials.len(),
        1
    );
}

#[test]
fn ids_and_keys_distinct_across_restarts() {
    let mut card = Card::new(19, Config::default(), false);
    let mut ids = std::collections::HashSet::new();
    let mut keys = std::collections::HashSet::new();
    for round in 0..3u8 {
        for i in 0..4u8 {
            let c = register(&mut card, RP, &[round, i], -7, false);
            assert!(ids.insert(c.id.clone()));
            let PublicKey::Es256(k) = c.key else { panic!() };
            assert!(keys.insert(k.to_encoded_point(false).as_bytes().to_vec()));
        }
        card.restart();
    }
}

#[test]
fn iso_process_refuses_other_classes_and_instructions() {
    use applet::iso::{Command, Status};
    let cmd = |cla: u8, ins: u8| Command {
        cla,
        ins,
        p1: 0,
        p2: 0,
        data: &[],
        ne: 256,
        extended: false,
    };
    let mut card = Card::new(20, Config::default(), false);
    let mut reply = Vec::new();
    assert_eq!(
        card.applet().process(&cmd(0x80, 0x01), &mut reply),
        Err(Status::ClassNotSupported)
    );
    assert_eq!(
        card.applet().process(&cmd(0x00, 0x04), &mut reply),
        Err(Status::InstructionNotSupportedOrInvalid)
    );
    assert!(reply.is_empty());
    // U2F off: the U2F instructions are unknown.
    let config = Config {
        u2f: false,
        ..Config::default()
    };
    let mut card = Card::new(20, config, false);
    for ins in [0x01, 0x02, 0x03] {
        assert_eq!(
            card.applet().process(&cmd(0x00, ins), &mut reply),
            Err(Status::InstructionNotSupportedOrInvalid)
        );
    }
}

#[test]
fn end_of_session_ends_next_assertion_sequence() {
    let mut card = Card::new(21, Config::default(), false);
    register(&mut card, RP, b"a", -7, true);
    register(&mut card, RP, b"b", -7, true);
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.applet().end_session();
    assert_eq!(card.ctap(GNA, None).status, 0x30);
    card.ctap(GA, Some(ga_request(RP, &cdh(1), &[]))).ok();
    card.applet().deselect();
    assert_eq!(card.ctap(GNA, None).status, 0x30);
}
