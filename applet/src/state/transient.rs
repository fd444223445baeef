//! Per-power-cycle state: lost on field loss (power off, reset, disconnect).

use std::time::Duration;

/// What authenticatorGetNextAssertion continues (CTAP 2.1 §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionIterator {
    /// SHA-256 of the RP ID of the getAssertion.
    pub rp_id_hash: [u8; 32],
    /// clientDataHash of the getAssertion.
    pub client_data_hash: Vec<u8>,
    /// Credential IDs still to be returned, most recent first.
    pub remaining: Vec<Vec<u8>>,
    /// The authenticator-data flags byte (UP/UV) of the getAssertion.
    pub flags: u8,
    /// When the last assertion of this sequence was sent (30 s timer).
    pub last_sent: Duration,
}

/// State that lives for one power cycle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transient {
    /// When the card was powered up (the tap): start of the presence window
    /// and of the 10 s authenticatorReset window.
    pub powered_at: Duration,
    /// The pending getNextAssertion sequence, if the previous CTAP command
    /// was a getAssertion or getNextAssertion with credentials left.
    pub assertions: Option<AssertionIterator>,
}

impl Transient {
    /// A new power cycle starting at `now`.
    pub fn power_up(now: Duration) -> Self {
        Transient {
            powered_at: now,
            assertions: None,
        }
    }
}
