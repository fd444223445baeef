//! vsmartcard's vpcd protocol and a virtual-card connection: tokio tasks around a blocking
//! link thread.
//!
//! # Data flow
//!
//! ```text
//!  PC/SC client ─ pcscd ─ vpcd driver ══TCP══▶ this crate ──▶ VirtualCard (reader-bridge)
//!                         (listens on 35963 + slot)   (connects, answers)
//! ```
//!
//! # Wire layout
//!
//! vpcd listens, the card connects, and vpcd speaks first. Every message, both ways, is one
//! frame (see [`frame`]):
//!
//! ```text
//!  +--------+--------+---------------------------+
//!  | len hi | len lo | payload (len bytes)       |   len: u16 big-endian, 1 ..= 65,535
//!  +--------+--------+---------------------------+
//!  vpcd -> card, 1-byte payload = control:  00 power off, 01 power on, 02 reset
//!                                           (no reply), 04 get ATR (reply: the ATR)
//!  vpcd -> card, other 1-byte payload = a client's too-short command; reply: 67 00
//!  vpcd -> card, longer payload = command APDU; reply: response APDU (data || SW1 SW2)
//!  card -> vpcd, empty payload  = "card removed" to vpcd: never sent by this crate
//! ```
//!
//! The codec is typed ([`VpcdMessage`], [`protocol`]); lengths are checked explicitly (a reply
//! over 65,535 bytes is [`Error::FrameTooLarge`], never truncated). [`serve`] runs one card on
//! one vpcd slot: `TCP_NODELAY`, `TCP_QUICKACK` re-armed after every header (without it
//! Debian's vpcd 3.3 stalls ~40 ms per APDU on a delayed ACK), reconnection with
//! [`Backoff`], taps through a `watch::Receiver<bool>`, link state through a
//! `watch::Sender<LinkState>`, and a shutdown future. Those run as tokio tasks; the frames of
//! an established connection are read, passed to the card and answered on a thread of its
//! own with a blocking socket (one wake-up per APDU, as in a plain `std::net` responder).
//!
//! # Layout
//! - [`frame`]: the u16 length-prefixed framing; [`protocol`]: control codes and
//!   [`VpcdMessage`].
//! - `connection`: [`serve`], one card on one slot (power, APDUs, taps, reconnect);
//!   `link`: [`LinkState`]; `options`: [`Options`] and [`Backoff`].
//! - `listener`: [`serve_listening`], reversed mode (the card listens).
//! - `socket`: `TCP_NODELAY` and the re-armed `TCP_QUICKACK`; `error`: [`Error`].
//!
//! # Reversed mode
//!
//! [`serve_listening`] is vsmartcard's `vicc --reversed`: the card listens and vpcd (an entry
//! `DEVICENAME HOST:0xPORT` in `reader.conf`), or a relay such as vsmartcard's Android Smart
//! Card Emulator, connects to it. The framing is the same. Such a vpcd entry connects to PORT
//! and PORT + 1 when pcscd starts, and pcscd 1.9.9 aborts when either refuses: a card on
//! PORT alone needs another (a blank one will do) on PORT + 1. pcscd also aborts once vpcd
//! loses a reversed link, so there taps never close it (see [`serve_listening`]).
//!
//! # Several cards in one process
//!
//! ```no_run
//! # use std::sync::{Arc, Mutex};
//! # use tokio::sync::watch;
//! # use vsmartcard::{serve, Options, VirtualCard};
//! # async fn example(cards: Vec<Arc<Mutex<dyn VirtualCard>>>) {
//! let (stop_tx, stop_rx) = watch::channel(false);
//! let mut tasks = Vec::new();
//! for (slot, card) in (0u8..).zip(cards) {
//!     let (_inserted_tx, inserted) = watch::channel(true); // keep the sender for taps
//!     let mut stop = stop_rx.clone();
//!     let shutdown = async move {
//!         let _ = stop.wait_for(|s| *s).await;
//!     };
//!     tasks.push(tokio::spawn(serve(card, Options::slot("127.0.0.1", slot), inserted, None, shutdown)));
//! }
//! let _ = stop_tx.send(true);
//! # }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod connection;
mod error;
pub mod frame;
mod link;
mod listener;
mod options;
pub mod protocol;
mod socket;

#[cfg(test)]
mod tests;

pub use connection::{serve, FIRST_FRAME_TIMEOUT, INSERTION_WINDOW, SW_NO_PRECISE_DIAGNOSIS};
pub use error::Error;
pub use frame::{encode_frame, read_frame, write_frame, MAX_PAYLOAD};
pub use link::{LinkState, Stats};
pub use listener::serve_listening;
pub use options::{check_addr, slot_addr, Backoff, Options, DEFAULT_HOST, DEFAULT_PORT};
pub use protocol::{read_message, write_message, write_reply, VpcdMessage, SW_WRONG_LENGTH};

/// A virtual card as vpcd sees it. Implemented by the reader bridge.
///
/// [`serve`] takes it as `Arc<Mutex<C>>` (`C` concrete or `dyn VirtualCard`) and calls it
/// on the connection's link thread, one call at a time, with the mutex held: every method
/// should be quick, since vpcd and every PC/SC client of the reader wait for the answer.
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
