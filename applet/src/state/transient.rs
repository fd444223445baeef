//! Per-power-cycle state: lost on field loss (power off, reset, disconnect).

use std::time::Duration;

use crate::cbor::Value;

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
    /// The getAssertion extension inputs, processed again for each
    /// credential (`ctap::extensions`).
    pub extensions: Option<Value>,
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
    /// The credential-management enumeration in progress, if the previous
    /// CTAP command began or continued one (`ctap::cred_mgmt`).
    pub cred_mgmt: Option<Enumeration>,
    /// The authenticatorLargeBlobs set sequence in progress
    /// (`ctap::large_blobs`).
    pub large_blob_write: Option<PendingWrite>,
}

impl Transient {
    /// A new power cycle starting at `now`.
    pub fn power_up(now: Duration) -> Self {
        Transient {
            powered_at: now,
            assertions: None,
            cred_mgmt: None,
            large_blob_write: None,
        }
    }
}

/// A credential-management enumeration in progress (`ctap::cred_mgmt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enumeration {
    /// After enumerateRPsBegin: the RP ID hashes still to be returned, the
    /// next one last.
    Rps(Vec<[u8; 32]>),
    /// After enumerateCredentialsBegin: the credential IDs still to be
    /// returned, the next one last.
    Credentials(Vec<Vec<u8>>),
}

/// An authenticatorLargeBlobs set sequence in progress (`ctap::large_blobs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    /// `length` announced with the fragment at offset 0.
    pub(crate) expected_length: usize,
    /// The fragments so far; the next expected offset is its length.
    pub(crate) buffer: Vec<u8>,
}
