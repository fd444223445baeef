//! The `tapfido` command line: clap definitions and one runner per subcommand.
//!
//! # Layout
//! - [`card`]: `tapfido card` — serve one or several virtual cards to vpcd.
//! - [`tap`]: `tapfido tap` — remove / insert a card through the control API.
//! - [`profiles`]: `tapfido profiles` — list the builtin profiles.
//!
//! The binary (`src/bin/tapfido.rs`) only calls [`main`].

pub mod card;
pub mod profiles;
pub mod tap;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A simulated NFC FIDO2 security-key card behind a virtual PC/SC reader.
#[derive(Debug, Parser)]
#[command(name = "tapfido", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve virtual cards to vsmartcard's vpcd (one card per vpcd slot).
    #[command(after_help = card::AFTER_HELP)]
    Card(card::CardArgs),
    /// Remove and/or put back a served card through its control API.
    Tap(tap::TapArgs),
    /// List the builtin card profiles.
    Profiles(profiles::ProfilesArgs),
}

/// Every error a subcommand can end with; printed as `tapfido: <error>`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Invalid combination of arguments that clap cannot express.
    #[error("{0}")]
    Usage(String),
    /// The card could not start or stopped on an error.
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
    /// Talking to or starting the control API failed.
    #[error(transparent)]
    Control(#[from] crate::control::ControlError),
    /// The Ctrl-C / SIGTERM handlers could not be installed.
    #[error("cannot watch for Ctrl-C / SIGTERM: {0}")]
    Signals(std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Parse the command line, set up logging, run the subcommand.
///
/// Exit status: 0 on success (including a clean Ctrl-C / SIGTERM shutdown),
/// 1 on any error, 2 on a usage error (clap's convention).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            eprintln!("tapfido: {message}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("tapfido: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Card(args) => card::run(args),
        Command::Tap(args) => tap::run(&args),
        Command::Profiles(args) => profiles::run(&args),
    }
}

/// `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `error: cause: cause` on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// A multi-threaded tokio runtime for the async subcommands.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}
