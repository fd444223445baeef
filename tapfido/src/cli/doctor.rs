//! `tapfido doctor`: the Entra ID / Windows readiness checks as a table
//! (see [`host::doctor`]); exit status 1 when a check fails.
//!
//! ```text
//! tapfido doctor [--reader R] [--pin-file PATH] [--trust-anchor PEM]... [--json]
//! ```
//!
//! The PIN (for the UV checks) comes from `--pin-file` or `TAPFIDO_PIN`;
//! without one those checks are skipped, not failed.

use std::path::PathBuf;

use clap::Args;

use super::output::emit_report;
use super::reader::SessionArgs;
use super::CliError;
use host::doctor::{doctor_pcsc, DoctorOptions};
use host::pcsc::ReaderSelector;

/// Arguments of `tapfido doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// PEM file of a root the attestation chain must end in (repeatable).
    #[arg(long, value_name = "PEM")]
    pub trust_anchor: Vec<PathBuf>,
    /// PIN source, reader, output.
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Run `tapfido doctor`.
pub fn run(args: &DoctorArgs) -> Result<(), CliError> {
    let mut anchors = Vec::new();
    for path in &args.trust_anchor {
        let pem = std::fs::read(path).map_err(|e| CliError::File {
            path: path.clone(),
            source: e,
        })?;
        let certs = relying_party::cert::certs_from_pem(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                CliError::Usage(format!("{}: no PEM certificate in it", path.display()))
            })?;
        anchors.extend(certs);
    }
    let options = DoctorOptions {
        pin: args.session.pin.given()?.map(|p| p.to_string()),
        anchors,
    };
    let reader = args.session.reader.wait()?;
    let report = doctor_pcsc(&ReaderSelector::Name(reader.name), &options)?;
    drop(options);
    emit_report(args.session.output.json, &report)?;
    if report.passed {
        Ok(())
    } else {
        let failed = report
            .checks
            .iter()
            .filter(|c| c.outcome == host::doctor::CheckOutcome::Fail)
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Err(CliError::Failed(format!("doctor: failed {failed}")))
    }
}
