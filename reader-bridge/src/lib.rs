//! The ISO 7816-4 layer between a PC/SC reader and the card applets, the
//! PC/SC host client, and the pieces of the `tapfido` binary.
//!
//! ```text
//!  client ─▶ pcscd ─▶ vpcd ─▶ vsmartcard ─▶ reader-bridge ─▶ applet
//!                                 (VirtualCard)   (framing, chaining,
//!                                                  paging, SELECT, NFC CTAP)
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cli;
pub mod control;
pub mod env;
pub mod serve;
pub mod storage;
