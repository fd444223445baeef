//! Where a PIN comes from: `--pin-file PATH` (its first line), else the
//! `TAPFIDO_PIN` environment variable, else a prompt without echo when
//! stdin is a terminal. The PIN is held in a zeroized buffer and never
//! printed or logged; error messages name the source, never the value.
//!
//! A new PIN (`pin set`, `pin change`) comes from `--new-pin-file`, else
//! `TAPFIDO_NEW_PIN`, else a prompt asked twice.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use applet::attestation::Zeroizing;
use clap::Args;

use super::CliError;

/// Environment variable holding the PIN (for scripts).
pub const PIN_ENV: &str = "TAPFIDO_PIN";
/// Environment variable holding the new PIN of `pin set` / `pin change`.
pub const NEW_PIN_ENV: &str = "TAPFIDO_NEW_PIN";

/// A PIN, wiped from memory when dropped.
pub type Pin = Zeroizing<String>;

/// `--pin-file PATH`.
#[derive(Debug, Clone, Default, Args)]
pub struct PinArgs {
    /// Read the PIN from the first line of this file [else $TAPFIDO_PIN, else a prompt].
    #[arg(long, value_name = "PATH")]
    pub pin_file: Option<PathBuf>,
}

impl PinArgs {
    /// The PIN from the file or the environment; no prompt.
    pub fn given(&self) -> Result<Option<Pin>, CliError> {
        from_file_or_env(self.pin_file.as_deref(), PIN_ENV)
    }

    /// The PIN from the file or the environment, else asked for when stdin
    /// is a terminal; `None` when there is no way to get one.
    pub fn get(&self) -> Result<Option<Pin>, CliError> {
        match self.given()? {
            Some(pin) => Ok(Some(pin)),
            None if std::io::stdin().is_terminal() => prompt("PIN: ").map(Some),
            None => Ok(None),
        }
    }

    /// Like [`PinArgs::get`], and an error when no PIN can be had.
    pub fn require(&self) -> Result<Pin, CliError> {
        self.get()?.ok_or_else(no_pin)
    }
}

/// The new PIN of `pin set` / `pin change`: `file`, else `TAPFIDO_NEW_PIN`,
/// else asked twice on a terminal.
pub fn new_pin(file: Option<&Path>, env: &str) -> Result<Pin, CliError> {
    if let Some(pin) = from_file_or_env(file, env)? {
        return Ok(pin);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "no new PIN: give --new-pin-file PATH or set {env}"
        )));
    }
    let first = prompt("New PIN: ")?;
    let again = prompt("New PIN again: ")?;
    if first.as_bytes() != again.as_bytes() {
        return Err(CliError::Usage("the two PINs differ".into()));
    }
    Ok(first)
}

fn no_pin() -> CliError {
    CliError::Usage(format!(
        "a PIN is needed: give --pin-file PATH, set {PIN_ENV}, or run on a terminal"
    ))
}

fn from_file_or_env(file: Option<&Path>, env: &str) -> Result<Option<Pin>, CliError> {
    if let Some(path) = file {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            CliError::Usage(format!("cannot read PIN file {}: {e}", path.display()))
        })?);
        let line = text.lines().next().unwrap_or_default();
        return check(Zeroizing::new(line.to_owned()), &path.display().to_string()).map(Some);
    }
    match std::env::var(env) {
        Ok(value) => check(Zeroizing::new(value), &format!("${env}")).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(CliError::Usage(format!("${env} is not valid UTF-8")))
        }
    }
}

fn prompt(text: &str) -> Result<Pin, CliError> {
    let pin = Zeroizing::new(
        rpassword::prompt_password(text)
            .map_err(|e| CliError::Usage(format!("cannot read the PIN: {e}")))?,
    );
    check(pin, "the PIN typed")
}

/// A PIN is 4 to 63 bytes of UTF-8 (CTAP 2.1 §6.5.5.5); says which source
/// was wrong, not what it held.
fn check(pin: Pin, source: &str) -> Result<Pin, CliError> {
    let len = pin.len();
    if (4..=63).contains(&len) {
        Ok(pin)
    } else {
        Err(CliError::Usage(format!(
            "{source}: a PIN is 4 to 63 bytes, this one has {len}"
        )))
    }
}
