//! ATR construction and checks; built-in and user profiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reader_bridge::atr::{self, AtrError, CAP_COMMAND_CHAINING, CAP_EXTENDED_LENGTH};
use tapfido::profile::{Profile, ProfileError};

#[test]
fn default_atr_advertises_chaining_and_extended_length() {
    let p = Profile::builtin("default").unwrap();
    // TCK B6 = XOR of 85 80 01 80 73 80 01 C0, computed by hand.
    assert_eq!(p.atr, h("3B 85 80 01 80 73 80 01 C0 B6"));
    let hist = atr::validate(&p.atr).unwrap();
    let caps = atr::card_capabilities(hist).unwrap();
    assert_eq!(caps.len(), 3);
    assert_eq!(caps[2] & CAP_COMMAND_CHAINING, 0x80);
    assert_eq!(caps[2] & CAP_EXTENDED_LENGTH, 0x40);
}

#[test]
fn pocketkey_atr_is_exact_and_its_tck_right() {
    let p = Profile::builtin("pocketkey").unwrap();
    let expected = h("3B 89 80 01 41 43 53 20 41 46 44 30 32 38");
    assert_eq!(p.atr, expected);
    // TCK: XOR of T0 .. last historical byte equals the last byte.
    let x = expected[1..expected.len() - 1]
        .iter()
        .fold(0u8, |a, b| a ^ b);
    assert_eq!(x, 0x38);
    assert_eq!(atr::validate(&p.atr).unwrap(), b"ACS AFD02");
    // Built from its historical bytes, the same ATR comes out.
    assert_eq!(atr::contactless(b"ACS AFD02").unwrap(), expected);
    assert_eq!(atr::card_capabilities(b"ACS AFD02"), None);
}

#[test]
fn atr_checks() {
    assert_eq!(
        atr::validate(&h("3B 89 80 01 41 43 53 20 41 46 44 30 32 39")),
        Err(AtrError::BadTck {
            found: 0x39,
            expected: 0x38
        })
    );
    assert_eq!(
        atr::validate(&h("3B 89 80 01 41 43 53 20 41 46 44 30 32")),
        Err(AtrError::Truncated)
    );
    assert_eq!(atr::validate(&h("3C 00")), Err(AtrError::BadTs(0x3C)));
    // T=0 only: no TCK.
    assert_eq!(atr::validate(&h("3B 02 14 50")).unwrap(), &h("14 50")[..]);
    assert_eq!(
        atr::validate(&h("3B 02 14 50 00")),
        Err(AtrError::Trailing(1))
    );
    assert_eq!(
        atr::contactless(&[0; 16]),
        Err(AtrError::TooManyHistorical(16))
    );
    assert_eq!(atr::contactless(&[]).unwrap(), h("3B 80 80 01 01"));
}

#[test]
fn names_and_unknown() {
    assert_eq!(Profile::names(), vec!["default", "pocketkey"]);
    let e = Profile::builtin("nope").unwrap_err();
    assert!(matches!(e, ProfileError::Unknown { .. }));
    assert!(e.to_string().contains("default, pocketkey"));
}

#[test]
fn user_file_with_fido_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[card]\nname = \"mine\"\nhistorical_bytes = \"80:73:80:01:C0\"\n\n[fido]\naaguid = \"x\"\nmax_msg_size = 2048\n",
    )
    .unwrap();
    let p = Profile::load(&path).unwrap();
    assert_eq!(Profile::find(path.to_str().unwrap()).unwrap(), p);
    assert_eq!(Profile::find("pocketkey").unwrap().name, "pocketkey");
    assert!(matches!(
        Profile::find("no-such-profile"),
        Err(ProfileError::Unknown { .. })
    ));
    assert!(matches!(
        Profile::find("/no/such/file.toml"),
        Err(ProfileError::Io { .. })
    ));
    assert_eq!(p.name, "mine");
    assert_eq!(p.description, "");
    assert_eq!(p.atr, h("3B 85 80 01 80 73 80 01 C0 B6"));
    let fido = p.fido.unwrap();
    assert_eq!(
        fido.get("max_msg_size").and_then(|v| v.as_integer()),
        Some(2048)
    );
}

#[test]
fn profile_errors_are_specific() {
    let parse = |t: &str| Profile::parse(t, "t").unwrap_err();
    assert!(matches!(
        parse("[card]\nname = \"x\"\n"),
        ProfileError::AtrSource { .. }
    ));
    assert!(matches!(
        parse("[card]\nname = \"x\"\natr = \"3B 00\"\nhistorical_bytes = \"\"\n"),
        ProfileError::AtrSource { .. }
    ));
    assert!(matches!(
        parse("[card]\nname = \"x\"\natr = \"3B 8\"\n"),
        ProfileError::Hex { field: "atr", .. }
    ));
    assert!(matches!(
        parse("[card]\nname = \"x\"\natr = \"3B 81 80 01 00 01\"\n"),
        ProfileError::Atr { .. }
    ));
    assert!(matches!(
        parse("[card]\nname = \"x\"\natr = \"3B 00\"\ncolour = 1\n"),
        ProfileError::Toml { .. }
    ));
    assert!(matches!(parse("name = 1\n"), ProfileError::Toml { .. }));
    let missing = Profile::load(std::path::Path::new("/nonexistent/p.toml")).unwrap_err();
    assert!(matches!(missing, ProfileError::Io { .. }));
    assert!(missing.to_string().contains("/nonexistent/p.toml"));
}

/// Hex to bytes; spaces ignored.
fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap()
}
