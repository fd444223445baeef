//! One card's state file and the test attestation CA: atomic, durable,
//! owner-only, single-writer.
//!
//! [`FileStorage`] implements [`applet::env::Storage`] for a single file;
//! [`load_or_create_ca`] keeps the test attestation CA of a state directory:
//!
//! ```text
//!  <dir>/                      mode 0700, created if missing
//!    state.bin                 mode 0600, the last complete blob
//!    state.bin.lock            mode 0600, flock'd while a process serves the card
//!    .state.bin.tmp-<pid>-<n>  mode 0600, only while a store is in flight
//!  <state dir>/
//!    ca.pem                    mode 0644, test CA certificate (PEM)
//!    ca.key                    mode 0600, its PKCS#8 private key (PEM)
//!    ca.lock                   mode 0600, flock'd while the CA is read or created
//! ```
//!
//! Every file is written by one function, [`atomic_write`], and never in
//! place:
//! 1. create `.state.bin.tmp-<pid>-<n>` with `O_CREAT | O_EXCL`, mode 0600;
//! 2. write the whole blob, `fsync` it;
//! 3. `rename` it over `state.bin` (atomic within one directory, POSIX);
//! 4. `fsync` the directory so the rename itself is durable.
//!
//! A crash before step 3 leaves the old file untouched plus a stray temp
//! file, which the next [`FileStorage::open`] (holding the lock) deletes. A
//! failure in steps 1–3 returns an error and leaves the old file in place.
//! A failure of step 4 also returns an error (the new bytes are not known to
//! be durable), although the renamed file already holds them: callers that
//! persist before they respond then do not respond, and a later reload sees
//! either state, never a mix.
//!
//! The lock is an exclusive `flock` on `<name>.lock` taken by
//! [`FileStorage::open`] and held for the lifetime of the value, so a second
//! process (or a second `open` in the same process) is refused instead of
//! two writers interleaving their states.
//!
//! Every read goes through [`file`]: no symbolic link is followed (a dangling
//! one is an error, never "no state yet"), only regular files are read (no
//! FIFO, no device), and the size is bounded before reading. The only mode
//! change tapfido makes to an existing file is restricting its own state file
//! (owned by this user, one name) through the opened descriptor.

pub mod file;

pub use file::FileError;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use applet::attestation::{AttestationCa, AttestationError, Zeroizing};
use applet::env::{Storage, StorageError};

use file::{MAX_CA_FILE_LEN, MAX_STATE_FILE_LEN};

/// File name of a card's state inside its directory.
pub const STATE_FILE_NAME: &str = "state.bin";

/// File name of the test attestation CA certificate in the state directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the test attestation CA private key (mode 0600).
pub const CA_KEY_FILE: &str = "ca.key";
/// Lock held while the test CA is read or created.
const CA_LOCK_FILE: &str = "ca.lock";
/// Mode of the CA certificate (public).
const CERT_MODE: u32 = 0o644;

/// What a state file is called in errors.
const STATE_WHAT: &str = "tapfido state file";

/// Mode of the state directory.
const DIR_MODE: u32 = 0o700;
/// Mode of the state, lock and temp files.
const FILE_MODE: u32 = 0o600;

/// Distinguishes temp files of successive stores within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Why a state file could not be opened for serving.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another process (or another handle) is serving this state file.
    #[error("state file {0} is in use by another tapfido process (lock held on {0}.lock)")]
    Locked(PathBuf),
    /// The path has no file name or no parent directory.
    #[error("state path {0} must name a file inside a directory")]
    BadPath(PathBuf),
    /// A card name unusable as a directory name.
    #[error("card name {0:?} cannot be used as a directory name")]
    BadCardName(String),
    /// The platform reports no per-user data directory.
    #[error("no user data directory on this system; pass --state PATH")]
    NoDataDir,
    /// The state file is a link, not a regular file, too large, or not this user's.
    #[error("{0}")]
    File(#[from] FileError),
    /// Creating the directory, opening the lock or cleaning up failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The step that failed.
        what: &'static str,
        /// The path it failed on.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// Why an attestation CA file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    /// Reading or writing the file failed.
    #[error("attestation CA file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file's content is not a usable CA.
    #[error("attestation CA file {path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: AttestationError,
    },
    /// The file is a link, not a regular file, or too large.
    #[error("attestation CA file: {0}")]
    File(#[from] FileError),
    /// One file of the test CA pair exists without the other.
    #[error(
        "attestation CA file {missing} is missing while {present} exists; restore it, or \
         remove both {CA_CERT_FILE} and {CA_KEY_FILE} to create a new test CA"
    )]
    HalfPair {
        /// The file that is missing.
        missing: PathBuf,
        /// The file that is there.
        present: PathBuf,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> OpenError + 'a {
    move |source| OpenError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The default state file of a card:
/// `<user data dir>/tapfido/<card>/state.bin` (on Linux
/// `$XDG_DATA_HOME/tapfido/<card>/state.bin`, usually under `~/.local/share`).
pub fn default_state_path(card: &str) -> Result<PathBuf, OpenError> {
    let valid = !card.is_empty()
        && card != "."
        && card != ".."
        && !card.contains(['/', '\\', '\0'])
        && !card.starts_with('.');
    if !valid {
        return Err(OpenError::BadCardName(card.to_owned()));
    }
    let base = dirs::data_dir().ok_or(OpenError::NoDataDir)?;
    Ok(base.join("tapfido").join(card).join(STATE_FILE_NAME))
}

/// The state file of one card (see the module docs).
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    dir: PathBuf,
    file_name: String,
    /// Held open for the flock; released when dropped.
    _lock: File,
}

impl FileStorage {
    /// Take the card's state file at `path` for exclusive use: create its
    /// directory (mode 0700) if missing, take the lock, remove stray temp
    /// files of interrupted stores, check an existing state file (a regular
    /// file, not a link, of a plausible size, owned by this user) and make
    /// it owner-only.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, OpenError> {
        let path: PathBuf = path.into();
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| OpenError::BadPath(path.clone()))?;
        let dir = match path.parent() {
            Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
            Some(p) => p.to_path_buf(),
            None => return Err(OpenError::BadPath(path)),
        };

        if !dir.exists() {
            create_private_dir(&dir).map_err(io_err("cannot create state directory", &dir))?;
        }

        let lock_path = dir.join(format!("{file_name}.lock"));
        let lock =
            open_lock_file(&lock_path).map_err(io_err("cannot open lock file", &lock_path))?;
        // `File::try_lock` (flock on Unix): stable since Rust 1.89, the
        // workspace `rust-version`.
        let locked = lock.try_lock();
        match locked {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OpenError::Locked(path)),
            Err(fs::TryLockError::Error(e)) => {
                return Err(io_err("cannot lock", &lock_path)(e));
            }
        }

        let storage = Self {
            path,
            dir,
            file_name,
            _lock: lock,
        };
        storage.remove_stray_temps()?;
        storage.restrict_existing()?;
        Ok(storage)
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Delete temp files left by a store that never reached its rename
    /// (other cards' files in the same directory are left alone).
    fn remove_stray_temps(&self) -> Result<(), OpenError> {
        remove_stray_temps(&self.dir, &[&self.file_name])
            .map_err(|(path, e)| io_err("cannot remove stray temp file", &path)(e))
    }

    /// Check an existing state file (see [`file`]) and make it owner-only if
    /// it is not already, through its descriptor.
    fn restrict_existing(&self) -> Result<(), OpenError> {
        if let Some(opened) = file::open_regular(&self.path, MAX_STATE_FILE_LEN, STATE_WHAT)? {
            file::restrict_to_owner(&opened, &self.path, FILE_MODE)?;
        }
        Ok(())
    }

    /// The directory holding the state file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Delete `.<name>.tmp-*` files of `names` in `dir`: what a write that
/// never reached its rename leaves behind.
fn remove_stray_temps(dir: &Path, names: &[&str]) -> Result<(), (PathBuf, io::Error)> {
    let prefixes: Vec<String> = names.iter().map(|n| format!(".{n}.tmp-")).collect();
    let entries = fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e))?;
        let name = entry.file_name();
        let is_temp = name
            .to_str()
            .is_some_and(|n| prefixes.iter().any(|p| n.starts_with(p.as_str())));
        if is_temp {
            let stray = entry.path();
            tracing::warn!(path = %stray.display(), "removing temp file of an interrupted write");
            fs::remove_file(&stray).map_err(|e| (stray, e))?;
        }
    }
    Ok(())
}

/// The attestation CA: the user's (`--attestation-ca CERT KEY`), else the
/// test CA kept in `state_dir` as [`CA_CERT_FILE`] and [`CA_KEY_FILE`],
/// created there (with the OS RNG) at first start.
///
/// Under the `ca.lock` flock, so two processes starting on one state
/// directory make one CA. A file of the pair without the other, or files
/// that do not hold a valid CA, are an error, never a reason to make a new
/// one.
pub fn load_or_create_ca(
    state_dir: &Path,
    explicit: Option<&(PathBuf, PathBuf)>,
) -> Result<AttestationCa, CaFileError> {
    if let Some((cert, key)) = explicit {
        return load_attestation_ca(cert, key);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CaFileError::Io { path, source }
    };
    if !state_dir.exists() {
        create_private_dir(state_dir).map_err(io(state_dir))?;
    }
    let lock_path = state_dir.join(CA_LOCK_FILE);
    let lock = open_lock_file(&lock_path).map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    remove_stray_temps(state_dir, &[CA_CERT_FILE, CA_KEY_FILE])
        .map_err(|(path, source)| CaFileError::Io { path, source })?;
    let cert = state_dir.join(CA_CERT_FILE);
    let key = state_dir.join(CA_KEY_FILE);
    // A link counts as present (dangling or not): loading it then refuses it,
    // instead of a new CA being written beside it.
    let cert_exists = file::entry_exists(&cert).map_err(io(&cert))?;
    let key_exists = file::entry_exists(&key).map_err(io(&key))?;
    match (cert_exists, key_exists) {
        (true, true) => {
            let ca = load_attestation_ca(&cert, &key)?;
            // Test CAs made by earlier builds wrote notBefore 2024 as GeneralizedTime
            // (RFC 5280 §4.1.2.5 wants UTCTime): re-sign it once with the same
            // key, so strict verifiers accept the chain and old anchors still do.
            let reissued =
                ca.reissued_with_rfc5280_times()
                    .map_err(|source| CaFileError::Invalid {
                        path: cert.clone(),
                        source,
                    })?;
            let Some(reissued) = reissued else {
                return Ok(ca);
            };
            let cert_pem = reissued.cert_pem().map_err(|source| CaFileError::Invalid {
                path: cert.clone(),
                source,
            })?;
            atomic_write(&cert, cert_pem.as_bytes(), CERT_MODE).map_err(io(&cert))?;
            tracing::info!(
                dir = %state_dir.display(),
                "re-issued the test attestation CA with RFC 5280 validity time types"
            );
            Ok(reissued)
        }
        (false, false) => {
            let ca = AttestationCa::generate_test_ca(&mut rand_core::OsRng).map_err(|source| {
                CaFileError::Invalid {
                    path: cert.clone(),
                    source,
                }
            })?;
            let (cert_pem, key_pem) = ca.to_pem().map_err(|source| CaFileError::Invalid {
                path: cert.clone(),
                source,
            })?;
            let key_pem = Zeroizing::new(key_pem);
            // The key first: a crash between the two leaves a key without a
            // certificate, which the next start reports instead of using.
            atomic_write(&key, key_pem.as_bytes(), FILE_MODE).map_err(io(&key))?;
            atomic_write(&cert, cert_pem.as_bytes(), CERT_MODE).map_err(io(&cert))?;
            tracing::info!(dir = %state_dir.display(), "created a test attestation CA");
            Ok(ca)
        }
        (true, false) => Err(CaFileError::HalfPair {
            missing: key,
            present: cert,
        }),
        (false, true) => Err(CaFileError::HalfPair {
            missing: cert,
            present: key,
        }),
    }
}

/// Read an attestation CA: the user's (`--attestation-ca CERT KEY`) or the
/// test CA of a state directory. Both files must be regular files, not links,
/// of at most [`MAX_CA_FILE_LEN`] bytes; an error names the file it is about.
pub fn load_attestation_ca(cert: &Path, key: &Path) -> Result<AttestationCa, CaFileError> {
    let cert_pem = read_pem(cert, "CA certificate")?;
    let key_pem = read_pem(key, "CA private key")?;
    AttestationCa::from_pem(&cert_pem, &key_pem).map_err(|source| CaFileError::Invalid {
        path: if source.is_about_key() { key } else { cert }.to_path_buf(),
        source,
    })
}

/// A PEM file's text, zeroed when dropped (it may hold a private key).
fn read_pem(path: &Path, what: &'static str) -> Result<Zeroizing<String>, CaFileError> {
    let io = |source| CaFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = file::read_regular(path, MAX_CA_FILE_LEN, what)?
        .ok_or_else(|| io(io::Error::from(io::ErrorKind::NotFound)))?;
    String::from_utf8(bytes).map(Zeroizing::new).map_err(|e| {
        let _wipe = Zeroizing::new(e.into_bytes());
        io(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
    })
}

/// Replace `target` with `bytes`: temp file `.<name>.tmp-<pid>-<n>` beside
/// it (O_EXCL, `mode`), write, fsync, rename, fsync the directory. On
/// failure before the rename the temp file is removed and `target` is
/// unchanged. The one writer of the state file, the test CA files and the
/// relying party's records.
pub fn atomic_write(target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    if let Err(e) = write_then_rename(&temp, target, bytes, mode) {
        // Best effort: the temp file may not exist; a leftover is removed
        // by the next open.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)
}

impl Storage for FileStorage {
    fn load(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        file::read_regular(&self.path, MAX_STATE_FILE_LEN, STATE_WHAT)
            .map_err(|e| StorageError::Io(e.to_string()))
    }

    fn store(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        atomic_write(&self.path, bytes, FILE_MODE).map_err(|e| storage_err("write", &self.path, &e))
    }
}

fn write_then_rename(temp: &Path, target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = options_with_mode(mode)
        .write(true)
        .create_new(true)
        .open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, target)
}

fn storage_err(what: &str, path: &Path, e: &io::Error) -> StorageError {
    StorageError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// Open (creating it, mode 0600) a file used only for its `flock`.
fn open_lock_file(path: &Path) -> io::Result<File> {
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// OpenOptions that create files owner-only.
fn private_options() -> OpenOptions {
    options_with_mode(FILE_MODE)
}

/// OpenOptions that create files with `mode`.
fn options_with_mode(mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options
}

/// Create `dir` and its missing parents, mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
