//! `tapfido tap [--off|--on] [--card N] [--control ADDR] [--hold-ms MS]`
//!
//! Without `--off` / `--on`, a whole tap: the card leaves the reader, stays
//! away for `--hold-ms` (default 1 s, longer than pcscd's 400 ms presence
//! poll so that clients see the removal), then comes back.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::{runtime, CliError};
use crate::control::{self, DEFAULT_CONTROL_ADDR};

/// Arguments of `tapfido tap`.
#[derive(Debug, Args)]
pub struct TapArgs {
    /// Only remove the card from its reader.
    #[arg(long, conflicts_with = "on")]
    pub off: bool,
    /// Only put the card back.
    #[arg(long)]
    pub on: bool,
    /// The card: its vpcd slot number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub card: u16,
    /// Control API address of the `tapfido card` process (inside
    /// `tapfido run`: its TAPFIDO_CONTROL).
    #[arg(long, value_name = "ADDR", env = "TAPFIDO_CONTROL", default_value = DEFAULT_CONTROL_ADDR)]
    pub control: SocketAddr,
    /// For a whole tap: how long the card stays away, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, conflicts_with_all = ["off", "on"])]
    pub hold_ms: u64,
    /// Output.
    #[command(flatten)]
    pub output: super::output::OutputArgs,
}

/// What `tapfido tap` does, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapPlan {
    /// Power off only.
    Off,
    /// Power on only.
    On,
    /// Off, wait, on.
    Tap(Duration),
}

impl TapArgs {
    /// The plan these arguments ask for.
    pub fn plan(&self) -> TapPlan {
        match (self.off, self.on) {
            (true, _) => TapPlan::Off,
            (false, true) => TapPlan::On,
            (false, false) => TapPlan::Tap(Duration::from_millis(self.hold_ms)),
        }
    }
}

/// Carry out `plan` on card `slot` through the control API at `addr`.
pub async fn tap(addr: SocketAddr, slot: u16, plan: TapPlan) -> Result<(), CliError> {
    let power = |on: bool| format!("/usb{slot}/power/{}", if on { "on" } else { "off" });
    match plan {
        TapPlan::Off => {
            control::get(addr, &power(false)).await?;
        }
        TapPlan::On => {
            control::get(addr, &power(true)).await?;
        }
        TapPlan::Tap(hold) => {
            control::get(addr, &power(false)).await?;
            tokio::time::sleep(hold).await;
            control::get(addr, &power(true)).await?;
        }
    }
    Ok(())
}

/// What `tapfido tap --json` prints.
#[derive(Debug, serde::Serialize)]
struct TapDone {
    card: u16,
    done: &'static str,
}

/// Run `tapfido tap`: silent on success, unless `--json`.
pub fn run(args: &TapArgs) -> Result<(), CliError> {
    let plan = args.plan();
    runtime()?.block_on(tap(args.control, args.card, plan))?;
    if args.output.json {
        let done = match plan {
            TapPlan::Off => "off",
            TapPlan::On => "on",
            TapPlan::Tap(_) => "tap",
        };
        let report = TapDone {
            card: args.card,
            done,
        };
        super::output::emit(true, &report, "")?;
    }
    Ok(())
}
