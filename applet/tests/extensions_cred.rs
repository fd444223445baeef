//! credProtect, credBlob, minPinLength and largeBlobKey (CTAP 2.1 §12.1-
//! §12.4) and their getInfo entries, through the CTAP2 entry point and
//! U2F, checked by an independent client. Reliability checklist items 38
//! and 39.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use applet::iso::{Applet, Command};
use ciborium::Value as C;
use client::pin::*;
use client::status::*;
use client::*;

const RP: &str = "example.com";
const PIN: &str = "123456";

/// A makeCredential request with extensions, and UV through `token`.
fn mc(user: &[u8], rk: bool, exts: Option<C>, token: Option<&Token>) -> C {
    let mut extra = Vec::new();
    if let Some(e) = exts {
        extra.push((int(6), e));
    }
    if let Some(t) = token {
        extra.push((int(8), bytes(&t.param(&cdh(1)))));
        extra.push((int(9), int(2)));
    }
    with(mc_request(RP, user, &cdh(1), &[-7], rk), extra)
}

/// Register and return (credential, authData extensions, response).
fn register(
    card: &mut Card,
    user: &[u8],
    rk: bool,
    exts: Option<C>,
    uv: bool,
) -> (Registered, Option<C>, C) {
    let tok = uv.then(|| token(card, 2, PIN, PERM_MC, Some(RP)));
    let resp = card.ctap(MC, Some(mc(user, rk, exts, tok.as_ref()))).ok();
    let aaguid = card.config.aaguid.0;
    let cred = check_registration(&resp, RP, &cdh(1), &aaguid);
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(ad.flags & 0x80 != 0, ad.extensions.is_some(), "ED flag");
    (cred, ad.extensions, resp)
}

/// getAssertion: `allow` (empty for discovery), extensions, UV.
fn ga(card: &mut Card, allow: &[&[u8]], exts: Option<C>, uv: bool) -> Reply {
    let mut extra = Vec::new();
    if let Some(e) = exts {
        extra.push((int(4), e));
    }
    if uv {
        let tok = token(card, 2, PIN, PERM_GA, Some(RP));
        extra.push((int(6), bytes(&tok.param(&cdh(2)))));
        extra.push((int(7), int(2)));
    }
    card.ctap(GA, Some(with(ga_request(RP, &cdh(2), allow), extra)))
}

/// A getAssertion that succeeds for `cred`: its checked authData.
fn assertion(
    card: &mut Card,
    allow: &[&[u8]],
    exts: Option<C>,
    uv: bool,
    cred: &Registered,
) -> AuthData {
    let resp = ga(card, allow, exts, uv).ok();
    check_assertion(&resp, RP, &cdh(2), cred)
}

fn cred_protect(level: i64) -> Option<C> {
    Some(ext(vec![("credProtect", int(level))]))
}

fn pin_card(config: Config) -> Card {
    let mut card = Card::new(21, config, false);
    set_pin(&mut card, 2, PIN);
    card
}

#[test]
fn get_info_lists_exactly_the_implemented_extensions() {
    let pocketkey = ["credBlob", "credProtect", "hmac-secret", "minPinLength"];
    let default = [
        "credBlob",
        "credProtect",
        "hmac-secret",
        "hmac-secret-mc",
        "largeBlobKey",
        "minPinLength",
        "pinComplexityPolicy",
        "thirdPartyPayment",
    ];
    for (config, extensions) in [
        (Config::pocketkey(), &pocketkey[..]),
        (Config::default(), &default[..]),
    ] {
        let mut card = Card::new(1, config, false);
        let info = card.ctap(GET_INFO, None).ok();
        assert_eq!(get(&info, 2).unwrap(), &texts(extensions));
        assert_eq!(as_int(get(&info, 0x0F).unwrap()), 64, "maxCredBlobLength");
    }

    // A profile claiming none lists none and no maxCredBlobLength.
    let mut config = Config::pocketkey();
    config.extensions.clear();
    let mut card = Card::new(1, config, false);
    let info = card.ctap(GET_INFO, None).ok();
    assert!(get(&info, 2).is_none());
    assert!(get(&info, 0x0F).is_none());
    // ... and ignores the inputs.
    let (_, exts, _) = register(&mut card, b"u", true, cred_protect(3), false);
    assert!(exts.is_none());
}

#[test]
fn unknown_extensions_are_ignored() {
    let mut card = Card::new(2, Config::pocketkey(), false);
    let e = ext(vec![("unknownExt", text("x")), ("credProtect", int(2))]);
    let (_, exts, _) = register(&mut card, b"u", false, Some(e), false);
    assert_eq!(exts.unwrap(), cmap(vec![(text("credProtect"), int(2))]));
}

#[test]
fn cred_protect_output_and_bad_values() {
    let mut card = Card::new(3, Config::pocketkey(), false);
    for level in 1..=3 {
        let (_, exts, _) = register(&mut card, b"u", false, cred_protect(level), false);
        assert_eq!(exts.unwrap(), cmap(vec![(text("credProtect"), int(level))]));
    }
    // Undefined levels are ignored: no output, no protection.
    for level in [0, 4, 255, -1] {
        let (cred, exts, _) = register(&mut card, b"u", false, cred_protect(level), false);
        assert!(exts.is_none(), "level {level}");
        assert_eq!(ga(&mut card, &[&cred.id], None, false).status, 0);
    }
    let before = card.storage();
    let req = mc(
        b"u",
        true,
        Some(ext(vec![("credProtect", text("3"))])),
        None,
    );
    assert_eq!(card.ctap(MC, Some(req)).status, CBOR_UNEXPECTED_TYPE);
    assert_eq!(card.storage(), before, "nothing stored");
}

#[test]
fn cred_protect_2_discovery_needs_uv_allow_list_does_not() {
    let mut card = pin_card(Config::pocketkey());
    let (cred, exts, _) = register(&mut card, b"u", true, cred_protect(2), true);
    assert_eq!(exts.unwrap(), cmap(vec![(text("credProtect"), int(2))]));
    // Discovery without UV does not list it.
    let before = card.storage();
    assert_eq!(ga(&mut card, &[], None, false).status, NO_CREDENTIALS);
    assert_eq!(card.storage(), before);
    // allowList without UV signs.
    let ad = assertion(&mut card, &[&cred.id], None, false, &cred);
    assert_eq!(ad.flags & 0x04, 0);
    // Discovery with UV finds it.
    let ad = assertion(&mut card, &[], None, true, &cred);
    assert_eq!(ad.flags & 0x04, 0x04);
}

#[test]
fn cred_protect_3_needs_uv_everywhere() {
    for rk in [true, false] {
        let mut card = pin_card(Config::pocketkey());
        let (cred, _, _) = register(&mut card, b"u", rk, cred_protect(3), true);
        let before = card.storage();
        assert_eq!(ga(&mut card, &[], None, false).status, NO_CREDENTIALS);
        assert_eq!(
            ga(&mut card, &[&cred.id], None, false).status,
            NO_CREDENTIALS
        );
        assert_eq!(card.storage(), before, "no counter step");
        assertion(&mut card, &[&cred.id], None, true, &cred);
        if rk {
            assertion(&mut card, &[], None, true, &cred);
        }
    }
}

#[test]
fn cred_protect_1_and_unprotected_are_discoverable_without_uv() {
    let mut card = Card::new(4, Config::pocketkey(), false);
    let (cred, _, _) = register(&mut card, b"u", true, cred_protect(1), false);
    assertion(&mut card, &[], None, false, &cred);
}

#[test]
fn exclude_list_honours_cred_protect() {
    // No PIN: makeCredential works without UV, so UV is absent.
    let mut card = Card::new(5, Config::pocketkey(), false);
    let (level2, _, _) = register(&mut card, b"a", false, cred_protect(2), false);
    let (level3, _, _) = register(&mut card, b"b", false, cred_protect(3), false);
    let exclude = |id: &[u8]| {
        (
            int(5),
            C::Array(vec![cmap(vec![
                (text("id"), bytes(id)),
                (text("type"), text("public-key")),
            ])]),
        )
    };
    let before = card.storage();
    // With or without user presence (CTAP 2.1/2.3 §6.1.2 step 12.1.4.2).
    card.env().presence = applet::env::Presence::Withheld;
    let req = with(
        mc_request(RP, b"c", &cdh(1), &[-7], false),
        vec![exclude(&level2.id)],
    );
    assert_eq!(card.ctap(MC, Some(req.clone())).status, CREDENTIAL_EXCLUDED);
    card.env().presence = applet::env::Presence::Field;
    assert_eq!(card.ctap(MC, Some(req)).status, CREDENTIAL_EXCLUDED);
    assert_eq!(card.storage(), before, "nothing created");
    // A level-3 credential without UV is treated as absent.
    let req = with(
        mc_request(RP, b"c", &cdh(1), &[-7], false),
        vec![exclude(&level3.id)],
    );
    assert_eq!(card.ctap(MC, Some(req)).status, 0);

    // With a PIN and UV, the level-3 credential excludes.
    let mut card = pin_card(Config::pocketkey());
    let (level3, _, _) = register(&mut card, b"b", true, cred_protect(3), true);
    let tok = token(&mut card, 2, PIN, PERM_MC, Some(RP));
    let req = with(mc(b"c", true, None, Some(&tok)), vec![exclude(&level3.id)]);
    let before = card.storage();
    assert_eq!(card.ctap(MC, Some(req)).status, CREDENTIAL_EXCLUDED);
    assert_eq!(card.storage(), before);
}

/// U2F AUTHENTICATE check-only (P1 07): 6985 for a key handle of ours,
/// 6A80 otherwise.
fn u2f_check(card: &mut Card, rp: &str, key_handle: &[u8]) -> u16 {
    let mut reply = Vec::new();
    card.applet().select(&mut reply).unwrap();
    let mut data = vec![0xC1; 32];
    data.extend_from_slice(&sha256(rp.as_bytes()));
    data.push(u8::try_from(key_handle.len()).unwrap());
    data.extend_from_slice(key_handle);
    let cmd = Command {
        cla: 0x00,
        ins: 0x02,
        p1: 0x07,
        p2: 0,
        data: &data,
        ne: 256,
        extended: false,
    };
    let mut reply = Vec::new();
    match card.applet().process(&cmd, &mut reply) {
        Ok(()) => 0x9000,
        Err(status) => u16::from(status),
    }
}

#[test]
fn u2f_authenticate_refuses_level_3() {
    let mut card = Card::new(6, Config::pocketkey(), false);
    let (plain, _, _) = register(&mut card, b"a", false, None, false);
    let (level2, _, _) = register(&mut card, b"b", false, cred_protect(2), false);
    let (level3, _, _) = register(&mut card, b"c", false, cred_protect(3), false);
    assert_eq!(u2f_check(&mut card, RP, &plain.id), 0x6985);
    assert_eq!(u2f_check(&mut card, RP, &level2.id), 0x6985);
    assert_eq!(u2f_check(&mut card, RP, &level3.id), 0x6A80);
}

#[test]
fn cred_blob_stored_with_discoverable_credentials() {
    let mut card = Card::new(8, Config::pocketkey(), false);
    let blob: Vec<u8> = (0..64).collect();
    let (cred, exts, _) = register(
        &mut card,
        b"u",
        true,
        Some(ext(vec![("credBlob", bytes(&blob))])),
        false,
    );
    assert_eq!(exts.unwrap(), cmap(vec![(text("credBlob"), C::Bool(true))]));
    let want = Some(ext(vec![("credBlob", C::Bool(true))]));
    for allow in [vec![], vec![cred.id.as_slice()]] {
        let ad = assertion(&mut card, &allow, want.clone(), false, &cred);
        assert_eq!(ad.flags & 0x80, 0x80);
        assert_eq!(
            ad.extensions.unwrap(),
            cmap(vec![(text("credBlob"), bytes(&blob))])
        );
    }
    // Not asked (or false): no output.
    let resp = ga(&mut card, &[], None, false).ok();
    assert!(check_assertion(&resp, RP, &cdh(2), &cred)
        .extensions
        .is_none());
    let resp = ga(
        &mut card,
        &[],
        Some(ext(vec![("credBlob", C::Bool(false))])),
        false,
    )
    .ok();
    assert!(check_assertion(&resp, RP, &cdh(2), &cred)
        .extensions
        .is_none());
    // Kept across a restart.
    card.restart();
    let ad = assertion(&mut card, &[], want, false, &cred);
    assert_eq!(
        ad.extensions.unwrap(),
        cmap(vec![(text("credBlob"), bytes(&blob))])
    );
}

#[test]
fn cred_blob_too_long_or_not_discoverable_is_not_stored() {
    let mut card = Card::new(9, Config::pocketkey(), false);
    let want = Some(ext(vec![("credBlob", C::Bool(true))]));
    let long = vec![7u8; 65];
    let (cred, exts, _) = register(
        &mut card,
        b"u",
        true,
        Some(ext(vec![("credBlob", bytes(&long))])),
        false,
    );
    assert_eq!(
        exts.unwrap(),
        cmap(vec![(text("credBlob"), C::Bool(false))])
    );
    let ad = assertion(&mut card, &[], want.clone(), false, &cred);
    assert_eq!(
        ad.extensions.unwrap(),
        cmap(vec![(text("credBlob"), bytes(&[]))])
    );

    let (cred, exts, _) = register(
        &mut card,
        b"v",
        false,
        Some(ext(vec![("credBlob", bytes(&[1, 2]))])),
        false,
    );
    assert_eq!(
        exts.unwrap(),
        cmap(vec![(text("credBlob"), C::Bool(false))])
    );
    let ad = assertion(&mut card, &[&cred.id], want, false, &cred);
    assert_eq!(
        ad.extensions.unwrap(),
        cmap(vec![(text("credBlob"), bytes(&[]))])
    );

    // Wrong types fail with nothing changed.
    let before = card.storage();
    let req = mc(
        b"w",
        true,
        Some(ext(vec![("credBlob", text("blob"))])),
        None,
    );
    assert_eq!(card.ctap(MC, Some(req)).status, CBOR_UNEXPECTED_TYPE);
    let reply = ga(
        &mut card,
        &[],
        Some(ext(vec![("credBlob", bytes(&[1]))])),
        false,
    );
    assert_eq!(reply.status, CBOR_UNEXPECTED_TYPE);
    assert_eq!(card.storage(), before);
}

#[test]
fn min_pin_length_only_for_listed_rps() {
    let mut card = pin_card(Config::pocketkey());
    let want = Some(ext(vec![("minPinLength", C::Bool(true))]));
    // Not listed yet: no output.
    let (_, exts, _) = register(&mut card, b"a", false, want.clone(), true);
    assert!(exts.is_none());
    set_min_pin_length(&mut card, PIN, 6, &[RP, "other.example"]);
    let (_, exts, _) = register(&mut card, b"b", false, want.clone(), true);
    assert_eq!(exts.unwrap(), cmap(vec![(text("minPinLength"), int(6))]));
    // false asks for nothing.
    let (_, exts, _) = register(
        &mut card,
        b"c",
        false,
        Some(ext(vec![("minPinLength", C::Bool(false))])),
        true,
    );
    assert!(exts.is_none());
    // An RP that is not listed gets nothing.
    set_min_pin_length(&mut card, PIN, 6, &["other.example"]);
    let (_, exts, _) = register(&mut card, b"d", false, want, true);
    assert!(exts.is_none());
}

#[test]
fn large_blob_key_with_discoverable_credentials() {
    let mut card = Card::new(10, Config::default(), false);
    let want = || Some(ext(vec![("largeBlobKey", C::Bool(true))]));
    let (cred, exts, resp) = register(&mut card, b"a", true, want(), false);
    assert!(exts.is_none(), "largeBlobKey is not an authData extension");
    let key = as_bytes(get(&resp, 5).unwrap());
    assert_eq!(key.len(), 32);
    let (other, _, resp2) = register(&mut card, b"b", true, want(), false);
    assert_ne!(
        as_bytes(get(&resp2, 5).unwrap()),
        key,
        "one key per credential"
    );
    // getAssertion returns it under 0x07 when asked.
    let resp = ga(&mut card, &[&cred.id], want(), false).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &cred);
    assert!(ad.extensions.is_none());
    assert_eq!(as_bytes(get(&resp, 7).unwrap()), key);
    let resp = ga(&mut card, &[&cred.id], None, false).ok();
    assert!(get(&resp, 7).is_none());
    // A credential made without it has none.
    let (plain, _, resp) = register(&mut card, b"c", true, None, false);
    assert!(get(&resp, 5).is_none());
    let resp = ga(&mut card, &[&plain.id], want(), false).ok();
    assert!(get(&resp, 7).is_none());
    let _ = other;
}

#[test]
fn large_blob_key_errors() {
    let mut card = Card::new(11, Config::default(), false);
    let before = card.storage();
    // Without rk.
    let req = mc(
        b"a",
        false,
        Some(ext(vec![("largeBlobKey", C::Bool(true))])),
        None,
    );
    assert_eq!(card.ctap(MC, Some(req)).status, INVALID_OPTION);
    // false.
    let req = mc(
        b"a",
        true,
        Some(ext(vec![("largeBlobKey", C::Bool(false))])),
        None,
    );
    assert_eq!(card.ctap(MC, Some(req)).status, INVALID_OPTION);
    let req = mc(b"a", true, Some(ext(vec![("largeBlobKey", int(1))])), None);
    assert_eq!(card.ctap(MC, Some(req)).status, CBOR_UNEXPECTED_TYPE);
    assert_eq!(card.storage(), before, "nothing stored");
    let (cred, _, _) = register(&mut card, b"a", true, None, false);
    let before = card.storage();
    let reply = ga(
        &mut card,
        &[&cred.id],
        Some(ext(vec![("largeBlobKey", C::Bool(false))])),
        false,
    );
    assert_eq!(reply.status, INVALID_OPTION);
    assert_eq!(card.storage(), before);
}

#[test]
fn pocketkey_ignores_large_blob_key() {
    let mut card = Card::new(12, Config::pocketkey(), false);
    let e = Some(ext(vec![("largeBlobKey", C::Bool(true))]));
    // Not listed by getInfo: ignored even without rk.
    let (cred, exts, resp) = register(&mut card, b"a", false, e.clone(), false);
    assert!(exts.is_none());
    assert!(get(&resp, 5).is_none());
    let resp = ga(&mut card, &[&cred.id], e, false).ok();
    assert!(get(&resp, 7).is_none());
}

#[test]
fn all_outputs_together() {
    let mut card = Card::new(13, Config::default(), false);
    let e = ext(vec![
        ("credProtect", int(2)),
        ("credBlob", bytes(b"blob")),
        ("hmac-secret", C::Bool(true)),
        ("largeBlobKey", C::Bool(true)),
        ("minPinLength", C::Bool(true)),
    ]);
    let (_, exts, resp) = register(&mut card, b"a", true, Some(e), false);
    assert_eq!(
        exts.unwrap(),
        cmap(vec![
            (text("credBlob"), C::Bool(true)),
            (text("credProtect"), int(2)),
            (text("hmac-secret"), C::Bool(true)),
        ])
    );
    assert_eq!(as_bytes(get(&resp, 5).unwrap()).len(), 32);
}

#[test]
fn next_assertion_repeats_the_extensions_for_each_credential() {
    let mut card = Card::new(14, Config::default(), false);
    let make = |blob: &[u8]| {
        Some(ext(vec![
            ("credBlob", bytes(blob)),
            ("largeBlobKey", C::Bool(true)),
        ]))
    };
    let (first, _, r1) = register(&mut card, b"a", true, make(b"first"), false);
    let (second, _, r2) = register(&mut card, b"b", true, make(b"second"), false);
    let want = Some(ext(vec![
        ("credBlob", C::Bool(true)),
        ("largeBlobKey", C::Bool(true)),
    ]));
    // Most recent first.
    let resp = ga(&mut card, &[], want, false).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &second);
    assert_eq!(
        ad.extensions.unwrap(),
        cmap(vec![(text("credBlob"), bytes(b"second"))])
    );
    assert_eq!(get(&resp, 7), get(&r2, 5));
    let resp = card.ctap(GNA, None).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &first);
    assert_eq!(
        ad.extensions.unwrap(),
        cmap(vec![(text("credBlob"), bytes(b"first"))])
    );
    assert_eq!(get(&resp, 7), get(&r1, 5));
}
