//! Every builtin profile (the `[fido]` tables of the profile files the
//! card ships) gets the behaviour its getInfo claims: each listed version,
//! extension and option is exercised through the CTAP2 entry point and
//! must work, each CTAP 2.3 member (CTAP 2.3 §6.4) must describe what the
//! card does. A feature getInfo lists without a check here fails the test,
//! so a new claim cannot go untested.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use ciborium::Value as C;
use client::cred::*;
use client::pin::*;
use client::status::*;
use client::*;

const RP: &str = "example.com";
const PIN: &str = "a1b2c3d4";

/// The builtin profiles, as the card binary embeds them.
const BUILTIN: [(&str, &str); 2] = [
    ("default", include_str!("../../profiles/default.toml")),
    ("pocketkey", include_str!("../../profiles/pocketkey.toml")),
];

fn load(text: &str) -> Config {
    let value: toml::Value = toml::from_str(text).unwrap();
    let fido = value.get("fido").unwrap().clone();
    let config: Config = fido.try_into().unwrap();
    config.validate().unwrap();
    config
}

fn strings(v: &C) -> Vec<String> {
    let C::Array(items) = v else { panic!() };
    items
        .iter()
        .map(|t| match t {
            C::Text(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// makeCredential with `extensions` and a PIN token; the response.
fn mc(card: &mut Card, user: &[u8], rk: bool, extensions: C, extra: Vec<(C, C)>) -> C {
    let tok = token(card, 2, PIN, PERM_MC | PERM_GA, Some(RP));
    let mut pairs = vec![
        (int(6), extensions),
        (int(8), bytes(&tok.param(&cdh(1)))),
        (int(9), int(2)),
    ];
    pairs.extend(extra);
    card.ctap(
        MC,
        Some(with(mc_request(RP, user, &cdh(1), &[-7], rk), pairs)),
    )
    .ok()
}

fn ed(resp: &C) -> C {
    parse_auth_data(&as_bytes(get(resp, 2).unwrap()))
        .extensions
        .unwrap_or(C::Map(vec![]))
}

/// Exercise one extension getInfo lists.
fn check_extension(card: &mut Card, info: &C, name: &str) {
    let t = C::Bool(true);
    match name {
        "credProtect" => {
            let r = mc(card, b"cp", false, ext(vec![(name, int(2))]), vec![]);
            assert_eq!(as_int(get_text(&ed(&r), name).unwrap()), 2);
        }
        "credBlob" => {
            let r = mc(card, b"cb", true, ext(vec![(name, bytes(b"blob"))]), vec![]);
            assert_eq!(get_text(&ed(&r), name), Some(&C::Bool(true)));
        }
        "hmac-secret" => {
            let r = mc(card, b"hs", false, ext(vec![(name, t)]), vec![]);
            assert_eq!(get_text(&ed(&r), name), Some(&C::Bool(true)));
        }
        "hmac-secret-mc" => {
            let mut s = Session::new(card, 2, 5);
            let input = s.hmac_secret_input(&[3; 32], false);
            let e = ext(vec![("hmac-secret", t), (name, input)]);
            let r = mc(card, b"hm", false, e, vec![]);
            let out = as_bytes(get_text(&ed(&r), name).unwrap());
            assert_eq!(s.decrypt(&out).len(), 32);
        }
        "largeBlobKey" => {
            let r = mc(card, b"lb", true, ext(vec![(name, t)]), vec![]);
            assert_eq!(as_bytes(get(&r, 5).unwrap()).len(), 32);
        }
        "minPinLength" => {
            let min = u8::try_from(as_int(get(info, 0x0D).unwrap())).unwrap();
            set_min_pin_length(card, PIN, min, &[RP]);
            let r = mc(card, b"mp", false, ext(vec![(name, t)]), vec![]);
            assert_eq!(as_int(get_text(&ed(&r), name).unwrap()), i128::from(min));
        }
        "pinComplexityPolicy" => {
            let r = mc(card, b"pc", false, ext(vec![(name, t)]), vec![]);
            assert_eq!(get_text(&ed(&r), name), get(info, 0x1B));
        }
        "thirdPartyPayment" => {
            let r = mc(card, b"tp", false, ext(vec![(name, t.clone())]), vec![]);
            let aaguid = card.config.aaguid.0;
            let cred = check_registration(&r, RP, &cdh(1), &aaguid);
            let req = with(
                ga_request(RP, &cdh(2), &[&cred.id]),
                vec![(int(4), ext(vec![(name, t)]))],
            );
            let resp = card.ctap(GA, Some(req)).ok();
            let ad = check_assertion(&resp, RP, &cdh(2), &cred);
            assert_eq!(
                get_text(&ad.extensions.unwrap(), name),
                Some(&C::Bool(true))
            );
        }
        other => panic!("getInfo lists extension {other} and nothing here checks it"),
    }
}

/// Exercise one option getInfo lists as true (or stateful).
fn check_option(card: &mut Card, name: &str, value: bool) {
    match name {
        "rk" | "up" => {
            mc(card, b"rk", value && name == "rk", ext(vec![]), vec![]);
        }
        "clientPin" => assert!(value, "a PIN is set"),
        "alwaysUv" => {
            let tok = token(card, 2, PIN, PERM_ACFG, None);
            assert_eq!(config(card, 0x02, None, Some(&tok)).status, 0);
            let tok = token(card, 2, PIN, PERM_ACFG, None);
            assert_eq!(config(card, 0x02, None, Some(&tok)).status, 0);
        }
        "pinUvAuthToken" => {
            token(card, 2, PIN, PERM_GA, Some(RP));
        }
        "credMgmt" | "credentialMgmtPreview" => {
            let t = token(card, 2, PIN, PERM_CM, None);
            let cmd = if name == "credMgmt" { CM_CMD } else { CM_PRE };
            card.ctap(cmd, Some(cm_request(1, None, Some(&t)))).ok();
        }
        "authnrCfg" | "setMinPINLength" => {
            let tok = token(card, 2, PIN, PERM_ACFG, None);
            assert_eq!(config(card, 0x03, Some(cmap(vec![])), Some(&tok)).status, 0);
        }
        "makeCredUvNotRqd" => {
            let r = card.ctap(MC, Some(mc_request(RP, b"nr", &cdh(1), &[-7], false)));
            assert_eq!(r.status, 0, "non-discoverable without a token");
        }
        "largeBlobs" => {
            let r = card.ctap(0x0C, Some(cmap(vec![(int(1), int(64)), (int(3), int(0))])));
            assert!(get(&r.ok(), 1).is_some());
        }
        "perCredMgmtRO" => {
            let t = token(card, 2, PIN, 0x40, None);
            card.ctap(CM_CMD, Some(cm_request(1, None, Some(&t)))).ok();
            card.power_cycle();
            card.ctap(CM_CMD, Some(cm_request(1, None, Some(&t)))).ok();
        }
        other => panic!("getInfo lists option {other} and nothing here checks it"),
    }
}

/// The CTAP 2.2/2.3 members describe the card.
fn check_ctap23_members(card: &mut Card, info: &C) {
    if let Some(formats) = get(info, 0x16) {
        for f in strings(formats) {
            let r = mc(
                card,
                b"af",
                false,
                ext(vec![]),
                vec![(int(0x0B), C::Array(vec![text(&f)]))],
            );
            assert_eq!(get(&r, 1), Some(&text(&f)), "attestationFormats {f}");
        }
    }
    if let Some(C::Array(cmds)) = get(info, 0x1F) {
        let listed: Vec<u8> = cmds
            .iter()
            .map(|c| u8::try_from(as_int(c)).unwrap())
            .collect();
        for sub in [0x01u8, 0x02, 0x03, 0x04, 0xFF] {
            let tok = token(card, 2, PIN, PERM_ACFG, None);
            let params = (sub == 0x03).then(|| cmap(vec![]));
            let status = config(card, sub, params, Some(&tok)).status;
            assert_eq!(
                status != INVALID_SUBCOMMAND,
                listed.contains(&sub),
                "authenticatorConfigCommands lists {listed:?}; subcommand {sub:#x} answers {status:#x}"
            );
            if sub == 0x02 && listed.contains(&sub) {
                let tok = token(card, 2, PIN, PERM_ACFG, None);
                config(card, sub, None, Some(&tok)).ok();
            }
        }
    }
    if let Some(max) = get(info, 0x1D) {
        let max = usize::try_from(as_int(max)).unwrap();
        let long: String = "ab".repeat(40).chars().take(max + 1).collect();
        assert_ne!(change_pin_status(card, PIN, &long), 0, "maxPINLength {max}");
        if max < 64 {
            let ok: String = "ba".repeat(40).chars().take(max).collect();
            assert_eq!(change_pin_status(card, PIN, &ok), 0);
            assert_eq!(change_pin_status(card, &ok, PIN), 0);
        }
    }
    if let Some(t) = get(info, 0x1A) {
        assert!(
            strings(t).contains(&"nfc".to_owned()),
            "reset over NFC works"
        );
    }
}

#[test]
fn builtin_profiles_behave_as_their_get_info_claims() {
    for (n, (name, text)) in BUILTIN.iter().enumerate() {
        let config = load(text);
        let mut card = Card::new(100 + u64::try_from(n).unwrap(), config.clone(), false);
        set_pin(&mut card, 2, PIN);
        let info = card.ctap(GET_INFO, None).ok();
        let versions = strings(get(&info, 1).unwrap());
        assert!(!versions.contains(&"FIDO_2_2".to_owned()), "{name}");
        if versions.contains(&"FIDO_2_3".to_owned()) {
            assert!(versions.contains(&"FIDO_2_1".to_owned()), "{name}");
            // A 2.3 card sends 0x1F (python-fido2 then refuses unlisted
            // subcommands) when it has authenticatorConfig.
            assert!(get(&info, 0x1F).is_some(), "{name}");
        }
        for e in strings(get(&info, 2).unwrap()) {
            check_extension(&mut card, &info, &e);
        }
        let C::Map(options) = get(&info, 4).unwrap().clone() else {
            panic!()
        };
        for (k, v) in options {
            let (C::Text(k), C::Bool(v)) = (k, v) else {
                panic!()
            };
            if v || k == "alwaysUv" {
                check_option(&mut card, &k, v);
            }
        }
        check_ctap23_members(&mut card, &info);
        // The profile file and the built-in constructor agree.
        let builtin = match *name {
            "default" => Config::default(),
            _ => Config::pocketkey(),
        };
        assert_eq!(config, builtin, "{name}.toml and Config agree");
    }
}
