//! The bridge's error enum and the status words it goes out as.

use crate::apdu::ApduError;
use iso7816::Status;

/// Every way the ISO 7816-4 layer refuses a command, with its status word
/// ([`BridgeError::status`]). Applet errors pass through unchanged.
///
/// | variant | SW | why |
/// |---|---|---|
/// | `Malformed` | `67 00` | inconsistent Lc/Le (ISO/IEC 7816-4 §5.1) |
/// | `ChainTooLong` | `67 00` | a command chain over [`super::CHAIN_MAX`] bytes |
/// | `UnexpectedData` | `67 00` | GET RESPONSE with a data field |
/// | `NotSelected` | `69 85` | no applet selected yet (or since the last power-up) |
/// | `NothingPending` | `69 85` | GET RESPONSE with no response data pending |
/// | `NoCtapRequest` | `69 85` | NFCCTAP_GETRESPONSE with no request waiting |
/// | `AppletNotFound` | `6A 82` | SELECT of an AID no applet has |
/// | `WrongP1P2` | `6A 86` | SELECT / GET RESPONSE / NFCCTAP_CONTROL parameters |
/// | `ClassNotSupported` | `6E 00` | GET RESPONSE with a CLA other than `00` / `80` |
/// | `Applet(s)` | `s` | the applet's own status |
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// The command APDU could not be decoded; nothing was executed.
    #[error("malformed command: {0}")]
    Malformed(ApduError),
    /// The chained command grew beyond the cap; the chain was dropped.
    #[error("command chain over {0} bytes")]
    ChainTooLong(usize),
    /// A data field on a command that takes none (GET RESPONSE).
    #[error("unexpected command data")]
    UnexpectedData,
    /// A command other than SELECT before any successful SELECT.
    #[error("no applet selected")]
    NotSelected,
    /// GET RESPONSE without pending response data.
    #[error("GET RESPONSE with nothing pending")]
    NothingPending,
    /// NFCCTAP_GETRESPONSE without a request waiting for user presence.
    #[error("NFCCTAP_GETRESPONSE with no request pending")]
    NoCtapRequest,
    /// SELECT by an AID that no applet answers to.
    #[error("no applet with this AID")]
    AppletNotFound,
    /// Unsupported P1/P2 for a command the bridge handles itself.
    #[error("wrong P1/P2")]
    WrongP1P2,
    /// Unsupported CLA for a command the bridge handles itself.
    #[error("class not supported")]
    ClassNotSupported,
    /// The applet refused the command with this status.
    #[error("applet status {0:?}")]
    Applet(Status),
}

impl BridgeError {
    /// The status word sent to the reader.
    pub fn status(self) -> Status {
        match self {
            BridgeError::Malformed(e) => e.status(),
            BridgeError::ChainTooLong(_) | BridgeError::UnexpectedData => Status::WrongLength,
            BridgeError::NotSelected | BridgeError::NothingPending | BridgeError::NoCtapRequest => {
                Status::ConditionsOfUseNotSatisfied
            }
            BridgeError::AppletNotFound => Status::NotFound,
            BridgeError::WrongP1P2 => Status::IncorrectP1OrP2Parameter,
            BridgeError::ClassNotSupported => Status::ClassNotSupported,
            BridgeError::Applet(s) => s,
        }
    }
}

impl From<Status> for BridgeError {
    fn from(s: Status) -> Self {
        BridgeError::Applet(s)
    }
}

impl From<BridgeError> for Status {
    fn from(e: BridgeError) -> Self {
        e.status()
    }
}

impl From<ApduError> for BridgeError {
    fn from(e: ApduError) -> Self {
        BridgeError::Malformed(e)
    }
}
