//! Property tests: parse/encode round trips, parsing never panics, chained
//! split/reassemble, and the bridge reassembling arbitrary chains.

use super::{collect, h, Harness, SELECT_ECHO};
use crate::apdu::{split_chained, Apdu, LengthForm, ResponseApdu};
use proptest::prelude::*;

fn form() -> impl Strategy<Value = LengthForm> {
    prop_oneof![
        Just(LengthForm::Short),
        Just(LengthForm::Extended),
        Just(LengthForm::Auto)
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Apdu::parse(&bytes);
    }

    #[test]
    fn encode_parse_round_trip(
        hdr in any::<[u8; 4]>(),
        data in proptest::collection::vec(any::<u8>(), 0..1200),
        ne in 0usize..=65_536,
        form in form(),
    ) {
        let [cla, ins, p1, p2] = hdr;
        let cmd = Apdu { cla, ins, p1, p2, data: &data, ne, extended: false };
        match cmd.encode(form) {
            Ok(bytes) => {
                let back = Apdu::parse(&bytes).unwrap();
                prop_assert_eq!((back.cla, back.ins, back.p1, back.p2), (cla, ins, p1, p2));
                prop_assert_eq!(back.data, &data[..]);
                prop_assert_eq!(back.ne, ne);
                let ext = match form {
                    LengthForm::Short => false,
                    LengthForm::Extended => !data.is_empty() || ne > 0,
                    LengthForm::Auto => data.len() > 255 || ne > 256,
                };
                prop_assert_eq!(back.extended, ext);
                // Re-encoding the parsed command gives the same bytes.
                prop_assert_eq!(back.encode(form).unwrap(), bytes);
            }
            Err(_) => {
                prop_assert!(form == LengthForm::Short && (data.len() > 255 || ne > 256));
            }
        }
    }

    #[test]
    fn parse_encode_round_trip(bytes in proptest::collection::vec(any::<u8>(), 4..300)) {
        if let Ok(a) = Apdu::parse(&bytes) {
            let form = if a.extended { LengthForm::Extended } else { LengthForm::Short };
            prop_assert_eq!(a.encode(form).unwrap(), bytes);
        }
    }

    #[test]
    fn split_reassemble(
        hdr in any::<[u8; 4]>(),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        ne in 0usize..=256,
        block in 1usize..=255,
    ) {
        let hdr = [hdr[0] & !0x10, hdr[1], hdr[2], hdr[3]];
        let blocks = split_chained(hdr, &data, ne, block).unwrap();
        prop_assert_eq!(blocks.len(), data.len().div_ceil(block).max(1));
        let mut whole = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            let a = Apdu::parse(b).unwrap();
            let last = i + 1 == blocks.len();
            prop_assert!(!a.extended);
            prop_assert_eq!(a.cla, if last { hdr[0] } else { hdr[0] | 0x10 });
            prop_assert_eq!((a.ins, a.p1, a.p2), (hdr[1], hdr[2], hdr[3]));
            prop_assert_eq!(a.ne, if last { ne } else { 0 });
            prop_assert!(a.data.len() <= block);
            whole.extend_from_slice(a.data);
        }
        prop_assert_eq!(whole, data);
    }

    #[test]
    fn response_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300), sw in any::<u16>()) {
        let mut bytes = data.clone();
        bytes.extend(sw.to_be_bytes());
        let r = ResponseApdu::parse(&bytes).unwrap();
        prop_assert_eq!(r.data, &data[..]);
        prop_assert_eq!(r.sw(), sw);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bridge_reassembles_any_chain(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        block in 1usize..=255,
        le in any::<u8>(),
        gr_cla in prop_oneof![Just(0x00u8), Just(0x80u8)],
    ) {
        let mut hn = Harness::new();
        hn.run(&[(SELECT_ECHO, "90 00")]);
        let blocks = split_chained([0x00, 0xEE, 0x00, 0x00], &data, 256, block).unwrap();
        let (last, init) = blocks.split_last().unwrap();
        for b in init {
            prop_assert_eq!(hn.send(b), h("90 00"));
        }
        let first = hn.send(last);
        let (got, sw, _) = collect(&mut hn, first, gr_cla, le);
        prop_assert_eq!(sw, 0x9000);
        prop_assert_eq!(got, data);
    }
}

/// One step of a random session.
#[derive(Clone, Debug)]
enum Step {
    Raw(Vec<u8>),
    Known(usize),
    PowerOff,
    PowerOn,
    Reset,
    Presence,
}

const KNOWN: [&str; 14] = [
    super::SELECT_FIDO,
    super::SELECT_ECHO,
    "00 C0 00 00 00",
    "80 C0 00 00 10",
    "80 10 80 00 01 01 00",
    "80 10 00 00 03 0C 02 00 00",
    "90 10 80 00 02 01 02",
    "80 11 00 00",
    "80 11 11 00",
    "80 12 01 00",
    "00 E8 00 00 02 03 00 00",
    "00 E8 00 00 00 00 02 FF FF",
    "10 EE 00 00 03 01 02 03",
    "00 EE 00 00 01 04 00",
];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Step::Raw),
        8 => (0..KNOWN.len()).prop_map(Step::Known),
        1 => Just(Step::PowerOff),
        1 => Just(Step::PowerOn),
        1 => Just(Step::Reset),
        1 => Just(Step::Presence),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of commands and power events: every answer has a status
    /// word, fits a vpcd frame, a short command never gets more than 256
    /// data bytes, and `91 00` only follows an NFCCTAP_MSG with P1 bit 0x80
    /// or an NFCCTAP_GETRESPONSE.
    #[test]
    fn random_sessions(steps in proptest::collection::vec(step(), 1..60)) {
        use vsmartcard::VirtualCard;
        let mut hn = Harness::new();
        for s in steps {
            let cmd = match s {
                Step::Raw(b) => b,
                Step::Known(i) => h(KNOWN[i]),
                Step::PowerOff => { hn.bridge.power_off(); continue; }
                Step::PowerOn => { hn.bridge.power_on(); continue; }
                Step::Reset => { hn.bridge.reset(); continue; }
                Step::Presence => { hn.give_presence(); continue; }
            };
            let resp = hn.send(&cmd);
            prop_assert!(resp.len() >= 2 && resp.len() <= 65_535);
            if let Ok(a) = Apdu::parse(&cmd) {
                if !a.extended {
                    prop_assert!(resp.len() - 2 <= 256, "{} data bytes", resp.len() - 2);
                }
                if resp.ends_with(&[0x91, 0x00]) {
                    let msg_with_bit = a.ins == 0x10 && a.p1 & 0x80 != 0;
                    let getresponse = a.ins == 0x11;
                    prop_assert!(a.cla & !0x10 == 0x80 && (msg_with_bit || getresponse));
                }
            } else {
                prop_assert_eq!(resp, h("67 00"));
            }
        }
    }
}
