//! State and CA files that are not what they should be: symbolic links (dangling or not),
//! FIFOs, devices, directories, huge files, hard links. Each is refused with the file named,
//! nothing blocks, nothing is read whole, and no file the card did not create changes mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use applet::env::Storage;
use tapfido::serve::{load_or_create_ca, CA_CERT_FILE, CA_KEY_FILE};
use tapfido::storage::file::{read_regular, MAX_STATE_FILE_LEN};
use tapfido::storage::{CaFileError, FileError, FileStorage, OpenError, STATE_FILE_NAME};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `f` on a thread; fails the test if it takes more than 10 s (a blocking open).
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("blocked for more than 10 s")
}

/// What opening and loading the state at `path` gives: the open error, else the load error.
fn open_and_load(path: PathBuf) -> Result<Option<Vec<u8>>, String> {
    within_10s(move || {
        let mut storage = FileStorage::open(&path).map_err(|e| format!("open: {e}"))?;
        storage.load().map_err(|e| format!("load: {e}"))
    })
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_symlinked_state_file_is_refused_and_its_target_keeps_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("elsewhere");
    fs::write(&target, b"not the card's").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    let dir = tmp.path().join("card");
    fs::create_dir(&dir).unwrap();
    let path = dir.join(STATE_FILE_NAME);
    symlink(&target, &path).unwrap();

    let err = open_and_load(path.clone()).unwrap_err();
    assert!(
        err.contains("symbolic link") && err.contains("state.bin"),
        "{err}"
    );
    assert_eq!(mode(&target), 0o644, "the link's target was not chmod'ed");
    assert_eq!(fs::read(&target).unwrap(), b"not the card's");
}

#[test]
fn a_dangling_symlink_is_an_error_never_a_fresh_card() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    symlink(tmp.path().join("gone"), &path).unwrap();
    let err = open_and_load(path.clone()).unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        !tmp.path().join("gone").exists(),
        "nothing created through the link"
    );
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    mkfifo(&path);
    let err = open_and_load(path).unwrap_err();
    assert!(err.contains("FIFO, not a regular file"), "{err}");
}

#[test]
fn a_directory_or_device_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    fs::create_dir(&path).unwrap();
    let err = open_and_load(path).unwrap_err();
    assert!(err.contains("directory, not a regular file"), "{err}");
    // Devices: read through the same function as the state file, without reading them.
    for device in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        let err =
            within_10s(move || read_regular(Path::new(device), 1 << 20, "test file")).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: "character device",
                    ..
                }
            ),
            "{device}: {err:?}"
        );
    }
}

#[test]
fn a_huge_state_file_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    // Sparse: 1 GiB announced, nothing on disk.
    fs::File::create(&path).unwrap().set_len(1 << 30).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let err = open_and_load(path.clone()).unwrap_err();
    assert!(err.contains("larger than"), "{err}");
    // One byte over the bound is refused; at the bound it is read.
    fs::File::create(&path)
        .unwrap()
        .set_len(MAX_STATE_FILE_LEN + 1)
        .unwrap();
    assert!(open_and_load(path).unwrap_err().contains("larger than"));
}

#[test]
fn a_readable_state_file_with_another_name_is_not_chmod_ed() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other-name");
    fs::write(&other, b"shared").unwrap();
    fs::set_permissions(&other, fs::Permissions::from_mode(0o644)).unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    fs::hard_link(&other, &path).unwrap();
    match within_10s(move || FileStorage::open(&path)) {
        Err(OpenError::File(FileError::SharedReadable { links: 2, .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(mode(&other), 0o644);
}

#[test]
fn a_state_file_of_another_user_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(STATE_FILE_NAME);
    fs::write(&path, b"theirs").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    // Only root can give a file away.
    let chowned = std::process::Command::new("chown")
        .args(["65534:65534"])
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !chowned {
        eprintln!("skipped: cannot chown here (not root)");
        return;
    }
    let p = path.clone();
    match within_10s(move || FileStorage::open(&p)) {
        Err(OpenError::File(FileError::Foreign { owner: 65534, .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(mode(&path), 0o644);
}

#[test]
fn test_ca_files_that_are_links_fifos_or_huge_are_refused_and_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    load_or_create_ca(&real, None).unwrap();

    // A symlinked key (to a real key): refused.
    let linked = tmp.path().join("linked");
    fs::create_dir(&linked).unwrap();
    fs::copy(real.join(CA_CERT_FILE), linked.join(CA_CERT_FILE)).unwrap();
    symlink(real.join(CA_KEY_FILE), linked.join(CA_KEY_FILE)).unwrap();
    match load_or_create_ca(&linked, None) {
        Err(CaFileError::File(FileError::Symlink(p))) => assert_eq!(p, linked.join(CA_KEY_FILE)),
        other => panic!("{other:?}"),
    }

    // Both dangling: an error, not a new CA written beside them.
    let dangling = tmp.path().join("dangling");
    fs::create_dir(&dangling).unwrap();
    symlink(tmp.path().join("no-cert"), dangling.join(CA_CERT_FILE)).unwrap();
    symlink(tmp.path().join("no-key"), dangling.join(CA_KEY_FILE)).unwrap();
    assert!(matches!(
        load_or_create_ca(&dangling, None),
        Err(CaFileError::File(FileError::Symlink(_)))
    ));
    assert!(!tmp.path().join("no-cert").exists() && !tmp.path().join("no-key").exists());

    // A FIFO as the certificate: refused at once.
    let fifo = tmp.path().join("fifo");
    fs::create_dir(&fifo).unwrap();
    mkfifo(&fifo.join(CA_CERT_FILE));
    fs::copy(real.join(CA_KEY_FILE), fifo.join(CA_KEY_FILE)).unwrap();
    let err = within_10s(move || load_or_create_ca(&fifo, None)).unwrap_err();
    assert!(
        matches!(
            err,
            CaFileError::File(FileError::NotRegular { kind: "FIFO", .. })
        ),
        "{err:?}"
    );

    // A huge certificate: refused before reading.
    let huge = tmp.path().join("huge");
    fs::create_dir(&huge).unwrap();
    fs::File::create(huge.join(CA_CERT_FILE))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    fs::copy(real.join(CA_KEY_FILE), huge.join(CA_KEY_FILE)).unwrap();
    assert!(matches!(
        load_or_create_ca(&huge, None),
        Err(CaFileError::File(FileError::TooLarge { .. }))
    ));

    // A device given as the user's CA: refused.
    let user = (PathBuf::from("/dev/zero"), real.join(CA_KEY_FILE));
    let err =
        within_10s(move || load_or_create_ca(Path::new("/nonexistent"), Some(&user))).unwrap_err();
    assert!(err.to_string().contains("/dev/zero"), "{err}");
}

#[test]
fn a_bad_ca_key_is_reported_against_the_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    load_or_create_ca(&a, None).unwrap();
    load_or_create_ca(&b, None).unwrap();
    // A key of another CA: the key is what is wrong.
    let user = (a.join(CA_CERT_FILE), b.join(CA_KEY_FILE));
    match load_or_create_ca(tmp.path(), Some(&user)) {
        Err(e @ CaFileError::Invalid { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains(&*b.join(CA_KEY_FILE).to_string_lossy()),
                "{message}"
            );
            assert!(!message.contains(CA_CERT_FILE), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A key file without a key.
    fs::write(
        b.join(CA_KEY_FILE),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let user = (a.join(CA_CERT_FILE), b.join(CA_KEY_FILE));
    match load_or_create_ca(tmp.path(), Some(&user)) {
        Err(CaFileError::Invalid { path, .. }) => assert_eq!(path, b.join(CA_KEY_FILE)),
        other => panic!("{other:?}"),
    }
}
