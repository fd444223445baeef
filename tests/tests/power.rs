//! Taps through the control API: `GET /usb{N}/power/off` takes the card out of the reader
//! (pcscd sees it removed), `GET /usb{N}/power/on` puts it back (a new field: nothing
//! selected).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::apdu::short;
use e2e::card::CARD_TIMEOUT;
use e2e::{Card, CardOptions, ECHO_AID, INS_ECHO};

#[test]
fn power_off_removes_the_card_and_power_on_brings_it_back() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::echo());
    let status = card.control("/");
    assert!(status.body.contains("\"usb\""), "status: {}", status.body);
    let conn = card.connect();
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    conn.expect(
        &short(0x00, INS_ECHO, 0, 0, &[1, 2, 3], Some(256)),
        &[1, 2, 3, 0x90, 0x00],
    );

    card.power(false);
    let atr = card.reader().wait(false, CARD_TIMEOUT).unwrap();
    assert!(atr.is_empty());
    // The old handle is dead, and a new connection finds no card.
    assert!(
        conn.try_transmit(&e2e::select(&ECHO_AID)).is_err(),
        "transmit to a removed card"
    );
    drop(conn);
    let err = card.reader().connect().unwrap_err();
    assert!(err.contains("SCardConnect"), "{err}");

    card.power(true);
    let atr = card.reader().wait(true, CARD_TIMEOUT).unwrap();
    assert!(!atr.is_empty());
    let conn = card.connect();
    // A new field: the echo applet is no longer selected.
    conn.expect(
        &short(0x00, INS_ECHO, 0, 0, &[1, 2, 3], Some(256)),
        &[0x69, 0x85],
    );
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    conn.expect(
        &short(0x00, INS_ECHO, 0, 0, &[4, 5], Some(256)),
        &[4, 5, 0x90, 0x00],
    );

    // Touch is accepted (presence is the tap on NFC).
    let _ = card.control(&format!("/usb{}/touch/on", card.reader().slot));
    let _ = card.control(&format!("/usb{}/touch/off", card.reader().slot));
}
