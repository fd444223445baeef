//! reliability.md §8.3 (items 27-33): bad CTAP2 inputs. Each case asserts
//! the status and that the stored state did not change (bytes and number of
//! writes), and that no user presence was asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use applet::env::Presence;
use applet::iso::{Applet, CtapOutcome};
use ciborium::Value as C;
use client::*;

const RP: &str = "example.com";

/// Send `cmd || body` with presence withheld and a client that may wait:
/// the answer must be a final status (never "presence needed"), the status
/// `want`, and storage untouched.
fn refused(card: &mut Card, cmd: u8, body: &[u8], want: u8) {
    card.env().presence = Presence::Withheld;
    let before = card.storage();
    let mut req = vec![cmd];
    req.extend_from_slice(body);
    let mut reply = Vec::new();
    let outcome = card.applet().ctap(&req, true, &mut reply).unwrap();
    assert_eq!(outcome, CtapOutcome::Done, "body {}", hex::encode(body));
    assert_eq!(
        reply,
        vec![want],
        "cmd {cmd:#04x} body {} → {:02x?}",
        hex::encode(body),
        reply
    );
    assert_eq!(card.storage(), before, "state changed");
    card.env().presence = Presence::Touched;
}

fn accepted(card: &mut Card, cmd: u8, body: &C) -> C {
    card.env().presence = Presence::Touched;
    card.ctap(cmd, Some(body.clone())).ok()
}

fn pairs(v: C) -> Vec<(C, C)> {
    let C::Map(p) = v else { panic!() };
    p
}

/// `m` with `key` replaced by `value` (or removed when `None`).
fn with(m: &C, key: C, value: Option<C>) -> C {
    let mut p: Vec<(C, C)> = pairs(m.clone())
        .into_iter()
        .filter(|(k, _)| *k != key)
        .collect();
    if let Some(v) = value {
        p.push((key, v));
    }
    cmap(p)
}

fn mc() -> C {
    mc_request(RP, b"user", &[1; 32], &[-7], false)
}

fn ga() -> C {
    ga_request(RP, &[2; 32], &[])
}

fn desc(id: C, ty: C) -> C {
    cmap(vec![(text("id"), id), (text("type"), ty)])
}

fn wrong_types_for(expected: &str) -> Vec<C> {
    let all = [
        ("uint", int(5)),
        ("nint", int(-5)),
        ("bytes", bytes(b"x")),
        ("text", text("x")),
        ("array", C::Array(vec![])),
        ("map", C::Map(vec![])),
        ("bool", C::Bool(true)),
        ("null", C::Null),
    ];
    all.into_iter()
        .filter(|(name, _)| *name != expected && !(expected == "int" && name.ends_with("int")))
        .map(|(_, v)| v)
        .collect()
}

fn card() -> Card {
    Card::new(31, Config::default(), false)
}

#[test]
fn item27_non_map_bodies_are_unexpected_type() {
    let mut card = card();
    for body in ["05", "20", "4100", "6161", "80", "f5", "f4", "f6"] {
        for cmd in [MC, GA] {
            refused(&mut card, cmd, &hex::decode(body).unwrap(), 0x11);
        }
    }
}

#[test]
fn item27_required_keys_of_wrong_type() {
    let mut card = card();
    let base = mc();
    let cases: Vec<(i64, &str)> = vec![(1, "bytes"), (2, "map"), (3, "map"), (4, "array")];
    for (key, ty) in cases {
        for v in wrong_types_for(ty) {
            refused(&mut card, MC, &ser(&with(&base, int(key), Some(v))), 0x11);
        }
    }
    // Optional keys of the wrong type too.
    for (key, ty) in [
        (5, "array"),
        (6, "map"),
        (7, "map"),
        (8, "bytes"),
        (9, "int"),
    ] {
        for v in wrong_types_for(ty) {
            if ty == "int" && matches!(v, C::Integer(_)) {
                continue;
            }
            refused(&mut card, MC, &ser(&with(&base, int(key), Some(v))), 0x11);
        }
    }
    let gbase = ga();
    for (key, ty) in [
        (1, "text"),
        (2, "bytes"),
        (3, "array"),
        (4, "map"),
        (5, "map"),
        (6, "bytes"),
    ] {
        for v in wrong_types_for(ty) {
            refused(&mut card, GA, &ser(&with(&gbase, int(key), Some(v))), 0x11);
        }
    }
}

#[test]
fn item27_nested_fields_of_wrong_type() {
    let mut card = card();
    let base = mc();
    let rp = get(&base, 2).unwrap().clone();
    let user = get(&base, 3).unwrap().clone();
    for v in wrong_types_for("text") {
        let r = with(&rp, text("id"), Some(v.clone()));
        refused(&mut card, MC, &ser(&with(&base, int(2), Some(r))), 0x11);
        let r = with(&rp, text("name"), Some(v.clone()));
        refused(&mut card, MC, &ser(&with(&base, int(2), Some(r))), 0x11);
        for field in ["name", "displayName"] {
            let u = with(&user, text(field), Some(v.clone()));
            refused(&mut card, MC, &ser(&with(&base, int(3), Some(u))), 0x11);
        }
        // pubKeyCredParams entry type
        let p = C::Array(vec![cmap(vec![
            (text("alg"), int(-7)),
            (text("type"), v.clone()),
        ])]);
        refused(&mut card, MC, &ser(&with(&base, int(4), Some(p))), 0x11);
        // excludeList entry type
        let e = C::Array(vec![desc(bytes(&[0; 16]), v.clone())]);
        refused(&mut card, MC, &ser(&with(&base, int(5), Some(e))), 0x11);
    }
    for v in wrong_types_for("bytes") {
        let u = with(&user, text("id"), Some(v.clone()));
        refused(&mut card, MC, &ser(&with(&base, int(3), Some(u))), 0x11);
        let e = C::Array(vec![desc(v.clone(), text("public-key"))]);
        refused(&mut card, MC, &ser(&with(&base, int(5), Some(e))), 0x11);
        let a = C::Array(vec![desc(v.clone(), text("public-key"))]);
        refused(&mut card, GA, &ser(&with(&ga(), int(3), Some(a))), 0x11);
    }
    for v in wrong_types_for("int") {
        let p = C::Array(vec![cmap(vec![
            (text("alg"), v.clone()),
            (text("type"), text("public-key")),
        ])]);
        refused(&mut card, MC, &ser(&with(&base, int(4), Some(p))), 0x11);
    }
    for v in wrong_types_for("map") {
        refused(
            &mut card,
            MC,
            &ser(&with(&base, int(4), Some(C::Array(vec![v.clone()])))),
            0x11,
        );
        refused(
            &mut card,
            MC,
            &ser(&with(&base, int(5), Some(C::Array(vec![v.clone()])))),
            0x11,
        );
        refused(
            &mut card,
            GA,
            &ser(&with(&ga(), int(3), Some(C::Array(vec![v.clone()])))),
            0x11,
        );
    }
    for v in wrong_types_for("bool") {
        for opt in ["rk", "up", "uv"] {
            let o = cmap(vec![(text(opt), v.clone())]);
            refused(
                &mut card,
                MC,
                &ser(&with(&base, int(7), Some(o.clone()))),
                0x11,
            );
            refused(&mut card, GA, &ser(&with(&ga(), int(5), Some(o))), 0x11);
        }
    }
}

#[test]
fn item28_missing_required_keys() {
    let mut card = card();
    let base = mc();
    for key in 1..=4 {
        refused(&mut card, MC, &ser(&with(&base, int(key), None)), 0x14);
    }
    let rp = get(&base, 2).unwrap().clone();
    refused(
        &mut card,
        MC,
        &ser(&with(&base, int(2), Some(with(&rp, text("id"), None)))),
        0x14,
    );
    refused(
        &mut card,
        MC,
        &ser(&with(
            &base,
            int(2),
            Some(with(&rp, text("id"), Some(text("")))),
        )),
        0x14,
    );
    let user = get(&base, 3).unwrap().clone();
    refused(
        &mut card,
        MC,
        &ser(&with(&base, int(3), Some(with(&user, text("id"), None)))),
        0x14,
    );
    refused(
        &mut card,
        MC,
        &ser(&with(&base, int(4), Some(C::Array(vec![C::Map(vec![])])))),
        0x14,
    );
    for missing in ["alg", "type"] {
        let entry = with(
            &cmap(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key")),
            ]),
            text(missing),
            None,
        );
        refused(
            &mut card,
            MC,
            &ser(&with(&base, int(4), Some(C::Array(vec![entry])))),
            0x14,
        );
    }
    let e = C::Array(vec![cmap(vec![(text("type"), text("public-key"))])]);
    refused(&mut card, MC, &ser(&with(&base, int(5), Some(e))), 0x14);
    for key in 1..=2 {
        refused(&mut card, GA, &ser(&with(&ga(), int(key), None)), 0x14);
    }
    refused(
        &mut card,
        GA,
        &ser(&with(&ga(), int(1), Some(text("")))),
        0x14,
    );
    // Empty bodies: every required parameter is missing.
    refused(&mut card, MC, &[], 0x14);
    refused(&mut card, GA, &[], 0x14);
    refused(&mut card, MC, &[0xa0], 0x14);
}

#[test]
fn item29_unknown_things_ignored_and_bad_options_refused() {
    let mut card = card();
    let base = mc();
    let mut m = pairs(base.clone());
    m.push((int(0x20), text("future")));
    m.push((int(0x0F), int(1)));
    m.push((
        int(6),
        cmap(vec![
            (text("x-unknown"), int(1)),
            (text("zz"), C::Map(vec![])),
        ]),
    ));
    m.push((
        int(7),
        cmap(vec![(text("future"), int(7)), (text("rk"), C::Bool(false))]),
    ));
    accepted(&mut card, MC, &cmap(m));
    let mut g = pairs(ga_request(RP, &[2; 32], &[&[0; 16]]));
    g.push((int(0x20), text("future")));
    g.push((int(4), cmap(vec![(text("x-unknown"), int(1))])));
    g.push((int(5), cmap(vec![(text("zz"), int(1))])));
    // The allowList holds nothing of ours: the request was parsed fine.
    card.env().presence = Presence::Touched;
    assert_eq!(card.ctap(GA, Some(cmap(g))).status, 0x2E);
    // CTAP 2.1/2.3 §6.2.2 step 4: an "rk" option in getAssertion, whatever
    // its value, is CTAP2_ERR_UNSUPPORTED_OPTION (0x2B).
    let o = cmap(vec![(text("rk"), C::Bool(true))]);
    refused(&mut card, GA, &ser(&with(&ga(), int(5), Some(o))), 0x2B);
    let o = cmap(vec![(text("rk"), C::Bool(false))]);
    refused(&mut card, GA, &ser(&with(&ga(), int(5), Some(o))), 0x2B);
    let o = cmap(vec![(text("up"), C::Bool(false))]);
    refused(&mut card, MC, &ser(&with(&base, int(7), Some(o))), 0x2C);
    // uv without a built-in UV method.
    let o = cmap(vec![(text("uv"), C::Bool(true))]);
    refused(
        &mut card,
        MC,
        &ser(&with(&base, int(7), Some(o.clone()))),
        0x2C,
    );
    refused(&mut card, GA, &ser(&with(&ga(), int(5), Some(o))), 0x2C);
    // enterpriseAttestation on a card that is not enterprise-attestation capable.
    refused(
        &mut card,
        MC,
        &ser(&with(&base, int(0x0A), Some(int(1)))),
        0x02,
    );
}

#[test]
fn item30_malformed_cbor_is_invalid_cbor() {
    let mut card = card();
    let good = ser(&mc());
    // Sanity: the good body is accepted.
    accepted(&mut card, MC, &mc());
    let bodies: Vec<Vec<u8>> = vec![
        // keys out of canonical order: {2: .., 1: ..}
        hex::decode("a2 02 61 61 01 41 00".replace(' ', "")).unwrap(),
        // duplicate keys
        hex::decode("a2 01 41 00 01 41 00".replace(' ', "")).unwrap(),
        // indefinite-length map
        hex::decode("bf 01 41 00 ff".replace(' ', "")).unwrap(),
        // tag
        hex::decode("c1 a0".replace(' ', "")).unwrap(),
        // float
        hex::decode("fa 47c35000".replace(' ', "")).unwrap(),
        // non-shortest integer key
        hex::decode("a1 1801 41 00".replace(' ', "")).unwrap(),
        // truncated
        good[..good.len() - 1].to_vec(),
        // trailing bytes
        [good.clone(), vec![0x00]].concat(),
        // invalid UTF-8 text (rpId)
        hex::decode("a2 01 62 c328 02 41 00".replace(' ', "")).unwrap(),
        // undefined
        vec![0xf7],
        // nesting depth 5: {6: {"a": [[[1]]]}}
        hex::decode("a1 06 a1 61 61 81 81 81 01".replace(' ', "")).unwrap(),
    ];
    for body in &bodies {
        refused(&mut card, MC, body, 0x12);
        refused(&mut card, GA, body, 0x12);
    }
}

#[test]
fn item31_pub_key_cred_params_rules() {
    let mut card = card();
    let base = mc();
    let p = |entries: Vec<C>| with(&base, int(4), Some(C::Array(entries)));
    let e = |ty: &str, alg: i64| cmap(vec![(text("alg"), int(alg)), (text("type"), text(ty))]);
    refused(&mut card, MC, &ser(&p(vec![])), 0x26);
    refused(&mut card, MC, &ser(&p(vec![e("public-key", -257)])), 0x26);
    refused(&mut card, MC, &ser(&p(vec![e("future-type", -7)])), 0x26);
    accepted(
        &mut card,
        MC,
        &p(vec![e("future-type", -7), e("public-key", -7)]),
    );
    accepted(
        &mut card,
        MC,
        &p(vec![e("public-key", -257), e("public-key", -7)]),
    );
    accepted(
        &mut card,
        MC,
        &p(vec![
            cmap(vec![
                (text("alg"), C::Integer(u64::MAX.into())),
                (text("type"), text("public-key")),
            ]),
            e("public-key", -7),
        ]),
    );
    refused(&mut card, MC, &ser(&p(vec![C::Map(vec![])])), 0x14);
    refused(
        &mut card,
        MC,
        &ser(&p(vec![cmap(vec![
            (text("alg"), int(-7)),
            (text("type"), int(1)),
        ])])),
        0x11,
    );
    refused(
        &mut card,
        MC,
        &ser(&p(vec![cmap(vec![
            (text("alg"), text("-7")),
            (text("type"), text("public-key")),
        ])])),
        0x11,
    );
}

#[test]
fn item32_non_ascii_and_long_strings() {
    let mut card = card();
    let long = "é".repeat(200);
    let user = cmap(vec![
        (text("displayName"), text("Jö 🙂 Ünïcødé")),
        (text("id"), bytes(b"u1")),
        (text("name"), text(&long)),
    ]);
    let mut body = with(&mc(), int(3), Some(user));
    body = with(&body, int(7), Some(cmap(vec![(text("rk"), C::Bool(true))])));
    accepted(&mut card, MC, &body);
    let creds = &card.applet().authenticator().state.persistent().credentials;
    let c = &creds[0];
    assert_eq!(c.user_display_name.as_deref(), Some("Jö 🙂 Ünïcødé"));
    let name = c.user_name.clone().unwrap();
    assert!(name.len() <= 64 && name.len() >= 62);
    assert!(long.starts_with(&name));
    // A user handle over 64 bytes is refused.
    let user = cmap(vec![(text("id"), bytes(&[1; 65]))]);
    refused(&mut card, MC, &ser(&with(&mc(), int(3), Some(user))), 0x03);
}

#[test]
fn item33_unknown_commands_and_sequencing() {
    let mut card = card();
    for cmd in [0x00u8, 0x03, 0x05, 0x09, 0x0E, 0x3F, 0x40, 0x42, 0xC0, 0xFF] {
        refused(&mut card, cmd, &[], 0x01);
        refused(&mut card, cmd, &[0xa0], 0x01);
    }
    refused(&mut card, GNA, &[], 0x30);
    // Empty request and over-long request.
    card.env().presence = Presence::Withheld;
    let before = card.storage();
    let mut reply = Vec::new();
    card.applet().ctap(&[], false, &mut reply).unwrap();
    assert_eq!(reply, [0x03]);
    let big = vec![0u8; 7610];
    let mut big_req = vec![MC];
    big_req.extend_from_slice(&big[1..]);
    let mut reply = Vec::new();
    card.applet().ctap(&big_req, false, &mut reply).unwrap();
    assert_eq!(reply, [0x03]);
    assert_eq!(card.storage(), before);
}

#[test]
fn exactly_max_msg_size_is_accepted() {
    let mut card = Card::new(32, Config::pocketkey(), false);
    // Pad the user's displayName so that the request is exactly 2048 bytes.
    let probe = |n: usize| {
        let user = cmap(vec![
            (text("displayName"), text(&"x".repeat(n))),
            (text("id"), bytes(b"u")),
        ]);
        let mut req = vec![MC];
        req.extend_from_slice(&ser(&with(&mc(), int(3), Some(user))));
        req
    };
    let base = probe(300).len() - 300;
    let req = probe(2048 - base);
    assert_eq!(req.len(), 2048);
    card.env().presence = Presence::Touched;
    assert_eq!(card.raw(&req).status, 0);
    let req = probe(2049 - base);
    assert_eq!(card.raw(&req).status, 0x03);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes after any command byte never panic, and an
        /// error is exactly one status byte.
        #[test]
        fn arbitrary_requests_never_panic(cmd in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..128)) {
            let mut card = Card::new(40, Config::default(), false);
            let mut req = vec![cmd];
            req.extend_from_slice(&body);
            let mut reply = Vec::new();
            let outcome = card.applet().ctap(&req, true, &mut reply).unwrap();
            if outcome == CtapOutcome::Done {
                prop_assert!(!reply.is_empty());
                if reply[0] != 0 {
                    prop_assert_eq!(reply.len(), 1);
                }
            }
        }

        /// Single-byte mutations of a valid makeCredential / getAssertion
        /// never panic.
        #[test]
        fn mutated_requests_never_panic(pos in any::<usize>(), byte in any::<u8>(), ga_cmd in any::<bool>()) {
            let mut card = Card::new(41, Config::default(), false);
            let body = if ga_cmd { ser(&ga()) } else { ser(&mc()) };
            let mut req = vec![if ga_cmd { GA } else { MC }];
            req.extend_from_slice(&body);
            let i = 1 + pos % body.len();
            req[i] = byte;
            let mut reply = Vec::new();
            let _ = card.applet().ctap(&req, false, &mut reply).unwrap();
            prop_assert!(!reply.is_empty());
        }
    }
}
