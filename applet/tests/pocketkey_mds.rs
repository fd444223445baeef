//! The pocketkey profile is the card: its getInfo equals the
//! authenticatorGetInfo of the public FIDO metadata entry "ACS FIDO
//! Authenticator Card" (AAGUID 973446ca-e21c-9a9b-99f5-9b985a67af0f), key by
//! key. The entry's values are written out here as facts, not read from the
//! profile. The one key tapfido adds, 0x14 remainingDiscoverableCredentials,
//! is explained in the README.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use ciborium::Value as C;
use client::pin::*;
use client::*;

fn b(v: bool) -> C {
    C::Bool(v)
}

/// The MDS entry's authenticatorGetInfo, in its own field order.
fn mds_get_info() -> Vec<(i64, C)> {
    vec![
        (
            0x01,
            texts(&["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"]),
        ),
        (
            0x02,
            texts(&["credBlob", "credProtect", "hmac-secret", "minPinLength"]),
        ),
        (
            0x03,
            bytes(&hex::decode("973446cae21c9a9b99f59b985a67af0f").unwrap()),
        ),
        (
            0x04,
            cmap(vec![
                (text("plat"), b(false)),
                (text("rk"), b(true)),
                (text("up"), b(true)),
                (text("clientPin"), b(false)),
                (text("pinUvAuthToken"), b(true)),
                (text("ep"), b(false)),
                (text("authnrCfg"), b(true)),
                (text("credMgmt"), b(true)),
                (text("credentialMgmtPreview"), b(true)),
                (text("setMinPINLength"), b(true)),
                (text("makeCredUvNotRqd"), b(true)),
            ]),
        ),
        (0x05, int(2048)),
        (0x06, C::Array(vec![int(1), int(2)])),
        (0x07, int(6)),
        (0x08, int(104)),
        (0x09, texts(&["nfc"])),
        (
            0x0A,
            C::Array(vec![cmap(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key")),
            ])]),
        ),
        (0x0C, b(false)),
        (0x0D, int(4)),
        (0x0E, int(10000)),
        (0x0F, int(64)),
        (0x10, int(3)),
    ]
}

#[test]
fn pocketkey_get_info_is_the_mds_entry_key_by_key() {
    // As `tapfido card` serves it: with an attestation CA.
    let mut card = Card::new(1, Config::pocketkey(), true);
    let info = card.ctap(GET_INFO, None).ok();
    let C::Map(pairs) = &info else { panic!() };
    for (key, want) in mds_get_info() {
        assert_eq!(get(&info, key), Some(&want), "getInfo key {key:#04x}");
    }
    let keys: Vec<i128> = pairs.iter().map(|(k, _)| as_int(k)).collect();
    let mut want: Vec<i128> = mds_get_info().iter().map(|(k, _)| i128::from(*k)).collect();
    want.push(0x14);
    want.sort_unstable();
    assert_eq!(keys, want, "no key the entry lacks but 0x14");
    assert_eq!(as_int(get(&info, 0x14).unwrap()), 50);
}

#[test]
fn what_the_entry_leaves_out_the_card_does_not_do() {
    let mut card = Card::new(2, Config::pocketkey(), true);
    // No alwaysUv in the entry: toggleAlwaysUv is a subcommand the card lacks.
    assert_eq!(config(&mut card, 0x02, None, None).status, 0x3E);
    // No largeBlobs: authenticatorLargeBlobs is not a command here.
    assert_eq!(
        card.ctap(0x0C, Some(cmap(vec![(int(1), int(16)), (int(3), int(0))])))
            .status,
        0x01
    );
    // No FIDO_2_2 / FIDO_2_3, no attestationFormats (0x16).
    let info = card.ctap(GET_INFO, None).ok();
    assert!(get(&info, 0x16).is_none());
    // Once a PIN is set clientPin turns true, as on any card.
    set_pin(&mut card, 1, "1357");
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(
        get_text(get(&info, 4).unwrap(), "clientPin"),
        Some(&b(true))
    );
}
