//! A private pcscd with its own reader configuration, never the system's
//! (vpcd-stack notes §7): `unshare -m` → `mount --make-rprivate /` → a tmpfs on
//! `/run/pcscd` → the test's `vpcd` file bind-mounted over `/etc/reader.conf.d` →
//! `exec pcscd --foreground`. Clients outside the namespace reach it through
//! `PCSCLITE_CSOCK_NAME=/proc/PID/root/run/pcscd/pcscd.comm` (libpcsclite honours it;
//! pcscd itself always binds `/run/pcscd/pcscd.comm`, hence the private mount).
//!
//! The child is started by `std::process::Command`, whose file descriptors are
//! close-on-exec: it never inherits the harness's slot locks. Needs root. Killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::prereq::VPCD_DRIVER;

/// One `vpcd` entry of reader.conf: two readers on `port` and `port + 1`, named by
/// [`reader_name`]. `host` = `None` for vpcd's usual mode (vpcd listens, the card
/// connects), `Some(host)` for reversed mode (vpcd connects to the card).
#[must_use]
pub fn vpcd_entry(index: u16, host: Option<&str>, port: u16, lib: &Path) -> String {
    let device = host.unwrap_or("/dev/null");
    let name = if index == 0 {
        "Virtual PCD".to_owned()
    } else {
        format!("Virtual PCD {index}")
    };
    format!(
        "FRIENDLYNAME \"{name}\"\nDEVICENAME {device}:0x{port:04X}\nLIBPATH {}\nCHANNELID 0x{port:04X}\n",
        lib.display()
    )
}

/// The reader of `slot` (0 or 1) of entry `index`: `Virtual PCD 00 0S` for entry 0,
/// `Virtual PCD K 00 0S` for entry K (pcsc-lite numbers readers per FRIENDLYNAME only
/// within one entry, so every entry gets its own name).
#[must_use]
pub fn reader_name(index: u16, slot: u16) -> String {
    if index == 0 {
        format!("Virtual PCD 00 {slot:02}")
    } else {
        format!("Virtual PCD {index} 00 {slot:02}")
    }
}

/// A pcscd in its own mount namespace.
#[derive(Debug)]
pub struct PrivatePcscd {
    child: Child,
    dir: tempfile::TempDir,
}

impl PrivatePcscd {
    /// Starts pcscd with `entries` vpcd entries (ports `base`, `base + 2`, …; reversed
    /// mode towards `host` when given) as its only reader configuration and waits until
    /// its socket answers. Entry `k > 0` loads its own copy of the vpcd driver: vpcd keeps
    /// its connections in one array indexed by slot alone, so two entries sharing one
    /// library file overwrite each other's slots (pcsc-lite 1.9.9, vpcd 3.3).
    ///
    /// # Errors
    /// When not root, or pcscd does not come up within 10 s (its log is included).
    pub fn start(entries: u16, host: Option<&str>, base: u16) -> Result<Self, String> {
        if !crate::prereq::is_root() {
            return Err("a private pcscd needs root (unshare -m)".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("tapfido-private-pcscd-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let conf = dir.path().join("reader.conf.d");
        std::fs::create_dir(&conf).map_err(|e| e.to_string())?;
        for k in 0..entries {
            let lib = if k == 0 {
                PathBuf::from(VPCD_DRIVER)
            } else {
                let copy = dir.path().join(format!("libifdvpcd-{k}.so"));
                std::fs::copy(VPCD_DRIVER, &copy).map_err(|e| format!("copy vpcd driver: {e}"))?;
                copy
            };
            let entry = vpcd_entry(k, host, base + 2 * k, &lib);
            std::fs::write(conf.join(format!("vpcd-{k:02}")), entry).map_err(|e| e.to_string())?;
        }
        let log = std::fs::File::create(dir.path().join("pcscd.log")).map_err(|e| e.to_string())?;
        let script = format!(
            "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs /run/pcscd; \
             mount --bind '{}' /etc/reader.conf.d; exec pcscd --foreground",
            conf.display()
        );
        let child = Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let mut pcscd = Self { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pcscd.socket().exists() {
            if let Ok(Some(status)) = pcscd.child.try_wait() {
                return Err(format!("private pcscd exited ({status}): {}", pcscd.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("private pcscd not up after 10 s: {}", pcscd.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(pcscd)
    }

    /// The pcscd socket, as seen from outside the namespace.
    #[must_use]
    pub fn socket(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/root/run/pcscd/pcscd.comm",
            self.child.id()
        ))
    }

    /// Whether pcscd is still running (pcscd 1.9.9 aborts on some vpcd failures).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// pcscd's output.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pcscd.log")).unwrap_or_default()
    }

    /// The test's scratch directory (removed on drop).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `PCSCLITE_CSOCK_NAME` for a client of this pcscd.
    #[must_use]
    pub fn client_env(&self) -> (&'static str, PathBuf) {
        ("PCSCLITE_CSOCK_NAME", self.socket())
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        // pcscd is this harness's own child (exec'd by unshare's shell): stop it by its pid.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port `p` on loopback such that `p + 1` is free too (a vpcd entry's pair).
#[must_use]
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports");
}
