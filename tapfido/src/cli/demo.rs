//! `tapfido demo`: the whole tap-to-authenticate flow, on an embedded card
//! when no card is named (see [`crate::demo`]).
//!
//! ```text
//! tapfido demo [--in-process] [--profile NAME] [--reader R] [--policy FILE]
//!              [--rp ID] [--user NAME] [--pin-file PATH] [--json]
//! ```
//!
//! Without pcscd (or with `--in-process`) the card and the reader run in
//! this process; with pcscd and a free vpcd reader the card is served on
//! vpcd and driven through pcscd. Exit status 1 when a step fails.

use std::path::PathBuf;

use clap::Args;

use super::output::{emit_report, OutputArgs, Spinner};
use super::pin_input::PinArgs;
use super::CliError;
use crate::demo::{run_demo, DemoOptions};

/// Arguments of `tapfido demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run card and reader in this process even when pcscd is available.
    #[arg(long, conflicts_with = "reader")]
    pub in_process: bool,
    /// Built-in profile of the embedded card (see `tapfido profiles`).
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub profile: String,
    /// Run the flow on the card in this PC/SC reader instead (name or index).
    #[arg(long, short = 'r', value_name = "NAME|INDEX")]
    pub reader: Option<String>,
    /// Passkey policy (TOML) [default: attestation enforced, the card's
    /// AAGUID allowed, device-bound, UV required].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Relying party ID.
    #[arg(long = "rp", value_name = "ID", default_value = "login.tapfido.test")]
    pub rp_id: String,
    /// User name.
    #[arg(long, value_name = "NAME", default_value = "alice@tapfido.test")]
    pub user: String,
    /// PIN to set on the card (or to use, when it has one) [default: 123456].
    #[command(flatten)]
    pub pin: PinArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The demo's PIN when none is given.
pub const DEFAULT_DEMO_PIN: &str = "123456";

/// Run `tapfido demo`.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let pin = args
        .pin
        .given()?
        .map_or_else(|| DEFAULT_DEMO_PIN.to_owned(), |p| p.to_string());
    let options = DemoOptions {
        in_process: args.in_process,
        profile: args.profile.clone(),
        rp_id: args.rp_id.clone(),
        user: args.user.clone(),
        pin,
        policy: args.policy.clone(),
        reader: args.reader.clone(),
    };
    let spinner = Spinner::start("tap, set PIN, register, remove, tap again, sign in …".into());
    let report = run_demo(&options);
    drop(spinner);
    drop(options);
    let report = report?;
    emit_report(args.output.json, &report)?;
    if report.passed {
        Ok(())
    } else {
        Err(CliError::Failed(
            "the demo failed (see the steps above)".into(),
        ))
    }
}
