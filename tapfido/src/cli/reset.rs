//! `tapfido reset --yes [--reader R] [--json]`: authenticatorReset (CTAP 2.1
//! §6.6) — every credential and the PIN are gone.
//!
//! The card accepts a reset only within 10 s of being powered up, so the
//! card is power-cycled first (`SCardReconnect` with `SCARD_UNPOWER_CARD`),
//! which counts as a fresh tap on the virtual card and on most readers.

use clap::Args;
use serde::Serialize;

use super::output::{emit, OutputArgs};
use super::reader::ReaderArgs;
use super::CliError;
use crate::ops;

/// Arguments of `tapfido reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Confirm: every credential on the card and its PIN are deleted.
    #[arg(long)]
    pub yes: bool,
    /// Reader and time limit.
    #[command(flatten)]
    pub reader: ReaderArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `tapfido reset --json` prints.
#[derive(Debug, Serialize)]
struct ResetDone {
    reset: bool,
    transport: String,
}

/// Run `tapfido reset`.
pub fn run(args: &ResetArgs) -> Result<(), CliError> {
    if !args.yes {
        return Err(CliError::Usage(
            "reset deletes every credential and the PIN: add --yes to go ahead".into(),
        ));
    }
    let mut session = args.reader.connect()?;
    session.power_cycle()?;
    session.select()?;
    ops::reset(&mut session)?;
    let transport = host::Transport::describe(session.transport());
    let human = format!("card reset ({transport}): no credentials, no PIN\n");
    emit(
        args.output.json,
        &ResetDone {
            reset: true,
            transport,
        },
        &human,
    )
}
