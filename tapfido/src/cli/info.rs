//! `tapfido info [--reader R] [--json]`: the card's getInfo, decoded.

use clap::Args;

use super::output::{emit_report, OutputArgs};
use super::reader::ReaderArgs;
use super::CliError;
use crate::ops;

/// Arguments of `tapfido info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Reader and time limit.
    #[command(flatten)]
    pub reader: ReaderArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `tapfido info`.
pub fn run(args: &InfoArgs) -> Result<(), CliError> {
    let mut session = args.reader.connect()?;
    let report = ops::info(&mut session)?;
    emit_report(args.output.json, &report)
}
