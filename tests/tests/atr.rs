//! The ATR pcscd reports for each profile (PC/SC part 3 §3.1.3.2.3 contactless layout:
//! `3B 8n 80 01 <n historical bytes> TCK`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::reader::hex_spaced;
use e2e::{Card, CardOptions, POCKETKEY_ATR};

/// Checks the PC/SC contactless layout and returns the historical bytes.
fn historical_bytes(atr: &[u8]) -> &[u8] {
    assert!(atr.len() >= 5, "ATR too short: {}", hex_spaced(atr));
    assert_eq!(atr[0], 0x3B, "TS (direct convention)");
    assert_eq!(atr[1] & 0xF0, 0x80, "T0: only TD1 present");
    let n = usize::from(atr[1] & 0x0F);
    assert_eq!(atr[2], 0x80, "TD1: T=0, TD2 follows");
    assert_eq!(atr[3], 0x01, "TD2: T=1");
    assert_eq!(
        atr.len(),
        4 + n + 1,
        "length for {n} historical bytes + TCK"
    );
    // TCK: the XOR of T0 .. TCK is zero (ISO/IEC 7816-3 §8.2.5).
    let xor = atr[1..].iter().fold(0u8, |acc, b| acc ^ b);
    assert_eq!(xor, 0, "TCK wrong in {}", hex_spaced(atr));
    &atr[4..4 + n]
}

#[test]
fn pocketkey_profile_presents_the_acs_atr() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::profile("pocketkey"));
    let seen = card.reader().wait(true, e2e::card::CARD_TIMEOUT).unwrap();
    assert_eq!(hex_spaced(&seen), hex_spaced(&POCKETKEY_ATR));
    let conn = card.connect();
    assert_eq!(
        hex_spaced(&conn.atr().unwrap()),
        "3B 89 80 01 41 43 53 20 41 46 44 30 32 38"
    );
    // Historical bytes: "ACS AFD02".
    assert_eq!(historical_bytes(&POCKETKEY_ATR), b"ACS AFD02");
}

#[test]
fn default_profile_advertises_chaining_and_extended_length() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::default());
    let conn = card.connect();
    let atr = conn.atr().unwrap();
    let seen = card.reader().wait(true, e2e::card::CARD_TIMEOUT).unwrap();
    assert_eq!(atr, seen, "SCardStatus and SCardGetStatusChange disagree");
    let hist = historical_bytes(&atr);
    // Category indicator 80: compact-TLV objects follow (ISO/IEC 7816-4 §12.1.1).
    assert_eq!(
        hist.first(),
        Some(&0x80),
        "category indicator in {}",
        hex_spaced(hist)
    );
    let mut caps = None;
    let mut rest = &hist[1..];
    while let Some((&tl, tail)) = rest.split_first() {
        let (tag, len) = (tl >> 4, usize::from(tl & 0x0F));
        assert!(
            tail.len() >= len,
            "truncated compact-TLV in {}",
            hex_spaced(hist)
        );
        if tag == 0x7 {
            caps = Some(tail[..len].to_vec());
        }
        rest = &tail[len..];
    }
    // Card capabilities (tag 7, §12.1.1.9): third software function table byte has
    // b8 = command chaining, b7 = extended Lc and Le.
    let caps = caps.unwrap_or_else(|| panic!("no card capabilities in {}", hex_spaced(hist)));
    assert_eq!(caps.len(), 3, "card capabilities {}", hex_spaced(&caps));
    assert_eq!(
        caps[2] & 0xC0,
        0xC0,
        "chaining + extended not advertised: {}",
        hex_spaced(&caps)
    );
}
