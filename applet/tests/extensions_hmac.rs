//! hmac-secret (CTAP 2.1 §12.5) through the CTAP2 entry point, checked by
//! an independent platform (`client::pin`: ECDH, KDF, AES-CBC, HMAC of
//! PIN/UV auth protocols one and two). Reliability checklist item 40.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use ciborium::Value as C;
use client::pin::*;
use client::status::*;
use client::*;

const RP: &str = "example.com";
const PIN: &str = "123456";

/// makeCredential with `hmac-secret: true`; returns the credential and the
/// authData extension outputs.
fn register_hmac(card: &mut Card, rk: bool) -> (Registered, C) {
    let aaguid = card.config.aaguid.0;
    let req = with(
        mc_request(RP, b"user-1", &cdh(1), &[-7], rk),
        vec![(int(6), ext(vec![("hmac-secret", C::Bool(true))]))],
    );
    let resp = card.ctap(MC, Some(req)).ok();
    let cred = check_registration(&resp, RP, &cdh(1), &aaguid);
    let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(ad.flags & 0x80, 0x80, "ED flag");
    (cred, ad.extensions.unwrap())
}

/// A getAssertion request for `cred` carrying `hmac` as the hmac-secret
/// input, with UV through a token when `uv`.
fn ga_hmac(card: &mut Card, cred: &Registered, hmac: C, uv: bool) -> C {
    ga_hmac_allow(card, &[&cred.id], hmac, uv)
}

/// The same for an allowList (empty: discovery).
fn ga_hmac_allow(card: &mut Card, allow: &[&[u8]], hmac: C, uv: bool) -> C {
    let mut extra = vec![(int(4), ext(vec![("hmac-secret", hmac)]))];
    if uv {
        let tok = token(card, 2, PIN, PERM_GA, Some(RP));
        extra.push((int(6), bytes(&tok.param(&cdh(2)))));
        extra.push((int(7), int(2)));
    }
    with(ga_request(RP, &cdh(2), allow), extra)
}

/// Run hmac-secret for `salts` over protocol `protocol` and return the
/// decrypted output (checking the signature and the UV flag).
fn hmac_output(
    card: &mut Card,
    cred: &Registered,
    salts: &[u8],
    protocol: u8,
    uv: bool,
) -> Vec<u8> {
    let mut s = Session::new(card, protocol, 0x4ac + u64::from(protocol));
    let input = s.hmac_secret_input(salts, protocol == 1);
    let req = ga_hmac(card, cred, input, uv);
    let resp = card.ctap(GA, Some(req)).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), cred);
    assert_eq!(ad.flags & 0x04 != 0, uv, "UV flag");
    assert_eq!(ad.flags & 0x80, 0x80, "ED flag");
    let exts = ad.extensions.unwrap();
    let C::Map(pairs) = &exts else { panic!() };
    assert_eq!(pairs.len(), 1, "only hmac-secret is output: {exts:?}");
    let enc = as_bytes(get_text(&exts, "hmac-secret").unwrap());
    let expected_len = salts.len() + if protocol == 2 { 16 } else { 0 };
    assert_eq!(enc.len(), expected_len);
    s.decrypt(&enc)
}

fn salts(a: u8, b: Option<u8>) -> Vec<u8> {
    let mut s = vec![a; 32];
    if let Some(b) = b {
        s.extend_from_slice(&[b; 32]);
    }
    s
}

/// makeCredential with hmac-secret and UV (a PIN-protected card needs it).
fn register_uv(card: &mut Card, rk: bool, user: &[u8]) -> Registered {
    let tok = token(card, 2, PIN, PERM_MC, Some(RP));
    let aaguid = card.config.aaguid.0;
    let req = with(
        mc_request(RP, user, &cdh(1), &[-7], rk),
        vec![
            (int(6), ext(vec![("hmac-secret", C::Bool(true))])),
            (int(8), bytes(&tok.param(&cdh(1)))),
            (int(9), int(2)),
        ],
    );
    let resp = card.ctap(MC, Some(req)).ok();
    check_registration(&resp, RP, &cdh(1), &aaguid)
}

/// A card with a PIN and one hmac-secret credential.
fn setup(config: Config, rk: bool) -> (Card, Registered) {
    let mut card = Card::new(7, config, false);
    set_pin(&mut card, 2, PIN);
    let cred = register_uv(&mut card, rk, b"user-1");
    (card, cred)
}

#[test]
fn make_credential_outputs_hmac_secret_true() {
    for config in [Config::pocketkey(), Config::default()] {
        let mut card = Card::new(1, config, false);
        let (_, exts) = register_hmac(&mut card, false);
        assert_eq!(exts, cmap(vec![(text("hmac-secret"), C::Bool(true))]));
        // false asks for nothing: no output, no ED flag.
        let req = with(
            mc_request(RP, b"u", &cdh(1), &[-7], false),
            vec![(int(6), ext(vec![("hmac-secret", C::Bool(false))]))],
        );
        let resp = card.ctap(MC, Some(req)).ok();
        let ad = parse_auth_data(&as_bytes(get(&resp, 2).unwrap()));
        assert_eq!(ad.flags & 0x80, 0);
        assert!(ad.extensions.is_none());
        // A non-boolean input is a type error.
        let req = with(
            mc_request(RP, b"u", &cdh(1), &[-7], false),
            vec![(int(6), ext(vec![("hmac-secret", int(1))]))],
        );
        assert_eq!(card.ctap(MC, Some(req)).status, CBOR_UNEXPECTED_TYPE);
    }
}

#[test]
fn one_and_two_salts_both_protocols_same_output() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let one_p1 = hmac_output(&mut card, &cred, &salts(0x11, None), 1, false);
    let one_p2 = hmac_output(&mut card, &cred, &salts(0x11, None), 2, false);
    assert_eq!(one_p1.len(), 32);
    assert_eq!(one_p1, one_p2, "the protocol only changes the transport");
    let two = hmac_output(&mut card, &cred, &salts(0x11, Some(0x22)), 2, false);
    assert_eq!(two.len(), 64);
    assert_eq!(two[..32], one_p1[..], "output1 depends on salt1 only");
    let second = hmac_output(&mut card, &cred, &salts(0x22, None), 1, false);
    assert_eq!(two[32..], second[..], "output2 is the output of salt2");
    assert_ne!(one_p1, second, "different salts, different outputs");
}

#[test]
fn uv_and_non_uv_outputs_differ() {
    for rk in [false, true] {
        let (mut card, cred) = setup(Config::pocketkey(), rk);
        let s = salts(0x33, Some(0x44));
        let without = hmac_output(&mut card, &cred, &s, 2, false);
        let with_uv = hmac_output(&mut card, &cred, &s, 2, true);
        assert_ne!(without[..32], with_uv[..32]);
        assert_ne!(without[32..], with_uv[32..]);
        // Each is stable.
        assert_eq!(with_uv, hmac_output(&mut card, &cred, &s, 1, true));
        assert_eq!(without, hmac_output(&mut card, &cred, &s, 1, false));
    }
}

#[test]
fn same_salt_same_output_across_power_cycles_and_restarts() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let s = salts(0x55, None);
    let first = hmac_output(&mut card, &cred, &s, 2, false);
    let first_uv = hmac_output(&mut card, &cred, &s, 2, true);
    card.power_cycle();
    assert_eq!(first, hmac_output(&mut card, &cred, &s, 2, false));
    card.restart();
    assert_eq!(first, hmac_output(&mut card, &cred, &s, 1, false));
    assert_eq!(first_uv, hmac_output(&mut card, &cred, &s, 2, true));
    // Another credential gives other outputs for the same salt.
    let other = register_uv(&mut card, false, b"user-2");
    assert_ne!(first, hmac_output(&mut card, &other, &s, 2, false));
}

#[test]
fn outputs_change_after_reset() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let s = salts(0x66, None);
    let before = hmac_output(&mut card, &cred, &s, 2, false);
    card.power_cycle();
    assert_eq!(card.ctap(RESET, None).status, OK);
    // The old credential is gone with the master key.
    let mut sess = Session::new(&mut card, 2, 9);
    let input = sess.hmac_secret_input(&s, false);
    let req = ga_hmac(&mut card, &cred, input, false);
    assert_eq!(card.ctap(GA, Some(req)).status, NO_CREDENTIALS);
    // A new credential gives new outputs.
    let (fresh, _) = register_hmac(&mut card, false);
    assert_ne!(fresh.id, cred.id);
    let after = hmac_output(&mut card, &fresh, &s, 2, false);
    assert_ne!(before, after);
}

/// Send `input` as the hmac-secret input and expect `status` with the
/// stored state unchanged.
fn expect_error(card: &mut Card, cred: &Registered, input: C, status: u8) {
    let before = card.storage();
    let req = ga_hmac(card, cred, input, false);
    assert_eq!(card.ctap(GA, Some(req)).status, status);
    assert_eq!(card.storage(), before, "state unchanged (no counter step)");
}

#[test]
fn bad_salt_auth_is_pin_auth_invalid() {
    for protocol in [1u8, 2] {
        let (mut card, cred) = setup(Config::pocketkey(), false);
        let mut s = Session::new(&mut card, protocol, 3);
        let input = s.hmac_secret_input(&salts(1, None), false);
        let C::Map(mut pairs) = input else { panic!() };
        let auth = pairs.iter_mut().find(|(k, _)| *k == int(3)).unwrap();
        let mut mac = as_bytes(&auth.1);
        mac[0] ^= 0x01;
        auth.1 = bytes(&mac);
        expect_error(&mut card, &cred, cmap(pairs.clone()), PIN_AUTH_INVALID);
        // Truncated and empty MACs as well.
        let auth = pairs.iter_mut().find(|(k, _)| *k == int(3)).unwrap();
        auth.1 = bytes(&mac[..mac.len() - 1]);
        expect_error(&mut card, &cred, cmap(pairs.clone()), PIN_AUTH_INVALID);
        let auth = pairs.iter_mut().find(|(k, _)| *k == int(3)).unwrap();
        auth.1 = bytes(&[]);
        expect_error(&mut card, &cred, cmap(pairs), PIN_AUTH_INVALID);
        // The card still answers a good request.
        assert_eq!(
            hmac_output(&mut card, &cred, &salts(1, None), protocol, false).len(),
            32
        );
    }
}

#[test]
fn a_key_agreement_from_before_a_power_cycle_fails_salt_auth() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let mut s = Session::new(&mut card, 2, 4);
    card.power_cycle();
    let input = s.hmac_secret_input(&salts(1, None), false);
    expect_error(&mut card, &cred, input, PIN_AUTH_INVALID);
}

#[test]
fn salts_other_than_32_or_64_bytes_are_invalid_parameter() {
    for protocol in [1u8, 2] {
        let (mut card, cred) = setup(Config::pocketkey(), false);
        for len in [16usize, 48, 80, 96, 128] {
            let mut s = Session::new(&mut card, protocol, 5);
            let input = s.hmac_secret_input(&vec![0x77; len], false);
            expect_error(&mut card, &cred, input, INVALID_PARAMETER);
        }
        // saltEnc that is not whole blocks (authenticated all the same).
        let mut s = Session::new(&mut card, protocol, 6);
        let mut salt_enc = s.encrypt(&[0x77; 32]);
        salt_enc.pop();
        let salt_auth = s.authenticate(&salt_enc);
        let input = cmap(vec![
            (int(1), s.platform_key.clone()),
            (int(2), bytes(&salt_enc)),
            (int(3), bytes(&salt_auth)),
            (int(4), int(protocol.into())),
        ]);
        expect_error(&mut card, &cred, input, INVALID_PARAMETER);
    }
}

#[test]
fn missing_fields_are_missing_parameter() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    for drop in [1, 2, 3] {
        let mut s = Session::new(&mut card, 2, 7);
        let C::Map(pairs) = s.hmac_secret_input(&salts(1, None), false) else {
            panic!()
        };
        let pairs: Vec<_> = pairs.into_iter().filter(|(k, _)| *k != int(drop)).collect();
        expect_error(&mut card, &cred, cmap(pairs), MISSING_PARAMETER);
    }
    expect_error(&mut card, &cred, cmap(vec![]), MISSING_PARAMETER);
}

#[test]
fn wrong_types_and_bad_keys() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    // Not a map.
    expect_error(&mut card, &cred, C::Bool(true), CBOR_UNEXPECTED_TYPE);
    let mut s = Session::new(&mut card, 2, 8);
    let good = s.hmac_secret_input(&salts(1, None), false);
    let replace = |key: i64, v: C| {
        let C::Map(pairs) = good.clone() else {
            panic!()
        };
        cmap(
            pairs
                .into_iter()
                .map(|(k, old)| {
                    if k == int(key) {
                        (k, v.clone())
                    } else {
                        (k, old)
                    }
                })
                .collect(),
        )
    };
    expect_error(
        &mut card,
        &cred,
        replace(2, text("salt")),
        CBOR_UNEXPECTED_TYPE,
    );
    expect_error(&mut card, &cred, replace(3, int(3)), CBOR_UNEXPECTED_TYPE);
    expect_error(
        &mut card,
        &cred,
        replace(1, bytes(&[4; 65])),
        CBOR_UNEXPECTED_TYPE,
    );
    expect_error(
        &mut card,
        &cred,
        replace(4, text("2")),
        CBOR_UNEXPECTED_TYPE,
    );
    // An unsupported protocol.
    expect_error(&mut card, &cred, replace(4, int(3)), INVALID_PARAMETER);
    // A point that is not on the curve, and a key with the wrong curve.
    let C::Map(key) = s.platform_key.clone() else {
        panic!()
    };
    let off_curve: Vec<_> = key
        .iter()
        .cloned()
        .map(|(k, v)| {
            if k == int(-3) {
                (k, bytes(&[1; 32]))
            } else {
                (k, v)
            }
        })
        .collect();
    expect_error(
        &mut card,
        &cred,
        replace(1, cmap(off_curve)),
        INVALID_PARAMETER,
    );
    let wrong_curve: Vec<_> = key
        .iter()
        .cloned()
        .map(|(k, v)| if k == int(-1) { (k, int(2)) } else { (k, v) })
        .collect();
    expect_error(
        &mut card,
        &cred,
        replace(1, cmap(wrong_curve)),
        INVALID_PARAMETER,
    );
}

#[test]
fn extension_errors_come_after_no_credentials_and_before_presence() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let before = card.storage();
    let empty = || vec![(int(4), ext(vec![("hmac-secret", cmap(vec![]))]))];
    // No credential for this RP: NO_CREDENTIALS first (§6.2.2 order).
    let req = with(ga_request("other.example", &cdh(2), &[]), empty());
    assert_eq!(card.ctap(GA, Some(req)).status, NO_CREDENTIALS);
    // A credential, no presence: the extension error, not a presence wait.
    card.env().presence = applet::env::Presence::Withheld;
    let req = with(ga_request(RP, &cdh(2), &[&cred.id]), empty());
    assert_eq!(card.ctap(GA, Some(req)).status, MISSING_PARAMETER);
    assert_eq!(card.storage(), before);
}

#[test]
fn hmac_secret_needs_user_presence() {
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let mut s = Session::new(&mut card, 2, 10);
    let input = s.hmac_secret_input(&salts(1, None), false);
    let req = with(
        ga_hmac(&mut card, &cred, input, false),
        vec![(int(5), cmap(vec![(text("up"), C::Bool(false))]))],
    );
    let before = card.storage();
    assert_eq!(card.ctap(GA, Some(req)).status, UNSUPPORTED_OPTION);
    assert_eq!(card.storage(), before);
}

#[test]
fn discoverable_credential_hmac_secret_by_discovery() {
    let (mut card, cred) = setup(Config::default(), true);
    let s = salts(0x99, None);
    let by_list = hmac_output(&mut card, &cred, &s, 2, true);
    // The same credential found without an allowList gives the same output.
    let mut sess = Session::new(&mut card, 2, 11);
    let input = sess.hmac_secret_input(&s, false);
    let req = ga_hmac_allow(&mut card, &[], input, true);
    let resp = card.ctap(GA, Some(req)).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &cred);
    let enc = as_bytes(get_text(&ad.extensions.unwrap(), "hmac-secret").unwrap());
    assert_eq!(sess.decrypt(&enc), by_list);
}

#[test]
fn next_assertion_gives_each_credential_its_own_output() {
    let (mut card, first) = setup(Config::pocketkey(), true);
    let second = register_uv(&mut card, true, b"user-2");
    let s = salts(0xa5, Some(0x5a));
    let want_first = hmac_output(&mut card, &first, &s, 2, true);
    let want_second = hmac_output(&mut card, &second, &s, 2, true);
    assert_ne!(want_first, want_second);
    let mut sess = Session::new(&mut card, 2, 12);
    let input = sess.hmac_secret_input(&s, false);
    let req = ga_hmac_allow(&mut card, &[], input, true);
    let resp = card.ctap(GA, Some(req)).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &second);
    let enc = as_bytes(get_text(&ad.extensions.unwrap(), "hmac-secret").unwrap());
    assert_eq!(sess.decrypt(&enc), want_second);
    let resp = card.ctap(GNA, None).ok();
    let ad = check_assertion(&resp, RP, &cdh(2), &first);
    assert_eq!(ad.flags & 0x04, 0x04);
    let enc = as_bytes(get_text(&ad.extensions.unwrap(), "hmac-secret").unwrap());
    assert_eq!(sess.decrypt(&enc), want_first);
}

#[test]
fn arbitrary_salt_fields_fail_cleanly() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as RunnerConfig, TestRunner};
    let (mut card, cred) = setup(Config::pocketkey(), false);
    let before = card.storage();
    let key = Session::new(&mut card, 2, 13).platform_key;
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 64,
        ..RunnerConfig::default()
    });
    let cell = std::cell::RefCell::new(card);
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..130),
        proptest::collection::vec(any::<u8>(), 0..40),
        0u8..4,
    );
    runner
        .run(&strategy, |(salt_enc, salt_auth, protocol)| {
            let mut m = vec![
                (int(1), key.clone()),
                (int(2), bytes(&salt_enc)),
                (int(3), bytes(&salt_auth)),
            ];
            if protocol != 0 {
                m.push((int(4), int(protocol.into())));
            }
            let mut card = cell.borrow_mut();
            let req = ga_hmac(&mut card, &cred, cmap(m), false);
            let status = card.ctap(GA, Some(req)).status;
            prop_assert!(
                status == PIN_AUTH_INVALID || status == INVALID_PARAMETER,
                "status {status:#04x}"
            );
            Ok(())
        })
        .unwrap();
    let mut card = cell.into_inner();
    assert_eq!(card.storage(), before);
    // A correct request still works afterwards.
    assert_eq!(
        hmac_output(&mut card, &cred, &salts(1, None), 2, false).len(),
        32
    );
}
