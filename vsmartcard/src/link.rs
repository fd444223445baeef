//! What a status API can show about one card's link to vpcd: its state and a few counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The state of the link to vpcd, published through the optional
/// `watch::Sender<LinkState>` given to [`serve`](crate::serve). A new state is published after
/// the change took effect (socket closed, `disconnected()` called), so a watcher that sees it
/// can rely on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LinkState {
    /// `serve` has not started yet.
    #[default]
    Idle,
    /// A connection attempt is under way.
    Connecting,
    /// Reversed mode ([`serve_listening`](crate::serve_listening)): the card waits for vpcd
    /// (or a relay) to connect.
    Listening,
    /// Connected: the card is in the reader.
    Connected,
    /// The last attempt failed or the link dropped; the next attempt follows after `delay`.
    Retrying {
        /// Time until the next attempt.
        delay: Duration,
    },
    /// The card was taken out of the reader (the `inserted` channel is `false`); no connection
    /// until it is put back.
    Removed,
    /// `serve` returned after its shutdown future completed.
    Stopped,
}

/// Counters of one card's link, cheap enough to update on every message.
#[derive(Debug, Default)]
pub struct Stats {
    connections: AtomicU64,
    messages: AtomicU64,
    apdus: AtomicU64,
}

impl Stats {
    /// Connections established to vpcd.
    #[must_use]
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Messages received from vpcd (control codes and APDUs).
    #[must_use]
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// Command APDUs answered.
    #[must_use]
    pub fn apdus(&self) -> u64 {
        self.apdus.load(Ordering::Relaxed)
    }

    pub(crate) fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_message(&self) {
        self.messages.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_apdu(&self) {
        self.apdus.fetch_add(1, Ordering::Relaxed);
    }
}
