//! The `tapfido` binary's library: the card server, its control API and
//! state files, the command line and the demo.
//!
//! ```text
//!  tapfido card ─▶ serve ─▶ vsmartcard (vpcd link) ─▶ reader_bridge::Bridge ─▶ applet
//!                   │            ▲
//!                   ├─ storage   └─ control (HTTP: taps, presence)
//!                   └─ profile (profiles/*.toml)
//!  tapfido register|login|info|… ─▶ ops ─▶ host (PC/SC client) + relying_party
//! ```
//!
//! # Layout
//! - [`cli`]: argument parsing and one module per subcommand.
//! - [`serve`]: `tapfido card`, the cards on their vpcd slots; [`env`](mod@env): the
//!   applet's environment (OS RNG, clock, presence).
//! - [`control`]: the loopback HTTP control API (taps, presence switch).
//! - [`storage`]: the card's state file and the attestation CA files.
//! - [`profile`]: card profiles as TOML data.
//! - [`ops`]: the host subcommands (register, login, verify, creds, …) and
//!   the relying party's credential records file.
//! - [`demo`]: the tap-to-authenticate flow of `tapfido demo`.
//! - [`run`]: `tapfido run -- CMD`, a private pcscd with cards for a
//!   command, and the reader.conf generator of `tapfido vpcd-config`.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cli;
pub mod control;
pub mod demo;
pub mod env;
pub mod ops;
pub mod profile;
pub mod run;
pub mod serve;
pub mod storage;
