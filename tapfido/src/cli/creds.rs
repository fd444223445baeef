//! `tapfido creds list|delete`: credential management (CTAP 2.1 §6.8),
//! with a PIN token of permission `cm`.
//!
//! ```text
//! tapfido creds list [--pin-file PATH] [--reader R] [--json]
//! tapfido creds delete ID [--pin-file PATH] [--reader R] [--json]
//! ```

use clap::{Args, Subcommand};
use serde::Serialize;

use super::credential::{parse_credential_id, Bytes};
use super::output::{emit, emit_report};
use super::reader::SessionArgs;
use super::CliError;
use crate::ops;

/// Arguments of `tapfido creds`.
#[derive(Debug, Args)]
pub struct CredsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CredsAction,
}

/// `tapfido creds` subcommands.
#[derive(Debug, Subcommand)]
pub enum CredsAction {
    /// List the discoverable credentials on the card.
    List {
        /// PIN source, reader, output.
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Delete one discoverable credential.
    Delete {
        /// Credential ID (hex or base64url), as `creds list` shows it.
        #[arg(value_name = "ID", value_parser = parse_credential_id)]
        id: Bytes,
        /// PIN source, reader, output.
        #[command(flatten)]
        session: SessionArgs,
    },
}

/// What `tapfido creds delete --json` prints.
#[derive(Debug, Serialize)]
struct Deleted {
    #[serde(with = "relying_party::hex_bytes")]
    deleted: Vec<u8>,
}

/// Run `tapfido creds …`.
pub fn run(args: &CredsArgs) -> Result<(), CliError> {
    match &args.action {
        CredsAction::List { session: flags } => {
            let (pin, mut session) = flags.pin_and_connect()?;
            emit_report(flags.output.json, &ops::creds::list(&mut session, &pin)?)
        }
        CredsAction::Delete { id, session: flags } => {
            let (pin, mut session) = flags.pin_and_connect()?;
            ops::creds::delete(&mut session, &pin, id)?;
            let human = format!("deleted credential {}\n", hex::encode(id));
            let deleted = Deleted {
                deleted: id.clone(),
            };
            emit(flags.output.json, &deleted, &human)
        }
    }
}
