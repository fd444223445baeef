//! The attestation CA kept in the state directory, or brought by the user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;

use reader_bridge::serve::{load_or_create_ca, ServeError, CA_CERT_FILE, CA_KEY_FILE};

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
        Err(ServeError::Ca { path, .. }) => assert_eq!(path, dir.path().join(CA_CERT_FILE)),
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
        Err(ServeError::Ca { .. })
    ));
    std::fs::write(&cert, "not pem").unwrap();
    assert!(matches!(
        load_or_create_ca(dir.path(), Some(&(cert.clone(), key.clone()))),
        Err(ServeError::Ca { path, .. }) if path == key
    ));
    std::fs::write(&cert, "not pem").unwrap();
    std::fs::write(&key, "not pem either").unwrap();
    assert!(matches!(
        load_or_create_ca(dir.path(), Some(&(cert, key))),
        Err(ServeError::CaFile(_))
    ));
    assert!(!dir.path().join(CA_KEY_FILE).exists(), "no test CA created");
}
