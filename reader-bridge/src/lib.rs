//! The ISO 7816-4 layer between a PC/SC reader and the card applets, the
//! PC/SC host client, and the pieces of the `tapfido` binary.
//!
//! ```text
//!  client ─▶ pcscd ─▶ vpcd ─▶ vsmartcard ─▶ reader-bridge ─▶ applet
//!                                 (VirtualCard)   (framing, chaining,
//!                                                  paging, SELECT, NFC CTAP)
//! ```
//!
//! # Layout
//! - [`apdu`]: command APDUs (seven length cases) and response APDUs, card
//!   and host direction, including splitting into chained blocks.
//! - [`bridge`]: [`bridge::Bridge`], the [`vsmartcard::VirtualCard`] that
//!   chains, pages, routes SELECT and speaks the NFC CTAP instructions.
//! - [`echo`]: a test applet for transport tests up to 64 KiB.
//! - [`atr`]: PC/SC part 3 contactless ATRs and ATR checks.
//! - [`profile`]: card profiles as TOML data.
//! - [`trace`]: one-line descriptions of APDU exchanges.
//! - [`host`]: the PC/SC host client (readers, CardSession, CTAP2/U2F
//!   commands, PIN/UV auth protocol two, doctor, the subcommand functions).
//! - [`rp`]: the offline relying party and passkey policies.
//! - [`demo`]: the tap-to-authenticate flow of `tapfido demo`.
//! - [`storage`]: the card's state file.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod apdu;
pub mod atr;
pub mod bridge;
pub mod cli;
pub mod control;
pub mod demo;
pub mod echo;
pub mod env;
pub mod host;
pub mod profile;
pub mod rp;
pub mod serve;
pub mod storage;
pub mod trace;

#[cfg(test)]
mod tests;
