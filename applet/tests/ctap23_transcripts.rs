//! Byte-exact transcripts of CTAP 2.3 behaviour: requests written out by
//! hand from the specification's CBOR layouts, responses compared byte for
//! byte. Each test names the section it follows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use applet::iso::{Applet, CtapOutcome};
use client::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// Hex of a text string's bytes.
fn t(s: &str) -> String {
    hex::encode(s)
}

/// `request` → the exact reply bytes (status byte and CBOR).
fn exchange(card: &mut Card, request: &[u8]) -> Vec<u8> {
    let mut reply = Vec::new();
    let outcome = card.applet().ctap(request, false, &mut reply).unwrap();
    assert_eq!(outcome, CtapOutcome::Done);
    reply
}

/// CTAP 2.3 §6.4 authenticatorGetInfo, default profile, fresh card:
/// versions carries "FIDO_2_3" (and no "FIDO_2_2"); the response ends with
/// the CTAP 2.2/2.3 members in canonical order — 0x16 attestationFormats
/// ["packed", "none"], 0x1A transportsForReset ["nfc"], 0x1B
/// pinComplexityPolicy false, 0x1D maxPINLength 63, 0x1F
/// authenticatorConfigCommands [2, 3] — and no 0x19 / 0x1E (no persistent
/// token yet).
#[test]
fn get_info_ctap23_members_transcript() {
    let mut card = Card::new(1, Config::default(), false);
    let reply = exchange(&mut card, &h("04"));
    assert_eq!(reply[0], 0x00);
    let versions = h(&format!(
        "01 85 66{} 68{} 68{} 6C{} 68{}",
        t("U2F_V2"),
        t("FIDO_2_0"),
        t("FIDO_2_1"),
        t("FIDO_2_1_PRE"),
        t("FIDO_2_3")
    ));
    assert_eq!(
        &reply[2..2 + versions.len()],
        &versions[..],
        "map head, then 0x01"
    );
    let tail = h(&format!(
        "16 82 66{} 64{}  18 1A 81 63{}  18 1B F4  18 1D 18 3F  18 1F 82 02 03",
        t("packed"),
        t("none"),
        t("nfc")
    ));
    assert!(
        reply.ends_with(&tail),
        "getInfo tail {}",
        hex::encode(&reply[reply.len() - tail.len()..])
    );
}

/// CTAP 2.3 §6.5.5.7.2 step 4: `pcmr` together with another permission
/// (here `cm`, permissions 0x44) is CTAP2_ERR_UNAUTHORIZED_PERMISSION,
/// before the PIN is looked at; on a profile without perCredMgmtRO
/// (pocketkey) `pcmr` alone is refused the same way.
#[test]
fn pcmr_refusals_transcript() {
    let zeros = "00".repeat(32);
    // clientPIN {1: 2, 2: 9, 3: COSE_Key{1: 2, 3: -25, -1: 1, -2: x, -3: y},
    //            6: pinHashEnc (16 bytes), 9: permissions}
    let request = |perms: &str| {
        h(&format!(
            "06 A5 01 02 02 09 03 A5 01 02 03 38 18 20 01 21 58 20 {zeros} 22 58 20 {zeros} \
             06 50 {} 09 {perms}",
            "00".repeat(16)
        ))
    };
    let mut card = Card::new(2, Config::default(), false);
    assert_eq!(exchange(&mut card, &request("18 44")), h("40"));
    let mut card = Card::new(3, Config::pocketkey(), false);
    assert_eq!(exchange(&mut card, &request("18 40")), h("40"));
}

/// CTAP 2.3 §6.11.4 setMinPINLength with pinComplexityPolicy (0x04) true,
/// on a card without a PIN (no pinUvAuthParam needed): the default profile
/// turns its policy on (getInfo 0x1B becomes true); pocketkey, which has no
/// policy (no 0x1B), answers CTAP1_ERR_INVALID_PARAMETER.
#[test]
fn set_min_pin_length_pin_complexity_policy_transcript() {
    let request = h("0D A2 01 03 02 A1 04 F5");
    let mut card = Card::new(4, Config::default(), false);
    assert!(exchange(&mut card, &h("04"))
        .windows(3)
        .any(|w| w == h("18 1B F4")));
    assert_eq!(exchange(&mut card, &request), h("00"));
    let info = exchange(&mut card, &h("04"));
    assert!(info.windows(3).any(|w| w == h("18 1B F5")), "0x1B true");
    let mut card = Card::new(5, Config::pocketkey(), false);
    assert_eq!(exchange(&mut card, &request), h("02"));
}

/// CTAP 2.2 §12.9 thirdPartyPayment, §12.7 hmac-secret-mc (with
/// "hmac-secret": true; without it the input is not processed) and CTAP
/// 2.3 pinComplexityPolicy inputs of the wrong CBOR type are
/// CTAP2_ERR_CBOR_UNEXPECTED_TYPE at makeCredential, before any presence or
/// write.
#[test]
fn extension_input_types_transcript() {
    // makeCredential {1: cdh, 2: {"id": "example.com"}, 3: {"id": h'01'},
    //                 4: [{"alg": -7, "type": "public-key"}], 6: extensions}
    let request = |extensions: &str| {
        h(&format!(
            "01 A5 01 58 20 {} 02 A1 62{} 6B{} 03 A1 62{} 41 01 \
             04 81 A2 63{} 26 64{} 6A{} 06 {extensions}",
            "11".repeat(32),
            t("id"),
            t("example.com"),
            t("id"),
            t("alg"),
            t("type"),
            t("public-key"),
        ))
    };
    let cases = [
        format!("A1 71{} 01", t("thirdPartyPayment")),
        format!("A1 73{} 01", t("pinComplexityPolicy")),
        format!("A2 6B{} F5 6E{} 01", t("hmac-secret"), t("hmac-secret-mc")),
    ];
    for extensions in cases {
        let mut card = Card::new(6, Config::default(), false);
        let before = card.storage();
        assert_eq!(
            exchange(&mut card, &request(&extensions)),
            h("11"),
            "{extensions}"
        );
        assert_eq!(card.storage(), before);
    }
}
