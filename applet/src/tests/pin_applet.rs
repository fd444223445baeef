//! ClientPIN, reset, selection and authenticatorConfig through the FIDO
//! applet (`Applet::ctap`, SELECT, end of session, power cycles), with
//! requests written by `ciborium` and platform crypto from `pin_client`.

use std::time::Duration;

use ciborium::value::{Integer, Value as CValue};

use super::pin_card::{padded, pin_hash16};
use super::pin_client::{hmac, Platform};
use crate::config::Config;
use crate::env::{Presence, TestEnv};
use crate::fido::FidoApplet;
use crate::iso::{Applet, CtapOutcome};
use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};

pub(crate) const PIN: &str = "1234";

pub(crate) fn int(n: i64) -> CValue {
    CValue::Integer(Integer::from(n))
}

pub(crate) fn bytes(b: &[u8]) -> CValue {
    CValue::Bytes(b.to_vec())
}

pub(crate) fn text(s: &str) -> CValue {
    CValue::Text(s.into())
}

/// A map with integer keys in CTAP2 canonical order (the card's decoder
/// refuses any other order).
pub(crate) fn map(mut pairs: Vec<(i64, CValue)>) -> CValue {
    pairs.sort_by_key(|(k, _)| {
        let key = encode(&int(*k));
        (key.len(), key)
    });
    CValue::Map(pairs.into_iter().map(|(k, v)| (int(k), v)).collect())
}

pub(crate) fn encode(v: &CValue) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

pub(crate) struct Tap {
    pub(crate) applet: FidoApplet<TestEnv>,
    seed: u64,
}

/// The reply: status byte and the decoded body, if any.
pub(crate) type Reply = (u8, Option<CValue>);

impl Tap {
    pub(crate) fn new(seed: u64) -> Self {
        let applet = FidoApplet::new(TestEnv::seeded(seed), Config::default(), None).unwrap();
        let mut tap = Tap { applet, seed };
        tap.applet.power_on();
        tap
    }

    pub(crate) fn env(&mut self) -> &mut TestEnv {
        self.applet.env_mut()
    }

    pub(crate) fn outcome(
        &mut self,
        command: u8,
        body: Option<&CValue>,
        may_wait: bool,
    ) -> (CtapOutcome, Vec<u8>) {
        let mut request = vec![command];
        if let Some(body) = body {
            request.extend(encode(body));
        }
        let mut reply = Vec::new();
        let outcome = self.applet.ctap(&request, may_wait, &mut reply).unwrap();
        (outcome, reply)
    }

    pub(crate) fn send(&mut self, command: u8, body: Option<&CValue>) -> Reply {
        let (outcome, reply) = self.outcome(command, body, true);
        assert_eq!(outcome, CtapOutcome::Done);
        let body = (reply.len() > 1).then(|| ciborium::from_reader(&reply[1..]).unwrap());
        (reply[0], body)
    }

    /// Without presence `command` (no parameters) asks a client that may
    /// wait to poll, and answers CTAP2_ERR_USER_ACTION_TIMEOUT (0x2F) to one
    /// that cannot (CTAP 2.1 §6.9, §11.3).
    pub(crate) fn waits_for_presence(&mut self, command: u8) {
        assert_eq!(
            self.outcome(command, None, true).0,
            CtapOutcome::UserPresenceNeeded
        );
        assert_eq!(
            self.outcome(command, None, false),
            (CtapOutcome::Done, vec![0x2F])
        );
    }

    pub(crate) fn status(&mut self, command: u8, body: Option<&CValue>) -> u8 {
        self.send(command, body).0
    }

    pub(crate) fn platform(&mut self, protocol: PinUvAuthProtocol) -> Platform {
        let (status, body) = self.send(
            0x06,
            Some(&map(vec![(1, int(protocol.wire().into())), (2, int(2))])),
        );
        assert_eq!(status, 0);
        let body = body.unwrap();
        let key = &body.as_map().unwrap()[0].1;
        let field = |label: i64| {
            key.as_map()
                .unwrap()
                .iter()
                .find(|(k, _)| k == &int(label))
                .unwrap()
                .1
                .as_bytes()
                .unwrap()
                .clone()
        };
        let card = CoseEcdhKey {
            x: field(-2).try_into().unwrap(),
            y: field(-3).try_into().unwrap(),
        };
        self.seed += 1;
        Platform::encapsulate(protocol, &card, self.seed)
    }

    pub(crate) fn cose(p: &Platform) -> CValue {
        map(vec![
            (1, int(2)),
            (3, int(-25)),
            (-1, int(1)),
            (-2, bytes(&p.public.x)),
            (-3, bytes(&p.public.y)),
        ])
    }

    pub(crate) fn set_pin(&mut self, protocol: PinUvAuthProtocol, pin: &str) -> u8 {
        let p = self.platform(protocol);
        let enc = p.encrypt([1; 16], &padded(pin.as_bytes()));
        let request = map(vec![
            (1, int(protocol.wire().into())),
            (2, int(3)),
            (3, Self::cose(&p)),
            (4, bytes(&p.authenticate(&enc))),
            (5, bytes(&enc)),
        ]);
        self.status(0x06, Some(&request))
    }

    /// getPinUvAuthTokenUsingPinWithPermissions; the token or the status.
    pub(crate) fn token(
        &mut self,
        protocol: PinUvAuthProtocol,
        pin: &str,
        permissions: i64,
        rp_id: Option<&str>,
    ) -> Result<Vec<u8>, u8> {
        let p = self.platform(protocol);
        let mut pairs = vec![
            (1, int(protocol.wire().into())),
            (2, int(9)),
            (3, Self::cose(&p)),
            (6, bytes(&p.encrypt([2; 16], &pin_hash16(pin.as_bytes())))),
            (9, int(permissions)),
        ];
        if let Some(rp_id) = rp_id {
            pairs.push((10, text(rp_id)));
        }
        match self.send(0x06, Some(&map(pairs))) {
            (0, Some(body)) => Ok(p.decrypt(body.as_map().unwrap()[0].1.as_bytes().unwrap())),
            (status, _) => Err(status),
        }
    }

    pub(crate) fn retries(&mut self) -> (i64, bool) {
        let (_, body) = self.send(0x06, Some(&map(vec![(2, int(1))])));
        let body = body.unwrap();
        let m = body.as_map().unwrap();
        let retries = i64::try_from(m[0].1.as_integer().unwrap()).unwrap();
        (retries, m[1].1.as_bool().unwrap())
    }
}

pub(crate) fn mac(protocol: PinUvAuthProtocol, token: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = hmac(token, message);
    if protocol == PinUvAuthProtocol::One {
        m.truncate(16);
    }
    m
}

pub(crate) fn make_credential(cdh: &[u8], extra: Vec<(i64, CValue)>) -> CValue {
    let mut pairs = vec![
        (1, bytes(cdh)),
        (2, CValue::Map(vec![(text("id"), text("example.com"))])),
        (
            3,
            CValue::Map(vec![
                (text("id"), bytes(b"user")),
                (text("name"), text("u")),
            ]),
        ),
        (
            4,
            CValue::Array(vec![CValue::Map(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key")),
            ])]),
        ),
    ];
    pairs.extend(extra);
    map(pairs)
}

// ---- power cycles, SELECT, end of session ---------------------------------

#[test]
fn only_a_power_cycle_clears_the_three_mismatch_block() {
    for protocol in [PinUvAuthProtocol::One, PinUvAuthProtocol::Two] {
        let mut tap = Tap::new(60);
        assert_eq!(tap.retries(), (8, false));
        assert_eq!(tap.set_pin(protocol, PIN), 0);
        assert_eq!(tap.token(protocol, "0000", 2, Some("a")), Err(0x31));
        assert_eq!(tap.token(protocol, "0000", 2, Some("a")), Err(0x31));
        assert_eq!(tap.token(protocol, "0000", 2, Some("a")), Err(0x34));
        assert_eq!(tap.retries(), (5, true));

        let mut reply = Vec::new();
        tap.applet.select(&mut reply).unwrap();
        tap.applet.deselect();
        tap.applet.end_session();
        tap.applet.select(&mut reply).unwrap();
        assert_eq!(tap.token(protocol, PIN, 2, Some("a")), Err(0x34));
        assert_eq!(tap.retries(), (5, true));

        tap.applet.power_off();
        tap.applet.power_on();
        assert_eq!(tap.retries(), (5, false));
        assert!(tap.token(protocol, PIN, 2, Some("a")).is_ok());
        assert_eq!(tap.retries(), (8, false));
    }
}

#[test]
fn pin_retries_survive_a_restart_of_the_card() {
    let mut tap = Tap::new(61);
    tap.set_pin(PinUvAuthProtocol::Two, PIN);
    assert_eq!(
        tap.token(PinUvAuthProtocol::Two, "0000", 2, Some("a")),
        Err(0x31)
    );
    let env = tap.applet.into_env();
    let mut tap = Tap {
        applet: FidoApplet::new(env, Config::default(), None).unwrap(),
        seed: 100,
    };
    tap.applet.power_on();
    assert_eq!(tap.retries(), (7, false));
}

#[test]
fn a_clean_shutdown_keeps_the_reserved_attempt_and_a_crash_spends_it() {
    let restart = |tap: Tap, clean: bool| {
        let mut applet = tap.applet;
        if clean {
            applet.shutdown();
        }
        let env = applet.into_env();
        let mut tap = Tap {
            applet: FidoApplet::new(env, Config::default(), None).unwrap(),
            seed: 200,
        };
        tap.applet.power_on();
        tap
    };
    let mut tap = Tap::new(64);
    tap.set_pin(PinUvAuthProtocol::Two, PIN);
    assert!(tap.token(PinUvAuthProtocol::Two, PIN, 2, Some("a")).is_ok());
    assert_eq!(tap.retries(), (8, false));
    let mut tap = restart(tap, true);
    assert_eq!(tap.retries(), (8, false));
    assert!(tap.token(PinUvAuthProtocol::Two, PIN, 2, Some("a")).is_ok());
    let mut tap = restart(tap, false);
    assert_eq!(tap.retries(), (7, false));
}

// ---- makeCredential with a token ----------------------------------------------

#[test]
fn make_credential_with_a_token_sets_uv_once() {
    for protocol in [PinUvAuthProtocol::One, PinUvAuthProtocol::Two] {
        let mut tap = Tap::new(62);
        tap.set_pin(protocol, PIN);
        let token = tap.token(protocol, PIN, 1, Some("example.com")).unwrap();
        let cdh = [0x5A; 32];
        let param = mac(protocol, &token, &cdh);
        let auth = vec![(8, bytes(&param)), (9, int(protocol.wire().into()))];
        let (status, body) = tap.send(0x01, Some(&make_credential(&cdh, auth.clone())));
        assert_eq!(status, 0);
        let body = body.unwrap();
        let auth_data = body
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k == &int(2))
            .unwrap()
            .1
            .as_bytes()
            .unwrap()
            .clone();
        // flags: UP (0x01) and UV (0x04)
        assert_eq!(auth_data[32] & 0x05, 0x05);
        // The token's user verification was consumed by that ceremony.
        assert_eq!(tap.status(0x01, Some(&make_credential(&cdh, auth))), 0x33);
        // Without a param, a PIN-protected card wants one for a discoverable
        // credential (makeCredUvNotRqd spares only non-discoverable ones).
        let rk = vec![(7, CValue::Map(vec![(text("rk"), CValue::Bool(true))]))];
        assert_eq!(tap.status(0x01, Some(&make_credential(&cdh, rk))), 0x36);
        assert_eq!(tap.status(0x01, Some(&make_credential(&cdh, vec![]))), 0x00);
        assert_eq!(tap.retries(), (8, false));
    }
}

// ---- authenticatorReset -----------------------------------------------------------

#[test]
fn reset_within_10_s_wipes_pin_and_credentials() {
    let mut tap = Tap::new(63);
    let cdh = [1; 32];
    let (status, body) = tap.send(0x01, Some(&make_credential(&cdh, vec![])));
    assert_eq!(status, 0);
    let auth_data = body.unwrap().as_map().unwrap()[1]
        .1
        .as_bytes()
        .unwrap()
        .clone();
    // attestedCredentialData: aaguid(16) || L(2) || credentialId(L)
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let cred_id = auth_data[55..55 + len].to_vec();
    tap.set_pin(PinUvAuthProtocol::Two, PIN);
    let master_before = tap.applet.authenticator().state.identity().master_key;

    tap.env().advance(Duration::from_secs(10));
    assert_eq!(tap.status(0x07, None), 0);
    assert_eq!(tap.applet.authenticator().state.persistent().pin_hash, None);
    assert_ne!(
        tap.applet.authenticator().state.identity().master_key,
        master_before
    );
    assert_eq!(tap.retries(), (8, false));
    assert_eq!(
        tap.token(PinUvAuthProtocol::Two, PIN, 2, Some("a")),
        Err(0x35)
    );
    // The old credential ID no longer opens.
    let ga = map(vec![
        (1, text("example.com")),
        (2, bytes(&cdh)),
        (
            3,
            CValue::Array(vec![CValue::Map(vec![
                (text("id"), bytes(&cred_id)),
                (text("type"), text("public-key")),
            ])]),
        ),
    ]);
    assert_eq!(tap.status(0x02, Some(&ga)), 0x2E);
}

#[test]
fn reset_is_refused_after_10_s_and_waits_for_presence() {
    let mut tap = Tap::new(64);
    tap.set_pin(PinUvAuthProtocol::Two, PIN);
    let writes = tap.env().storage.writes;

    tap.env().presence = Presence::Withheld;
    tap.waits_for_presence(0x07);
    tap.env().presence = Presence::Field;

    tap.env().advance(Duration::from_millis(10_001));
    assert_eq!(tap.status(0x07, None), 0x30);
    tap.env().presence = Presence::Touched;
    assert_eq!(tap.status(0x07, None), 0x30);
    assert_eq!(tap.env().storage.writes, writes);
    assert!(tap
        .applet
        .authenticator()
        .state
        .persistent()
        .pin_hash
        .is_some());

    // A new tap opens a new window.
    tap.applet.power_off();
    tap.applet.power_on();
    assert_eq!(tap.status(0x07, None), 0);
}

#[test]
fn a_reset_whose_write_fails_changes_nothing() {
    let mut tap = Tap::new(65);
    tap.set_pin(PinUvAuthProtocol::One, PIN);
    let before = tap.applet.authenticator().state.clone();
    tap.env().storage.fail_after = Some(0);
    assert_eq!(tap.status(0x07, None), 0x7F);
    assert_eq!(tap.applet.authenticator().state, before);
    tap.env().storage.fail_after = None;
    assert!(tap.token(PinUvAuthProtocol::One, PIN, 2, Some("a")).is_ok());
}

// ---- authenticatorSelection ----------------------------------------------------------

#[test]
fn selection_needs_presence_and_nothing_else() {
    let mut tap = Tap::new(66);
    assert_eq!(tap.outcome(0x0B, None, true), (CtapOutcome::Done, vec![0]));
    tap.env().presence = Presence::Withheld;
    tap.waits_for_presence(0x0B);
}

// ---- authenticatorConfig ---------------------------------------------------------------

/// authenticatorConfig request with pinUvAuthParam over
/// 32 × FF || 0D || subCommand || subCommandParams.
fn config_request(
    protocol: PinUvAuthProtocol,
    token: Option<&[u8]>,
    sub_command: u8,
    params: Option<CValue>,
) -> CValue {
    let mut pairs = vec![(1, int(sub_command.into()))];
    let mut message = vec![0xFF; 32];
    message.extend([0x0D, sub_command]);
    if let Some(params) = params {
        message.extend(encode(&params));
        pairs.push((2, params));
    }
    if let Some(token) = token {
        pairs.push((3, int(protocol.wire().into())));
        pairs.push((4, bytes(&mac(protocol, token, &message))));
    }
    map(pairs)
}

#[test]
fn toggle_always_uv_needs_an_acfg_token_once_a_pin_is_set() {
    for protocol in [PinUvAuthProtocol::One, PinUvAuthProtocol::Two] {
        let mut tap = Tap::new(67);
        let always_uv = |tap: &Tap| tap.applet.authenticator().state.persistent().always_uv;
        // No PIN: no token needed.
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, None, 2, None))),
            0
        );
        assert!(always_uv(&tap));
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, None, 2, None))),
            0
        );
        assert!(!always_uv(&tap));

        tap.set_pin(protocol, PIN);
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, None, 2, None))),
            0x36
        );
        let mc_only = tap.token(protocol, PIN, 0x01, Some("a")).unwrap();
        let request = config_request(protocol, Some(&mc_only), 2, None);
        assert_eq!(tap.status(0x0D, Some(&request)), 0x33);
        let acfg = tap.token(protocol, PIN, 0x20, None).unwrap();
        let mut wrong = acfg.clone();
        wrong[0] ^= 1;
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, Some(&wrong), 2, None))),
            0x33
        );
        assert!(!always_uv(&tap));
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, Some(&acfg), 2, None))),
            0
        );
        assert!(always_uv(&tap));
        // The MAC covers the subcommand: the same param for another one fails.
        let CValue::Map(mut pairs) = config_request(protocol, Some(&acfg), 2, None) else {
            panic!("a map");
        };
        pairs[0].1 = int(3);
        assert_eq!(tap.status(0x0D, Some(&CValue::Map(pairs))), 0x33);
        // Unknown subcommands, once authenticated.
        assert_eq!(
            tap.status(0x0D, Some(&config_request(protocol, Some(&acfg), 1, None))),
            0x3E
        );
        assert_eq!(tap.retries(), (8, false));
    }
}

#[test]
fn set_min_pin_length_rules() {
    let protocol = PinUvAuthProtocol::Two;
    let mut tap = Tap::new(68);
    let persistent = |tap: &Tap| tap.applet.authenticator().state.persistent().clone();
    let params = |pairs: Vec<(i64, CValue)>| Some(map(pairs));
    // setMinPINLength (0x03) with `pairs` and, when given, a token.
    let set_min = |tap: &mut Tap, token: Option<&[u8]>, pairs: Vec<(i64, CValue)>| {
        tap.status(
            0x0D,
            Some(&config_request(protocol, token, 3, params(pairs))),
        )
    };
    // No PIN yet: forceChangePin is PIN_NOT_SET; raising the minimum works.
    assert_eq!(set_min(&mut tap, None, vec![(3, CValue::Bool(true))]), 0x35);
    assert_eq!(set_min(&mut tap, None, vec![(1, int(5))]), 0);
    assert_eq!(persistent(&tap).min_pin_length, 5);
    assert_eq!(tap.set_pin(protocol, PIN), 0x37);
    assert_eq!(tap.set_pin(protocol, "12345"), 0);

    let acfg = tap.token(protocol, "12345", 0x20, None).unwrap();
    let send = |tap: &mut Tap, pairs| set_min(tap, Some(&acfg), pairs);
    // Never lower; too many RP IDs; then a minimum above the PIN forces a change.
    assert_eq!(send(&mut tap, vec![(1, int(4))]), 0x37);
    let ids = CValue::Array((0..4).map(|i| text(&format!("rp{i}.example"))).collect());
    assert_eq!(send(&mut tap, vec![(1, int(6)), (2, ids)]), 0x28);
    assert_eq!(persistent(&tap).min_pin_length, 5);
    let ids = CValue::Array(vec![text("rp.example")]);
    assert_eq!(send(&mut tap, vec![(1, int(6)), (2, ids)]), 0);
    let after = persistent(&tap);
    assert_eq!(after.min_pin_length, 6);
    assert_eq!(after.min_pin_length_rpids, vec!["rp.example".to_owned()]);
    assert!(after.force_pin_change);
    // A token now needs a PIN change first (0x09: PIN_POLICY_VIOLATION).
    assert_eq!(tap.token(protocol, "12345", 2, Some("a")), Err(0x37));
    assert_eq!(tap.retries(), (8, false));
}
