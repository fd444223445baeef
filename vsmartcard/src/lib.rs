//! vsmartcard's vpcd protocol and an async virtual-card connection (tokio).
//!
//! ```text
//!  pcscd ─ vpcd driver ══TCP══▶ this crate ──▶ VirtualCard (reader-bridge)
//!  every message: u16 big-endian length || payload
//!  1-byte payload = control: 00 power off, 01 power on, 02 reset, 04 get ATR
//!  longer payload = command APDU, answered with the response APDU
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

/// A virtual card as vpcd sees it. Implemented by the reader bridge.
pub trait VirtualCard: Send {
    /// The Answer To Reset presented on GET ATR.
    fn atr(&self) -> Vec<u8>;
    /// Control `01`: the card enters the field.
    fn power_on(&mut self);
    /// Control `00`: the card leaves the field.
    fn power_off(&mut self);
    /// Control `02`: warm reset (a field loss followed by power on).
    fn reset(&mut self);
    /// A command APDU; returns the whole response APDU (data `||` SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Vec<u8>;
    /// The connection to vpcd was lost or closed (card removed).
    fn disconnected(&mut self) {
        self.power_off();
    }
}
