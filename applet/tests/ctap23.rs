//! CTAP 2.2 / 2.3 features of the default profile through the CTAP2 entry
//! point, checked by an independent platform (`client`: ciborium, its own
//! ECDH/KDF/AES/HMAC): getInfo members 0x16-0x1F (CTAP 2.3 §6.4),
//! hmac-secret-mc (CTAP 2.2 §12.7), thirdPartyPayment (CTAP 2.2 §12.9), the
//! persistent pinUvAuthToken (`pcmr`, CTAP 2.3 §6.5.5.7.2 step 4, §6.8) and
//! the PIN complexity policy (CTAP 2.3 §6.4, §6.11.4, pinComplexityPolicy
//! extension).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use aes::cipher::{BlockDecrypt, KeyInit};
use aes::Aes128;
use applet::config::Config;
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;
use hkdf::Hkdf;
use sha2::Sha256;

const RP: &str = "example.com";
const PIN: &str = "a1b2c3d4";
const PERM_PCMR: u8 = 0x40;

fn info(card: &mut Card) -> C {
    card.ctap(GET_INFO, None).ok()
}

fn texts_of(v: &C) -> Vec<String> {
    let C::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    items
        .iter()
        .map(|t| match t {
            C::Text(s) => s.clone(),
            other => panic!("not text: {other:?}"),
        })
        .collect()
}

fn as_bool(v: &C) -> bool {
    match v {
        C::Bool(b) => *b,
        other => panic!("not a bool: {other:?}"),
    }
}

fn card_with_pin(seed: u64, config: Config) -> Card {
    let mut card = Card::new(seed, config, false);
    set_pin(&mut card, 2, PIN);
    card
}

/// The independent decryption of getInfo 0x19 / 0x1E (CTAP 2.3 §6.4):
/// `iv || AES-128-CBC(HKDF-SHA-256(salt 32×00, token, info, 16), iv, pt)`.
fn decrypt_member(token: &[u8], info: &[u8], enc: &[u8]) -> [u8; 16] {
    assert_eq!(enc.len(), 32, "iv (16) || one block (16)");
    let mut key = [0u8; 16];
    Hkdf::<Sha256>::new(Some(&[0u8; 32]), token)
        .expand(info, &mut key)
        .unwrap();
    let aes = Aes128::new_from_slice(&key).unwrap();
    let mut block = aes::Block::clone_from_slice(&enc[16..]);
    aes.decrypt_block(&mut block);
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = block[i] ^ enc[i];
    }
    out
}

/// CTAP 2.3 §6.4: every new member has the type the specification gives
/// it, decoded by ciborium; FIDO_2_3 is listed and FIDO_2_2 never.
#[test]
fn get_info_ctap23_members_have_the_spec_types() {
    let mut card = Card::new(1, Config::default(), false);
    let i = info(&mut card);
    let versions = texts_of(get(&i, 1).unwrap());
    assert!(versions.contains(&"FIDO_2_3".to_owned()));
    assert!(versions.contains(&"FIDO_2_1".to_owned()));
    assert!(!versions.contains(&"FIDO_2_2".to_owned()));
    // 0x16 attestationFormats: non-empty array of unique text strings.
    let formats = texts_of(get(&i, 0x16).unwrap());
    assert_eq!(formats, ["packed", "none"]);
    // 0x1A transportsForReset: array of text strings.
    assert_eq!(texts_of(get(&i, 0x1A).unwrap()), ["nfc"]);
    // 0x1B pinComplexityPolicy: bool, off by default.
    assert!(!as_bool(get(&i, 0x1B).unwrap()));
    // 0x1C pinComplexityPolicyURL: absent unless the profile names one.
    assert!(get(&i, 0x1C).is_none());
    // 0x1D maxPINLength: unsigned, >= minPINLength.
    assert_eq!(as_int(get(&i, 0x1D).unwrap()), 63);
    assert!(as_int(get(&i, 0x1D).unwrap()) >= as_int(get(&i, 0x0D).unwrap()));
    // 0x1F authenticatorConfigCommands: array of unsigned.
    let C::Array(cmds) = get(&i, 0x1F).unwrap() else {
        panic!()
    };
    let cmds: Vec<i128> = cmds.iter().map(as_int).collect();
    assert_eq!(cmds, [2, 3]);
    // 0x19 / 0x1E only with a persistent token.
    assert!(get(&i, 0x19).is_none());
    assert!(get(&i, 0x1E).is_none());
    let options = get(&i, 4).unwrap();
    assert!(as_bool(get_text(options, "perCredMgmtRO").unwrap()));
    // A URL when the profile names one: a byte string.
    let config = Config {
        pin_complexity_policy_url: "https://example.com/pin-policy".to_owned(),
        ..Config::default()
    };
    let mut card = Card::new(2, config, false);
    let i = info(&mut card);
    assert_eq!(
        as_bytes(get(&i, 0x1C).unwrap()),
        b"https://example.com/pin-policy"
    );
}

/// pocketkey sends none of the CTAP 2.2/2.3 members and no new extension,
/// option or version: the card it imitates does not.
#[test]
fn pocketkey_get_info_has_no_ctap23_members() {
    let mut card = Card::new(3, Config::pocketkey(), false);
    let i = info(&mut card);
    for key in 0x15..=0x1F {
        assert!(get(&i, key).is_none(), "key {key:#x}");
    }
    assert_eq!(
        texts_of(get(&i, 1).unwrap()),
        ["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"]
    );
    assert!(get_text(get(&i, 4).unwrap(), "perCredMgmtRO").is_none());
}

/// applet::versions: FIDO_2_2 is refused; a FIDO_2_3 claim, and a
/// feature, whose requirements the profile switches off is not listed.
#[test]
fn claims_whose_requirements_are_off_are_not_listed() {
    let mut c = Config::default();
    c.versions.push("FIDO_2_2".to_owned());
    assert!(c.validate().is_err());
    assert!(Config::default().validate().is_ok());
    assert!(Config::pocketkey().validate().is_ok());

    let mut c = Config::default();
    c.options.insert("credMgmt".to_owned(), false);
    let mut card = Card::new(30, c, false);
    let i = info(&mut card);
    assert!(!texts_of(get(&i, 1).unwrap()).contains(&"FIDO_2_3".to_owned()));
    let options = get(&i, 4).unwrap();
    assert_eq!(get_text(options, "perCredMgmtRO"), Some(&C::Bool(false)));
    set_pin(&mut card, 2, PIN);
    let mut s = Session::new(&mut card, 2, 1);
    let request = token_request(&mut s, PIN, PERM_PCMR, None);
    let r = card.ctap(CLIENT_PIN, Some(request));
    assert_eq!(r.status, UNAUTHORIZED_PERMISSION);

    let mut c = Config::default();
    c.extensions.retain(|e| e != "hmac-secret");
    let mut card = Card::new(31, c, false);
    let exts = texts_of(get(&info(&mut card), 2).unwrap());
    assert!(!exts.contains(&"hmac-secret-mc".to_owned()), "{exts:?}");

    let mut c = Config::pocketkey();
    c.extensions.push("pinComplexityPolicy".to_owned());
    let mut card = Card::new(32, c, false);
    let exts = texts_of(get(&info(&mut card), 2).unwrap());
    assert!(
        !exts.contains(&"pinComplexityPolicy".to_owned()),
        "{exts:?}"
    );
}

/// makeCredential with hmac-secret and hmac-secret-mc for `salts`; returns
/// the credential and the decrypted hmac-secret-mc output.
fn register_with_mc(
    card: &mut Card,
    protocol: u8,
    salts: &[u8],
    uv: bool,
) -> (Registered, Vec<u8>) {
    let tok = uv.then(|| token(card, 2, PIN, PERM_MC | PERM_GA, Some(RP)));
    let mut s = Session::new(card, protocol, 0x3c + u64::from(protocol));
    let input = s.hmac_secret_input(salts, false);
    let mut extra = vec![(
        int(6),
        ext(vec![
            ("hmac-secret", C::Bool(true)),
            ("hmac-secret-mc", input),
        ]),
    )];
    if let Some(t) = &tok {
        extra.push((int(8), bytes(&t.param(&cdh(1)))));
        extra.push((int(9), int(2)));
    }
    let req = with(mc_request(RP, b"user-1", &cdh(1), &[-7], false), extra);
    let resp = card.ctap(MC, Some(req)).ok();
    let aaguid = card.config.aaguid.0;
    let cred = check_registration(&resp, RP, &cdh(1), &aaguid);
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(ad.flags & 0x04 != 0, uv, "UV flag");
    let exts = ad.extensions.unwrap();
    assert!(as_bool(get_text(&exts, "hmac-secret").unwrap()));
    let enc = as_bytes(get_text(&exts, "hmac-secret-mc").unwrap());
    assert_eq!(enc.len(), salts.len() + if protocol == 2 { 16 } else { 0 });
    (cred, s.decrypt(&enc))
}

/// getAssertion hmac-secret for `salts`: the decrypted output.
fn assert_with_salts(
    card: &mut Card,
    cred: &Registered,
    protocol: u8,
    salts: &[u8],
    uv: bool,
) -> Vec<u8> {
    let tok = uv.then(|| token(card, 2, PIN, PERM_GA, Some(RP)));
    let mut s = Session::new(card, protocol, 0x6a + u64::from(protocol));
    let input = s.hmac_secret_input(salts, false);
    let mut extra = vec![(int(4), ext(vec![("hmac-secret", input)]))];
    if let Some(t) = &tok {
        extra.push((int(6), bytes(&t.param(&cdh(2)))));
        extra.push((int(7), int(2)));
    }
    let req = with(ga_request(RP, &cdh(2), &[&cred.id]), extra);
    let resp = card.ctap(GA, Some(req)).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), cred);
    assert_eq!(ad.flags & 0x04 != 0, uv, "UV flag");
    s.decrypt(&as_bytes(
        get_text(&ad.extensions.unwrap(), "hmac-secret").unwrap(),
    ))
}

/// CTAP 2.2 §12.7: the makeCredential outputs equal a later
/// getAssertion's with the same salts and UV state, over both PIN/UV auth
/// protocols, with one and two salts.
#[test]
fn hmac_secret_mc_outputs_equal_a_later_assertion() {
    let mut card = card_with_pin(4, Config::default());
    for protocol in [1u8, 2] {
        for (n, uv) in [(1usize, true), (2, true), (2, false)] {
            let salts: Vec<u8> = (0..32 * n)
                .map(|i| u8::try_from(i % 256).unwrap() ^ protocol)
                .collect();
            let (cred, at_mc) = register_with_mc(&mut card, protocol, &salts, uv);
            assert_eq!(at_mc.len(), 32 * n);
            let at_ga = assert_with_salts(&mut card, &cred, protocol, &salts, uv);
            assert_eq!(at_mc, at_ga, "protocol {protocol}, {n} salts, uv {uv}");
            // The other UV state gives other outputs (CredRandomWithUV).
            if uv {
                let other = assert_with_salts(&mut card, &cred, protocol, &salts, false);
                assert_ne!(other, at_mc);
            }
        }
    }
}

/// hmac-secret-mc input errors: a bad saltAuth fails the command
/// (PIN_AUTH_INVALID), a wrong type is CBOR_UNEXPECTED_TYPE; without
/// hmac-secret: true it is ignored.
#[test]
fn hmac_secret_mc_bad_input() {
    let mut card = Card::new(5, Config::default(), false);
    let mut s = Session::new(&mut card, 2, 9);
    let mut input = s.hmac_secret_input(&[7; 32], false);
    if let C::Map(pairs) = &mut input {
        for (k, v) in pairs.iter_mut() {
            if *k == int(3) {
                let mut b = as_bytes(v);
                b[0] ^= 1;
                *v = bytes(&b);
            }
        }
    }
    let mc = |e: C| {
        with(
            mc_request(RP, b"u", &cdh(1), &[-7], false),
            vec![(int(6), e)],
        )
    };
    let r = card.ctap(
        MC,
        Some(mc(ext(vec![
            ("hmac-secret", C::Bool(true)),
            ("hmac-secret-mc", input.clone()),
        ]))),
    );
    assert_eq!(r.status, PIN_AUTH_INVALID);
    let r = card.ctap(
        MC,
        Some(mc(ext(vec![
            ("hmac-secret", C::Bool(true)),
            ("hmac-secret-mc", int(1)),
        ]))),
    );
    assert_eq!(r.status, CBOR_UNEXPECTED_TYPE);
    let resp = card
        .ctap(MC, Some(mc(ext(vec![("hmac-secret-mc", input)]))))
        .ok();
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    assert!(ad.extensions.is_none(), "ignored without hmac-secret: true");
}

/// thirdPartyPayment (CTAP 2.2 §12.9): the mark is kept with the
/// credential (discoverable or not, across a restart), reported by
/// getAssertion and by credentialManagement (response key 0x0C).
#[test]
fn third_party_payment_is_stored_and_reported() {
    let mut card = card_with_pin(6, Config::default());
    let aaguid = card.config.aaguid.0;
    let mut creds = Vec::new();
    for (i, (rk, pay)) in [(true, true), (false, true), (true, false)]
        .into_iter()
        .enumerate()
    {
        let user = [b'u', u8::try_from(i).unwrap()];
        let tok = token(&mut card, 2, PIN, PERM_MC, Some(RP));
        let req = with(
            mc_request(RP, &user, &cdh(1), &[-7], rk),
            vec![
                (int(6), ext(vec![("thirdPartyPayment", C::Bool(pay))])),
                (int(8), bytes(&tok.param(&cdh(1)))),
                (int(9), int(2)),
            ],
        );
        let resp = card.ctap(MC, Some(req)).ok();
        creds.push((check_registration(&resp, RP, &cdh(1), &aaguid), pay));
    }
    card.restart();
    for (cred, pay) in &creds {
        let req = with(
            ga_request(RP, &cdh(2), &[&cred.id]),
            vec![(int(4), ext(vec![("thirdPartyPayment", C::Bool(true))]))],
        );
        let resp = card.ctap(GA, Some(req)).ok();
        let ad = check_assertion(&resp, RP, &cdh(2), cred);
        let out = ad.extensions.unwrap();
        assert_eq!(as_bool(get_text(&out, "thirdPartyPayment").unwrap()), *pay);
        // Not asked: no output.
        let resp = card
            .ctap(GA, Some(ga_request(RP, &cdh(2), &[&cred.id])))
            .ok();
        assert!(check_assertion(&resp, RP, &cdh(2), cred)
            .extensions
            .is_none());
    }
    // credentialManagement enumerateCredentials: 0x0C per credential.
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let first = cm(&mut card, 4, Some(rp_params(RP)), Some(&t)).ok();
    let second = card.ctap(CM_CMD, Some(cm_request(5, None, None))).ok();
    let mut seen = Vec::new();
    for entry in [first, second] {
        let id = as_bytes(get_text(get(&entry, 7).unwrap(), "id").unwrap());
        seen.push((id, as_bool(get(&entry, 0x0C).unwrap())));
    }
    for (cred, pay) in creds
        .iter()
        .filter(|(c, _)| seen.iter().any(|(id, _)| *id == c.id))
    {
        let (_, reported) = seen.iter().find(|(id, _)| *id == cred.id).unwrap();
        assert_eq!(reported, pay);
    }
    assert_eq!(seen.len(), 2, "two discoverable credentials");
    // A wrong input type.
    let r = card.ctap(
        GA,
        Some(with(
            ga_request(RP, &cdh(2), &[&creds[0].0.id]),
            vec![(int(4), ext(vec![("thirdPartyPayment", int(1))]))],
        )),
    );
    assert_eq!(r.status, CBOR_UNEXPECTED_TYPE);
}

/// A discoverable credential made with a PIN token.
fn register_rk(card: &mut Card) -> Registered {
    let tok = token(card, 2, PIN, PERM_MC, Some(RP));
    let req = with(
        mc_request(RP, b"user-1", &cdh(1), &[-7], true),
        vec![(int(8), bytes(&tok.param(&cdh(1)))), (int(9), int(2))],
    );
    let resp = card.ctap(MC, Some(req)).ok();
    let aaguid = card.config.aaguid.0;
    check_registration(&resp, RP, &cdh(1), &aaguid)
}

/// The encrypted members under `token`.
fn members(card: &mut Card, token: &Token) -> ([u8; 16], [u8; 16]) {
    let i = info(card);
    (
        decrypt_member(
            &token.value,
            b"encIdentifier",
            &as_bytes(get(&i, 0x19).unwrap()),
        ),
        decrypt_member(
            &token.value,
            b"encCredStoreState",
            &as_bytes(get(&i, 0x1E).unwrap()),
        ),
    )
}

/// The persistent pinUvAuthToken (CTAP 2.3 §6.5.5.7.2 step 4, §6.8):
/// `pcmr` alone, read-only credential management that survives power
/// cycles and restarts, getInfo encIdentifier / encCredStoreState, and its
/// end at changePIN.
#[test]
fn persistent_token_for_read_only_credential_management() {
    for protocol in [1u8, 2] {
        let mut card = card_with_pin(7 + u64::from(protocol), Config::default());
        // pcmr with another permission, or with none defined: refused.
        for perms in [PERM_PCMR | PERM_CM, PERM_PCMR | PERM_MC] {
            let mut s = Session::new(&mut card, protocol, 1);
            let hash = s.encrypt(&sha256(PIN.as_bytes())[..16]);
            let r = card.ctap(
                CLIENT_PIN,
                Some(cmap(vec![
                    (int(1), int(protocol.into())),
                    (int(2), int(9)),
                    (int(3), s.platform_key.clone()),
                    (int(6), bytes(&hash)),
                    (int(9), int(perms.into())),
                    (int(10), text(RP)),
                ])),
            );
            assert_eq!(r.status, UNAUTHORIZED_PERMISSION, "perms {perms:#x}");
        }
        let t = token(&mut card, protocol, PIN, PERM_PCMR, None);
        let (id0, state0) = members(&mut card, &t);
        // Two getInfo responses differ (fresh IV) and decrypt alike.
        let a = as_bytes(get(&info(&mut card), 0x19).unwrap());
        let b = as_bytes(get(&info(&mut card), 0x19).unwrap());
        assert_ne!(a, b);
        let cred = register_rk(&mut card);
        let (id1, state1) = members(&mut card, &t);
        assert_eq!(id0, id1, "the identifier is stable");
        assert_ne!(state0, state1, "a new credential changes the store state");
        for step in ["now", "power cycle", "restart"] {
            match step {
                "power cycle" => card.power_cycle(),
                "restart" => card.restart(),
                _ => {}
            }
            let meta = cm(&mut card, 1, None, Some(&t)).ok();
            assert_eq!(as_int(get(&meta, 1).unwrap()), 1, "{step}");
            assert_eq!(enumerate_rps(&mut card, CM_CMD, &t).len(), 1, "{step}");
            let c = cm(&mut card, 4, Some(rp_params(RP)), Some(&t)).ok();
            assert_eq!(
                as_bytes(get_text(get(&c, 7).unwrap(), "id").unwrap()),
                cred.id
            );
            // Writes are refused and change nothing.
            refused_with(
                &mut card,
                &t,
                vec![
                    (6, Some(cred_params(&cred.id))),
                    (
                        7,
                        Some(with(
                            cred_params(&cred.id),
                            vec![(int(3), user(b"user-1", Some("x"), None))],
                        )),
                    ),
                ],
                PIN_AUTH_INVALID,
            );
            assert_eq!(members(&mut card, &t), (id1, state1), "{step}");
        }
        // Not for makeCredential / getAssertion.
        let req = with(
            ga_request(RP, &cdh(2), &[&cred.id]),
            vec![
                (int(6), bytes(&t.param(&cdh(2)))),
                (int(7), int(protocol.into())),
            ],
        );
        assert_eq!(card.ctap(GA, Some(req)).status, PIN_AUTH_INVALID);
        // An ordinary token deletes; the store state changes.
        let cm_tok = token(&mut card, 2, PIN, PERM_CM, None);
        assert_eq!(
            cm(&mut card, 6, Some(cred_params(&cred.id)), Some(&cm_tok)).status,
            OK
        );
        assert_ne!(members(&mut card, &t).1, state1);
        // changePIN ends the persistent token.
        change_pin(&mut card, PIN, "e5f6g7h8");
        let i = info(&mut card);
        assert!(get(&i, 0x19).is_none() && get(&i, 0x1E).is_none());
        assert_eq!(cm(&mut card, 1, None, Some(&t)).status, PIN_AUTH_INVALID);
    }
}

/// Without perCredMgmtRO (pocketkey), pcmr is UNAUTHORIZED_PERMISSION.
#[test]
fn pcmr_is_refused_without_per_cred_mgmt_ro() {
    let mut card = card_with_pin(11, Config::pocketkey());
    let mut s = Session::new(&mut card, 2, 1);
    let request = token_request(&mut s, PIN, PERM_PCMR, None);
    let before = card.storage();
    let r = card.ctap(CLIENT_PIN, Some(request));
    assert_eq!(r.status, UNAUTHORIZED_PERMISSION);
    assert_eq!(card.storage(), before, "no PIN attempt made");
}

fn change_pin(card: &mut Card, old: &str, new: &str) {
    assert_eq!(change_pin_status(card, old, new), OK);
}

/// The pinComplexityPolicy extension's output at makeCredential.
fn complexity_output(card: &mut Card, pin: &str) -> bool {
    let tok = token(card, 2, pin, PERM_MC, Some(RP));
    let req = with(
        mc_request(RP, b"u", &cdh(1), &[-7], false),
        vec![
            (int(6), ext(vec![("pinComplexityPolicy", C::Bool(true))])),
            (int(8), bytes(&tok.param(&cdh(1)))),
            (int(9), int(2)),
        ],
    );
    let resp = card.ctap(MC, Some(req)).ok();
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    as_bool(get_text(&ad.extensions.unwrap(), "pinComplexityPolicy").unwrap())
}

/// The PIN complexity policy (CTAP 2.3 §6.11.4 pinComplexityPolicy,
/// §6.5.5.5/6 checks): off by default, turned on by setMinPINLength, then
/// enforced on changePIN; a PIN that breaks it is forced to change.
#[test]
fn pin_complexity_policy_is_turned_on_and_enforced() {
    let mut card = Card::new(12, Config::default(), false);
    set_pin(&mut card, 2, "1234");
    assert!(!complexity_output(&mut card, "1234"));
    let tok = token(&mut card, 2, "1234", PERM_ACFG, None);
    let params = cmap(vec![(int(4), C::Bool(true))]);
    assert_eq!(config(&mut card, 3, Some(params), Some(&tok)).status, OK);
    let i = info(&mut card);
    assert!(as_bool(get(&i, 0x1B).unwrap()), "policy on");
    assert!(
        as_bool(get(&i, 0x0C).unwrap()),
        "1234 breaks it: forcePINChange"
    );
    for bad in ["1111", "4567", "dcba"] {
        assert_eq!(
            change_pin_status(&mut card, "1234", bad),
            PIN_POLICY_VIOLATION,
            "{bad}"
        );
    }
    change_pin(&mut card, "1234", "2580");
    assert!(!as_bool(get(&info(&mut card), 0x0C).unwrap()));
    assert!(complexity_output(&mut card, "2580"));
    // The policy survives a restart, and a reset turns it back off.
    card.restart();
    assert!(as_bool(get(&info(&mut card), 0x1B).unwrap()));
}

/// Turning the policy on with a PIN that meets it forces nothing; a
/// profile without a policy refuses the parameter.
#[test]
fn pin_complexity_policy_edges() {
    let mut card = card_with_pin(13, Config::default());
    let tok = token(&mut card, 2, PIN, PERM_ACFG, None);
    let params = cmap(vec![(int(4), C::Bool(true))]);
    assert_eq!(
        config(&mut card, 3, Some(params.clone()), Some(&tok)).status,
        OK
    );
    assert!(!as_bool(get(&info(&mut card), 0x0C).unwrap()));
    let mut card = card_with_pin(14, Config::pocketkey());
    let tok = token(&mut card, 2, PIN, PERM_ACFG, None);
    assert_eq!(
        config(&mut card, 3, Some(params), Some(&tok)).status,
        INVALID_PARAMETER
    );
}

/// maxPINLength (CTAP 2.3 §6.4) is enforced by setPIN and changePIN.
#[test]
fn max_pin_length_is_enforced() {
    let config = Config {
        max_pin_length: 8,
        ..Config::default()
    };
    let mut card = card_with_pin(15, config);
    assert_eq!(as_int(get(&info(&mut card), 0x1D).unwrap()), 8);
    assert_eq!(
        change_pin_status(&mut card, PIN, "abcdefgh9"),
        PIN_POLICY_VIOLATION
    );
    change_pin(&mut card, PIN, "hgfedcb9");
}
