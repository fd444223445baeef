//! Capacity of the discoverable-credential store (profile
//! `max_resident_credentials`, getInfo 0x14 remainingDiscoverableCredentials,
//! KEY_STORE_FULL, CTAP 2.1 §6.1.2 step 17), with credMgmt deleting to free
//! a slot; checked by the independent client and platform PIN protocol.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;

const PIN: &str = "4321";

#[test]
fn full_store_answers_key_store_full_and_a_delete_frees_a_slot() {
    let config = Config {
        max_resident_credentials: 3,
        ..Config::default()
    };
    let mut card = Card::new(60, config, false);
    let mut creds: Vec<_> = (0..3u8)
        .map(|i| register(&mut card, "a.example", &[i], -7, true))
        .collect();
    // Full: the store and every earlier credential stay intact.
    let before = card.storage();
    let r = card.ctap(
        MC,
        Some(mc_request("b.example", &[9], &cdh(1), &[-7], true)),
    );
    assert_eq!(r.status, KEY_STORE_FULL);
    assert_eq!(card.storage(), before);
    for c in &creds {
        let resp = card
            .ctap(GA, Some(ga_request("a.example", &cdh(4), &[&c.id])))
            .ok();
        check_assertion(&resp, "a.example", &cdh(4), c);
    }
    // A non-discoverable credential needs no slot.
    register(&mut card, "b.example", &[9], -7, false);
    // Same RP and user handle: replaces the old one without a new slot.
    let replaced = register(&mut card, "a.example", &[0], -7, true);
    assert_eq!(
        card.ctap(GA, Some(ga_request("a.example", &cdh(5), &[&creds[0].id])))
            .status,
        NO_CREDENTIALS
    );
    creds[0] = replaced;
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 0);

    // Delete one through credMgmt: one slot free again.
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let meta = cm(&mut card, 1, None, Some(&t)).ok();
    assert_eq!(as_int(get(&meta, 1).unwrap()), 3);
    assert_eq!(as_int(get(&meta, 2).unwrap()), 0);
    cm(&mut card, 6, Some(cred_params(&creds[1].id)), Some(&t)).ok();
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 1);

    // A PIN-protected card needs a pinUvAuthParam for a discoverable credential.
    let mc_token = token(&mut card, 2, PIN, PERM_MC, Some("b.example"));
    let C::Map(mut pairs) = mc_request("b.example", &[9], &cdh(6), &[-7], true) else {
        panic!()
    };
    pairs.push((int(8), bytes(&mc_token.param(&cdh(6)))));
    pairs.push((int(9), int(2)));
    let resp = card.ctap(MC, Some(cmap(pairs))).ok();
    let aaguid = card.config.aaguid.0;
    check_registration(&resp, "b.example", &cdh(6), &aaguid);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 0);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let rps = enumerate_rps(&mut card, CM_CMD, &t);
    assert_eq!(rps.len(), 2);
}
