//! The `tapfido` command line: clap definitions and one runner per subcommand.
//!
//! # Layout
//! - [`card`]: `tapfido card` — serve one or several virtual cards to vpcd.
//! - [`tap`]: `tapfido tap` — remove / insert a card through the control API.
//! - [`profiles`]: `tapfido profiles` — list the builtin profiles.
//! - [`reader`]: `tapfido readers`, `tapfido wait`, and how card subcommands
//!   reach their card (wait for a tap, connect, SELECT).
//! - [`info`], [`pin`], [`credential`] (`register`, `login`), [`creds`],
//!   [`reset`], [`verify`], [`doctor`], [`demo`]: one module per subcommand
//!   group, each a thin layer over [`crate::ops`] / [`crate::demo`].
//! - [`output`]: reports, `--json`, errors as JSON, the tap spinner;
//!   [`pin_input`]: `--pin-file`, `TAPFIDO_PIN`, the prompt without echo.
//!
//! The binary (`src/bin/tapfido.rs`) only calls [`main`].
//!
//! Exit status: 0 success, 1 failure (including a failed verification,
//! policy, doctor check or demo step), 2 usage error.

pub mod card;
pub mod credential;
pub mod creds;
pub mod demo;
pub mod doctor;
pub mod info;
pub mod output;
pub mod pin;
pub mod pin_input;
pub mod profiles;
pub mod reader;
pub mod reset;
pub mod tap;
pub mod verify;

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
    /// Run the whole tap-to-authenticate flow on an embedded card (start here).
    Demo(demo::DemoArgs),
    /// List the PC/SC readers: name, card present, ATR.
    Readers(reader::ReadersArgs),
    /// Block until a card is in the reader.
    Wait(reader::WaitArgs),
    /// Show the card's getInfo, decoded.
    Info(info::InfoArgs),
    /// Set or change the PIN, or show the retries left.
    Pin(pin::PinCommandArgs),
    /// Register a credential and verify it as a relying party would.
    Register(credential::RegisterArgs),
    /// Sign in and verify the assertion as a relying party would.
    Login(credential::LoginArgs),
    /// List or delete discoverable credentials (needs the PIN).
    Creds(creds::CredsArgs),
    /// Reset the card: every credential and the PIN are deleted.
    Reset(reset::ResetArgs),
    /// Verify a PublicKeyCredential JSON offline (registration or assertion).
    Verify(verify::VerifyArgs),
    /// Run the Entra ID / Windows readiness checks on a card.
    Doctor(doctor::DoctorArgs),
    /// Run a command in a private PC/SC world: its own pcscd and N cards.
    #[command(after_help = crate::run::AFTER_HELP)]
    Run(crate::run::RunArgs),
    /// Print the reader.conf entries pcscd needs for N cards.
    VpcdConfig(crate::run::vpcd_config::VpcdConfigArgs),
}

impl Command {
    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        match self {
            Self::Card(_) | Self::Run(_) | Self::VpcdConfig(_) => false,
            Self::Tap(a) => a.output.json,
            Self::Profiles(a) => a.json,
            Self::Demo(a) => a.output.json,
            Self::Readers(a) => a.output.json,
            Self::Wait(a) => a.output.json,
            Self::Info(a) => a.output.json,
            Self::Pin(a) => match &a.action {
                pin::PinAction::Retries { output, .. } | pin::PinAction::Set { output, .. } => {
                    output.json
                }
                pin::PinAction::Change { session, .. } => session.output.json,
            },
            Self::Register(a) => a.session.output.json,
            Self::Login(a) => a.session.output.json,
            Self::Creds(a) => match &a.action {
                creds::CredsAction::List { session }
                | creds::CredsAction::Delete { session, .. } => session.output.json,
            },
            Self::Reset(a) => a.output.json,
            Self::Verify(a) => a.output.json,
            Self::Doctor(a) => a.session.output.json,
        }
    }
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
    /// Talking to the card failed; names the ISO status word or CTAP status.
    #[error(transparent)]
    Host(#[from] host::HostError),
    /// The demo could not start.
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    /// The policy file is unusable.
    #[error("policy: {0}")]
    Policy(#[from] relying_party::PolicyError),
    /// The relying party's record file is unusable.
    #[error(transparent)]
    Store(#[from] relying_party::store::StoreError),
    /// `tapfido verify` could not read its input.
    #[error(transparent)]
    Verify(#[from] crate::ops::verify::VerifyInputError),
    /// A file named on the command line could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A report could not be written as JSON.
    #[error("cannot write JSON: {0}")]
    Json(serde_json::Error),
    /// End with this exit status, nothing more to print (`tapfido run`
    /// passes on its command's status).
    #[error("exit status {0}")]
    ExitStatus(u8),
    /// The command ran and its report (already printed) says it failed:
    /// a verification, policy rule, doctor check or demo step.
    #[error("{0}")]
    Failed(String),
}

/// Parse the command line, set up logging, run the subcommand.
///
/// Exit status: 0 on success (including a clean Ctrl-C / SIGTERM shutdown),
/// 1 on any error, 2 on a usage error (clap's convention).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The card server logs what it does; the client subcommands only warn.
    init_logging(
        if matches!(cli.command, Command::Card(_) | Command::Tap(_)) {
            "info"
        } else {
            "warn"
        },
    );
    let json = cli.command.json();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::ExitStatus(code)) => ExitCode::from(code),
        Err(err) => {
            let message = error_chain(&err);
            eprintln!("tapfido: {message}");
            // A failed report was printed already; other errors get a JSON
            // document of their own so that scripts always read one.
            if json && !matches!(err, CliError::Failed(_)) {
                let _ = output::emit(json, &output::JsonError::new(&err, message), "");
            }
            match err {
                CliError::Usage(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Card(args) => card::run(args),
        Command::Tap(args) => tap::run(&args),
        Command::Profiles(args) => profiles::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Readers(args) => reader::run_readers(&args),
        Command::Wait(args) => reader::run_wait(&args),
        Command::Info(args) => info::run(&args),
        Command::Pin(args) => pin::run(&args),
        Command::Register(args) => credential::run_register(&args),
        Command::Login(args) => credential::run_login(&args),
        Command::Creds(args) => creds::run(&args),
        Command::Reset(args) => reset::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Run(args) => crate::run::run(args),
        Command::VpcdConfig(args) => crate::run::vpcd_config::run(&args),
    }
}

/// `tracing` to stderr, filtered by `RUST_LOG` (default `default`); ANSI
/// colours only when stderr is a terminal and `NO_COLOR` is unset, so logs
/// piped to a file or a CI log are plain text.
fn init_logging(default: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
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
