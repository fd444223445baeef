//! Profile options and their features (CTAP 2.1 §6.4 getInfo options),
//! token lifetimes from the profile (§6.5.2.1), authenticatorSelection
//! without presence (§6.9, NFC §11.3) and `rp.name` kept with discoverable
//! credentials (§6.1.2, §6.8.3), checked by the independent client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use std::time::Duration;

use applet::config::Config;
use applet::env::Presence;
use applet::iso::CtapOutcome;
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;

const PIN: &str = "1357";
const RP: &str = "example.com";

const SELECTION: u8 = 0x0B;
const LARGE_BLOBS: u8 = 0x0C;

/// `config` with option `name` set to `value`.
fn with_option(mut config: Config, name: &str, value: bool) -> Config {
    config.options.insert(name.to_owned(), value);
    config
}

fn options(card: &mut Card) -> C {
    let info = card.ctap(GET_INFO, None).ok();
    get(&info, 4).unwrap().clone()
}

/// getPinUvAuthTokenUsingPinWithPermissions and its status only.
fn token_status(card: &mut Card, perms: u8) -> u8 {
    let mut s = Session::new(card, 2, 0x51);
    let pin_hash_enc = s.encrypt(&sha256(PIN.as_bytes())[..16]);
    let req = cmap(vec![
        (int(1), int(2)),
        (int(2), int(9)),
        (int(3), s.platform_key.clone()),
        (int(6), bytes(&pin_hash_enc)),
        (int(9), int(perms.into())),
    ]);
    card.ctap(CLIENT_PIN, Some(req)).status
}

#[test]
fn large_blobs_false_turns_large_blobs_off() {
    let config = with_option(Config::default(), "largeBlobs", false);
    config.validate().unwrap();
    let mut card = Card::new(1, config, false);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(
        get_text(get(&info, 4).unwrap(), "largeBlobs"),
        Some(&C::Bool(false))
    );
    assert!(get(&info, 0x0B).is_none(), "no maxSerializedLargeBlobArray");
    let read = cmap(vec![(int(1), int(16)), (int(3), int(0))]);
    assert_eq!(card.ctap(LARGE_BLOBS, Some(read)).status, INVALID_COMMAND);
    set_pin(&mut card, 2, PIN);
    assert_eq!(token_status(&mut card, PERM_LBW), UNAUTHORIZED_PERMISSION);
    assert_eq!(token_status(&mut card, PERM_CM), OK);
    // A size of 0 is fine when the option is off.
    let mut off = with_option(Config::default(), "largeBlobs", false);
    off.max_serialized_large_blob_array = 0;
    off.validate().unwrap();
    // ... but not when it is on.
    let mut on = off.clone();
    on.options.insert("largeBlobs".to_owned(), true);
    assert!(on.validate().is_err());
}

#[test]
fn cred_mgmt_false_turns_credential_management_off() {
    let config = with_option(
        with_option(Config::default(), "credMgmt", false),
        "credentialMgmtPreview",
        false,
    );
    let mut card = Card::new(2, config, false);
    set_pin(&mut card, 2, PIN);
    assert_eq!(token_status(&mut card, PERM_CM), UNAUTHORIZED_PERMISSION);
    let t = token(&mut card, 2, PIN, PERM_GA, Some(RP));
    for cmd in [CM_CMD, CM_PRE] {
        let r = card.ctap(cmd, Some(cm_request(1, None, Some(&t))));
        assert_eq!(r.status, INVALID_COMMAND);
    }
}

#[test]
fn rk_false_refuses_discoverable_credentials() {
    let mut card = Card::new(3, with_option(Config::default(), "rk", false), false);
    let rk = mc_request(RP, b"u", &cdh(1), &[-7], true);
    assert_eq!(card.ctap(MC, Some(rk)).status, UNSUPPORTED_OPTION);
    let info = card.ctap(GET_INFO, None).ok();
    assert!(
        get(&info, 0x14).is_none(),
        "no remainingDiscoverableCredentials"
    );
    // Non-discoverable credentials still work.
    let plain = mc_request(RP, b"u", &cdh(1), &[-7], false);
    assert_eq!(card.ctap(MC, Some(plain)).status, OK);
}

#[test]
fn make_cred_uv_not_rqd_false_needs_uv_once_a_pin_is_set() {
    for (value, want) in [(true, OK), (false, PUAT_REQUIRED)] {
        let config = with_option(Config::default(), "makeCredUvNotRqd", value);
        let mut card = Card::new(4, config, false);
        set_pin(&mut card, 2, PIN);
        let plain = mc_request(RP, b"u", &cdh(1), &[-7], false);
        assert_eq!(card.ctap(MC, Some(plain)).status, want, "{value}");
    }
}

#[test]
fn authnr_cfg_false_turns_config_and_always_uv_off() {
    let mut card = Card::new(5, with_option(Config::default(), "authnrCfg", false), false);
    assert!(get_text(&options(&mut card), "alwaysUv").is_none());
    assert_eq!(config(&mut card, 0x02, None, None).status, INVALID_COMMAND);
    set_pin(&mut card, 2, PIN);
    assert_eq!(token_status(&mut card, PERM_ACFG), UNAUTHORIZED_PERMISSION);
}

#[test]
fn get_info_lists_always_uv_with_its_value_where_it_can_be_toggled() {
    // pocketkey, like the ACS card's MDS entry, has no alwaysUv: not listed,
    // and toggleAlwaysUv is a subcommand it does not have.
    let mut card = Card::new(6, Config::pocketkey(), false);
    assert!(get_text(&options(&mut card), "alwaysUv").is_none());
    assert_eq!(
        config(&mut card, 0x02, None, None).status,
        INVALID_SUBCOMMAND
    );
    assert!(get_text(&options(&mut card), "alwaysUv").is_none());
    {
        let mut card = Card::new(6, Config::default(), false);
        assert_eq!(
            get_text(&options(&mut card), "alwaysUv"),
            Some(&C::Bool(false))
        );
        // toggleAlwaysUv needs no token on a card without a PIN.
        assert_eq!(
            get_text(&options(&mut card), "makeCredUvNotRqd"),
            Some(&C::Bool(true))
        );
        assert_eq!(config(&mut card, 0x02, None, None).status, OK);
        assert_eq!(
            get_text(&options(&mut card), "alwaysUv"),
            Some(&C::Bool(true))
        );
        assert_eq!(
            get_text(&options(&mut card), "makeCredUvNotRqd"),
            Some(&C::Bool(false)),
            "CTAP 2.1 §6.4: makeCredUvNotRqd is false while alwaysUv is on"
        );
        card.restart();
        assert_eq!(
            get_text(&options(&mut card), "alwaysUv"),
            Some(&C::Bool(true)),
            "kept across a restart"
        );
        set_pin(&mut card, 2, PIN);
        let t = token(&mut card, 2, PIN, PERM_ACFG, None);
        assert_eq!(config(&mut card, 0x02, None, Some(&t)).status, OK);
        assert_eq!(
            get_text(&options(&mut card), "alwaysUv"),
            Some(&C::Bool(false))
        );
    }
}

/// getAssertion for `cred` with UV through `t`.
fn ga_with_token(card: &mut Card, cred: &Registered, t: &Token) -> u8 {
    let req = with(
        ga_request(RP, &cdh(2), &[&cred.id]),
        vec![(int(6), bytes(&t.param(&cdh(2)))), (int(7), int(2))],
    );
    card.ctap(GA, Some(req)).status
}

#[test]
fn token_lifetimes_come_from_the_profile() {
    let short = Config {
        token_initial_usage_secs: 5,
        token_max_lifetime_secs: 30,
        ..Config::default()
    };
    short.validate().unwrap();
    let too_long = Config {
        token_initial_usage_secs: 31,
        ..short.clone()
    };
    assert!(too_long.validate().is_err());
    for (config, unused_for, expected) in [
        (short.clone(), 6, PIN_AUTH_INVALID),
        (short, 4, OK),
        (Config::default(), 6, OK),
        (Config::default(), 20, PIN_AUTH_INVALID),
    ] {
        let mut card = Card::new(7, config, false);
        let cred = register(&mut card, RP, b"u", -7, false);
        set_pin(&mut card, 2, PIN);
        let t = token(&mut card, 2, PIN, PERM_GA, Some(RP));
        card.env().presence = Presence::Touched;
        card.env().advance(Duration::from_secs(unused_for));
        assert_eq!(
            ga_with_token(&mut card, &cred, &t),
            expected,
            "{unused_for} s"
        );
    }
    // Used in time, a token still ends at the profile's maximum lifetime.
    let short = Config {
        token_initial_usage_secs: 5,
        token_max_lifetime_secs: 30,
        ..Config::default()
    };
    let mut card = Card::new(8, short, false);
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_CM, None);
    let metadata = |card: &mut Card| cm(card, 1, None, Some(&t)).status;
    assert_eq!(metadata(&mut card), OK);
    card.env().advance(Duration::from_secs(10));
    assert_eq!(metadata(&mut card), OK, "used: past the initial window");
    card.env().advance(Duration::from_secs(21));
    assert_eq!(metadata(&mut card), PIN_AUTH_INVALID, "past 30 s");
}

#[test]
fn selection_without_presence_times_out_or_polls() {
    let mut card = Card::new(9, Config::default(), false);
    assert_eq!(card.ctap(SELECTION, None).status, OK);
    card.env().presence = Presence::Withheld;
    let before = card.storage();
    // A client that cannot wait: CTAP2_ERR_USER_ACTION_TIMEOUT, never
    // OPERATION_DENIED (no user declined anything).
    let r = card.ctap(SELECTION, None);
    assert_eq!((r.status, r.body), (USER_ACTION_TIMEOUT, None));
    // A client that may wait polls (91 00).
    let mut reply = Vec::new();
    let outcome = applet::iso::Applet::ctap(card.applet(), &[SELECTION], true, &mut reply).unwrap();
    assert_eq!(outcome, CtapOutcome::UserPresenceNeeded);
    assert!(reply.is_empty());
    assert_eq!(card.storage(), before);
    card.env().presence = Presence::Touched;
    assert_eq!(card.ctap(SELECTION, None).status, OK);
}

#[test]
fn set_min_pin_length_false_refuses_the_subcommand() {
    let profile = with_option(Config::default(), "setMinPINLength", false);
    let mut card = Card::new(10, profile, false);
    let info = card.ctap(GET_INFO, None).ok();
    assert!(get(&info, 0x10).is_none(), "no maxRPIDsForSetMinPINLength");
    let params = cmap(vec![(int(1), int(6))]);
    let r = config_status(&mut card, 0x03, params);
    assert_eq!(r, INVALID_SUBCOMMAND);
    // toggleAlwaysUv still works.
    assert_eq!(config(&mut card, 0x02, None, None).status, OK);
}

fn config_status(card: &mut Card, sub: u8, params: C) -> u8 {
    config(card, sub, Some(params), None).status
}

#[test]
fn pin_uv_auth_token_false_leaves_only_get_pin_token() {
    let profile = with_option(Config::default(), "pinUvAuthToken", false);
    let mut card = Card::new(11, profile, false);
    set_pin(&mut card, 2, PIN);
    assert_eq!(token_status(&mut card, PERM_CM), INVALID_SUBCOMMAND);
    // getPinToken (0x05) still issues a token.
    let mut s = Session::new(&mut card, 2, 0x52);
    let pin_hash_enc = s.encrypt(&sha256(PIN.as_bytes())[..16]);
    let req = cmap(vec![
        (int(1), int(2)),
        (int(2), int(5)),
        (int(3), s.platform_key.clone()),
        (int(6), bytes(&pin_hash_enc)),
    ]);
    let resp = card.ctap(CLIENT_PIN, Some(req)).ok();
    assert_eq!(s.decrypt(&as_bytes(get(&resp, 2).unwrap())).len(), 32);
}

/// `ep` present (even `false`) claims enterprise-attestation capability
/// (CTAP 2.1 §6.4), and a capable card must accept enableEnterpriseAttestation
/// (§6.11.1). The card refuses it, so it must not list `ep` at all, whatever
/// the profile says (python-fido2's device tests enable ep when it is listed).
#[test]
fn ep_is_not_listed_since_enterprise_attestation_cannot_be_enabled() {
    for claimed in [false, true] {
        let mut card = Card::new(12, with_option(Config::default(), "ep", claimed), false);
        assert_eq!(get_text(&options(&mut card), "ep"), None, "ep {claimed}");
        // enableEnterpriseAttestation (0x01), without a PIN: no such subcommand.
        assert_eq!(
            config(&mut card, 0x01, None, None).status,
            INVALID_SUBCOMMAND
        );
    }
}
