//! The file-backed state store: atomic replace, owner-only modes, stray temp
//! files, read-only directories and the single-process lock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use applet::attestation::AttestationError;
use applet::env::Storage;
use tapfido::storage::{
    default_state_path, load_attestation_ca, CaFileError, FileStorage, OpenError, STATE_FILE_NAME,
};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn missing_file_loads_as_none_and_creates_the_directory_0700() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("card");
    let path = dir.join(STATE_FILE_NAME);
    let mut storage = FileStorage::open(&path).unwrap();
    assert_eq!(storage.path(), path);
    assert_eq!(storage.load().unwrap(), None);
    assert!(!path.exists());
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("a")), 0o700);
}

#[test]
fn round_trip_and_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    let mut storage = FileStorage::open(&path).unwrap();
    storage.store(b"first").unwrap();
    assert_eq!(storage.load().unwrap(), Some(b"first".to_vec()));
    storage.store(b"second, longer").unwrap();
    storage.store(b"3").unwrap();
    assert_eq!(storage.load().unwrap(), Some(b"3".to_vec()));
    assert_eq!(fs::read(&path).unwrap(), b"3");
    storage.store(b"").unwrap();
    assert_eq!(storage.load().unwrap(), Some(Vec::new()));

    // Survives closing and reopening; nothing else is left in the directory.
    storage.store(&[0xA5; 70_000]).unwrap();
    drop(storage);
    let mut again = FileStorage::open(&path).unwrap();
    assert_eq!(again.load().unwrap(), Some(vec![0xA5; 70_000]));
    assert_eq!(listing(tmp.path()), vec!["state.bin", "state.bin.lock"]);
}

#[test]
fn state_and_lock_files_are_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    let mut storage = FileStorage::open(&path).unwrap();
    storage.store(b"secret-ish").unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&tmp.path().join("state.bin.lock")), 0o600);
    storage.store(b"again").unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn an_existing_world_readable_state_file_is_restricted_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    fs::write(&path, b"old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut storage = FileStorage::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(storage.load().unwrap(), Some(b"old".to_vec()));
}

#[test]
fn crash_between_temp_write_and_rename_keeps_the_old_state() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    {
        let mut storage = FileStorage::open(&path).unwrap();
        storage.store(b"committed").unwrap();
    }
    // A process died after writing its temp file but before the rename.
    let stray = tmp.path().join(".state.bin.tmp-4242-7");
    fs::write(&stray, b"half-written new state").unwrap();
    // Unrelated files are not touched.
    let other = tmp.path().join(".other.bin.tmp-1-1");
    fs::write(&other, b"x").unwrap();

    let mut storage = FileStorage::open(&path).unwrap();
    assert_eq!(storage.load().unwrap(), Some(b"committed".to_vec()));
    assert!(!stray.exists(), "stray temp file removed on open");
    assert!(other.exists());
    storage.store(b"next").unwrap();
    assert_eq!(storage.load().unwrap(), Some(b"next".to_vec()));
    assert_eq!(
        listing(tmp.path()),
        vec![".other.bin.tmp-1-1", "state.bin", "state.bin.lock"]
    );
}

/// Whether this process can create files in a 0500 directory (root can).
fn bypasses_permissions(dir: &Path) -> bool {
    let probe = dir.join("probe");
    let ok = fs::write(&probe, b"").is_ok();
    let _ = fs::remove_file(&probe);
    ok
}

#[test]
fn read_only_directory_fails_the_store_and_keeps_the_old_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("card");
    let path = dir.join(STATE_FILE_NAME);
    let mut storage = FileStorage::open(&path).unwrap();
    storage.store(b"old").unwrap();

    fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).unwrap();
    if bypasses_permissions(&dir) {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        eprintln!("skipped: running with permission to write read-only directories");
        return;
    }
    let err = storage.store(b"new").unwrap_err();
    assert!(err.to_string().contains("state.bin"), "{err}");
    assert_eq!(storage.load().unwrap(), Some(b"old".to_vec()));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(listing(&dir), vec!["state.bin", "state.bin.lock"]);
    storage.store(b"new").unwrap();
    assert_eq!(storage.load().unwrap(), Some(b"new".to_vec()));
}

#[test]
fn failed_rename_keeps_the_old_bytes_and_leaves_no_temp() {
    // Fails for every user: the rename target became a non-empty directory.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    let mut storage = FileStorage::open(&path).unwrap();
    fs::create_dir(&path).unwrap();
    fs::write(path.join("keep"), b"x").unwrap();
    assert!(storage.store(b"new").is_err());
    assert_eq!(fs::read(path.join("keep")).unwrap(), b"x");
    assert_eq!(listing(tmp.path()), vec!["state.bin", "state.bin.lock"]);
}

#[test]
fn second_holder_is_refused_until_the_first_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    let first = FileStorage::open(&path).unwrap();
    match FileStorage::open(&path) {
        Err(OpenError::Locked(p)) => assert_eq!(p, path),
        other => panic!("expected Locked, got {other:?}"),
    }
    // Another card in the same directory is independent.
    let _other = FileStorage::open(tmp.path().join("other.bin")).unwrap();
    drop(first);
    FileStorage::open(&path).unwrap();
}

#[test]
fn default_path_is_per_card_under_the_data_dir() {
    let path = default_state_path("pocketkey").unwrap();
    assert!(path.ends_with("tapfido/pocketkey/state.bin"));
    if let Some(data) = dirs::data_dir() {
        assert!(path.starts_with(data));
    }
    for bad in ["", ".", "..", "a/b", ".hidden", "a\\b"] {
        assert!(
            matches!(default_state_path(bad), Err(OpenError::BadCardName(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn user_attestation_ca_files() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../applet/tests/data/attestation");
    let ca = load_attestation_ca(
        &data.join("example-ca.crt.pem"),
        &data.join("example-ca.sec1.pem"),
    )
    .unwrap();
    assert!(!ca.cert_der().is_empty());
    match load_attestation_ca(
        &data.join("example-ca.crt.pem"),
        &data.join("other.sec1.pem"),
    ) {
        Err(CaFileError::Invalid { source, .. }) => {
            assert_eq!(source, AttestationError::KeyMismatch);
        }
        other => panic!("expected KeyMismatch, got {other:?}"),
    }
    match load_attestation_ca(&data.join("missing.pem"), &data.join("other.sec1.pem")) {
        Err(CaFileError::Io { path, .. }) => assert!(path.ends_with("missing.pem")),
        other => panic!("expected Io, got {other:?}"),
    }
}
