//! SELECT routing by AID and refusal of commands before SELECT.

use super::{Harness, FIDO_2_0_OK, SELECT_ECHO, SELECT_FIDO};

#[test]
fn select_forms() {
    let mut hn = Harness::new();
    hn.run(&[
        // Case 3 (no Le).
        ("00 A4 04 00 08 A0 00 00 06 47 2F 00 01", FIDO_2_0_OK),
        // Case 4 short.
        (SELECT_FIDO, FIDO_2_0_OK),
        // Case 4 extended.
        (
            "00 A4 04 00 00 00 08 A0 00 00 06 47 2F 00 01 00 00",
            FIDO_2_0_OK,
        ),
        // Case 3 extended.
        ("00 A4 04 00 00 00 08 A0 00 00 06 47 2F 00 01", FIDO_2_0_OK),
        // P2 0C: no response data.
        ("00 A4 04 0C 08 A0 00 00 06 47 2F 00 01", "90 00"),
    ]);
    assert_eq!(hn.log().select, 5);
}

#[test]
fn unknown_or_extended_aid_and_wrong_p1() {
    let mut hn = Harness::new();
    hn.run(&[
        ("00 A4 04 00 09 A0 00 00 06 47 2F 00 01 FF 00", "6A 82"),
        ("00 A4 04 00 07 A0 00 00 06 47 2F 00 00", "6A 82"),
        ("00 A4 04 00 05 A0 00 00 03 08 00", "6A 82"),
        ("00 A4 04 00", "6A 82"),
        ("00 A4 00 00 02 3F 00", "6A 86"),
        ("00 A4 02 00 08 A0 00 00 06 47 2F 00 01", "6A 86"),
        ("00 A4 04 04 08 A0 00 00 06 47 2F 00 01", "6A 86"),
    ]);
    assert_eq!(hn.log().select, 0);
}

#[test]
fn commands_before_select_are_refused() {
    let mut hn = Harness::new();
    hn.run(&[
        ("80 10 80 00 01 04 00", "69 85"),
        ("80 11 00 00", "69 85"),
        ("80 12 01 00", "69 85"),
        ("00 01 00 00 01 40", "69 85"),
        ("00 EE 00 00 01 AA", "69 85"),
        // A failed SELECT does not select anything.
        ("00 A4 04 00 02 AA BB", "6A 82"),
        ("00 EE 00 00 01 AA", "69 85"),
    ]);
    let log = hn.log();
    assert_eq!((log.process, log.ctap, log.end_session), (0, 0, 0));
}

#[test]
fn failed_select_keeps_the_current_applet() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_FIDO, FIDO_2_0_OK),
        ("00 A4 04 00 02 AA BB", "6A 82"),
        ("80 10 00 00 01 04", "00 A0 90 00"),
    ]);
    assert_eq!(hn.log().deselect, 0);
}

#[test]
fn switching_applets_deselects_and_reselect_calls_select_again() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK), (SELECT_FIDO, FIDO_2_0_OK)]);
    assert_eq!((hn.log().select, hn.log().deselect), (2, 0));
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("00 EE 00 00 01 AA", "AA 90 00"),
        // The echo applet has no CTAP: trait default 6D 00.
        ("80 10 00 00 01 04 00", "6D 00"),
    ]);
    assert_eq!(
        (hn.log().select, hn.log().deselect, hn.log().ctap),
        (2, 1, 0)
    );
    assert_eq!(hn.bridge.selected_aid(), Some(&crate::echo::ECHO_AID[..]));
}
