//! `tapfido run [OPTIONS] -- CMD [ARGS]`: a hermetic smart-card world for a
//! test suite, as `xvfb-run` is for X.
//!
//! ```text
//!  tapfido run ──▶ unshare (private mount ns [+ user ns]) ──▶ tapfido run --in-namespace
//!     │  forwards signals, exits with CMD's status              ├─ private /run/pcscd, pcscd -c DIR
//!     │                                                         ├─ N cards on free ports, control API
//!     │                                                         ├─ waits until every card is present
//!     └──────────────────────────────────────────────────────── └─ CMD (TAPFIDO_CONTROL, TAPFIDO_READERS)
//! ```
//!
//! # Layout
//! - [`vpcd_config`]: the reader.conf entries (also `tapfido vpcd-config`).
//! - [`ports`]: free ports for vpcd, under a machine-wide lock.
//! - [`namespace`]: the `unshare` re-exec and the private `/run/pcscd`.
//! - [`world`]: the second stage: pcscd, cards, CMD, teardown.
//! - [`fixture`]: `--pin` and `--fixture` (PIN, pre-registered credentials).
//! - [`signals`]: forwarding signals, exit statuses.
//!
//! Exit status: CMD's own; 128 + N when CMD died of signal N; 124 when
//! `--timeout` expired; 125 when `tapfido run` itself failed (setup), 126
//! when CMD could not be executed, 127 when it was not found (the
//! conventions of `timeout(1)` and `env(1)`); 2 for a usage error.

pub mod fixture;
pub mod namespace;
pub mod ports;
pub mod signals;
pub mod vpcd_config;
pub mod world;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::cli::CliError;

/// Exit status when `--timeout` expired.
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit status when `tapfido run` itself failed.
pub const EXIT_SETUP: u8 = 125;
/// Exit status when CMD exists but could not be executed.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// Exit status when CMD was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Shown after `tapfido run --help`.
pub const AFTER_HELP: &str = "\
CMD runs in a private mount namespace with its own pcscd, whose only readers
are the virtual cards' (vpcd, on free TCP ports); every card is in its reader
before CMD starts. CMD's environment adds:
  TAPFIDO_CONTROL      control API address (127.0.0.1:PORT), for `tapfido tap`
  TAPFIDO_CONTROL_URL  the same as a URL (python-fido2's --controller)
  TAPFIDO_READERS      the cards' reader names, one per line, card 0 first
  TAPFIDO_STATE_DIR    the cards' state directory (ca.pem: the attestation CA)
  TAPFIDO_CREDENTIALS  the --fixture credentials (tapfido login --store FILE)

Runs as root, or as any user where unprivileged user namespaces are allowed
(CMD then runs as root inside the namespace, mapped to the caller outside).
Exit status: CMD's; 128+N if CMD died of signal N; 124 timeout; 125 tapfido
run failed; 126 CMD not executable; 127 CMD not found.";

/// Arguments of `tapfido run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Number of cards (readers), 1 to 16.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub cards: u16,
    /// Card profile: a builtin name (see `tapfido profiles`) or a TOML file.
    #[arg(long, value_name = "NAME|PATH", default_value = "default")]
    pub profile: String,
    /// Keep the cards' state here (default: a fresh temporary directory,
    /// removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Set this PIN on every card before CMD starts.
    #[arg(long, value_name = "PIN")]
    pub pin: Option<String>,
    /// Control API address (loopback; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub control: SocketAddr,
    /// PIN and credentials to put on the cards first (TOML).
    #[arg(long, value_name = "FILE.toml")]
    pub fixture: Option<PathBuf>,
    /// Log every APDU exchange of every card to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Stop CMD (SIGTERM, then SIGKILL 10 s later) after SECS seconds; exit 124.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Second stage, inside the namespace (internal).
    #[arg(long = "in-namespace", hide = true)]
    pub in_namespace: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Run `tapfido run`: `Ok` when CMD exited 0, else the exit status to end
/// with (errors of `tapfido run` itself already printed).
pub fn run(args: RunArgs) -> Result<(), CliError> {
    if !args.control.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--control {}: the control API only listens on loopback",
            args.control
        )));
    }
    if let Some(pin) = &args.pin {
        fixture::check_pin(pin).map_err(|e| CliError::Usage(format!("--pin: {e}")))?;
    }
    if let Some(path) = &args.fixture {
        fixture::Fixture::load(path, args.cards).map_err(CliError::Usage)?;
    }
    let outcome = if args.in_namespace {
        world::run(args)
    } else {
        outer()
    };
    match outcome {
        Ok(0) => Ok(()),
        Ok(code) => Err(CliError::ExitStatus(code)),
        Err(message) => {
            eprintln!("tapfido run: {message}");
            Err(CliError::ExitStatus(EXIT_SETUP))
        }
    }
}

/// First stage: check the namespaces can be made, re-execute inside them,
/// forward signals, return the second stage's status.
fn outer() -> Result<u8, String> {
    namespace::preflight()?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
    // Everything after `tapfido run`, as given (paths stay relative to the
    // same working directory).
    let run_args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let mut cmd = namespace::unshare_command(&exe, &run_args);
    // The PC/SC client library would follow it past the private pcscd.
    cmd.env_remove("PCSCLITE_CSOCK_NAME");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let mut child = tokio::process::Command::from(cmd)
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let status = signals::wait_forwarding(&mut child, None)
            .await
            .map_err(|e| format!("waiting for the namespace: {e}"))?;
        Ok(signals::exit_code(status.status))
    })
}
