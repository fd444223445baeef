//! Signals and exit statuses of `tapfido run`.
//!
//! SIGTERM and SIGHUP sent to `tapfido run` are passed on to CMD. SIGINT and
//! SIGQUIT are passed on too, except when `tapfido run` is in its
//! terminal's foreground process group: then the terminal delivered the
//! same Ctrl-C / Ctrl-\ to CMD (which shares that group) already, and
//! passing it on would deliver it twice. `tapfido run` itself never dies of
//! them: it waits for CMD, tears its world down and exits with CMD's
//! status (128 + N when CMD died of signal N).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};
use tokio::process::Child;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// How long CMD may take to stop after SIGTERM once `--timeout` expired.
pub const TIMEOUT_GRACE: Duration = Duration::from_secs(10);

/// How often the second stage checks that the first is still there.
const PARENT_POLL: Duration = Duration::from_millis(250);

/// The exit status `tapfido run` ends with for CMD's `status`.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + (sig & 0x7f)).unwrap_or(255),
        (None, None) => 1,
    }
}

/// The signals `tapfido run` catches, as they arrive.
#[derive(Debug)]
pub struct Catcher {
    rx: mpsc::UnboundedReceiver<Signal>,
}

impl Catcher {
    /// Install the handlers now (inside a runtime): from here on, these
    /// signals no longer end the process.
    pub fn install() -> io::Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        for (kind, sig) in [
            (SignalKind::interrupt(), Signal::INT),
            (SignalKind::terminate(), Signal::TERM),
            (SignalKind::hangup(), Signal::HUP),
            (SignalKind::quit(), Signal::QUIT),
        ] {
            let mut stream = signal(kind)?;
            let tx = tx.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send(sig).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Self { rx })
    }

    /// A signal that arrived and was not taken yet.
    pub fn pending(&mut self) -> Option<Signal> {
        self.rx.try_recv().ok()
    }

    /// The next signal.
    pub async fn next(&mut self) -> Option<Signal> {
        self.rx.recv().await
    }
}

/// Whether `sig` should be passed on to a child in our process group.
pub fn should_forward(sig: Signal) -> bool {
    let from_terminal = sig == Signal::INT || sig == Signal::QUIT;
    !(from_terminal && in_terminal_foreground())
}

/// `true` when this process's group is its terminal's foreground group
/// (`/proc/self/stat`: pgrp, field 5, equals tpgid, field 8).
pub fn in_terminal_foreground() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    // The command name (field 2) may hold spaces: count from its ')'.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return false;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] = state (3), [1] = ppid, [2] = pgrp, [3] = session, [4] = tty_nr, [5] = tpgid
    match (fields.get(2), fields.get(5)) {
        (Some(pgrp), Some(tpgid)) => pgrp == tpgid && *tpgid != "-1",
        _ => false,
    }
}

/// Send `sig` to the process `pid` (ignoring one that is gone).
pub fn send(pid: u32, sig: Signal) {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    if let Err(e) = kill_process(pid, sig) {
        tracing::debug!(%e, "kill {pid:?}");
    }
}

/// How a child ended.
#[derive(Debug)]
pub struct Waited {
    /// Its status.
    pub status: ExitStatus,
    /// `--timeout` expired and the child was stopped.
    pub timed_out: bool,
}

/// Wait for `child`, passing on the signals of `catcher` (see the module
/// doc), stopping it after `timeout` (SIGTERM, then SIGKILL after
/// [`TIMEOUT_GRACE`]) and, with `watch_parent`, when this process's parent
/// goes away (as if SIGTERM arrived).
pub async fn wait_with(
    child: &mut Child,
    catcher: &mut Catcher,
    timeout: Option<Duration>,
    watch_parent: bool,
) -> io::Result<Waited> {
    let pid = child.id();
    let parent = rustix::process::getppid();
    let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(100 * 365 * 86_400)));
    tokio::pin!(deadline);
    let mut timed_out = false;
    let mut kill_at: Option<tokio::time::Instant> = None;
    let mut parent_gone = false;
    let mut poll = tokio::time::interval(PARENT_POLL);
    loop {
        let hard_kill = async {
            match kill_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => return Ok(Waited { status: status?, timed_out }),
            Some(sig) = catcher.next() => {
                if let (Some(pid), true) = (pid, should_forward(sig)) {
                    send(pid, sig);
                }
            }
            () = &mut deadline, if timeout.is_some() && !timed_out => {
                tracing::warn!("--timeout expired: stopping the command");
                eprintln!("tapfido run: --timeout expired; stopping the command (SIGTERM)");
                timed_out = true;
                if let Some(pid) = pid {
                    send(pid, Signal::TERM);
                }
                kill_at = Some(tokio::time::Instant::now() + TIMEOUT_GRACE);
            }
            () = hard_kill => {
                eprintln!("tapfido run: the command ignored SIGTERM; SIGKILL");
                let _ = child.start_kill();
                kill_at = None;
            }
            _ = poll.tick(), if watch_parent && !parent_gone => {
                if rustix::process::getppid() != parent {
                    parent_gone = true;
                    if let Some(pid) = pid {
                        send(pid, Signal::TERM);
                    }
                }
            }
        }
    }
}

/// [`wait_with`] with its own [`Catcher`] and no time limit (the first
/// stage waiting for the second).
pub async fn wait_forwarding(child: &mut Child, timeout: Option<Duration>) -> io::Result<Waited> {
    let mut catcher = Catcher::install()?;
    wait_with(child, &mut catcher, timeout, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGTERM (15) / SIGKILL (9): 128 + N.
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }

    #[tokio::test]
    async fn a_timeout_stops_the_command() {
        let mut catcher = Catcher::install().unwrap();
        let mut child = tokio::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let waited = wait_with(
            &mut child,
            &mut catcher,
            Some(Duration::from_millis(100)),
            false,
        )
        .await
        .unwrap();
        assert!(waited.timed_out);
        assert_eq!(exit_code(waited.status), 143);
    }
}
