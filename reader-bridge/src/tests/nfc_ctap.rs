//! NFC CTAP instructions: NFCCTAP_MSG, 91 00 status updates only with P1
//! bit 0x80, NFCCTAP_GETRESPONSE re-submission and cancel, end of session.

use super::{Harness, FIDO_2_0_OK, SELECT_FIDO};

fn selected() -> Harness {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK)]);
    hn
}

#[test]
fn msg_done() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 00 00 01 04 00", "00 A0 90 00"),
        ("80 10 80 00 01 04 00", "00 A0 90 00"),
        ("80 10 00 00 01 04", "00 A0 90 00"),
        ("80 10 00 00 00 00 01 04", "00 A0 90 00"),
    ]);
    assert_eq!(hn.log().ctap, 4);
}

#[test]
fn presence_wait_with_p1_80() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 80 00 03 01 AA BB 00", "02 91 00"),
        ("80 11 00 00", "02 91 00"),
        ("80 11 00 00 00", "02 91 00"),
    ]);
    assert_eq!(
        hn.log().last_ctap.clone().unwrap(),
        (vec![0x01, 0xAA, 0xBB], true)
    );
    hn.give_presence();
    hn.run(&[
        ("80 11 00 00", "00 AA BB 90 00"),
        // Done: nothing pending any more.
        ("80 11 00 00", "69 85"),
    ]);
    assert_eq!(hn.log().ctap, 4);
}

#[test]
fn no_9100_without_p1_80() {
    let mut hn = selected();
    hn.run(&[
        // The applet answers by itself (OPERATION_DENIED in the fake).
        ("80 10 00 00 03 01 AA BB 00", "27 90 00"),
        ("80 11 00 00", "69 85"),
        // An applet that asks to wait anyway: the bridge answers
        // CTAP2_ERR_USER_ACTION_TIMEOUT, never 91 00.
        ("80 10 00 00 01 0F 00", "2F 90 00"),
        ("80 11 00 00", "69 85"),
        // With the bit the same request gets the status update.
        ("80 10 80 00 01 0F 00", "02 91 00"),
    ]);
}

#[test]
fn cancel() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 80 00 01 01 00", "02 91 00"),
        ("80 11 11 00", "2D 90 00"),
        ("80 11 00 00", "69 85"),
        ("80 11 11 00", "69 85"),
    ]);
    assert_eq!(hn.log().ctap, 1);
}

#[test]
fn other_command_drops_the_waiting_request() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 80 00 01 01 00", "02 91 00"),
        ("80 10 00 00 01 04 00", "00 A0 90 00"),
        ("80 11 00 00", "69 85"),
        ("80 10 80 00 01 01 00", "02 91 00"),
        (SELECT_FIDO, FIDO_2_0_OK),
        ("80 11 00 00", "69 85"),
    ]);
}

#[test]
fn long_answer_after_waiting_is_paged() {
    let mut hn = selected();
    hn.give_presence();
    let mut req = vec![0x80, 0x10, 0x80, 0x00, 0x03, 0x01];
    req.extend([0x55; 2]);
    req.push(0x00);
    assert_eq!(hn.send(&req), super::h("00 55 55 90 00"));
    // A large getresponse answer is paged with 61 XX.
    let first = hn.send(&super::h("80 10 80 00 03 0C 01 F4 00"));
    let (got, sw, frames) = super::collect(&mut hn, first, 0x00, 0x00);
    assert_eq!((sw, frames), (0x9000, 2));
    assert_eq!(got, [vec![0x00], super::fake_bytes(500)].concat());
}

#[test]
fn end_of_session() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 80 00 01 01 00", "02 91 00"),
        ("80 12 01 00", "90 00"),
        ("80 11 00 00", "69 85"),
    ]);
    assert_eq!(hn.log().end_session, 1);
    assert_eq!(hn.log().power_off, 0);
}

/// CTAP 2.3 §11.3.4 "Applet deselection": after `80 12 01 00` CTAP commands
/// are refused until the next SELECT; other P1 values are `6A 86` and keep
/// the selection.
#[test]
fn control_end_deselects_until_the_next_select() {
    let mut hn = selected();
    hn.run(&[
        ("80 12 02 00", "6A 86"),
        ("80 10 00 00 01 04 00", "00 A0 90 00"),
        ("80 12 01 00", "90 00"),
        ("80 10 00 00 01 04 00", "69 85"),
        ("80 10 80 00 01 04 00", "69 85"),
        ("80 12 01 00", "69 85"),
        (SELECT_FIDO, FIDO_2_0_OK),
        ("80 10 00 00 01 04 00", "00 A0 90 00"),
    ]);
    assert_eq!(hn.log().ctap, 2);
}

#[test]
fn end_of_session_clears_pending_response() {
    let mut hn = selected();
    let r = hn.send(&super::h("80 10 00 00 03 0C 01 F4 00"));
    // 501 bytes: 256 now, 245 (F5) announced.
    assert_eq!(&r[256..], &super::h("61 F5")[..]);
    hn.run(&[("80 12 01 00", "90 00"), ("80 C0 00 00 00", "69 85")]);
}

#[test]
fn malformed_or_get_response_drops_the_waiting_request() {
    let mut hn = selected();
    hn.run(&[
        ("80 10 80 00 01 01 00", "02 91 00"),
        ("80 11 00", "67 00"),
        ("80 11 00 00", "69 85"),
        ("80 10 80 00 01 01 00", "02 91 00"),
        ("00 C0 00 00 00", "69 85"),
        ("80 11 00 00", "69 85"),
    ]);
}
