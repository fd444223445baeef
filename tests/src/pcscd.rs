//! The PC/SC daemon: use the one that answers on `/run/pcscd/pcscd.comm`, or start
//! `pcscd --foreground` (root only; never `--auto-exit`, which stops it after 60 s idle).
//!
//! A pcscd started here outlives the test process on purpose, so the next test binary
//! reuses it; its PID is recorded in [`MARKER`] so that [`restart`] knows it may stop it.
//! Its output goes to [`LOG`].

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pcsc::{Context, Scope};

/// pcscd's client socket.
pub const SOCKET: &str = "/run/pcscd/pcscd.comm";
/// The PID file pcscd writes.
pub const PID_FILE: &str = "/run/pcscd/pcscd.pid";
/// The PID of the pcscd this harness started, if it did.
pub const MARKER: &str = "/tmp/tapfido-e2e-pcscd.pid";
/// Output of the pcscd this harness starts.
pub const LOG: &str = "/tmp/tapfido-e2e-pcscd.log";

const START_TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(20);

/// The pcscd started by this process, kept so it can be reaped after a restart.
static CHILD: Mutex<Option<Child>> = Mutex::new(None);

/// `true` when a pcscd answers (`SCardEstablishContext` succeeds).
#[must_use]
pub fn answering() -> bool {
    Context::establish(Scope::User).is_ok()
}

/// Makes sure a pcscd answers, starting one if needed.
///
/// # Errors
/// When none answers and this process cannot start one (not root, not installed).
pub fn ensure() -> Result<(), String> {
    let _start = crate::lock::pcscd_start();
    if answering() {
        return Ok(());
    }
    start()
}

fn start() -> Result<(), String> {
    if !crate::prereq::is_root() {
        return Err(format!(
            "no pcscd answers on {SOCKET} and only root can start one: start `pcscd` \
             (Debian: {})",
            crate::prereq::INSTALL_HINT
        ));
    }
    let log = File::create(LOG).map_err(|e| format!("create {LOG}: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("dup {LOG}: {e}"))?;
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new("pcscd")
            .arg("--foreground")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a Ctrl-C on the test run does not take it down
            // halfway through another process's test.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot run pcscd ({e}): {}", crate::prereq::INSTALL_HINT))?
    };
    let pid = child.id();
    std::fs::write(MARKER, pid.to_string()).map_err(|e| format!("write {MARKER}: {e}"))?;
    *CHILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(child);
    let deadline = Instant::now() + START_TIMEOUT;
    while !answering() {
        if Instant::now() > deadline {
            return Err(format!(
                "pcscd (pid {pid}) did not answer on {SOCKET} within {START_TIMEOUT:?}; see {LOG}"
            ));
        }
        std::thread::sleep(POLL);
    }
    eprintln!("e2e: started pcscd --foreground (pid {pid}, log {LOG})");
    Ok(())
}

/// PID of the running pcscd, from its PID file (pcscd 1.9.9 writes `PID\n\0`).
#[must_use]
pub fn running_pid() -> Option<u32> {
    std::fs::read_to_string(PID_FILE).ok().and_then(|s| {
        s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .parse()
            .ok()
    })
}

/// `true` when the running pcscd was started by this harness (here or in an earlier
/// test process).
#[must_use]
pub fn started_by_harness() -> bool {
    let marker = std::fs::read_to_string(MARKER)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    marker.is_some() && marker == running_pid()
}

/// Stops the running pcscd (SIGTERM, by PID) and starts a new one. The caller holds the
/// exclusive pcscd lock ([`crate::lock::pcscd`]`(true)`).
///
/// A pcscd this harness did not start is only restarted when `CI` is set or
/// `TAPFIDO_E2E_RESTART_PCSCD=1`: on a workstation it may be the system's.
///
/// # Errors
/// When it may not or cannot be restarted.
pub fn restart() -> Result<(), String> {
    let _start = crate::lock::pcscd_start();
    let allowed = started_by_harness()
        || crate::prereq::in_ci()
        || std::env::var("TAPFIDO_E2E_RESTART_PCSCD").is_ok_and(|v| v == "1");
    if !allowed {
        return Err("the running pcscd was not started by this harness; set \
             TAPFIDO_E2E_RESTART_PCSCD=1 to let the test restart it"
            .to_owned());
    }
    let pid = running_pid().ok_or_else(|| format!("no pcscd PID in {PID_FILE}"))?;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| format!("kill -TERM {pid}: {e}"))?;
    if !status.success() {
        return Err(format!("kill -TERM {pid} failed: {status}"));
    }
    // pcscd removes /run/pcscd itself when it stops.
    let deadline = Instant::now() + START_TIMEOUT;
    while Path::new(SOCKET).exists() || answering() {
        if Instant::now() > deadline {
            return Err(format!(
                "pcscd (pid {pid}) did not stop within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(POLL);
    }
    let mut ours = CHILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(mut child) = ours.take() {
        if child.id() == pid {
            let _ = child.wait();
        } else {
            *ours = Some(child);
        }
    }
    drop(ours);
    start()
}
