//! `tapfido profiles`: the builtin card profiles (name, ATR, AAGUID).

use std::io::Write as _;

use clap::Args;

use super::CliError;
use crate::profile::Profile;
use crate::serve;

/// Arguments of `tapfido profiles`.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// One JSON object per profile instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One line of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRow {
    /// Profile name (what `--profile` takes).
    pub name: String,
    /// ATR, upper-case hex bytes separated by spaces.
    pub atr: String,
    /// AAGUID in 8-4-4-4-12 form.
    pub aaguid: String,
    /// One line for people.
    pub description: String,
}

/// The builtin profiles, in listing order.
pub fn builtin_rows() -> Result<Vec<ProfileRow>, CliError> {
    Profile::names()
        .into_iter()
        .map(|name| {
            let profile = serve::load_profile(name)?;
            let config = serve::profile_config(&profile)?;
            Ok(ProfileRow {
                name: profile.name,
                atr: spaced_hex(&profile.atr),
                aaguid: format_aaguid(&config.aaguid.0),
                description: profile.description,
            })
        })
        .collect()
}

/// Run `tapfido profiles`.
pub fn run(args: &ProfilesArgs) -> Result<(), CliError> {
    let rows = builtin_rows()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for row in &rows {
            let _ = writeln!(
                out,
                "{{\"name\":{},\"atr\":{},\"aaguid\":{},\"description\":{}}}",
                crate::control::json_string(&row.name),
                crate::control::json_string(&row.atr),
                crate::control::json_string(&row.aaguid),
                crate::control::json_string(&row.description)
            );
        }
    } else {
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let atr_width = rows.iter().map(|r| r.atr.len()).max().unwrap_or(3).max(3);
        let _ = writeln!(
            out,
            "{:width$}  {:atr_width$}  {:36}  DESCRIPTION",
            "NAME", "ATR", "AAGUID"
        );
        for row in &rows {
            let _ = writeln!(
                out,
                "{:width$}  {:atr_width$}  {:36}  {}",
                row.name, row.atr, row.aaguid, row.description
            );
        }
    }
    Ok(())
}

/// `3B 89 80 ...`
pub fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn format_aaguid(aaguid: &[u8; 16]) -> String {
    let h = hex::encode(aaguid);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
