//! A bare card on one vpcd slot: a minimal contactless ATR and `90 00` for every command.
//! It measures the floor that pcscd + vpcd put under any card.
//!
//! ```text
//! cargo run -p tapfido-vsmartcard --example bare_card -- [HOST:PORT]   # default 127.0.0.1:35963
//! ```
//! Ctrl-C removes the card and exits.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use vsmartcard::{serve, slot_addr, Error, Options, VirtualCard, DEFAULT_HOST};

/// PC/SC part 3 §3.1.3.2.3 contactless ATR without historical bytes:
/// `3B` TS, `80` T0 (TD1 follows, 0 historical bytes), `80` TD1 (TD2 follows, T=0),
/// `01` TD2 (T=1), `01` TCK (XOR of T0 ..= TD2).
const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

#[derive(Debug)]
struct BareCard;

impl VirtualCard for BareCard {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, _command: &[u8]) -> Vec<u8> {
        vec![0x90, 0x00]
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| slot_addr(DEFAULT_HOST, 0));
    let (_inserted_tx, inserted) = watch::channel(true);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(
        Arc::new(Mutex::new(BareCard)),
        Options::addr(addr),
        inserted,
        None,
        shutdown,
    )
    .await
}
