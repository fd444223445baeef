//! User verification in makeCredential / getAssertion through the applet
//! (CTAP 2.1 §6.1.2 steps 1-2, 6-7, 11, 14; §6.2.2 steps 1-2, 5, 9;
//! reliability.md §8.2 items 22-24), both protocols.

use std::time::Duration;

use ciborium::value::Value as CValue;

use super::pin_applet::{bytes, int, mac, make_credential, map, text, Tap, PIN};
use crate::env::Presence;
use crate::iso::{Applet, CtapOutcome};
use crate::pin::protocol::PinUvAuthProtocol;

const PROTOCOLS: [PinUvAuthProtocol; 2] = [PinUvAuthProtocol::One, PinUvAuthProtocol::Two];
const RP: &str = "example.com";

fn auth(protocol: PinUvAuthProtocol, token: &[u8], cdh: &[u8]) -> Vec<(i64, CValue)> {
    vec![
        (8, bytes(&mac(protocol, token, cdh))),
        (9, int(protocol.wire().into())),
    ]
}

fn get_assertion(rp: &str, cdh: &[u8], extra: Vec<(i64, CValue)>) -> CValue {
    let mut pairs = vec![(1, text(rp)), (2, bytes(cdh))];
    pairs.extend(extra);
    map(pairs)
}

/// GA keys for pinUvAuthParam / pinUvAuthProtocol are 6 / 7.
fn ga_auth(protocol: PinUvAuthProtocol, token: &[u8], cdh: &[u8]) -> Vec<(i64, CValue)> {
    vec![
        (6, bytes(&mac(protocol, token, cdh))),
        (7, int(protocol.wire().into())),
    ]
}

fn rk() -> (i64, CValue) {
    (7, CValue::Map(vec![(text("rk"), CValue::Bool(true))]))
}

/// The authenticator data flags of an MC or GA response.
fn flags(body: &CValue, key: i64) -> u8 {
    let auth_data = body
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k == &int(key))
        .unwrap()
        .1
        .as_bytes()
        .unwrap()
        .clone();
    auth_data[32]
}

/// A card with a PIN and one discoverable credential for RP, registered
/// with UV.
fn card_with_credential(seed: u64, protocol: PinUvAuthProtocol) -> Tap {
    let mut tap = Tap::new(seed);
    assert_eq!(tap.set_pin(protocol, PIN), 0);
    let token = tap.token(protocol, PIN, 0x01, Some(RP)).unwrap();
    let cdh = [1; 32];
    let mut extra = auth(protocol, &token, &cdh);
    extra.push(rk());
    let (status, body) = tap.send(0x01, Some(&make_credential(&cdh, extra)));
    assert_eq!(status, 0);
    assert_eq!(flags(&body.unwrap(), 2) & 0x05, 0x05);
    tap
}

#[test]
fn get_assertion_with_a_token_sets_uv_and_consumes_it_with_presence() {
    for protocol in PROTOCOLS {
        let mut tap = card_with_credential(70, protocol);
        let token = tap.token(protocol, PIN, 0x02, Some(RP)).unwrap();
        let cdh = [2; 32];
        let (status, body) = tap.send(
            0x02,
            Some(&get_assertion(RP, &cdh, ga_auth(protocol, &token, &cdh))),
        );
        assert_eq!(status, 0);
        assert_eq!(flags(&body.unwrap(), 2) & 0x05, 0x05);
        let again = get_assertion(RP, &cdh, ga_auth(protocol, &token, &cdh));
        assert_eq!(tap.status(0x02, Some(&again)), 0x33);
    }
}

#[test]
fn a_silent_get_assertion_verifies_without_consuming_the_token() {
    for protocol in PROTOCOLS {
        let mut tap = card_with_credential(71, protocol);
        let token = tap.token(protocol, PIN, 0x02, Some(RP)).unwrap();
        let cdh = [3; 32];
        let mut silent = ga_auth(protocol, &token, &cdh);
        silent.push((5, CValue::Map(vec![(text("up"), CValue::Bool(false))])));
        let (status, body) = tap.send(0x02, Some(&get_assertion(RP, &cdh, silent)));
        assert_eq!(status, 0);
        // UV without UP.
        assert_eq!(flags(&body.unwrap(), 2) & 0x05, 0x04);
        let (status, body) = tap.send(
            0x02,
            Some(&get_assertion(RP, &cdh, ga_auth(protocol, &token, &cdh))),
        );
        assert_eq!(status, 0);
        assert_eq!(flags(&body.unwrap(), 2) & 0x05, 0x05);
    }
}

#[test]
fn discoverable_credentials_and_always_uv_need_a_token_once_a_pin_is_set() {
    let protocol = PinUvAuthProtocol::Two;
    let mut tap = card_with_credential(72, protocol);
    let cdh = [4; 32];
    assert_eq!(
        tap.status(0x01, Some(&make_credential(&cdh, vec![rk()]))),
        0x36
    );
    // alwaysUv on: a getAssertion with presence and no token is refused.
    let (env, auth) = tap.applet.parts();
    auth.state
        .update(env, |p| {
            p.always_uv = true;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        tap.status(0x02, Some(&get_assertion(RP, &cdh, vec![]))),
        0x36
    );
}

#[test]
fn a_token_bound_to_one_rp_is_refused_for_another() {
    for protocol in PROTOCOLS {
        let mut tap = card_with_credential(73, protocol);
        let token = tap.token(protocol, PIN, 0x03, Some(RP)).unwrap();
        let cdh = [5; 32];
        let other = get_assertion("other.example", &cdh, ga_auth(protocol, &token, &cdh));
        assert_eq!(tap.status(0x02, Some(&other)), 0x33);
        let mc = make_credential(&cdh, auth(protocol, &token, &cdh));
        assert_eq!(tap.status(0x01, Some(&mc)), 0);
    }
}

#[test]
fn pin_uv_auth_param_shapes_in_make_credential() {
    let mut tap = Tap::new(74);
    let cdh = [6; 32];
    let probe = |protocol: i64| vec![(8, bytes(&[])), (9, int(protocol))];
    // Zero-length param, no PIN: PIN_NOT_SET after presence.
    assert_eq!(
        tap.status(0x01, Some(&make_credential(&cdh, probe(2)))),
        0x35
    );
    tap.env().presence = Presence::Withheld;
    let (outcome, _) = tap.outcome(0x01, Some(&make_credential(&cdh, probe(2))), true);
    assert_eq!(outcome, CtapOutcome::UserPresenceNeeded);
    tap.env().presence = Presence::Field;
    // Param without protocol; unsupported protocol.
    let no_protocol = vec![(8, bytes(&[0; 32]))];
    assert_eq!(
        tap.status(0x01, Some(&make_credential(&cdh, no_protocol))),
        0x14
    );
    let bad_protocol = vec![(8, bytes(&[0; 32])), (9, int(3))];
    assert_eq!(
        tap.status(0x01, Some(&make_credential(&cdh, bad_protocol))),
        0x02
    );
    // With a PIN: zero-length is PIN_INVALID; a wrong param PIN_AUTH_INVALID
    // and no retry is used.
    assert_eq!(tap.set_pin(PinUvAuthProtocol::Two, PIN), 0);
    assert_eq!(
        tap.status(0x01, Some(&make_credential(&cdh, probe(2)))),
        0x31
    );
    tap.token(PinUvAuthProtocol::Two, PIN, 0x01, Some(RP))
        .unwrap();
    let wrong = vec![(8, bytes(&[0x55; 32])), (9, int(2))];
    assert_eq!(tap.status(0x01, Some(&make_credential(&cdh, wrong))), 0x33);
    assert_eq!(tap.retries(), (8, false));
}

#[test]
fn tokens_expire_and_die_with_the_power_cycle_and_reset() {
    for protocol in PROTOCOLS {
        let mut tap = Tap::new(75);
        tap.set_pin(protocol, PIN);
        let cdh = [7; 32];
        let token = tap.token(protocol, PIN, 0x01, Some(RP)).unwrap();
        tap.env().advance(Duration::from_secs(19));
        assert_eq!(
            tap.status(
                0x01,
                Some(&make_credential(&cdh, auth(protocol, &token, &cdh)))
            ),
            0x33
        );

        tap.applet.power_off();
        tap.applet.power_on();
        let token = tap.token(protocol, PIN, 0x01, Some(RP)).unwrap();
        tap.applet.power_off();
        tap.applet.power_on();
        assert_eq!(
            tap.status(
                0x01,
                Some(&make_credential(&cdh, auth(protocol, &token, &cdh)))
            ),
            0x33
        );

        let token = tap.token(protocol, PIN, 0x01, Some(RP)).unwrap();
        assert_eq!(tap.status(0x07, None), 0);
        assert_eq!(tap.set_pin(protocol, PIN), 0);
        assert_eq!(
            tap.status(
                0x01,
                Some(&make_credential(&cdh, auth(protocol, &token, &cdh)))
            ),
            0x33
        );
    }
}
