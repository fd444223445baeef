//! Reversed mode (`tapfido card --listen HOST:PORT`): the card listens, vpcd
//! or a relay connects — vsmartcard's `vicc --reversed`.
//!
//! ```text
//!  /etc/reader.conf.d/vpcd            tapfido card --listen 127.0.0.1:35990
//!  DEVICENAME 127.0.0.1:0x8C86  ══▶  127.0.0.1:35990  card (slot 0)
//!  (vpcd connects to PORT, PORT+1) ══▶  127.0.0.1:35991  held: an empty reader
//! ```
//!
//! Measured with pcscd 1.9.9 and vpcd 3.3: such an entry makes vpcd connect
//! to PORT and PORT + 1 when pcscd starts, and pcscd aborts ("bit out of
//! range 0 - FD_SETSIZE on fd_set") when either refuses. An empty reader is
//! no way out either: when the peer at PORT + 1 accepts and closes, pcscd
//! aborts the same way, and when it answers GET ATR with an empty frame
//! ("no card"), pcscd never finishes starting. So unless PORT + 1 is itself
//! another card's `--listen` address, tapfido holds it with a blank card:
//! the profile's ATR and no applet (every SELECT gets `6A 82`), always in
//! the reader (`Virtual PCD NN 01`).

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::control::CardHandle;
use crate::serve::ServeError;

/// Bind the listening address of every card in reversed mode, by slot.
///
/// # Errors
/// [`ServeError::Listen`] for the first address that cannot be bound.
pub async fn bind_listeners(
    cards: &[&CardHandle],
) -> Result<HashMap<u16, TcpListener>, ServeError> {
    let mut bound = HashMap::new();
    for card in cards.iter().filter(|c| c.listen) {
        let listener = TcpListener::bind(card.vpcd.as_str())
            .await
            .map_err(|source| ServeError::Listen {
                slot: card.slot,
                addr: card.vpcd.clone(),
                source,
            })?;
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(slot = card.slot, %addr, "listening for vpcd (reversed mode)");
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    %addr,
                    "the card listens beyond loopback: anyone who can reach it can use it"
                );
            }
        }
        bound.insert(card.slot, listener);
    }
    Ok(bound)
}

/// The ports reversed vpcd entries also connect to: PORT + 1 of every
/// listening card that starts an entry, unless another card listens there.
pub fn held_addresses(cards: &[&CardHandle]) -> Vec<SocketAddr> {
    let listening: BTreeSet<SocketAddr> = cards
        .iter()
        .filter(|c| c.listen)
        .filter_map(|c| c.vpcd.parse().ok())
        .collect();
    // Ports in order: a card on PORT starts an entry (PORT, PORT + 1); a card
    // on PORT + 1 completes it, otherwise PORT + 1 is held.
    let mut held = Vec::new();
    let mut iter = listening.iter().peekable();
    while let Some(addr) = iter.next() {
        let Some(port) = addr.port().checked_add(1) else {
            continue;
        };
        let next = SocketAddr::new(addr.ip(), port);
        if iter.peek() == Some(&&next) {
            iter.next();
        } else {
            held.push(next);
        }
    }
    held
}

/// Bind the held ports ([`held_addresses`]), each served with a blank card. One that cannot be bound is
/// logged and skipped: the card still works for relays, and vpcd's second
/// reader then depends on whoever holds that port.
pub async fn bind_held_ports(cards: &[&CardHandle]) -> Vec<TcpListener> {
    let mut held = Vec::new();
    for addr in held_addresses(cards) {
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                tracing::info!(
                    %addr,
                    "holding vpcd's second slot of the reversed entry (a blank card, no applet)"
                );
                held.push(listener);
            }
            Err(err) => tracing::warn!(
                %addr,
                %err,
                "cannot hold PORT+1: a reversed vpcd entry makes pcscd abort if nothing accepts there"
            ),
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_plus_one_is_held_unless_a_card_listens_there() {
        let a = CardHandle::new(0, "127.0.0.1:4000", "p").listening();
        let b = CardHandle::new(1, "127.0.0.1:4001", "p").listening();
        let c = CardHandle::new(2, "127.0.0.1:5000", "p").listening();
        let d = CardHandle::new(3, "127.0.0.1:6000", "p");
        let e = CardHandle::new(4, "127.0.0.1:5002", "p").listening();
        let held = held_addresses(&[&a, &b, &c, &d, &e]);
        let expect: Vec<SocketAddr> = vec![
            "127.0.0.1:5001".parse().unwrap(),
            "127.0.0.1:5003".parse().unwrap(),
        ];
        assert_eq!(held, expect);
    }
}
