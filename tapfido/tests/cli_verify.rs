//! `tapfido verify FILE.json` from the binary on the WebAuthn Level 3 §16.2
//! assertion (testkit::rp::vectors), with the §16.2 key as the stored
//! record: the genuine signature passes (exit 0), a tampered one fails with
//! exit 1 and the rule named, in the text and in the JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::path::Path;

use cli_support::tapfido;
use testkit::rp::b64url;
use testkit::rp::vectors::{NONE_AUTH_CDJ, NONE_AUTH_DATA, NONE_AUTH_KEY, NONE_AUTH_SIG};

const CRED_ID: &str = "f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4";
const CHALLENGE: &str = "39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn write_assertion(path: &Path, sig: &[u8]) {
    let id = b64url(&h(CRED_ID));
    std::fs::write(
        path,
        format!(
            r#"{{"id":"{id}","rawId":"{id}","type":"public-key","response":{{"authenticatorData":"{}","clientDataJSON":"{}","signature":"{}"}}}}"#,
            b64url(&h(NONE_AUTH_DATA)),
            b64url(&h(NONE_AUTH_CDJ)),
            b64url(sig),
        ),
    )
    .unwrap();
}

fn write_store(path: &Path) {
    let records = serde_json::json!([{
        "rp_id": "example.org",
        "credential_id": CRED_ID,
        "public_key": NONE_AUTH_KEY,
        "sign_count": 0,
        "aaguid": "",
        "user": "",
    }]);
    std::fs::write(path, records.to_string()).unwrap();
}

fn verify(file: &Path, store: &Path, json: bool) -> cli_support::Run {
    let mut args = vec![
        "verify",
        file.to_str().unwrap(),
        "--rp",
        "example.org",
        "--challenge",
        CHALLENGE,
        "--store",
        store.to_str().unwrap(),
    ];
    if json {
        args.push("--json");
    }
    tapfido(&args, &[])
}

#[test]
fn genuine_assertion_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (file, store) = (dir.path().join("get.json"), dir.path().join("rp.json"));
    write_store(&store);
    write_assertion(&file, &h(NONE_AUTH_SIG));
    let run = verify(&file, &store, false);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("assertion verified"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().last(), Some("PASS"));
    let before = std::fs::read(&store).unwrap();
    let _ = verify(&file, &store, true);
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "verify only reads the store"
    );
}

#[test]
fn tampered_signature_fails_with_the_rule_named() {
    let dir = tempfile::tempdir().unwrap();
    let (file, store) = (dir.path().join("get.json"), dir.path().join("rp.json"));
    write_store(&store);
    let mut sig = h(NONE_AUTH_SIG);
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    write_assertion(&file, &sig);

    let run = verify(&file, &store, false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAILED [signature_invalid]"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().last(), Some("FAIL"));

    let run = verify(&file, &store, true);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["kind"], "assertion");
    assert_eq!(report["report"]["verification"]["status"], "failed");
    assert_eq!(
        report["report"]["verification"]["error"]["rule"],
        "signature_invalid"
    );
}

#[test]
fn unknown_credential_and_missing_file_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (file, store) = (dir.path().join("get.json"), dir.path().join("empty.json"));
    write_assertion(&file, &h(NONE_AUTH_SIG));
    let run = verify(&file, &store, true);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no stored record of credential"),
        "{}",
        run.stderr
    );
    let err: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(err["ok"], false);

    let run = verify(&dir.path().join("absent.json"), &store, false);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("absent.json"), "{}", run.stderr);
}
