//! Opening the files the card keeps (state, test CA, a user's CA) without trusting the path.
//!
//! Every read goes through [`open_regular`]:
//!
//! 1. `open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)`: a symbolic link as the last
//!    component fails with `ELOOP` (a dangling link too, so it never reads as "no file"); a
//!    FIFO opens at once instead of blocking until a writer comes.
//! 2. `fstat` on the opened descriptor (not on the path, so nothing can swap the file between
//!    the check and the read): only a regular file is accepted, never a FIFO, socket,
//!    directory or device such as `/dev/zero`.
//! 3. The size is bounded before anything is read, and the read itself stops one byte past
//!    the bound (a file growing meanwhile is refused too).
//!
//! rustix gives `O_NOFOLLOW` and `fstat` as safe calls with the right constants for each
//! target (`O_NOFOLLOW` is `0o400000` on x86 but `0o100000` on Arm, so a hard-coded
//! `custom_flags` value would be wrong somewhere), and `geteuid` without `unsafe` (the
//! workspace forbids it). Only the last path component is protected: the directories above
//! it are the user's choice.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

/// Largest state file accepted: 10,000 resident credentials of at most ~3 KiB each plus a
/// 64 KiB large-blob array fit well within it.
pub const MAX_STATE_FILE_LEN: u64 = 64 * 1024 * 1024;
/// Largest CA certificate or key file accepted (PEM chains are a few KiB).
pub const MAX_CA_FILE_LEN: u64 = 1024 * 1024;

/// Why a kept file cannot be used. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path is a symbolic link (dangling or not).
    #[error(
        "{0} is a symbolic link; tapfido does not follow links for its state and CA files \
         (name the file itself)"
    )]
    Symlink(PathBuf),
    /// Not a regular file.
    #[error("{path} is a {kind}, not a regular file")]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than any file of its kind can be.
    #[error("{path} is larger than {max} bytes, more than a {what} can be")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound.
        max: u64,
        /// What kind of file it should have been.
        what: &'static str,
    },
    /// Owned by another user: neither used nor changed.
    #[error(
        "{path} belongs to uid {owner}, not to this user (uid {user}); tapfido neither uses \
         nor changes it"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective user.
        user: u32,
    },
    /// Readable by others but with other names (hard links): not the card's to restrict.
    #[error(
        "{path} is readable by other users and has {links} names (hard links); tapfido \
         only restricts files it created: make it owner-only (chmod 600) yourself"
    )]
    SharedReadable {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// The OS refused.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl FileError {
    fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An opened regular file, checked as in the module docs, and its metadata (from `fstat`).
#[derive(Debug)]
pub struct Opened {
    /// The open file.
    pub file: File,
    /// Its metadata at open time.
    pub meta: Metadata,
}

/// Opens `path` as in the module docs. `Ok(None)` when nothing at all is at `path` (not even
/// a dangling link).
pub fn open_regular(
    path: &Path,
    max: u64,
    what: &'static str,
) -> Result<Option<Opened>, FileError> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) if is_symlink(path) => {
            return Err(FileError::Symlink(path.to_path_buf()))
        }
        Err(e) => return Err(FileError::io(path, e.into())),
    };
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| FileError::io(path, e))?;
    let kind = kind_of(&meta);
    if kind != "regular file" {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    if meta.len() > max {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            max,
            what,
        });
    }
    Ok(Some(Opened { file, meta }))
}

/// Reads the whole of a file opened by [`open_regular`], at most `max` bytes.
pub fn read_bounded(
    opened: Opened,
    path: &Path,
    max: u64,
    what: &'static str,
) -> Result<Vec<u8>, FileError> {
    let capacity = usize::try_from(opened.meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    opened
        .file
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io(path, e))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            max,
            what,
        });
    }
    Ok(bytes)
}

/// [`open_regular`] then [`read_bounded`]. `Ok(None)` when nothing is at `path`.
pub fn read_regular(
    path: &Path,
    max: u64,
    what: &'static str,
) -> Result<Option<Vec<u8>>, FileError> {
    match open_regular(path, max, what)? {
        None => Ok(None),
        Some(opened) => read_bounded(opened, path, max, what).map(Some),
    }
}

/// Makes an opened state file owner-only when others can read it, through its descriptor
/// (`fchmod`, never the path): only when it belongs to this user and has no other name, i.e.
/// it is the file the card created. Anything else is refused, never changed.
pub fn restrict_to_owner(opened: &Opened, path: &Path, mode: u32) -> Result<(), FileError> {
    let owner = opened.meta.uid();
    let user = rustix::process::geteuid().as_raw();
    if owner != user {
        return Err(FileError::Foreign {
            path: path.to_path_buf(),
            owner,
            user,
        });
    }
    if opened.meta.mode() & 0o077 == 0 {
        return Ok(());
    }
    if opened.meta.nlink() != 1 {
        return Err(FileError::SharedReadable {
            path: path.to_path_buf(),
            links: opened.meta.nlink(),
        });
    }
    tracing::warn!(path = %path.display(), "state file was readable by others; restricting it to the owner");
    opened
        .file
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| FileError::io(path, e))
}

/// Whether anything (a file, a link, dangling or not) is at `path`, without following a link.
pub fn entry_exists(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "regular file"
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}
