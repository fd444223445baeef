//! `--json` output speaks the wire's names: SELECT answers as the card sent
//! them, status words and CTAP codes as value and spec name, never a Rust
//! variant name.
#![allow(clippy::unwrap_used)]

use host::{CtapStatus, FidoVersion, LengthMode, StatusWord};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn select_answers_are_the_version_strings() {
    assert_eq!(json(&FidoVersion::U2fV2), r#""U2F_V2""#);
    assert_eq!(json(&FidoVersion::Fido20), r#""FIDO_2_0""#);
}

#[test]
fn status_codes_are_value_and_spec_name() {
    assert_eq!(
        json(&StatusWord::from_code(0x6A82)),
        format!("\"6A82 {}\"", StatusWord::from_code(0x6A82).describe())
    );
    assert_eq!(
        json(&CtapStatus::from_code(0x31)),
        r#""0x31 CTAP2_ERR_PIN_INVALID""#
    );
    assert_eq!(
        json(&CtapStatus::from_code(0xEE)),
        r#""0xEE (unlisted CTAP status)""#
    );
}

#[test]
fn length_modes_are_lower_case() {
    assert_eq!(json(&LengthMode::Extended), r#""extended""#);
    assert_eq!(json(&LengthMode::Chained(255)), r#"{"chained":255}"#);
}
