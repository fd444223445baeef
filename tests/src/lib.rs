//! Shared harness for the end-to-end tests: a real pcscd with the vpcd
//! driver, the `tapfido` binary as the card, and helpers to wait for readers.
//!
//! ```text
//!  test (pcsc crate / python-fido2) ─▶ pcscd ─▶ vpcd driver ══TCP 3596x══▶ tapfido card
//!                                                                              │
//!  test ──────────── HTTP GET /usb{N}/power/off|on (control API) ─────────────┘
//! ```
//!
//! # Layout
//! - [`prereq`]: what the stack needs, and the skip-or-fail policy (`CI` set = fail).
//! - [`pcscd`]: use the running pcscd, or start `pcscd --foreground`; restart it.
//! - [`lock`]: cross-process locks (`flock`) on vpcd slots and on pcscd.
//! - [`binary`]: find or build the `tapfido` binary once per process.
//! - [`card`]: one `tapfido card` process on a vpcd slot, killed on drop.
//! - [`reader`]: waiting on readers with `SCardGetStatusChange`, transmit with hex on failure.
//! - [`control`]: the card's loopback HTTP control API.
//! - [`apdu`]: an independent client model of ISO 7816-4 framing (short, extended,
//!   command chaining, GET RESPONSE paging) that checks every frame it receives.
//! - [`bare`]: a card that answers `90 00` to everything, on the same transport (the floor).
//! - [`ctap`]: a minimal CTAP2-over-NFC client of its own (the benchmark's getAssertion).
//! - [`python`]: run the python-fido2 scripts of `tests/python/` against a card.
//! - [`private`]: a private pcscd in a mount namespace with the test's own vpcd entries.
//!
//! # Environment
//! - `CI`: set → a missing prerequisite (pcscd, vpcd, python-fido2) fails the test instead
//!   of skipping it.
//! - `TAPFIDO_BIN`: use this `tapfido` binary instead of building one.
//! - `TAPFIDO_E2E_LOCKED`: build `tapfido` with `--locked` (set by `scripts/test.sh`).
//! - `TAPFIDO_E2E_KEEP`: keep each card's temporary directory (state, CA, logs).
//! - `TAPFIDO_E2E_RESTART_PCSCD=1`: let the restart test stop a pcscd it did not start.
//! - `PYTHON`: the interpreter of the python-fido2 scripts (default `python3`).
//!
//! Files: `/tmp/tapfido-e2e-slot-N.lock`, `/tmp/tapfido-e2e-pcscd.lock` (flock),
//! `/tmp/tapfido-e2e-pcscd.pid` and `.log` (a pcscd started by the harness, left running
//! for the next test process).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod apdu;
pub mod bare;
pub mod binary;
pub mod card;
pub mod control;
pub mod ctap;
pub mod lock;
pub mod minimal;
pub mod pcscd;
pub mod prereq;
pub mod private;
pub mod python;
pub mod reader;

#[cfg(test)]
mod tests;

pub use card::{Card, CardOptions, PcscdLock};
pub use prereq::{in_ci, stack};
pub use reader::{Conn, Reader};

/// The FIDO applet identifier (CTAP 2.1 §11.3.1 / U2F NFC §5).
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];

/// The test echo applet's AID (`F0` || "tapfidoE"), installed by `tapfido card --echo`:
/// `xx EE 00 00 <data>` echoes, `xx E8 00 00 02 N1 N2` returns N bytes `0, 1, .., 250, 0, ..`,
/// `xx EA 00 00 ..` reports Ne (4 bytes) and whether the command was extended.
pub const ECHO_AID: [u8; 9] = [0xF0, 0x74, 0x61, 0x70, 0x66, 0x69, 0x64, 0x6F, 0x45];
/// Echo applet: echo the command data.
pub const INS_ECHO: u8 = 0xEE;
/// Echo applet: generate N bytes.
pub const INS_GENERATE: u8 = 0xE8;
/// Echo applet: report Ne.
pub const INS_REPORT_NE: u8 = 0xEA;

/// `SELECT` by DF name (ISO/IEC 7816-4 §11.2.2), case 4S with `Le = 00`.
#[must_use]
pub fn select(aid: &[u8]) -> Vec<u8> {
    apdu::short(0x00, 0xA4, 0x04, 0x00, aid, Some(256))
}

/// The ATR of the ACS PocketKey NFC card (pcsc-tools smartcard list).
pub const POCKETKEY_ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x41, 0x43, 0x53, 0x20, 0x41, 0x46, 0x44, 0x30, 0x32, 0x38,
];

/// Skips the calling test (or fails it when `CI` is set) unless the stack can run:
/// evaluates to `&'static e2e::prereq::Stack`.
#[macro_export]
macro_rules! require_stack {
    () => {
        match $crate::stack() {
            Ok(stack) => stack,
            Err(reason) => {
                if $crate::in_ci() {
                    panic!("end-to-end prerequisites missing (CI is set, so this fails): {reason}");
                }
                eprintln!("SKIPPED (set CI=1 to make this a failure): {reason}");
                return;
            }
        }
    };
}

/// Like [`require_stack!`], and also needs python3 with `fido2` and `smartcard` (pyscard).
#[macro_export]
macro_rules! require_python {
    () => {{
        let stack = $crate::require_stack!();
        if let Err(reason) = $crate::python::available() {
            if $crate::in_ci() {
                panic!("python-fido2 prerequisites missing (CI is set, so this fails): {reason}");
            }
            eprintln!("SKIPPED (set CI=1 to make this a failure): {reason}");
            return;
        }
        stack
    }};
}
