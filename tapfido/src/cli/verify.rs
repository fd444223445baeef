//! `tapfido verify`: the offline relying party on a `PublicKeyCredential`
//! JSON as a browser hands it to a server (registration or assertion).
//!
//! ```text
//! tapfido verify FILE.json --rp ID --challenge B64URL|HEX [--origin URL] [--uv]
//!                [--policy FILE] [--store PATH] [--json]
//! ```
//!
//! Assertions are checked against the record of their credential in the
//! store (`tapfido register` keeps them there). The store is only read.
//! Exit status 1 when a rule fails; the report names the rule.

use std::path::PathBuf;

use clap::Args;

use super::credential::{parse_credential_id, Bytes, RpArgs};
use super::output::{emit_report, OutputArgs};
use super::CliError;
use crate::ops::verify::verify_json;
use relying_party::Expectations;

/// Arguments of `tapfido verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// `PublicKeyCredential` JSON (`toJSON()` form, base64url members).
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// Relying party ID.
    #[arg(long = "rp", value_name = "ID")]
    pub rp_id: String,
    /// The challenge the relying party issued (base64url or hex).
    #[arg(long, value_name = "B64URL|HEX", value_parser = parse_credential_id)]
    pub challenge: Bytes,
    /// Expected origin [default: https://ID, the RP ID].
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// Require flag UV.
    #[arg(long)]
    pub uv: bool,
    /// Policy and records.
    #[command(flatten)]
    pub rp: RpArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `tapfido verify`.
pub fn run(args: &VerifyArgs) -> Result<(), CliError> {
    let policy = args.rp.load_policy()?;
    let records = args.rp.store.load()?;
    let expect = Expectations {
        rp_id: args.rp_id.clone(),
        origin: args
            .origin
            .clone()
            .unwrap_or_else(|| format!("https://{}", args.rp_id)),
        challenge: args.challenge.clone(),
        require_uv: args.uv,
    };
    let report = verify_json(&args.file, &expect, policy.as_ref(), &records)?;
    emit_report(args.output.json, &report)?;
    if report.passed() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} did not pass",
            args.file.display()
        )))
    }
}
