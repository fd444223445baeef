//! authenticatorCredentialManagement (CTAP 2.1 §6.8) and the discoverable
//! credential capacity, through the CTAP2 entry point, checked by the
//! independent client (`client`, ciborium) and its platform PIN
//! protocol (`client::pin`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use std::collections::BTreeSet;

use applet::config::Config;
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;

const PIN: &str = "4321";

/// A discoverable credential: RP ID, user handle, registration.
type Stored = (&'static str, Vec<u8>, Registered);

/// Three RPs with 1, 2 and 3 discoverable credentials, one
/// non-discoverable credential, then a PIN.
fn populated(seed: u64) -> (Card, Vec<Stored>) {
    let mut card = Card::new(seed, Config::default(), false);
    let mut creds = Vec::new();
    for (i, rp) in ["a.example", "b.example", "c.example"].iter().enumerate() {
        for u in 0..=i {
            let user_id = vec![u8::try_from(i).unwrap(), u8::try_from(u).unwrap()];
            let alg = if u % 2 == 0 { -7 } else { -8 };
            let reg = register(&mut card, rp, &user_id, alg, true);
            creds.push((*rp, user_id, reg));
        }
    }
    register(&mut card, "a.example", b"not-resident", -7, false);
    set_pin(&mut card, 2, PIN);
    (card, creds)
}

#[test]
fn get_info_lists_credential_management() {
    for config in [Config::default(), Config::pocketkey()] {
        let mut card = Card::new(1, config, false);
        let info = card.ctap(GET_INFO, None).ok();
        let options = get(&info, 4).unwrap();
        assert_eq!(get_text(options, "credMgmt"), Some(&C::Bool(true)));
        assert_eq!(
            get_text(options, "credentialMgmtPreview"),
            Some(&C::Bool(true))
        );
    }
}

#[test]
fn enumerates_every_rp_and_credential_exactly_once() {
    for (protocol, cmd) in [(2u8, CM_CMD), (1, CM_PRE)] {
        let (mut card, creds) = populated(10 + u64::from(protocol));
        let t = token(&mut card, protocol, PIN, PERM_CM, None);

        let meta = card.ctap(cmd, Some(cm_request(1, None, Some(&t)))).ok();
        assert_eq!(as_int(get(&meta, 1).unwrap()), 6);
        assert_eq!(as_int(get(&meta, 2).unwrap()), 100 - 6);

        let rps = enumerate_rps(&mut card, cmd, &t);
        assert_eq!(rps.len(), 3);
        let ids: BTreeSet<&str> = rps.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, BTreeSet::from(["a.example", "b.example", "c.example"]));
        for (id, hash) in &rps {
            assert_eq!(hash, &sha256(id.as_bytes()).to_vec());
        }

        for rp in ["a.example", "b.example", "c.example"] {
            let listed = enumerate_creds(&mut card, cmd, rp, &t);
            let expected: Vec<_> = creds.iter().filter(|(r, _, _)| *r == rp).collect();
            assert_eq!(listed.len(), expected.len());
            let mut seen = BTreeSet::new();
            for entry in &listed {
                let desc = get(entry, 7).unwrap();
                assert_eq!(get_text(desc, "type"), Some(&text("public-key")));
                let id = as_bytes(get_text(desc, "id").unwrap());
                assert!(seen.insert(id.clone()), "credential listed twice");
                let (_, user_id, reg) = expected
                    .iter()
                    .find(|(_, _, reg)| reg.id == id)
                    .expect("listed credential was registered for this RP");
                let u = get(entry, 6).unwrap();
                assert_eq!(as_bytes(get_text(u, "id").unwrap()), *user_id);
                assert_eq!(get_text(u, "name"), Some(&text("jo@example.com")));
                assert_eq!(get_text(u, "displayName"), Some(&text("Jo")));
                assert_eq!(cose_key_bytes(get(entry, 8).unwrap()), key_bytes(&reg.key));
                assert_eq!(as_int(get(entry, 0x0A).unwrap()), 1);
                assert!(get(entry, 0x0B).is_none(), "no largeBlobKey requested");
            }
        }
    }
}

#[test]
fn permissions_and_rp_binding() {
    let (mut card, creds) = populated(20);
    // No pinUvAuthParam, bad protocol, bad MAC.
    refused(&mut card, CM_CMD, cm_request(1, None, None), PUAT_REQUIRED);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let mut bad = t.clone();
    bad.value[0] ^= 1;
    refused(
        &mut card,
        CM_CMD,
        cm_request(1, None, Some(&bad)),
        PIN_AUTH_INVALID,
    );
    let no_protocol = cmap(vec![(int(1), int(1)), (int(4), bytes(&t.param(&[1])))]);
    refused(&mut card, CM_CMD, no_protocol, MISSING_PARAMETER);
    let wrong_protocol = cmap(vec![
        (int(1), int(1)),
        (int(3), int(3)),
        (int(4), bytes(&t.param(&[1]))),
    ]);
    refused(&mut card, CM_CMD, wrong_protocol, INVALID_PARAMETER);
    // The MAC covers subCommandParams: a token's MAC for another RP's hash
    // does not verify.
    let mut req = cm_request(4, Some(rp_params("a.example")), Some(&t));
    if let C::Map(pairs) = &mut req {
        for (k, v) in pairs.iter_mut() {
            if *k == int(2) {
                *v = rp_params("b.example");
            }
        }
    }
    refused(&mut card, CM_CMD, req, PIN_AUTH_INVALID);
    // Unknown subcommand, missing parameters.
    refused_with(&mut card, &t, vec![(0x08, None)], INVALID_SUBCOMMAND);
    let missing = vec![(4, None), (6, None), (7, Some(cred_params(&creds[0].2.id)))];
    refused_with(&mut card, &t, missing, MISSING_PARAMETER);
    // No such RP or credential.
    let absent = vec![
        (4, Some(rp_params("z.example"))),
        (6, Some(cred_params(&[7; 63]))),
    ];
    refused_with(&mut card, &t, absent, NO_CREDENTIALS);

    // A token without `cm`.
    let t = token(&mut card, 2, PIN, PERM_MC | PERM_GA, Some("a.example"));
    let cases = vec![(1, None), (4, Some(rp_params("a.example")))];
    refused_with(&mut card, &t, cases, PIN_AUTH_INVALID);

    // A `cm` token bound to a.example: its own RP only, no store-wide view.
    let t = token(&mut card, 1, PIN, PERM_CM, Some("a.example"));
    let b_cred = creds.iter().find(|(rp, _, _)| *rp == "b.example").unwrap();
    let cases = vec![
        (1, None),
        (2, None),
        (4, Some(rp_params("b.example"))),
        (6, Some(cred_params(&b_cred.2.id))),
    ];
    refused_with(&mut card, &t, cases, PIN_AUTH_INVALID);
    let listed = enumerate_creds(&mut card, CM_CMD, "a.example", &t);
    assert_eq!(listed.len(), 1);
    let a_cred = creds.iter().find(|(rp, _, _)| *rp == "a.example").unwrap();
    let r = cm(&mut card, 6, Some(cred_params(&a_cred.2.id)), Some(&t));
    assert_eq!((r.status, r.body), (OK, None));
}

#[test]
fn iterators_end_with_power_cycle_and_any_other_command() {
    let (mut card, _) = populated(30);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    // GetNext without Begin.
    refused(&mut card, CM_CMD, cm_request(3, None, None), NOT_ALLOWED);
    refused(&mut card, CM_CMD, cm_request(5, None, None), NOT_ALLOWED);

    // Power cycle.
    cm(&mut card, 2, None, Some(&t)).ok();
    card.power_cycle();
    refused(&mut card, CM_CMD, cm_request(3, None, None), NOT_ALLOWED);

    // Another CTAP command (getInfo), and the PRE byte sees the same state.
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    cm(&mut card, 2, None, Some(&t)).ok();
    card.ctap(GET_INFO, None).ok();
    refused(&mut card, CM_PRE, cm_request(3, None, None), NOT_ALLOWED);

    // Another credMgmt subcommand, and the wrong GetNext.
    cm(&mut card, 4, Some(rp_params("c.example")), Some(&t)).ok();
    cm(&mut card, 1, None, Some(&t)).ok();
    refused(&mut card, CM_CMD, cm_request(5, None, None), NOT_ALLOWED);
    cm(&mut card, 4, Some(rp_params("c.example")), Some(&t)).ok();
    refused(&mut card, CM_CMD, cm_request(3, None, None), NOT_ALLOWED);
    refused(&mut card, CM_CMD, cm_request(5, None, None), NOT_ALLOWED);

    // A malformed credMgmt request ends it too.
    cm(&mut card, 2, None, Some(&t)).ok();
    assert_eq!(card.raw(&[CM_CMD, 0xa1, 0x01]).status, 0x12);
    refused(&mut card, CM_CMD, cm_request(3, None, None), NOT_ALLOWED);

    // Uninterrupted, GetNext continues across 0x0A and 0x41 alike.
    let first = cm(&mut card, 4, Some(rp_params("c.example")), Some(&t)).ok();
    let second = card.ctap(CM_PRE, Some(cm_request(5, None, None))).ok();
    let third = cm(&mut card, 5, None, None).ok();
    assert_eq!(credential_ids(&[first, second, third]).len(), 3);
}

#[test]
fn delete_and_update_are_persisted() {
    let (mut card, creds) = populated(40);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let c_creds: Vec<_> = creds
        .iter()
        .filter(|(rp, _, _)| *rp == "c.example")
        .collect();
    let (_, user_id, victim) = c_creds[1];

    // Delete: persisted before the answer, gone from enumeration and GA.
    let writes = card.storage().1;
    let r = cm(&mut card, 6, Some(cred_params(&victim.id)), Some(&t));
    assert_eq!((r.status, r.body), (OK, None));
    assert_eq!(card.storage().1, writes + 1);
    card.restart();
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let listed = enumerate_creds(&mut card, CM_CMD, "c.example", &t);
    assert_eq!(listed.len(), 2);
    for e in &listed {
        assert_ne!(
            as_bytes(get_text(get(e, 7).unwrap(), "id").unwrap()),
            victim.id
        );
    }
    let meta = cm(&mut card, 1, None, Some(&t)).ok();
    assert_eq!(as_int(get(&meta, 1).unwrap()), 5);
    assert_eq!(as_int(get(&meta, 2).unwrap()), 95);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 95);
    assert_eq!(
        card.ctap(GA, Some(ga_request("c.example", &cdh(2), &[&victim.id])))
            .status,
        NO_CREDENTIALS
    );
    refused(
        &mut card,
        CM_CMD,
        cm_request(6, Some(cred_params(&victim.id)), Some(&t)),
        NO_CREDENTIALS,
    );
    refused(
        &mut card,
        CM_CMD,
        cm_request(
            7,
            Some(cmap(vec![
                (int(2), get(&cred_params(&victim.id), 2).unwrap().clone()),
                (int(3), user(user_id, Some("x"), None)),
            ])),
            Some(&t),
        ),
        NO_CREDENTIALS,
    );

    // Update: fields replaced; absent or empty ones removed; another user
    // handle refused.
    let (_, user_id, target) = c_creds[0];
    let update = |u: C| {
        cmap(vec![
            (int(2), get(&cred_params(&target.id), 2).unwrap().clone()),
            (int(3), u),
        ])
    };
    let listed_user = |card: &mut Card, t: &Token| {
        let all = enumerate_creds(card, CM_CMD, "c.example", t);
        let e = all
            .into_iter()
            .find(|e| as_bytes(get_text(get(e, 7).unwrap(), "id").unwrap()) == target.id)
            .unwrap();
        get(&e, 6).unwrap().clone()
    };
    refused(
        &mut card,
        CM_CMD,
        cm_request(7, Some(update(user(b"other", Some("x"), None))), Some(&t)),
        INVALID_PARAMETER,
    );
    let r = cm(
        &mut card,
        7,
        Some(update(user(user_id, Some("new@example.com"), Some("New")))),
        Some(&t),
    );
    assert_eq!((r.status, r.body), (OK, None));
    card.restart();
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    assert_eq!(
        listed_user(&mut card, &t),
        user(user_id, Some("new@example.com"), Some("New"))
    );
    cm(
        &mut card,
        7,
        Some(update(user(user_id, Some("only"), None))),
        Some(&t),
    )
    .ok();
    assert_eq!(
        listed_user(&mut card, &t),
        user(user_id, Some("only"), None)
    );
    cm(
        &mut card,
        7,
        Some(update(user(user_id, Some(""), Some("D")))),
        Some(&t),
    )
    .ok();
    assert_eq!(listed_user(&mut card, &t), user(user_id, None, Some("D")));
    // The credential still signs in.
    let resp = card
        .ctap(GA, Some(ga_request("c.example", &cdh(3), &[&target.id])))
        .ok();
    check_assertion(&resp, "c.example", &cdh(3), target);
}

#[test]
fn no_credentials_on_an_empty_card() {
    let mut card = Card::new(50, Config::default(), false);
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let meta = cm(&mut card, 1, None, Some(&t)).ok();
    assert_eq!(as_int(get(&meta, 1).unwrap()), 0);
    assert_eq!(as_int(get(&meta, 2).unwrap()), 100);
    refused(
        &mut card,
        CM_CMD,
        cm_request(2, None, Some(&t)),
        NO_CREDENTIALS,
    );
    refused(
        &mut card,
        CM_CMD,
        cm_request(4, Some(rp_params("a.example")), Some(&t)),
        NO_CREDENTIALS,
    );
    refused(&mut card, CM_CMD, cm_request(3, None, None), NOT_ALLOWED);
}

#[test]
fn enumeration_reports_cred_protect_and_large_blob_key() {
    let mut card = Card::new(70, Config::default(), false);
    let C::Map(mut pairs) = mc_request("k.example", b"k", &cdh(1), &[-7], true) else {
        panic!()
    };
    pairs.push((
        int(6),
        cmap(vec![
            (text("credProtect"), int(2)),
            (text("largeBlobKey"), C::Bool(true)),
        ]),
    ));
    let resp = card.ctap(MC, Some(cmap(pairs))).ok();
    let aaguid = card.config.aaguid.0;
    let reg = check_registration(&resp, "k.example", &cdh(1), &aaguid);
    let large_blob_key = as_bytes(get(&resp, 5).unwrap());
    assert_eq!(large_blob_key.len(), 32);
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let listed = enumerate_creds(&mut card, CM_CMD, "k.example", &t);
    assert_eq!(listed.len(), 1);
    let e = &listed[0];
    assert_eq!(
        as_bytes(get_text(get(e, 7).unwrap(), "id").unwrap()),
        reg.id
    );
    assert_eq!(as_int(get(e, 0x0A).unwrap()), 2);
    assert_eq!(as_bytes(get(e, 0x0B).unwrap()), large_blob_key);
}

#[test]
fn paging_and_session_apdus_do_not_end_an_enumeration() {
    use applet::iso::{Applet, Command};
    let (mut card, _) = populated(80);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let first = cm(&mut card, 4, Some(rp_params("c.example")), Some(&t)).ok();
    // GET RESPONSE is answered by the bridge; should one reach the applet,
    // with either class byte, it is refused without touching the iterator.
    for cla in [0x00, 0x80] {
        let get_response = Command {
            cla,
            ins: 0xC0,
            p1: 0,
            p2: 0,
            data: &[],
            ne: 256,
            extended: false,
        };
        assert!(card
            .applet()
            .process(&get_response, &mut Vec::new())
            .is_err());
    }
    let second = cm(&mut card, 5, None, None).ok();
    let third = cm(&mut card, 5, None, None).ok();
    assert_eq!(credential_ids(&[first, second, third]).len(), 3);
}

#[test]
fn a_full_store_enumerates_each_credential_exactly_once() {
    // Reliability checklist item 59: the maximum number of RPs and
    // credentials, each returned once, with correct totals.
    let mut card = Card::new(90, Config::default(), false);
    let max = card.config.max_resident_credentials;
    let rps: Vec<String> = (0..max / 2).map(|i| format!("rp{i}.example")).collect();
    let mut expected = BTreeSet::new();
    for rp in &rps {
        for u in 0..2u8 {
            let reg = register(&mut card, rp, &[u, 0xAA], -8, true);
            expected.insert(reg.id);
        }
    }
    assert_eq!(expected.len(), max);
    set_pin(&mut card, 1, PIN);
    let t = token(&mut card, 1, PIN, PERM_CM, None);
    let meta = cm(&mut card, 1, None, Some(&t)).ok();
    assert_eq!(as_int(get(&meta, 1).unwrap()), i128::try_from(max).unwrap());
    assert_eq!(as_int(get(&meta, 2).unwrap()), 0);
    let listed_rps = enumerate_rps(&mut card, CM_PRE, &t);
    assert_eq!(listed_rps.len(), rps.len());
    let distinct: BTreeSet<&String> = listed_rps.iter().map(|(id, _)| id).collect();
    assert_eq!(distinct.len(), rps.len());
    let mut seen = BTreeSet::new();
    for (rp, _) in &listed_rps {
        for e in enumerate_creds(&mut card, CM_CMD, rp, &t) {
            let id = as_bytes(get_text(get(&e, 7).unwrap(), "id").unwrap());
            assert!(seen.insert(id), "credential listed twice");
        }
    }
    assert_eq!(seen, expected);
}

#[test]
fn a_failed_write_deletes_and_updates_nothing() {
    let (mut card, creds) = populated(100);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let (_, user_id, target) = &creds[0];
    card.env().storage.fail_after = Some(0);
    refused(
        &mut card,
        CM_CMD,
        cm_request(6, Some(cred_params(&target.id)), Some(&t)),
        0x7F,
    );
    let update = cmap(vec![
        (int(2), get(&cred_params(&target.id), 2).unwrap().clone()),
        (int(3), user(user_id, Some("changed"), None)),
    ]);
    refused(
        &mut card,
        CM_CMD,
        cm_request(7, Some(update), Some(&t)),
        0x7F,
    );
    card.env().storage.fail_after = None;
    // In memory too: the credential is listed unchanged and still signs in.
    let listed = enumerate_creds(&mut card, CM_CMD, "a.example", &t);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        get(&listed[0], 6).unwrap(),
        &user(user_id, Some("jo@example.com"), Some("Jo"))
    );
    let resp = card
        .ctap(GA, Some(ga_request("a.example", &cdh(9), &[&target.id])))
        .ok();
    check_assertion(&resp, "a.example", &cdh(9), target);
}

/// A makeCredential request for a discoverable credential with `rp_name`
/// (or none) as `rp.name`.
fn mc_with_rp_name(rp: &str, user: &[u8], rp_name: Option<&str>) -> C {
    let C::Map(pairs) = mc_request(rp, user, &cdh(1), &[-7], true) else {
        panic!()
    };
    let mut rp_entity = vec![(text("id"), text(rp))];
    if let Some(name) = rp_name {
        rp_entity.push((text("name"), text(name)));
    }
    let pairs = pairs
        .into_iter()
        .map(|(k, v)| {
            if k == int(2) {
                (k, cmap(rp_entity.clone()))
            } else {
                (k, v)
            }
        })
        .collect();
    cmap(pairs)
}

#[test]
fn enumerate_rps_returns_the_rp_name_truncated_on_a_character_boundary() {
    let mut card = Card::new(60, Config::default(), false);
    // 1 + 2 × 40 bytes: 64 bytes would split an "é"; 63 is the boundary.
    let long = format!("a{}", "é".repeat(40));
    let mut expected_long = long.clone();
    while expected_long.len() > 64 {
        expected_long.pop();
    }
    assert_eq!(expected_long.len(), 63);
    let requests = [
        ("a.example", Some("Example A")),
        ("b.example", Some(long.as_str())),
        ("c.example", None),
    ];
    for (rp, name) in requests {
        let r = card.ctap(MC, Some(mc_with_rp_name(rp, b"u", name)));
        assert_eq!(r.status, OK);
    }
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let entries = enumerate_rp_entries(&mut card, CM_CMD, &t);
    let names: Vec<(String, Option<String>)> = entries
        .iter()
        .map(|e| {
            let rp = get(e, 3).unwrap();
            let id = get_text(rp, "id").unwrap().as_text().unwrap().to_owned();
            let name = get_text(rp, "name").map(|n| n.as_text().unwrap().to_owned());
            (id, name)
        })
        .collect();
    assert_eq!(
        names,
        [
            ("a.example".to_owned(), Some("Example A".to_owned())),
            ("b.example".to_owned(), Some(expected_long)),
            ("c.example".to_owned(), None),
        ]
    );
    // Kept across a restart (stored with the credential).
    card.restart();
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let again = enumerate_rp_entries(&mut card, CM_CMD, &t);
    assert_eq!(again, entries);
}
