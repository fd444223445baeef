//! Shared harness for the end-to-end tests: a real pcscd with the vpcd
//! driver, the `tapfido` binary as the card, and helpers to wait for readers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
