//! Response paging: 61 XX, GET RESPONSE with CLA 00 / 80, Le honoured,
//! extended requests, errors, and no calls into the applet while paging.

use super::{collect, h, split, Harness, FIDO_2_0_OK, SELECT_ECHO, SELECT_FIDO};
use crate::bridge::FRAME_DATA_MAX;
use crate::echo::pattern;

fn generate(n: u16) -> Vec<u8> {
    let [a, b] = n.to_be_bytes();
    vec![0x00, 0xE8, 0x00, 0x00, 0x02, a, b, 0x00]
}

#[test]
fn generated_sizes_are_paged_completely() {
    for (k, n) in [0u16, 1, 255, 256, 257, 512, 513, 4096, 65_535]
        .into_iter()
        .enumerate()
    {
        let mut hn = Harness::new();
        hn.run(&[(SELECT_ECHO, "90 00")]);
        let first = hn.send(&generate(n));
        let n = usize::from(n);
        // First frame: min(n, 256) bytes, then 61 XX with XX = remaining
        // (00 when 256 or more remain).
        let (d, sw) = split(&first);
        assert_eq!(d.len(), n.min(256));
        let rest = n - d.len();
        let expected_sw = match rest {
            0 => 0x9000,
            r if r >= 256 => 0x6100,
            r => 0x6100 | u16::try_from(r).unwrap(),
        };
        assert_eq!(sw, expected_sw, "n={n}");
        let cla = if k % 2 == 0 { 0x00 } else { 0x80 };
        let (got, sw, _) = collect(&mut hn, first, cla, 0x00);
        assert_eq!(sw, 0x9000);
        // Independent expectation: 0, 1, .., 250 repeating.
        let expected: Vec<u8> = (0..n).map(|i| u8::try_from(i % 251).unwrap()).collect();
        assert!(got == expected, "n={n}");
    }
}

#[test]
fn exact_transcript_for_300_bytes() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let first = hn.send(&h("00 E8 00 00 02 01 2C 00"));
    assert_eq!(first.len(), 258);
    assert_eq!(&first[256..], &h("61 2C")[..]);
    let second = hn.send(&h("80 C0 00 00 2C"));
    assert_eq!(second.len(), 46);
    assert_eq!(&second[44..], &h("90 00")[..]);
    assert_eq!(second[0], u8::try_from(256 % 251).unwrap());
    hn.run(&[("00 C0 00 00 00", "69 85")]);
}

#[test]
fn small_le_is_honoured_with_consistent_remainder() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    // 40 bytes requested with Le = 10.
    let r = hn.send(&h("00 E8 00 00 02 00 28 0A"));
    assert_eq!(r, [&pattern(40)[..10], &h("61 1E")[..]].concat());
    // GET RESPONSE with Le = 05.
    let r = hn.send(&h("00 C0 00 00 05"));
    assert_eq!(r, [&pattern(40)[10..15], &h("61 19")[..]].concat());
    // Le = 00 gives the remaining 25 with the final SW.
    let r = hn.send(&h("80 C0 00 00 00"));
    assert_eq!(r, [&pattern(40)[15..], &h("90 00")[..]].concat());
}

#[test]
fn small_le_on_select() {
    let mut hn = Harness::new();
    hn.run(&[
        (
            "00 A4 04 00 08 A0 00 00 06 47 2F 00 01 03",
            "46 49 44 61 05",
        ),
        ("00 C0 00 00 00", "4F 5F 32 5F 30 90 00"),
    ]);
}

#[test]
fn get_response_with_nothing_pending_is_refused() {
    let mut hn = Harness::new();
    hn.run(&[
        ("00 C0 00 00 00", "69 85"),
        ("80 C0 00 00 00", "69 85"),
        (SELECT_ECHO, "90 00"),
        ("00 C0 00 00 00", "69 85"),
        ("00 EE 00 00 02 AA BB", "AA BB 90 00"),
        ("00 C0 00 00 00", "69 85"),
    ]);
}

#[test]
fn another_command_drops_the_pending_response() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let r = hn.send(&generate(600));
    assert_eq!(&r[256..], &h("61 00")[..]);
    hn.run(&[
        ("00 EE 00 00 01 AA", "AA 90 00"),
        ("00 C0 00 00 00", "69 85"),
    ]);
    // A bad GET RESPONSE drops it as well.
    let r = hn.send(&generate(600));
    assert_eq!(&r[256..], &h("61 00")[..]);
    hn.run(&[("84 C0 00 00 00", "6E 00"), ("00 C0 00 00 00", "69 85")]);
    let r = hn.send(&generate(600));
    assert_eq!(&r[256..], &h("61 00")[..]);
    hn.run(&[("00 C0 01 00 00", "6A 86"), ("00 C0 00 00 00", "69 85")]);
    let r = hn.send(&generate(600));
    assert_eq!(&r[256..], &h("61 00")[..]);
    hn.run(&[
        ("00 C0 00 00 01 AA 00", "67 00"),
        ("00 C0 00 00 00", "69 85"),
    ]);
}

#[test]
fn extended_request_gets_whole_response_in_one_frame() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    // Case 4E with Le = 0000 (65 536).
    let r = hn.send(&h("00 E8 00 00 00 00 02 10 00 00 00"));
    assert_eq!(r, [pattern(4096), h("90 00")].concat());
    // Case 4E with Le exactly the size.
    let r = hn.send(&h("00 E8 00 00 00 00 02 10 00 10 00"));
    assert_eq!(r, [pattern(4096), h("90 00")].concat());
    // Case 3E without Le: lenient, whole response.
    let r = hn.send(&h("00 E8 00 00 00 00 02 10 00"));
    assert_eq!(r, [pattern(4096), h("90 00")].concat());
    // Case 4E with a smaller Le: that many, then 61 00.
    let r = hn.send(&h("00 E8 00 00 00 00 02 10 00 01 00"));
    assert_eq!(r, [&pattern(4096)[..256], &h("61 00")[..]].concat());
    // The rest follows with an extended GET RESPONSE.
    let r = hn.send(&h("00 C0 00 00 00 00 00"));
    assert_eq!(r, [&pattern(4096)[256..], &h("90 00")[..]].concat());
}

#[test]
fn extended_whole_equals_short_reassembly() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let ext = hn.send(&h("00 E8 00 00 00 00 02 07 D1 00 00"));
    let first = hn.send(&h("00 E8 00 00 02 07 D1 00"));
    let (short, sw, _) = collect(&mut hn, first, 0x00, 0x00);
    assert_eq!(sw, 0x9000);
    assert_eq!(split(&ext).0, &short[..]);
}

#[test]
fn extended_response_beyond_a_vpcd_frame_is_paged() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let r = hn.send(&h("00 E8 00 00 00 00 02 FF FF 00 00"));
    assert_eq!(r.len(), 65_535);
    assert_eq!(FRAME_DATA_MAX, 65_533);
    assert_eq!(&r[65_533..], &h("61 02")[..]);
    let full = pattern(65_535);
    assert_eq!(&r[..65_533], &full[..65_533]);
    let r = hn.send(&h("00 C0 00 00 00 00 00"));
    assert_eq!(r, [&full[65_533..], &h("90 00")[..]].concat());
    // Case 3E without Le, same rule.
    let r = hn.send(&h("00 E8 00 00 00 00 02 FF FF"));
    assert_eq!(r.len(), 65_535);
    assert_eq!(&r[65_533..], &h("61 02")[..]);
}

#[test]
fn paging_never_calls_into_the_applet() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK)]);
    let first = hn.send(&h("80 10 00 00 03 0C 03 E8 00"));
    let before = (hn.log().ctap, hn.log().process, hn.log().select);
    let (got, sw, frames) = collect(&mut hn, first, 0x80, 0x00);
    assert_eq!(sw, 0x9000);
    assert_eq!(frames, 4);
    assert_eq!(got, [vec![0x00], super::fake_bytes(1000)].concat());
    assert_eq!((hn.log().ctap, hn.log().process, hn.log().select), before);
}

#[test]
fn applet_error_has_no_data() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("00 E8 00 00 01 05", "67 00"),
        ("00 77 00 00", "6D 00"),
        ("00 C0 00 00 00", "69 85"),
    ]);
}
