//! The host client's error enum: PC/SC failures, ISO status words, CTAP
//! status codes and malformed answers, each named.

use super::status::{CtapStatus, StatusWord};

/// Why a host-side operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A PC/SC call failed (pcsc-lite's `SCARD_E_*` / `SCARD_W_*` code).
    #[error("PC/SC: {0}")]
    Pcsc(#[from] pcsc::Error),
    /// pcsc-lite's client library (`libpcsclite.so.1`) is not installed, so
    /// no PC/SC call can be made (the in-process demo still runs).
    #[error(
        "PC/SC is not available: libpcsclite.so.1 was not found \
         (Debian/Ubuntu: apt install pcscd; Fedora: dnf install pcsc-lite)"
    )]
    NoPcscLibrary,
    /// No reader matched the name or index given.
    #[error("no reader matches {0:?}")]
    NoSuchReader(String),
    /// No PC/SC reader is connected.
    #[error("no PC/SC reader found")]
    NoReaders,
    /// Waiting for a card timed out.
    #[error("no card was presented in time")]
    WaitTimeout,
    /// The card answered with an ISO status word other than success.
    #[error("card returned {0}")]
    Status(StatusWord),
    /// The card answered a CTAP2 command with an error status.
    #[error("CTAP error {0}")]
    Ctap(CtapStatus),
    /// A response APDU shorter than the two status bytes.
    #[error("response APDU shorter than 2 bytes")]
    ShortResponse,
    /// The SELECT answer was neither `U2F_V2` nor `FIDO_2_0`.
    #[error("unexpected FIDO version string {0:?}")]
    UnexpectedVersion(String),
    /// A CBOR response that the strict CTAP2 decoder refused.
    #[error("response CBOR is malformed or not canonical: {0}")]
    Cbor(#[from] applet::cbor::CborError),
    /// A response lacks a member or has one of the wrong type.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// A request would exceed the largest APDU this session can send.
    #[error("request of {0} bytes is too long")]
    RequestTooLong(usize),
    /// User verification was asked for but no PIN was given.
    #[error("user verification needs the PIN (prompt or --pin-file)")]
    PinRequired,
    /// The PIN is outside 4..=63 UTF-8 bytes (CTAP 2.1 §6.5.5.5).
    #[error("PIN must be 4 to 63 bytes")]
    PinLength,
    /// A cryptographic step of PIN/UV auth protocol two failed.
    #[error("PIN/UV auth protocol: {0}")]
    Protocol(&'static str),
    /// The card lacks a feature this operation needs.
    #[error("card does not support {0}")]
    Unsupported(&'static str),
    /// The transport cannot do this (e.g. power-cycle a remote card).
    #[error("transport: {0}")]
    Transport(&'static str),
}

impl From<StatusWord> for HostError {
    fn from(sw: StatusWord) -> Self {
        Self::Status(sw)
    }
}

impl From<CtapStatus> for HostError {
    fn from(status: CtapStatus) -> Self {
        Self::Ctap(status)
    }
}

impl HostError {
    /// The CTAP status, when this is a CTAP error.
    pub fn ctap(&self) -> Option<CtapStatus> {
        match self {
            Self::Ctap(s) => Some(*s),
            _ => None,
        }
    }

    /// The ISO status word, when this is one.
    pub fn status_word(&self) -> Option<StatusWord> {
        match self {
            Self::Status(s) => Some(*s),
            _ => None,
        }
    }
}
