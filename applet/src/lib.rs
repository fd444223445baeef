//! The tapfido card applet: FIDO2 (CTAP 2.1) and U2F (CTAP1) as pure logic.
//!
//! # Layout
//! - [`iso`]: the contract with the ISO 7816-4 layer — a whole, de-chained
//!   [`iso::Command`] in, response data plus an [`iso::Status`] out. The bridge
//!   (crate `tapfido-reader-bridge`) owns chaining, paging and SELECT routing.
//! - [`env`](mod@env): everything non-deterministic — RNG, clock, user presence and
//!   storage — behind one injected [`env::Env`]; [`env::TestEnv`] is seeded.
//!
//! The applet does no I/O of its own: no sockets, no files, no threads.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod attestation;
pub mod authdata;
pub mod cbor;
pub mod config;
pub mod credential;
pub mod crypto;
pub mod ctap;
pub mod env;
pub mod error;
pub mod fido;
pub mod iso;
pub mod keys;
pub mod pin;
pub mod state;
pub mod u2f;
pub mod versions;

#[cfg(test)]
mod tests;
