//! CTAP security and error rules, one transcript each, with the section it
//! follows (CTAP 2.1, sharpened by 2.2/2.3 where they say more). Requests and
//! responses go through the independent test client (ciborium), never the
//! applet's own codec. Each rule has a row in applet/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use applet::env::Presence;
use applet::iso::{Applet, Command, CtapOutcome, Status};
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;

const PIN: &str = "1357";
const RP: &str = "example.com";

const SELECTION: u8 = 0x0B;

/// A U2F command to the FIDO applet's `process` hook: its status word.
fn u2f_sw(card: &mut Card, ins: u8, p1: u8, data: &[u8]) -> u16 {
    let cmd = Command {
        cla: 0x00,
        ins,
        p1,
        p2: 0,
        data,
        ne: 65_536,
        extended: true,
    };
    let mut reply = Vec::new();
    match card.applet().process(&cmd, &mut reply) {
        Ok(()) => 0x9000,
        Err(status) => u16::from(status),
    }
}

fn select(card: &mut Card) -> Vec<u8> {
    let mut reply = Vec::new();
    card.applet().select(&mut reply).unwrap();
    reply
}

fn versions(card: &mut Card) -> C {
    let info = card.ctap(GET_INFO, None).ok();
    get(&info, 1).unwrap().clone()
}

/// U2F REGISTER data: challenge (32) || application (32).
const REGISTER_DATA: [u8; 64] = [0x11; 64];

/// CTAP 2.1 §7.2.4: with alwaysUv on and no built-in UV, "U2F_V2" MUST NOT
/// be in versions, and U2F_REGISTER / U2F_AUTHENTICATE fail with
/// SW_COMMAND_NOT_ALLOWED (69 86). SELECT answers "FIDO_2_0" then.
#[test]
fn always_uv_disables_u2f() {
    let mut card = Card::new(1, Config::default(), true);
    card.env().presence = Presence::Touched;
    assert_eq!(select(&mut card), b"U2F_V2");
    assert_eq!(u2f_sw(&mut card, 0x01, 0x03, &REGISTER_DATA), 0x9000);
    assert!(
        versions(&mut card)
            == texts(&["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE", "FIDO_2_3"])
    );

    // toggleAlwaysUv needs no token on a card without a PIN (§6.11 step 3).
    assert_eq!(config(&mut card, 0x02, None, None).status, OK);
    assert_eq!(select(&mut card), b"FIDO_2_0");
    assert_eq!(
        versions(&mut card),
        texts(&["FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE", "FIDO_2_3"])
    );
    assert_eq!(u2f_sw(&mut card, 0x01, 0x03, &REGISTER_DATA), 0x6986);
    let mut auth = vec![0x22; 64];
    auth.push(16);
    auth.extend_from_slice(&[0x33; 16]);
    for p1 in [0x03, 0x07, 0x08] {
        assert_eq!(u2f_sw(&mut card, 0x02, p1, &auth), 0x6986, "P1 {p1:02x}");
    }
    // The setting persists and is what turns U2F off: toggled back, it works.
    card.restart();
    assert_eq!(select(&mut card), b"FIDO_2_0");
    assert_eq!(config(&mut card, 0x02, None, None).status, OK);
    assert_eq!(select(&mut card), b"U2F_V2");
    assert_eq!(u2f_sw(&mut card, 0x01, 0x03, &REGISTER_DATA), 0x9000);
}

/// CTAP 2.1/2.3 §6.1.2 step 6.2 and §6.2.2 step 5.1.1: alwaysUv on a card
/// "not protected by some form of user verification" (no PIN yet) with
/// clientPin supported: CTAP2_ERR_PUAT_REQUIRED for makeCredential and for
/// getAssertion with "up" true. A silent probe (up: false) is not affected.
#[test]
fn always_uv_without_a_pin_answers_puat_required() {
    let mut card = Card::new(2, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    assert_eq!(config(&mut card, 0x02, None, None).status, OK);

    let before = card.storage();
    let mc = mc_request(RP, b"u2", &cdh(1), &[-7], false);
    assert_eq!(card.ctap(MC, Some(mc)).status, PUAT_REQUIRED);
    let mc_rk = mc_request(RP, b"u3", &cdh(1), &[-7], true);
    assert_eq!(card.ctap(MC, Some(mc_rk)).status, PUAT_REQUIRED);
    let ga = ga_request(RP, &cdh(2), &[&cred.id]);
    assert_eq!(card.ctap(GA, Some(ga.clone())).status, PUAT_REQUIRED);
    let up_true = with(
        ga.clone(),
        vec![(int(5), cmap(vec![(text("up"), C::Bool(true))]))],
    );
    assert_eq!(card.ctap(GA, Some(up_true)).status, PUAT_REQUIRED);
    assert_eq!(card.storage(), before, "nothing created or counted");

    let probe = with(ga, vec![(int(5), cmap(vec![(text("up"), C::Bool(false))]))]);
    let resp = card.ctap(GA, Some(probe)).ok();
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(ad.flags & 0x01, 0, "no UP flag in a silent probe");
}

/// CTAP 2.1/2.3 §6.1.2 steps 1.2 and 14, §6.2.2 steps 1.2 and 9: "If the
/// user declines permission, or the operation times out, then end the
/// operation by returning CTAP2_ERR_OPERATION_DENIED." Over NFC a client
/// that cannot poll (no NFCCTAP_GETRESPONSE) gets that at once; a client
/// that can is asked to poll (`91 00`, see the bridge). authenticatorReset
/// and authenticatorSelection keep CTAP2_ERR_USER_ACTION_TIMEOUT (§6.6,
/// §6.9).
#[test]
fn missing_presence_is_operation_denied_for_mc_and_ga() {
    let mut card = Card::new(3, Config::default(), false);
    let cred = register(&mut card, RP, b"u", -7, false);
    card.env().presence = Presence::Withheld;
    let before = card.storage();

    let mc = mc_request(RP, b"u2", &cdh(1), &[-7], false);
    assert_eq!(card.ctap(MC, Some(mc.clone())).status, OPERATION_DENIED);
    let (outcome, reply) = card.ctap_may_wait(MC, mc);
    assert_eq!(outcome, CtapOutcome::UserPresenceNeeded);
    assert!(reply.is_empty());
    let ga = ga_request(RP, &cdh(2), &[&cred.id]);
    assert_eq!(card.ctap(GA, Some(ga)).status, OPERATION_DENIED);
    // The zero-length pinUvAuthParam probe (step 1) asks for presence too.
    let probe = with(
        mc_request(RP, b"u3", &cdh(1), &[-7], false),
        vec![(int(8), bytes(&[])), (int(9), int(2))],
    );
    assert_eq!(card.ctap(MC, Some(probe)).status, OPERATION_DENIED);
    assert_eq!(card.storage(), before, "nothing changed");

    assert_eq!(card.ctap(SELECTION, None).status, USER_ACTION_TIMEOUT);
    assert_eq!(card.ctap(RESET, None).status, USER_ACTION_TIMEOUT);
}

/// CTAP 2.3 §6.11.4 steps 7 and 8 (setMinPINLength): with forcePINChange
/// true every pinUvAuthToken is reset, the one that authorised the command
/// included; a minPinLengthRPIDs list acts only when it "contains at least
/// one string", so an empty one changes nothing.
#[test]
fn set_min_pin_length_force_change_resets_tokens_and_empty_rp_list_changes_nothing() {
    let mut card = Card::new(4, Config::default(), false);
    set_pin(&mut card, 2, PIN);
    set_min_pin_length(&mut card, PIN, 4, &[RP]);
    let want = Some(ext(vec![("minPinLength", C::Bool(true))]));
    let listed = |card: &mut Card| {
        let req = mc_request(RP, b"m", &cdh(1), &[-7], false);
        let req = with(req, vec![(int(6), want.clone().unwrap())]);
        let resp = card.ctap(MC, Some(req)).ok();
        parse_auth_data(&as_bytes(get(&resp, 2).unwrap())).extensions
    };
    assert_eq!(
        listed(&mut card),
        Some(cmap(vec![(text("minPinLength"), int(4))]))
    );

    // An empty list: accepted, and the stored list stays.
    let acfg = token(&mut card, 2, PIN, PERM_ACFG, None);
    let params = cmap(vec![(int(2), C::Array(vec![]))]);
    assert_eq!(
        config(&mut card, 0x03, Some(params), Some(&acfg)).status,
        OK
    );
    assert_eq!(
        listed(&mut card),
        Some(cmap(vec![(text("minPinLength"), int(4))]))
    );

    // forcePINChange: the mc token and the acfg token stop working.
    let mc_token = token(&mut card, 2, PIN, PERM_MC, Some(RP));
    let with_token = |t: &Token| {
        with(
            mc_request(RP, b"t", &cdh(1), &[-7], false),
            vec![(int(8), bytes(&t.param(&cdh(1)))), (int(9), int(2))],
        )
    };
    let acfg = token(&mut card, 2, PIN, PERM_ACFG, None);
    let force = cmap(vec![(int(3), C::Bool(true))]);
    assert_eq!(
        config(&mut card, 0x03, Some(force.clone()), Some(&acfg)).status,
        OK
    );
    assert_eq!(
        card.ctap(MC, Some(with_token(&mc_token))).status,
        PIN_AUTH_INVALID
    );
    assert_eq!(
        config(&mut card, 0x03, Some(force), Some(&acfg)).status,
        PIN_AUTH_INVALID
    );
}

/// getPinUvAuthTokenUsingPinWithPermissions with a raw permissions value.
fn token_request(card: &mut Card, perms: u64) -> (u8, Option<Token>) {
    let mut s = Session::new(card, 2, 0x9e);
    let pin_hash_enc = s.encrypt(&sha256(PIN.as_bytes())[..16]);
    let req = cmap(vec![
        (int(1), int(2)),
        (int(2), int(9)),
        (int(3), s.platform_key.clone()),
        (int(6), bytes(&pin_hash_enc)),
        (int(9), C::Integer(perms.into())),
        (int(10), text(RP)),
    ]);
    let reply = card.ctap(CLIENT_PIN, Some(req));
    let status = reply.status;
    let token = reply.body.map(|body| Token {
        protocol: 2,
        value: s.decrypt(&as_bytes(get(&body, 2).unwrap())),
    });
    (status, token)
}

/// CTAP 2.3 §6.5.5.7.2 step 4: "Undefined permissions ... are ignored";
/// `pcmr` (0x40) is UNAUTHORIZED_PERMISSION where perCredMgmtRO is false or
/// absent, "or any other permission is requested" with it. Only 0 is
/// INVALID_PARAMETER.
#[test]
fn permissions_undefined_bits_ignored_and_pcmr_refused() {
    // The default profile without perCredMgmtRO.
    let mut config = Config::default();
    config.options.remove("perCredMgmtRO");
    let mut card = Card::new(5, config, false);
    set_pin(&mut card, 2, PIN);
    let mc_with = |t: &Token| {
        with(
            mc_request(RP, b"p", &cdh(1), &[-7], false),
            vec![(int(8), bytes(&t.param(&cdh(1)))), (int(9), int(2))],
        )
    };
    // mc with undefined bits above it: an mc token.
    let (status, tok) = token_request(&mut card, 0x0100 | 0x0001);
    assert_eq!(status, OK);
    assert_eq!(card.ctap(MC, Some(mc_with(&tok.unwrap()))).status, OK);
    // Only undefined bits: a token, with no permission at all.
    let (status, tok) = token_request(&mut card, 0x1_0000);
    assert_eq!(status, OK);
    assert_eq!(
        card.ctap(MC, Some(mc_with(&tok.unwrap()))).status,
        PIN_AUTH_INVALID
    );
    assert_eq!(token_request(&mut card, 0).0, INVALID_PARAMETER);
    // pcmr: this card has no perCredMgmtRO.
    assert_eq!(token_request(&mut card, 0x40).0, UNAUTHORIZED_PERMISSION);
    assert_eq!(token_request(&mut card, 0x41).0, UNAUTHORIZED_PERMISSION);
    // A profile that claims perCredMgmtRO still refuses pcmr with others.
    let mut config = Config::default();
    config.options.insert("perCredMgmtRO".to_owned(), true);
    let mut card = Card::new(6, config, false);
    set_pin(&mut card, 2, PIN);
    assert_eq!(token_request(&mut card, 0x44).0, UNAUTHORIZED_PERMISSION);
}

/// CTAP 2.3 §12.5 hmac-secret: "If pinUvAuthProtocol is absent and a
/// pinUvAuthProtocol value of 1 is not supported ... return
/// CTAP2_ERR_PIN_AUTH_INVALID".
#[test]
fn hmac_secret_without_protocol_on_a_profile_without_protocol_one() {
    let config = Config {
        pin_uv_auth_protocols: vec![2],
        ..Config::default()
    };
    let mut card = Card::new(7, config, false);
    let req = with(
        mc_request(RP, b"h", &cdh(1), &[-7], false),
        vec![(int(6), ext(vec![("hmac-secret", C::Bool(true))]))],
    );
    let resp = card.ctap(MC, Some(req)).ok();
    let cred = check_registration(&resp, RP, &cdh(1), &card.config.aaguid.0);
    let mut s = Session::new(&mut card, 2, 0x77);
    let ga = |input: C| {
        with(
            ga_request(RP, &cdh(2), &[&cred.id]),
            vec![(int(4), ext(vec![("hmac-secret", input)]))],
        )
    };
    let omitted = s.hmac_secret_input(&[0x5a; 32], true);
    assert_eq!(card.ctap(GA, Some(ga(omitted))).status, PIN_AUTH_INVALID);
    // Naming protocol 2 works.
    let named = s.hmac_secret_input(&[0x5a; 32], false);
    assert_eq!(card.ctap(GA, Some(ga(named))).status, OK);
}

#[test]
fn status_word_69_86_is_what_iso7816_calls_command_not_allowed_no_ef() {
    assert_eq!(u16::from(Status::CommandNotAllowedNoEf), 0x6986);
}
