//! Command APDU parsing (all seven cases, malformed input), encoding and
//! response parsing; cross-check against the `apdu` crate for short APDUs.

use super::{h, Harness, FIDO_2_0_OK, SELECT_FIDO};
use crate::apdu::{split_chained, Apdu, ApduError, Case, LengthForm, ResponseApdu};
use iso7816::Status;

fn parse(s: &str) -> Result<(Vec<u8>, usize, bool, Case), ApduError> {
    let bytes = h(s);
    Apdu::parse(&bytes).map(|a| (a.data.to_vec(), a.ne, a.extended, a.case()))
}

#[test]
fn seven_cases() {
    use Case::*;
    let cases: &[(&str, &str, usize, bool, Case)] = &[
        ("00 EE 01 02", "", 0, false, One),
        ("00 EE 01 02 00", "", 256, false, TwoShort),
        ("00 EE 01 02 05", "", 5, false, TwoShort),
        ("00 EE 01 02 02 AA BB", "AA BB", 0, false, ThreeShort),
        ("00 EE 01 02 02 AA BB 00", "AA BB", 256, false, FourShort),
        ("00 EE 01 02 01 AA 10", "AA", 16, false, FourShort),
        ("00 EE 01 02 00 00 00", "", 65_536, true, TwoExtended),
        ("00 EE 01 02 00 01 00", "", 256, true, TwoExtended),
        (
            "00 EE 01 02 00 00 02 AA BB",
            "AA BB",
            0,
            true,
            ThreeExtended,
        ),
        (
            "00 EE 01 02 00 00 02 AA BB 00 00",
            "AA BB",
            65_536,
            true,
            FourExtended,
        ),
        (
            "00 EE 01 02 00 00 01 AA 12 34",
            "AA",
            0x1234,
            true,
            FourExtended,
        ),
        // A short Lc of 01 whose data byte is 00 is case 3S, not extended.
        ("00 EE 01 02 01 00", "00", 0, false, ThreeShort),
    ];
    for (cmd, data, ne, ext, case) in cases {
        let got = parse(cmd).unwrap();
        assert_eq!(got, (h(data), *ne, *ext, *case), "{cmd}");
        let bytes = h(cmd);
        let a = Apdu::parse(&bytes).unwrap();
        assert_eq!((a.cla, a.ins, a.p1, a.p2), (0x00, 0xEE, 0x01, 0x02));
    }
}

#[test]
fn extended_lc_of_255_data_bytes() {
    let mut cmd = h("80 10 00 00 00 01 00");
    cmd.extend(std::iter::repeat_n(0x5A, 256));
    let a = Apdu::parse(&cmd).unwrap();
    assert_eq!(a.data.len(), 256);
    assert_eq!(a.case(), Case::ThreeExtended);
}

#[test]
fn malformed_commands_are_rejected() {
    let bad: &[(&str, ApduError)] = &[
        ("", ApduError::TooShort(0)),
        ("00 EE 00", ApduError::TooShort(3)),
        // Lc larger than the data.
        (
            "00 EE 00 00 05 01 02",
            ApduError::ShortLcMismatch { lc: 5, body: 3 },
        ),
        // Two bytes after the data: no case has a 2-byte Le after a short Lc.
        (
            "00 EE 00 00 02 01 02 03 04",
            ApduError::ShortLcMismatch { lc: 2, body: 5 },
        ),
        // A 6-byte APDU whose fifth byte is 00.
        ("00 EE 00 00 00 01", ApduError::DanglingExtendedMarker),
        // Extended Lc = 0 followed by data.
        ("00 EE 00 00 00 00 00 AA", ApduError::ExtendedLcZero),
        // 3-byte Le after a 3-byte Lc.
        (
            "00 EE 00 00 00 00 02 01 02 00 00 00",
            ApduError::ExtendedLcMismatch { lc: 2, body: 8 },
        ),
        // 1-byte Le after a 3-byte Lc.
        (
            "00 EE 00 00 00 00 01 01 00",
            ApduError::ExtendedLcMismatch { lc: 1, body: 5 },
        ),
        // Extended Lc larger than the data.
        (
            "00 EE 00 00 00 00 03 01 02",
            ApduError::ExtendedLcMismatch { lc: 3, body: 5 },
        ),
    ];
    for (cmd, err) in bad {
        assert_eq!(parse(cmd), Err(*err), "{cmd}");
        assert_eq!(err.status(), Status::WrongLength);
    }
}

#[test]
fn malformed_commands_answer_6700_and_execute_nothing() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK)]);
    for cmd in [
        "00 EE 00",
        "00 EE 00 00 05 01 02",
        "00 EE 00 00 02 01 02 03 04",
        "00 EE 00 00 00 01",
        "00 EE 00 00 00 00 00 AA",
        "00 EE 00 00 00 00 02 01 02 00 00 00",
        "00 EE 00 00 00 00 01 01 00",
        "80 10 80 00 03 04 00",
        "80 10 00 00 00 00 02 04",
        "00 A4 04 00 09 A0 00 00 06 47 2F 00 01",
    ] {
        hn.run(&[(cmd, "67 00")]);
    }
    let log = hn.log();
    assert_eq!((log.process, log.ctap, log.select), (0, 0, 1));
}

#[test]
fn all_seven_cases_reach_the_applet_intact() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK)]);
    let cases: &[(&str, &str, usize, bool)] = &[
        ("00 20 01 02", "", 0, false),
        ("00 20 01 02 00", "", 256, false),
        ("00 20 01 02 02 AA BB", "AA BB", 0, false),
        ("00 20 01 02 02 AA BB 03", "AA BB", 3, false),
        ("00 20 01 02 00 00 00", "", 65_536, true),
        ("00 20 01 02 00 00 02 AA BB", "AA BB", 0, true),
        ("00 20 01 02 00 00 02 AA BB 00 03", "AA BB", 3, true),
    ];
    for (i, (cmd, data, ne, ext)) in cases.iter().enumerate() {
        // The fake answers INS || data; every answer fits Ne here.
        let mut expected = vec![0x20];
        expected.extend(h(data));
        expected.extend([0x90, 0x00]);
        assert_eq!(hn.send(&h(cmd)), expected, "{cmd}");
        let log = hn.log();
        assert_eq!(log.process, i + 1);
        assert_eq!(
            log.last_cmd.clone().unwrap(),
            (0x00, 0x20, 0x01, 0x02, h(data), *ne, *ext),
            "{cmd}"
        );
    }
}

#[test]
fn encode_short_and_extended() {
    let a = |data: &'static [u8], ne| Apdu {
        cla: 0x80,
        ins: 0x10,
        p1: 0x80,
        p2: 0x00,
        data,
        ne,
        extended: false,
    };
    let enc = |x: Apdu<'_>, f| hex::encode(x.encode(f).unwrap());
    assert_eq!(enc(a(&[], 0), LengthForm::Short), "80108000");
    assert_eq!(enc(a(&[], 256), LengthForm::Short), "8010800000");
    assert_eq!(enc(a(&[4], 256), LengthForm::Short), "80108000010400");
    assert_eq!(enc(a(&[4], 0), LengthForm::Extended), "8010800000000104");
    assert_eq!(
        enc(a(&[4], 65_536), LengthForm::Extended),
        "80108000000001040000"
    );
    assert_eq!(enc(a(&[], 65_536), LengthForm::Extended), "80108000000000");
    assert_eq!(enc(a(&[], 257), LengthForm::Auto), "80108000000101");
    let big = [0u8; 256];
    let x = Apdu {
        data: &big,
        ..a(&[], 0)
    };
    assert!(x.encode(LengthForm::Short).is_err());
    assert_eq!(
        &x.encode(LengthForm::Auto).unwrap()[..7],
        &h("80 10 80 00 00 01 00")[..]
    );
    assert!(a(&[], 257).encode(LengthForm::Short).is_err());
    assert!(a(&[], 65_537).encode(LengthForm::Extended).is_err());
}

#[test]
fn split_into_chained_blocks() {
    let data: Vec<u8> = (0..=9).collect();
    let blocks = split_chained([0x80, 0x10, 0x80, 0x00], &data, 256, 4).unwrap();
    let hexes: Vec<String> = blocks.iter().map(hex::encode).collect();
    assert_eq!(
        hexes,
        [
            "901080000400010203",
            "901080000404050607",
            "8010800002080900",
        ]
    );
    let one = split_chained([0x00, 0x01, 0x00, 0x00], &[], 0, 250).unwrap();
    assert_eq!(one, vec![h("00 01 00 00")]);
    assert!(split_chained([0; 4], &data, 0, 0).is_err());
    assert!(split_chained([0; 4], &data, 0, 256).is_err());
    assert!(split_chained([0; 4], &data, 257, 10).is_err());
}

#[test]
fn response_apdu() {
    let bytes = h("01 02 61 00");
    let r = ResponseApdu::parse(&bytes).unwrap();
    assert_eq!(r.data, &[1, 2]);
    assert_eq!(r.sw(), 0x6100);
    assert_eq!(r.status(), Status::MoreAvailable(0));
    assert_eq!(
        ResponseApdu::parse(&h("90 00")).unwrap().status(),
        Status::Success
    );
    assert!(ResponseApdu::parse(&h("90")).is_err());
}

/// The `apdu` crate (0.4) as an independent short-APDU encoder. Only short
/// APDUs are compared: its extended form is little-endian and off by
/// default (see the crate's `longer_payloads` feature).
#[test]
fn short_encoding_matches_apdu_crate() {
    use proptest::prelude::*;
    proptest!(|(hdr in any::<[u8; 4]>(),
                data in proptest::collection::vec(any::<u8>(), 0..=255),
                ne in 0usize..=256)| {
        let [cla, ins, p1, p2] = hdr;
        let ours = Apdu { cla, ins, p1, p2, data: &data, ne, extended: false }
            .encode(LengthForm::Short)
            .unwrap();
        let le = u16::try_from(ne).unwrap();
        let theirs: Vec<u8> = match (data.is_empty(), ne) {
            (true, 0) => apdu::Command::new(cla, ins, p1, p2),
            (true, _) => apdu::Command::new_with_le(cla, ins, p1, p2, le),
            (false, 0) => apdu::Command::new_with_payload(cla, ins, p1, p2, &data),
            (false, _) => apdu::Command::new_with_payload_le(cla, ins, p1, p2, le, &data),
        }
        .into();
        prop_assert_eq!(ours, theirs);
    });
}
