//! Free TCP ports for a private pcscd's vpcd readers.
//!
//! vpcd listens on every interface, on the ports named in reader.conf, so
//! two `tapfido run` must never hand pcscd the same ports. A run takes an
//! exclusive `flock` on [`LOCK_FILE`], picks a random block of consecutive
//! ports below the Linux ephemeral range (so outgoing connections do not
//! take them meanwhile), checks that every port of the block can be bound,
//! and keeps the lock until its pcscd has bound them (its readers are
//! listed). A concurrent run waits for the lock, then finds those ports
//! taken. The lock is held for well under a second per run.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rand_core::{OsRng, RngCore};

/// The lock shared by every `tapfido run` of the machine.
pub const LOCK_FILE: &str = "/tmp/tapfido-run-ports.lock";

/// Lowest port handed out.
pub const LOW: u16 = 20000;
/// One past the highest: the Linux ephemeral range starts at 32768.
pub const HIGH: u16 = 32768;

/// Random blocks tried before giving up.
const ATTEMPTS: usize = 200;

/// The held port lock; dropping it releases the lock.
#[derive(Debug)]
pub struct PortLock {
    _file: File,
}

/// Take the machine-wide port lock (blocking).
///
/// The file is opened without `O_CREAT` when it exists (a file of another
/// user in sticky `/tmp` may not be opened with `O_CREAT` under
/// `fs.protected_regular`), else created mode 0666 so other users can lock
/// it too.
pub fn lock() -> io::Result<PortLock> {
    lock_at(Path::new(LOCK_FILE))
}

fn lock_at(path: &Path) -> io::Result<PortLock> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(f) => {
                    let _ = f.set_permissions(std::fs::Permissions::from_mode(0o666));
                    f
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => File::open(path)?,
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    file.lock()?;
    Ok(PortLock { _file: file })
}

/// `true` when `port` can be bound on every IPv4 interface now.
pub fn bindable(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

/// A random even first port of `count` consecutive bindable ports in
/// [`LOW`, [`HIGH`]). Call it holding [`lock`].
pub fn pick(count: u16) -> io::Result<u16> {
    pick_with(count, bindable)
}

fn pick_with(count: u16, free: impl Fn(u16) -> bool) -> io::Result<u16> {
    let span = HIGH - LOW;
    if count == 0 || count >= span {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot reserve {count} ports"),
        ));
    }
    let starts = u32::from((span - count) / 2);
    for _ in 0..ATTEMPTS {
        let offset = u16::try_from(OsRng.next_u32() % starts).unwrap_or(0);
        let first = LOW + 2 * offset;
        if (first..first + count).all(&free) {
            return Ok(first);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!(
            "no {count} consecutive free TCP ports between {LOW} and {HIGH} after {ATTEMPTS} tries"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_block_is_inside_the_range_and_free() {
        for _ in 0..100 {
            let first = pick_with(16, |_| true).unwrap();
            assert!(first >= LOW && first + 16 <= HIGH, "{first}");
            assert_eq!(first % 2, 0);
        }
    }

    #[test]
    fn a_block_with_a_busy_port_is_never_picked() {
        let first = pick_with(4, |p| !(20000..32000).contains(&p)).unwrap();
        assert!(first >= 32000, "{first}");
        assert!(pick_with(4, |_| false).is_err());
    }

    #[test]
    fn a_bound_port_is_not_bindable() {
        let held = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        assert!(!bindable(held.local_addr().unwrap().port()));
    }

    #[test]
    fn the_lock_excludes_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ports.lock");
        let held = lock_at(&path).unwrap();
        let other = File::open(&path).unwrap();
        assert!(other.try_lock().is_err(), "second lock while held");
        drop(held);
        assert!(other.try_lock().is_ok(), "free once dropped");
    }
}
