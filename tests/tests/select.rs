//! SELECT through pcscd (nfc-ctap.md §1, ISO/IEC 7816-4 §11.2.2): the FIDO AID with and
//! without Le, short and extended; unknown AIDs; commands before any SELECT.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::apdu::{extended, short};
use e2e::{Card, CardOptions, ECHO_AID, FIDO_AID};

/// "U2F_V2" 90 00: the FIDO applet's answer when U2F is enabled (U2F NFC §5.2).
const U2F_V2_OK: &[u8] = b"U2F_V2\x90\x00";

fn fido_card(profile: Option<&str>) -> Card {
    let stack = e2e::stack().unwrap();
    Card::start(
        stack,
        CardOptions {
            profile: profile.map(str::to_owned),
            echo: true,
            ..CardOptions::default()
        },
    )
}

fn select_variants(profile: Option<&str>) {
    let card = fido_card(profile);
    let conn = card.connect();
    // Case 4S, Le = 00 (python-fido2).
    conn.expect(
        &short(0x00, 0xA4, 0x04, 0x00, &FIDO_AID, Some(256)),
        U2F_V2_OK,
    );
    // Case 3S, no Le (some readers / clients).
    conn.expect(&short(0x00, 0xA4, 0x04, 0x00, &FIDO_AID, None), U2F_V2_OK);
    // Case 4E, Le = 00 00 (Android).
    conn.expect(
        &extended(0x00, 0xA4, 0x04, 0x00, &FIDO_AID, Some(65536)),
        U2F_V2_OK,
    );
    // Case 3E, no Le.
    conn.expect(
        &extended(0x00, 0xA4, 0x04, 0x00, &FIDO_AID, None),
        U2F_V2_OK,
    );
    // Case 4S with a small Le: answered through 61 XX / GET RESPONSE, never more than Ne.
    let resp = conn.transmit(&short(0x00, 0xA4, 0x04, 0x00, &FIDO_AID, Some(2)));
    assert_eq!(resp, [b'U', b'2', 0x61, 0x04], "Ne = 2");
    conn.expect(
        &short(0x00, 0xC0, 0x00, 0x00, &[], Some(4)),
        b"F_V2\x90\x00",
    );
}

#[test]
fn select_fido_aid_default_profile() {
    let _ = e2e::require_stack!();
    select_variants(None);
}

#[test]
fn select_fido_aid_pocketkey_profile() {
    let _ = e2e::require_stack!();
    select_variants(Some("pocketkey"));
}

#[test]
fn unknown_aid_and_longer_aid_are_not_found() {
    let _ = e2e::require_stack!();
    let card = fido_card(None);
    let conn = card.connect();
    conn.expect(
        &e2e::select(&[0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10]),
        &[0x6A, 0x82],
    );
    let mut longer = FIDO_AID.to_vec();
    longer.push(0x00);
    conn.expect(&e2e::select(&longer), &[0x6A, 0x82]);
    // The echo applet is only there with --echo, which this card has.
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    // A re-SELECT of FIDO works after all that.
    conn.expect(&e2e::select(&FIDO_AID), U2F_V2_OK);
}

#[test]
fn commands_before_select_are_refused_after_every_power_up() {
    let _ = e2e::require_stack!();
    let card = fido_card(None);
    // CTAP2 getInfo (NFCCTAP_MSG) and U2F VERSION, before any SELECT: 69 85.
    let get_info = short(0x80, 0x10, 0x00, 0x00, &[0x04], Some(256));
    let version = short(0x00, 0x03, 0x00, 0x00, &[], Some(256));
    let conn = card.connect();
    conn.expect(&get_info, &[0x69, 0x85]);
    conn.expect(&version, &[0x69, 0x85]);
    conn.expect(&e2e::select(&FIDO_AID), U2F_V2_OK);
    conn.expect(&version, b"U2F_V2\x90\x00");
    // Power the card down: the next field starts with nothing selected.
    conn.unpower();
    let conn = card.connect();
    conn.expect(&version, &[0x69, 0x85]);
    conn.expect(&e2e::select(&FIDO_AID), U2F_V2_OK);
    conn.expect(&version, b"U2F_V2\x90\x00");
}
