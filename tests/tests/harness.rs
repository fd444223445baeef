//! The stack itself, with the bare responder (no tapfido involved): pcscd answers, vpcd's
//! readers are listed, a card served by `vsmartcard::serve` appears, answers and leaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::bare::{BareResponder, BARE_ATR};
use e2e::PcscdLock;

#[test]
fn bare_responder_appears_answers_and_leaves() {
    let _stack = e2e::require_stack!();
    let bare = BareResponder::start(None, PcscdLock::Shared);
    let reader = bare.reader().clone();
    let conn = reader.connect().unwrap();
    assert_eq!(conn.atr().unwrap(), BARE_ATR);
    conn.expect(
        &[
            0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00,
        ],
        &[0x90, 0x00],
    );
    conn.unpower();
    drop(bare);
    // Drop waited for removal; a fresh wait for "empty" returns at once.
    reader.wait(false, e2e::card::CARD_TIMEOUT).unwrap();
    assert!(reader.connect().is_err(), "connected to an empty slot");
}
