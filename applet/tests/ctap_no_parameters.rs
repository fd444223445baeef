//! Commands without parameters (CTAP 2.1 §6.4 getInfo, §6.3 getNextAssertion, §6.6 reset,
//! §6.9 selection) refuse any byte after the command byte with CTAP1_ERR_INVALID_LENGTH
//! (§8.2, "invalid message or item length"), change nothing, and never ask for presence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use applet::env::Presence;
use applet::iso::{Applet, CtapOutcome};
use client::status::*;
use client::*;

#[test]
fn trailing_bytes_are_refused_with_invalid_length() {
    let bodies: [&[u8]; 5] = [&[0x00], &[0xA0], &[0xF6], &[0xA1, 0x01, 0x02], &[0xFF; 25]];
    for cmd in [0x04u8, 0x08, 0x07, 0x0B] {
        for body in bodies {
            let mut card = Card::new(77, Config::default(), false);
            card.env().presence = Presence::Withheld;
            let before = card.storage();
            let mut request = vec![cmd];
            request.extend_from_slice(body);
            let mut reply = Vec::new();
            let outcome = card.applet().ctap(&request, true, &mut reply).unwrap();
            assert_eq!(outcome, CtapOutcome::Done);
            assert_eq!(reply, [INVALID_LENGTH], "cmd {cmd:#04x} body {body:02x?}");
            assert_eq!(card.storage(), before, "cmd {cmd:#04x}: state changed");
        }
    }
}

/// 25 garbage bodies after authenticatorReset: every one refused, the card keeps its
/// credentials and PIN state (the audit reset a card this way).
#[test]
fn reset_with_a_body_resets_nothing() {
    let mut card = Card::new(78, Config::default(), false);
    card.env().presence = Presence::Touched;
    let before = card.storage();
    for n in 1..=25u8 {
        let mut request = vec![0x07];
        request.extend((0..n).map(|i| i.wrapping_mul(37)));
        let mut reply = Vec::new();
        card.applet().ctap(&request, true, &mut reply).unwrap();
        assert_eq!(reply, [INVALID_LENGTH]);
    }
    assert_eq!(card.storage(), before);
    // Without a body, the same card resets (presence given, inside the 10 s window).
    let mut reply = Vec::new();
    card.applet().ctap(&[0x07], true, &mut reply).unwrap();
    assert_eq!(reply, [0x00]);
}
