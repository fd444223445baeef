//! `tapfido pin retries|set|change`: clientPin (CTAP 2.1 §6.5), PIN/UV auth
//! protocol two.
//!
//! ```text
//! tapfido pin retries [--reader R] [--json]
//! tapfido pin set     [--new-pin-file PATH] [--reader R] [--json]
//! tapfido pin change  [--pin-file PATH] [--new-pin-file PATH] [--reader R] [--json]
//! ```

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::output::{emit_report, OutputArgs};
use super::pin_input::{new_pin, NEW_PIN_ENV, PIN_ENV};
use super::reader::{ReaderArgs, SessionArgs};
use super::CliError;
use crate::ops;

/// Arguments of `tapfido pin`.
#[derive(Debug, Args)]
pub struct PinCommandArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: PinAction,
}

/// `tapfido pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinAction {
    /// How many PIN attempts are left.
    Retries {
        /// Reader and time limit.
        #[command(flatten)]
        reader: ReaderArgs,
        /// Output.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Set the PIN of a card that has none.
    Set {
        /// Read the new PIN from the first line of this file [else $TAPFIDO_PIN, else a prompt].
        #[arg(long, visible_alias = "pin-file", value_name = "PATH")]
        new_pin_file: Option<PathBuf>,
        /// Reader and time limit.
        #[command(flatten)]
        reader: ReaderArgs,
        /// Output.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Change the PIN.
    Change {
        /// Read the new PIN from the first line of this file [else $TAPFIDO_NEW_PIN, else a prompt].
        #[arg(long, value_name = "PATH")]
        new_pin_file: Option<PathBuf>,
        /// The current PIN, reader, output.
        #[command(flatten)]
        session: SessionArgs,
    },
}

/// Run `tapfido pin …`.
pub fn run(args: &PinCommandArgs) -> Result<(), CliError> {
    match &args.action {
        PinAction::Retries { reader, output } => {
            let mut session = reader.connect()?;
            emit_report(output.json, &ops::pin_retries(&mut session)?)
        }
        PinAction::Set {
            new_pin_file,
            reader,
            output,
        } => {
            // The PIN to set: the file, else $TAPFIDO_PIN (as every other
            // subcommand reads it), else typed twice.
            let pin = new_pin(new_pin_file.as_deref(), PIN_ENV)?;
            let mut session = reader.connect()?;
            let left = ops::pin_set(&mut session, &pin)?;
            if !output.json {
                println!("PIN set");
            }
            emit_report(output.json, &left)
        }
        PinAction::Change {
            new_pin_file,
            session:
                SessionArgs {
                    pin,
                    reader,
                    output,
                },
        } => {
            let current = pin.require()?;
            let new = new_pin(new_pin_file.as_deref(), NEW_PIN_ENV)?;
            let mut session = reader.connect()?;
            let left = ops::pin_change(&mut session, &current, &new)?;
            if !output.json {
                println!("PIN changed");
            }
            emit_report(output.json, &left)
        }
    }
}
