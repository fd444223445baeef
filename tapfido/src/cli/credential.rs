//! `tapfido register` and `tapfido login`: the two WebAuthn ceremonies
//! against the card, each checked by the offline relying party and, with
//! `--policy`, by a passkey policy. The relying party's records (credential
//! public keys and counters) live in a JSON file, `--store PATH`
//! (default `$XDG_DATA_HOME/tapfido/rp-credentials.json`).
//!
//! ```text
//! tapfido register --rp ID --user NAME [--rk] [--uv] [--hmac-secret] [--policy FILE]
//!                  [--store PATH] [--pin-file PATH] [--reader R] [--json]
//! tapfido login --rp ID [--credential ID] [--uv] [--policy FILE]
//!               [--store PATH] [--pin-file PATH] [--reader R] [--json]
//! ```
//!
//! A PIN is read (file, `TAPFIDO_PIN`, or a prompt on a terminal) when
//! `--uv` is given or the card has a PIN set; exit status 1 when
//! verification or a policy rule fails.

use std::path::PathBuf;

use clap::Args;

use super::output::emit_report;
use super::pin_input::{Pin, PinArgs};
use super::reader::SessionArgs;
use super::CliError;
use crate::ops::login::{login, LoginOptions};
use crate::ops::register::{register, RegisterOptions};
use host::pcsc::PcscTransport;
use host::CardSession;
use relying_party::store::CredentialRecord;

use crate::ops::records as store;
use relying_party::Policy;

/// File name of the relying party's records in the data directory.
pub const STORE_FILE: &str = "rp-credentials.json";

/// `--store PATH`.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// The relying party's credential records (JSON)
    /// [default: $XDG_DATA_HOME/tapfido/rp-credentials.json].
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

impl StoreArgs {
    /// The store's path.
    pub fn path(&self) -> Result<PathBuf, CliError> {
        match &self.store {
            Some(path) => Ok(path.clone()),
            None => dirs::data_dir()
                .map(|d| d.join("tapfido").join(STORE_FILE))
                .ok_or_else(|| CliError::Usage("no data directory known: give --store".into())),
        }
    }

    /// Every record (none when the file does not exist yet).
    pub fn load(&self) -> Result<Vec<CredentialRecord>, CliError> {
        Ok(store::load(&self.path()?)?)
    }

    /// Insert or replace `record` and write the file back.
    pub fn keep(&self, record: CredentialRecord) -> Result<PathBuf, CliError> {
        let path = self.path()?;
        let mut records = store::load(&path)?;
        relying_party::store::upsert(&mut records, record);
        store::save(&path, &records)?;
        Ok(path)
    }
}

/// `--policy FILE --store PATH`: what the relying party checks against.
#[derive(Debug, Clone, Default, Args)]
pub struct RpArgs {
    /// Passkey policy (TOML) to evaluate.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Where the records are kept.
    #[command(flatten)]
    pub store: StoreArgs,
}

impl RpArgs {
    /// The policy, when one is given.
    pub fn load_policy(&self) -> Result<Option<Policy>, CliError> {
        self.policy
            .as_deref()
            .map(Policy::load)
            .transpose()
            .map_err(CliError::from)
    }
}

/// Arguments of `tapfido register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Relying party ID, e.g. `login.example.com`.
    #[arg(long = "rp", value_name = "ID")]
    pub rp_id: String,
    /// User name.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// A discoverable credential (resident key).
    #[arg(long)]
    pub rk: bool,
    /// Require user verification (the PIN).
    #[arg(long)]
    pub uv: bool,
    /// Ask for the hmac-secret extension.
    #[arg(long)]
    pub hmac_secret: bool,
    /// Ask for enterprise attestation: 1 vendor-facilitated (only RP IDs on
    /// the card's list), 2 platform-managed. Enables it on the card first
    /// when getInfo lists `ep: false`.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub enterprise: Option<u8>,
    /// Policy and records.
    #[command(flatten)]
    pub rp: RpArgs,
    /// PIN source, reader, output.
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Arguments of `tapfido login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Relying party ID.
    #[arg(long = "rp", value_name = "ID")]
    pub rp_id: String,
    /// Sign with this credential (hex or base64url) [default: a discoverable one].
    #[arg(long, value_name = "ID", value_parser = parse_credential_id)]
    pub credential: Option<Bytes>,
    /// Require user verification (the PIN).
    #[arg(long)]
    pub uv: bool,
    /// Policy and records.
    #[command(flatten)]
    pub rp: RpArgs,
    /// PIN source, reader, output.
    #[command(flatten)]
    pub session: SessionArgs,
}

/// Bytes given on the command line (an alias, so that clap takes the
/// value as one argument and not as a list of `u8`).
pub type Bytes = Vec<u8>;

/// A credential ID (or challenge) as hex, else as base64url.
pub fn parse_credential_id(text: &str) -> Result<Bytes, String> {
    hex::decode(text)
        .ok()
        .or_else(|| relying_party::json::base64url_decode(text))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| "expected a credential ID in hex or base64url".to_owned())
}

/// The PIN when one is needed: `--uv`, or the card has a PIN set.
fn pin_if_needed(
    session: &mut CardSession<PcscTransport>,
    pin: &PinArgs,
    uv: bool,
) -> Result<Option<Pin>, CliError> {
    if let Some(given) = pin.given()? {
        return Ok(Some(given));
    }
    let info = session.get_info()?;
    if uv || info.option("clientPin") == Some(true) {
        pin.get()
    } else {
        Ok(None)
    }
}

/// Run `tapfido register`.
pub fn run_register(args: &RegisterArgs) -> Result<(), CliError> {
    let policy = args.rp.load_policy()?;
    let mut session = args.session.reader.connect()?;
    let pin = pin_if_needed(&mut session, &args.session.pin, args.uv)?;
    let options = RegisterOptions {
        rp_id: args.rp_id.clone(),
        user: args.user.clone(),
        resident_key: args.rk,
        uv: args.uv,
        hmac_secret: args.hmac_secret,
        enterprise: args.enterprise,
        pin: pin.as_ref().map(|p| p.to_string()),
        policy,
    };
    let report = register(&mut session, &options)?;
    drop(options);
    emit_report(args.session.output.json, &report)?;
    if let Some(record) = &report.record {
        let path = args.rp.store.keep(record.clone())?;
        if !args.session.output.json {
            println!("  record kept in {}", path.display());
        }
    }
    if report.passed() {
        Ok(())
    } else {
        Err(CliError::Failed(
            "registration failed verification or policy".into(),
        ))
    }
}

/// Run `tapfido login`.
pub fn run_login(args: &LoginArgs) -> Result<(), CliError> {
    let policy = args.rp.load_policy()?;
    let records = args.rp.store.load()?;
    let mut session = args.session.reader.connect()?;
    let pin = pin_if_needed(&mut session, &args.session.pin, args.uv)?;
    let options = LoginOptions {
        rp_id: args.rp_id.clone(),
        credential_id: args.credential.clone(),
        uv: args.uv,
        pin: pin.as_ref().map(|p| p.to_string()),
        hmac_salt: None,
        records,
        policy,
    };
    let report = login(&mut session, &options)?;
    drop(options);
    emit_report(args.session.output.json, &report)?;
    if let Some(record) = &report.updated_record {
        args.rp.store.keep(record.clone())?;
    }
    if report.passed() {
        Ok(())
    } else {
        Err(CliError::Failed(
            "sign-in failed verification or policy".into(),
        ))
    }
}
