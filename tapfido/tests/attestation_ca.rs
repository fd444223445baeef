//! The attestation CA kept in the state directory, or brought by the user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;

use tapfido::serve::{load_or_create_ca, CA_CERT_FILE, CA_KEY_FILE};
use tapfido::storage::CaFileError;

#[test]
fn created_once_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nested");
    let first = load_or_create_ca(&state, None).unwrap();
    let key_mode = std::fs::metadata(state.join(CA_KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let cert_pem = std::fs::read_to_string(state.join(CA_CERT_FILE)).unwrap();
    assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let second = load_or_create_ca(&state, None).unwrap();
    assert_eq!(first.cert_der(), second.cert_der());

    // The same files given explicitly load the same CA.
    let explicit = (state.join(CA_CERT_FILE), state.join(CA_KEY_FILE));
    let third = load_or_create_ca(dir.path(), Some(&explicit)).unwrap();
    assert_eq!(first.cert_der(), third.cert_der());
}

#[test]
fn half_a_pair_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    load_or_create_ca(dir.path(), None).unwrap();
    std::fs::remove_file(dir.path().join(CA_CERT_FILE)).unwrap();
    match load_or_create_ca(dir.path(), None) {
        Err(CaFileError::HalfPair { missing, present }) => {
            assert_eq!(missing, dir.path().join(CA_CERT_FILE));
            assert_eq!(present, dir.path().join(CA_KEY_FILE));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !dir.path().join(CA_CERT_FILE).exists(),
        "nothing regenerated"
    );
}

#[test]
fn missing_or_corrupt_user_ca_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("my.pem");
    let key = dir.path().join("my.key");
    assert!(matches!(
        load_or_create_ca(dir.path(), Some(&(cert.clone(), key.clone()))),
        Err(CaFileError::Io { .. })
    ));
    std::fs::write(&cert, "not pem").unwrap();
    assert!(matches!(
        load_or_create_ca(dir.path(), Some(&(cert.clone(), key.clone()))),
        Err(CaFileError::Io { path, .. }) if path == key
    ));
    std::fs::write(&cert, "not pem").unwrap();
    std::fs::write(&key, "not pem either").unwrap();
    assert!(matches!(
        load_or_create_ca(dir.path(), Some(&(cert, key))),
        Err(CaFileError::Invalid { .. })
    ));
    assert!(!dir.path().join(CA_KEY_FILE).exists(), "no test CA created");
}

#[test]
fn corrupt_test_ca_is_an_error_not_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join(CA_CERT_FILE);
    let key = dir.path().join(CA_KEY_FILE);
    let bad_cert = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::fs::write(&cert, bad_cert).unwrap();
    std::fs::write(&key, b"not a key").unwrap();
    // Both are bad; the key file is not even PEM, and the error names it.
    match load_or_create_ca(dir.path(), None) {
        Err(CaFileError::Invalid { path, .. }) => assert_eq!(path, key),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(std::fs::read(&cert).unwrap(), bad_cert, "left untouched");
    assert_eq!(std::fs::read(&key).unwrap(), b"not a key", "left untouched");

    // A certificate without its key is refused the same way.
    std::fs::remove_file(&key).unwrap();
    assert!(matches!(
        load_or_create_ca(dir.path(), None),
        Err(CaFileError::HalfPair { missing, .. }) if missing == key
    ));
}

#[test]
fn stray_temp_files_of_an_interrupted_creation_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let stray_key = dir.path().join(format!(".{CA_KEY_FILE}.tmp-1-0"));
    let stray_cert = dir.path().join(format!(".{CA_CERT_FILE}.tmp-1-1"));
    std::fs::write(&stray_key, b"partial").unwrap();
    std::fs::write(&stray_cert, b"partial").unwrap();
    load_or_create_ca(dir.path(), None).unwrap();
    assert!(!stray_key.exists() && !stray_cert.exists());
    let cert_mode = std::fs::metadata(dir.path().join(CA_CERT_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(cert_mode & 0o777, 0o644);
}

#[test]
fn two_threads_starting_at_once_make_one_ca() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || load_or_create_ca(&path, None).unwrap().cert_der().to_vec())
        })
        .collect();
    let certs: Vec<Vec<u8>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(certs.windows(2).all(|w| w[0] == w[1]));
}

/// A test CA as earlier builds wrote it: notBefore 2024-01-01 and notAfter
/// 9999 both GeneralizedTime (`18 0F "20240101000000Z"`).
const LEGACY_CA_PEM: &str = include_str!("data/legacy-test-ca/ca.pem");
const LEGACY_CA_KEY: &str = include_str!("data/legacy-test-ca/ca.key");

#[test]
fn a_legacy_test_ca_is_reissued_once_with_rfc5280_times_and_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CA_CERT_FILE), LEGACY_CA_PEM).unwrap();
    std::fs::write(dir.path().join(CA_KEY_FILE), LEGACY_CA_KEY).unwrap();
    let legacy =
        applet::attestation::AttestationCa::from_pem(LEGACY_CA_PEM, LEGACY_CA_KEY).unwrap();
    assert!(!legacy.has_rfc5280_times());

    let ca = load_or_create_ca(dir.path(), None).unwrap();
    assert!(ca.has_rfc5280_times());
    assert_eq!(ca.verifying_key(), legacy.verifying_key());
    // notBefore 2024 is now UTCTime: 17 0D "240101000000Z".
    let needle = b"\x17\x0d240101000000Z";
    assert!(ca.cert_der().windows(needle.len()).any(|w| w == needle));
    // Written back; the key file is untouched; the next start reads it as is.
    let stored = std::fs::read_to_string(dir.path().join(CA_CERT_FILE)).unwrap();
    assert_eq!(stored, ca.cert_pem().unwrap());
    let key = std::fs::read_to_string(dir.path().join(CA_KEY_FILE)).unwrap();
    assert_eq!(key, LEGACY_CA_KEY);
    let again = load_or_create_ca(dir.path(), None).unwrap();
    assert_eq!(again.cert_der(), ca.cert_der());

    // A CA given with --attestation-ca is used as given, even this one.
    let explicit = dir.path().join("user.pem");
    std::fs::write(&explicit, LEGACY_CA_PEM).unwrap();
    let user = load_or_create_ca(
        dir.path(),
        Some(&(explicit.clone(), dir.path().join(CA_KEY_FILE))),
    )
    .unwrap();
    assert_eq!(user.cert_der(), legacy.cert_der());
    assert_eq!(std::fs::read_to_string(&explicit).unwrap(), LEGACY_CA_PEM);
}
