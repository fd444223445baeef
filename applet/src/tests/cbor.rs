use proptest::prelude::*;

use crate::cbor::{decode, encode, CborError, Value};
use crate::error::CtapError;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

#[test]
fn rfc8949_appendix_a_integers_and_strings() {
    // Vectors from RFC 8949 Appendix A.
    let cases: &[(&str, Value)] = &[
        ("00", Value::Unsigned(0)),
        ("17", Value::Unsigned(23)),
        ("1818", Value::Unsigned(24)),
        ("1903e8", Value::Unsigned(1000)),
        ("1a000f4240", Value::Unsigned(1_000_000)),
        ("1b000000e8d4a51000", Value::Unsigned(1_000_000_000_000)),
        ("1bffffffffffffffff", Value::Unsigned(u64::MAX)),
        ("20", Value::from(-1i64)),
        ("3863", Value::from(-100i64)),
        ("3903e7", Value::from(-1000i64)),
        ("40", Value::Bytes(vec![])),
        ("4401020304", Value::Bytes(vec![1, 2, 3, 4])),
        ("60", Value::Text(String::new())),
        ("6449455446", Value::from("IETF")),
        ("62c3bc", Value::from("\u{fc}")),
        ("f4", Value::Bool(false)),
        ("f5", Value::Bool(true)),
        ("f6", Value::Null),
        ("80", Value::Array(vec![])),
        (
            "83010203",
            Value::Array(vec![1u64.into(), 2u64.into(), 3u64.into()]),
        ),
        ("a0", Value::Map(vec![])),
        (
            "a201020304",
            Value::Map(vec![(1u64.into(), 2u64.into()), (3u64.into(), 4u64.into())]),
        ),
    ];
    for (h, v) in cases {
        let bytes = hex(h);
        assert_eq!(&decode(&bytes).unwrap(), v, "{h}");
        assert_eq!(encode(v), bytes, "{h}");
    }
}

#[test]
fn refusals_are_distinct() {
    let cases: &[(&str, CborError)] = &[
        ("", CborError::Truncated),
        ("18", CborError::Truncated),
        ("4401", CborError::Truncated),
        ("a1", CborError::Truncated),
        ("0000", CborError::TrailingBytes),
        ("5f4101ff", CborError::Indefinite),
        ("9fff", CborError::Indefinite),
        ("bfff", CborError::Indefinite),
        ("ff", CborError::Indefinite),
        ("1805", CborError::NonShortest),
        ("190005", CborError::NonShortest),
        ("1a0000ffff", CborError::NonShortest),
        ("1b00000000ffffffff", CborError::NonShortest),
        ("5801ff", CborError::NonShortest),
        ("a201000100", CborError::DuplicateKey),
        ("a203000100", CborError::KeyOrder),
        // text key before integer key: major type 3 after major type 0 only.
        ("a2616100 0100", CborError::KeyOrder),
        // -1 (0x20) must follow 24 (0x1818): major type first.
        ("a22000 181800", CborError::KeyOrder),
        ("62c328", CborError::InvalidUtf8),
        ("8181818181 00", CborError::TooDeep),
        ("c11a514b67b0", CborError::UnsupportedType),
        ("f90000", CborError::UnsupportedType),
        ("fa47c35000", CborError::UnsupportedType),
        ("fb3ff199999999999a", CborError::UnsupportedType),
        ("f7", CborError::UnsupportedType),
        ("f0", CborError::UnsupportedType),
        ("f820", CborError::UnsupportedType),
        ("1c", CborError::Malformed),
        ("1f", CborError::Malformed),
        // huge declared lengths must not allocate
        ("5bffffffffffffffff", CborError::Truncated),
        ("9bffffffffffffffff", CborError::Truncated),
        ("bb7fffffffffffffff", CborError::Truncated),
    ];
    for (h, e) in cases {
        assert_eq!(decode(&hex(h)), Err(*e), "{h}");
        assert_eq!(CtapError::from(*e), CtapError::InvalidCbor);
    }
}

#[test]
fn depth_four_accepted() {
    // map -> map -> map -> array -> int
    let bytes = hex("a1 01 a1 01 a1 01 81 00");
    assert!(decode(&bytes).is_ok());
}

#[test]
fn encoder_sorts_keys_ctap_canonical() {
    let v = Value::Map(vec![
        (Value::from("b"), Value::Null),
        (Value::from(-2i64), Value::Null),
        (Value::from("aa"), Value::Null),
        (Value::from(24u64), Value::Null),
        (Value::from(1u64), Value::Null),
        (Value::from("a"), Value::Null),
    ]);
    assert_eq!(
        encode(&v),
        hex("a6 01f6 1818f6 21f6 6161f6 6162f6 626161f6")
    );
}

#[test]
fn accessors_report_ctap_errors() {
    let v = decode(&hex("a2 01 61 78 02 40")).unwrap();
    let m = v.as_map().unwrap();
    assert_eq!(m.required(1).unwrap().as_text().unwrap(), "x");
    assert_eq!(
        m.required(1).unwrap().as_bytes(),
        Err(CtapError::CborUnexpectedType)
    );
    assert_eq!(m.required(3), Err(CtapError::MissingParameter));
    assert_eq!(
        Value::Null.as_map().err(),
        Some(CtapError::CborUnexpectedType)
    );
    assert_eq!(Value::from(-7i64).as_i64(), Ok(-7));
    assert_eq!(
        Value::Negative(u64::MAX).as_i64(),
        Err(CtapError::InvalidParameter)
    );
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(Value::Unsigned),
        any::<u64>().prop_map(Value::Negative),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
        ".{0,8}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(any::<i32>(), inner, 0..5).prop_map(|m| {
                Value::Map(m.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
            }),
        ]
    })
}

/// Convert ciborium's value into ours, independent of our decoder.
fn from_ciborium(v: &ciborium::Value) -> Option<Value> {
    Some(match v {
        ciborium::Value::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                Value::Unsigned(u64::try_from(i).ok()?)
            } else {
                Value::Negative(u64::try_from(-1 - i).ok()?)
            }
        }
        ciborium::Value::Bytes(b) => Value::Bytes(b.clone()),
        ciborium::Value::Text(t) => Value::Text(t.clone()),
        ciborium::Value::Bool(b) => Value::Bool(*b),
        ciborium::Value::Null => Value::Null,
        ciborium::Value::Array(a) => {
            Value::Array(a.iter().map(from_ciborium).collect::<Option<_>>()?)
        }
        ciborium::Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Some((from_ciborium(k)?, from_ciborium(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = decode(&bytes) {
            prop_assert_eq!(encode(&v), bytes.clone());
            // An independent decoder agrees on the value.
            let theirs: ciborium::Value = ciborium::from_reader(&bytes[..]).unwrap();
            prop_assert_eq!(from_ciborium(&theirs), Some(v));
        }
    }

    #[test]
    fn encoded_values_decode_back(v in arb_value()) {
        let bytes = encode(&v);
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(encode(&back), bytes.clone());
        let theirs: ciborium::Value = ciborium::from_reader(&bytes[..]).unwrap();
        prop_assert_eq!(from_ciborium(&theirs).map(|x| encode(&x)), Some(bytes));
    }

    #[test]
    fn mutated_encodings_never_panic(v in arb_value(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = encode(&v);
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = byte;
        }
        let _ = decode(&bytes);
    }
}
