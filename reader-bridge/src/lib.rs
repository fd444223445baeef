//! The ISO 7816-4 layer between a PC/SC reader and the card applets.
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
//! - [`trace`]: one-line descriptions of APDU exchanges.
//!
//! Nothing here talks to PC/SC: the host client is the `tapfido-host` crate,
//! the binary the `tapfido` crate.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod apdu;
pub mod atr;
pub mod bridge;
pub mod echo;
pub mod trace;

#[cfg(test)]
mod tests;
