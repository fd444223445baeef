//! One-byte commands through pcscd + vpcd (vpcd-stack.md §2): vpcd forwards a client's
//! one-byte `SCardTransmit` as a one-byte frame and waits for a reply with no timeout. Every
//! one that is not a vpcd control code is answered `67 00` (ISO/IEC 7816-4 §5.6, wrong
//! length) at once, and the reader stays usable for this client and for others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::{Card, CardOptions, FIDO_AID};

#[test]
fn one_byte_commands_get_6700_and_never_wedge_the_reader() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::default());
    let conn = card.connect();
    // 00, 01, 02 and 04 are vpcd's own control codes: a client cannot send them (vpcd's limit).
    for byte in [0x03u8, 0x05, 0x10, 0x80, 0xA4, 0xFF] {
        conn.expect(&[byte], &[0x67, 0x00]);
    }
    conn.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
    // A second client reaches the card at once.
    let other = card.connect();
    other.expect(&[0x03], &[0x67, 0x00]);
    other.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
}
