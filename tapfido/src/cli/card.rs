//! `tapfido card`: serve one or several virtual cards to vpcd.
//!
//! ```text
//! tapfido card [--vpcd HOST:PORT] [--slot N]... | [--cards N]
//!              [--profile NAME|PATH] [--state PATH]... [--state-dir DIR]
//!              [--attestation-ca CERT KEY] [--aaguid UUID]
//!              [--control ADDR | --no-control] [--echo] [--trace]
//! ```
//!
//! Several cards in one process: one card per vpcd slot, chosen with a
//! repeated `--slot N` or with `--cards N` (slots `0..N`). `--vpcd` names
//! slot 0; slot N connects to the same host on `PORT + N` (vpcd's own
//! numbering: `Virtual PCD 00 00` on 35963, `Virtual PCD 00 01` on 35964).
//! Each card has its own state file: `--state PATH` once per card in slot
//! order, or by default `<state-dir>/slot<N>/state.bin`. The state directory
//! (`--state-dir`, else the directory of the first `--state`, else
//! `$XDG_DATA_HOME/tapfido`) also keeps the test attestation CA
//! (`ca.pem`, `ca.key`), shared by the cards of the process.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{runtime, CliError};
use crate::control::DEFAULT_CONTROL_ADDR;
use crate::serve::{self, CardPlan, ServeConfig};

/// vpcd's default address for slot 0 (`Virtual PCD 00 00`).
pub const DEFAULT_VPCD_ADDR: &str = "127.0.0.1:35963";

/// Shown after `tapfido card --help`.
pub const AFTER_HELP: &str = "\
Several cards: --cards N (slots 0..N-1) or a repeated --slot N; slot N connects
to vpcd on PORT + N (Virtual PCD 00 0N). Each card keeps its state in
<state-dir>/slot<N>/state.bin unless --state is given (once per card, in slot
order). The test attestation CA (ca.pem, ca.key) is created in the state
directory at first start unless --attestation-ca is given.

Control API (HTTP on loopback): GET /, /usb<N>/power/off|on (remove / put back
card N), /usb<N>/touch/on|off|withhold. `tapfido tap` calls it.

Logs go to stderr (RUST_LOG, default info); --trace goes to stdout.
Ctrl-C or SIGTERM removes the cards from their readers and exits 0.";

/// The most cards one process serves.
pub const MAX_CARDS: usize = 16;

/// Arguments of `tapfido card`.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// vpcd address of slot 0; slot N uses PORT + N.
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_VPCD_ADDR)]
    pub vpcd: String,
    /// vpcd slot to serve a card on; repeat for several cards [default: 0].
    #[arg(long = "slot", value_name = "N", conflicts_with = "cards")]
    pub slots: Vec<u16>,
    /// Serve N cards, on slots 0 to N-1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub cards: Option<u16>,
    /// Card profile: a builtin name (see `tapfido profiles`) or a TOML file.
    #[arg(long, value_name = "NAME|PATH", default_value = "default")]
    pub profile: String,
    /// State file of a card; repeat once per card, in slot order.
    #[arg(long = "state", value_name = "PATH")]
    pub states: Vec<PathBuf>,
    /// Directory for the attestation CA and the default state files.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Bring your own attestation CA (PEM certificate chain and PEM private key).
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    pub attestation_ca: Option<Vec<PathBuf>>,
    /// Override the profile's AAGUID (8-4-4-4-12 hex, or 32 hex digits).
    #[arg(long, value_name = "UUID", value_parser = parse_aaguid)]
    pub aaguid: Option<[u8; 16]>,
    /// Control API address (loopback only).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_CONTROL_ADDR)]
    pub control: SocketAddr,
    /// Do not serve the control API.
    #[arg(long, conflicts_with = "control")]
    pub no_control: bool,
    /// Also install the test echo applet (transport tests up to 64 KiB).
    #[arg(long)]
    pub echo: bool,
    /// Print every APDU exchange to stdout: hex, decoded INS and SW.
    #[arg(long)]
    pub trace: bool,
}

impl CardArgs {
    /// The vpcd slots to serve, in order, checked for duplicates.
    pub fn slots(&self) -> Result<Vec<u16>, CliError> {
        let slots: Vec<u16> = match (self.cards, self.slots.is_empty()) {
            (Some(n), _) => (0..n).collect(),
            (None, true) => vec![0],
            (None, false) => self.slots.clone(),
        };
        if slots.len() > MAX_CARDS {
            return Err(CliError::Usage(format!(
                "at most {MAX_CARDS} cards per process"
            )));
        }
        let unique: BTreeSet<u16> = slots.iter().copied().collect();
        if unique.len() != slots.len() {
            return Err(CliError::Usage("each --slot may be given only once".into()));
        }
        Ok(slots)
    }

    /// Resolve the arguments into what [`serve::run`] needs.
    pub fn to_config(&self) -> Result<ServeConfig, CliError> {
        let slots = self.slots()?;
        if !self.states.is_empty() && self.states.len() != slots.len() {
            return Err(CliError::Usage(format!(
                "{} --state given for {} card(s): give one per card, in slot order, or none",
                self.states.len(),
                slots.len()
            )));
        }
        let distinct: BTreeSet<&PathBuf> = self.states.iter().collect();
        if distinct.len() != self.states.len() {
            return Err(CliError::Usage(
                "each card needs its own --state file".into(),
            ));
        }
        let state_dir = match (&self.state_dir, self.states.first()) {
            (Some(dir), _) => dir.clone(),
            (None, Some(first)) => first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), PathBuf::from),
            (None, None) => default_state_dir()?,
        };
        let mut cards = Vec::with_capacity(slots.len());
        for (i, &slot) in slots.iter().enumerate() {
            let vpcd = slot_address(&self.vpcd, slot).map_err(CliError::Usage)?;
            let state = self.states.get(i).cloned().unwrap_or_else(|| {
                state_dir
                    .join(format!("slot{slot}"))
                    .join(crate::storage::STATE_FILE_NAME)
            });
            cards.push(CardPlan { slot, vpcd, state });
        }
        let attestation_ca = match self.attestation_ca.as_deref() {
            None => None,
            Some([cert, key]) => Some((cert.clone(), key.clone())),
            Some(_) => {
                return Err(CliError::Usage(
                    "--attestation-ca takes a certificate and a key".into(),
                ))
            }
        };
        Ok(ServeConfig {
            cards,
            profile: self.profile.clone(),
            state_dir,
            attestation_ca,
            aaguid: self.aaguid,
            control: (!self.no_control).then_some(self.control),
            echo: self.echo,
            trace: self.trace,
        })
    }
}

/// `$XDG_DATA_HOME/tapfido` (or the platform's data directory).
fn default_state_dir() -> Result<PathBuf, CliError> {
    dirs::data_dir()
        .map(|d| d.join("tapfido"))
        .ok_or_else(|| CliError::Usage("no data directory known: give --state-dir".into()))
}

/// `HOST:PORT` of slot 0 → `HOST:(PORT + slot)`.
pub fn slot_address(base: &str, slot: u16) -> Result<String, String> {
    let (host, port) = base
        .rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .ok_or_else(|| format!("--vpcd {base:?}: expected HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("--vpcd {base:?}: bad port"))?;
    let port = port
        .checked_add(slot)
        .ok_or_else(|| format!("slot {slot}: port {port} + {slot} exceeds 65535"))?;
    Ok(format!("{host}:{port}"))
}

/// Parse an AAGUID: `8-4-4-4-12` hex groups or 32 hex digits.
pub fn parse_aaguid(text: &str) -> Result<[u8; 16], String> {
    let groups: Vec<&str> = text.split('-').collect();
    let canonical = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n);
    if !(canonical || groups.len() == 1) {
        return Err("expected 8-4-4-4-12 hex digits".into());
    }
    let digits: String = groups.concat();
    let bytes = hex::decode(&digits).map_err(|_| "not hexadecimal".to_string())?;
    <[u8; 16]>::try_from(bytes).map_err(|_| "an AAGUID is 16 bytes (32 hex digits)".into())
}

/// Run `tapfido card` until Ctrl-C / SIGTERM.
pub fn run(args: CardArgs) -> Result<(), CliError> {
    let config = args.to_config()?;
    runtime()?.block_on(async move {
        let shutdown = serve::shutdown_signal().map_err(CliError::Signals)?;
        serve::run(config, shutdown).await.map_err(CliError::from)
    })
}
