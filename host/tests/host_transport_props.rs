//! The host's framing against the reader bridge (the card side, written
//! separately) with its echo applet: any payload survives command chaining
//! in any block size, or one extended APDU; any response length survives
//! 61XX / GET RESPONSE paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use host::{CardSession, InProcess, LengthMode};
use proptest::prelude::*;
use reader_bridge::bridge::Bridge;
use reader_bridge::echo::{pattern, EchoApplet, ECHO_AID, INS_ECHO, INS_GENERATE};

/// ACS PocketKey ATR (no extended length advertised).
const ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x41, 0x43, 0x53, 0x20, 0x41, 0x46, 0x44, 0x30, 0x32, 0x38,
];

fn session() -> CardSession<InProcess<Bridge>> {
    let bridge = Bridge::new(ATR.to_vec(), vec![Box::new(EchoApplet)]);
    let mut s = CardSession::new(InProcess::new(bridge));
    assert!(s.select_aid(&ECHO_AID).unwrap().is_empty());
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn chained_echo(data in proptest::collection::vec(any::<u8>(), 0..3000), block in 1usize..=255) {
        let mut s = session();
        s.set_length_mode(LengthMode::Chained(block));
        prop_assert_eq!(s.command(0x00, INS_ECHO, 0, 0, &data).unwrap(), data);
    }

    #[test]
    fn extended_echo(data in proptest::collection::vec(any::<u8>(), 0..5000)) {
        let mut s = session();
        s.set_length_mode(LengthMode::Extended);
        let before = s.apdu_count();
        prop_assert_eq!(s.command(0x00, INS_ECHO, 0, 0, &data).unwrap(), data);
        prop_assert_eq!(s.apdu_count() - before, 1, "one extended APDU, one frame back");
    }

    #[test]
    fn paged_responses(n in 0u16..6000) {
        let mut s = session();
        let before = s.apdu_count();
        let out = s.command(0x00, INS_GENERATE, 0, 0, &n.to_be_bytes()).unwrap();
        prop_assert_eq!(&out, &pattern(usize::from(n)));
        // 256 data bytes per short frame.
        let frames = usize::from(n).div_ceil(256).max(1);
        prop_assert_eq!(s.apdu_count() - before, frames);
    }
}

#[test]
fn page_boundaries() {
    for n in [0u16, 1, 255, 256, 257, 511, 512, 513, 65_535] {
        let mut s = session();
        let before = s.apdu_count();
        let out = s
            .command(0x00, INS_GENERATE, 0, 0, &n.to_be_bytes())
            .unwrap();
        assert_eq!(out, pattern(usize::from(n)), "n = {n}");
        assert_eq!(
            s.apdu_count() - before,
            usize::from(n).div_ceil(256).max(1),
            "n = {n}"
        );
    }
}
