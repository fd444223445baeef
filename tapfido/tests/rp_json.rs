//! `tapfido verify FILE.json`: the WebAuthn Level 3 §16.7 packed ES256
//! registration and §16.2 assertion (see testkit::rp::vectors), serialized
//! by the test as a browser's PublicKeyCredential JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use relying_party::json::base64url_decode;
use relying_party::store::CredentialRecord;
use relying_party::{Expectations, RpError};
use tapfido::ops::verify::{verify_json, JsonVerifyReport, VerifyInputError};
use testkit::rp::b64url;
use testkit::rp::vectors::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn expect(challenge: &[u8]) -> Expectations {
    Expectations {
        rp_id: "example.org".into(),
        origin: "https://example.org".into(),
        challenge: challenge.to_vec(),
        require_uv: false,
    }
}

#[test]
fn base64url_round_trips_against_an_independent_encoder() {
    for len in 0..70usize {
        let data: Vec<u8> = (0..len)
            .map(|i| u8::try_from((i * 37 + 11) % 256).unwrap())
            .collect();
        assert_eq!(base64url_decode(&b64url(&data)).unwrap(), data, "len {len}");
    }
    // RFC 4648 §10 test vectors ("foobar"), padded and unpadded.
    assert_eq!(base64url_decode("Zm9vYmFy").unwrap(), b"foobar");
    assert_eq!(base64url_decode("Zm9vYg==").unwrap(), b"foob");
    assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
    assert!(base64url_decode("Zm9v!").is_none());
    assert!(base64url_decode("Zh").is_none(), "non-zero trailing bits");
    // base64url only: the standard alphabet's `+` and `/` are not base64url.
    assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
    assert!(base64url_decode("+/8").is_none());
}

#[test]
fn registration_then_assertion_from_json() {
    let dir = tempfile::tempdir().unwrap();
    let reg_path = dir.path().join("reg.json");
    std::fs::write(
        &reg_path,
        format!(
            r#"{{"id":"x","rawId":"x","type":"public-key","response":{{"attestationObject":"{}","clientDataJSON":"{}"}}}}"#,
            b64url(&h(PACKED_REG_AO)),
            b64url(&h(PACKED_REG_CDJ))
        ),
    )
    .unwrap();
    let report = verify_json(&reg_path, &expect(&h(PACKED_REG_CHALLENGE)), None, &[]).unwrap();
    let JsonVerifyReport::Registration { report: r, record } = report else {
        panic!()
    };
    assert!(r.passed());
    let record = record.unwrap();
    assert_eq!(
        record.credential_id,
        "c9a6f5b3462d02873fea0c56862234f99f081728084e511bb7760201a89054a5"
    );

    // The §16.2 assertion, with the §16.2 key as the stored record.
    let cred_id = h("f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4");
    let stored = CredentialRecord {
        rp_id: "example.org".into(),
        credential_id: hex::encode(&cred_id),
        public_key: NONE_AUTH_KEY.into(),
        sign_count: 0,
        aaguid: String::new(),
        user: String::new(),
    };
    let a_path = dir.path().join("get.json");
    let write_assertion = |sig: &[u8]| {
        std::fs::write(
            &a_path,
            format!(
                r#"{{"id":"{id}","rawId":"{id}","type":"public-key","response":{{"authenticatorData":"{}","clientDataJSON":"{}","signature":"{}"}}}}"#,
                b64url(&h(NONE_AUTH_DATA)),
                b64url(&h(NONE_AUTH_CDJ)),
                b64url(sig),
                id = b64url(&cred_id),
            ),
        )
        .unwrap();
    };
    let challenge = h("39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408");
    write_assertion(&h(NONE_AUTH_SIG));
    let report = verify_json(
        &a_path,
        &expect(&challenge),
        None,
        std::slice::from_ref(&stored),
    )
    .unwrap();
    assert!(report.passed());

    let mut bad = h(NONE_AUTH_SIG);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    write_assertion(&bad);
    match verify_json(
        &a_path,
        &expect(&challenge),
        None,
        std::slice::from_ref(&stored),
    )
    .unwrap()
    {
        JsonVerifyReport::Assertion { report, .. } => {
            let json = serde_json::to_value(&report).unwrap();
            assert_eq!(json["verification"]["status"], "failed");
            assert_eq!(json["verification"]["error"]["rule"], "signature_invalid");
            assert_eq!(report.verification.value(), None);
            assert!(matches!(
                report.verification,
                tapfido::ops::Verification::Failed {
                    error: RpError::SignatureInvalid
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        verify_json(&a_path, &expect(&challenge), None, &[]).unwrap_err(),
        VerifyInputError::UnknownCredential(_)
    ));
}
