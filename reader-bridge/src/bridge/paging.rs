//! Response paging with `61 XX` and GET RESPONSE (ISO/IEC 7816-4 §5.3.4,
//! §7.6.1).
//!
//! ```text
//!  short request, 600-byte response:
//!  → 80 10 80 00 .. 00         ← data[0..256]   61 00   (≥ 256 remain)
//!  → 00 C0 00 00 00            ← data[256..512] 61 58   (88 remain)
//!  → 80 C0 00 00 58            ← data[512..600] 90 00   (the applet's SW)
//! ```
//!
//! A frame carries at most Ne data bytes: Ne from the request (a short
//! request without Le counts as 256), and never more than
//! [`FRAME_DATA_MAX`] because a vpcd message is limited to 65 535 bytes
//! including SW1 SW2. An extended request whose Ne covers the response, or a
//! case 3E request without Le, therefore gets the whole response in one
//! frame when it fits. Paging only copies out of the buffered response: it
//! never calls into an applet.

use super::BridgeError;
use crate::apdu::{Apdu, SHORT_NE_MAX};
use iso7816::Status;

/// Largest data field in one response frame: 65 535 (vpcd's 16-bit length)
/// minus the two status bytes.
pub const FRAME_DATA_MAX: usize = 65_533;

/// GET RESPONSE instruction (ISO/IEC 7816-4 §7.6.1).
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// Classes accepted for GET RESPONSE: interindustry `00` (python-fido2,
/// libfido2 for U2F) and proprietary `80` (libfido2 for CBOR, Windows,
/// kanidm).
pub const GET_RESPONSE_CLASSES: [u8; 2] = [0x00, 0x80];

/// Response data not yet sent.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    pending: Option<PendingResponse>,
    /// The buffer of the last fully sent response, emptied, handed out
    /// again as the next reply buffer.
    spare: Vec<u8>,
}

#[derive(Debug)]
struct PendingResponse {
    data: Vec<u8>,
    sent: usize,
    sw: Status,
}

/// Most data bytes one frame may carry for a request with this Ne.
pub(crate) fn frame_limit(ne: usize, extended: bool) -> usize {
    let ne = match (ne, extended) {
        (0, false) => SHORT_NE_MAX,
        (0, true) => FRAME_DATA_MAX,
        (ne, _) => ne,
    };
    ne.min(FRAME_DATA_MAX)
}

impl Outgoing {
    /// Send `data` followed by `sw`, the first frame now and the rest on
    /// GET RESPONSE. Any earlier pending response is dropped.
    pub(crate) fn start(&mut self, mut data: Vec<u8>, sw: Status, limit: usize) -> Vec<u8> {
        self.pending = None;
        if data.len() <= limit {
            // One frame: the reply buffer itself becomes the response.
            data.extend_from_slice(&<[u8; 2]>::from(sw));
            return data;
        }
        self.pending = Some(PendingResponse { data, sent: 0, sw });
        self.next_frame(limit)
    }

    /// An empty buffer for the next reply (reusing the last response's).
    pub(crate) fn take_buffer(&mut self) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        buf
    }

    /// Answer a GET RESPONSE (`00|80 C0 00 00 Le`).
    pub(crate) fn get_response(&mut self, cmd: &Apdu<'_>) -> Result<Vec<u8>, BridgeError> {
        let checked = if !GET_RESPONSE_CLASSES.contains(&cmd.cla) {
            Err(BridgeError::ClassNotSupported)
        } else if cmd.p1 != 0 || cmd.p2 != 0 {
            Err(BridgeError::WrongP1P2)
        } else if !cmd.data.is_empty() {
            Err(BridgeError::UnexpectedData)
        } else if self.pending.is_none() {
            Err(BridgeError::NothingPending)
        } else {
            Ok(())
        };
        if let Err(e) = checked {
            self.pending = None;
            return Err(e);
        }
        Ok(self.next_frame(frame_limit(cmd.ne, cmd.extended)))
    }

    /// Drop the pending response.
    pub(crate) fn clear(&mut self) {
        self.pending = None;
    }

    /// Drop the pending response and the spare buffer (power events).
    pub(crate) fn reset(&mut self) {
        self.pending = None;
        self.spare = Vec::new();
    }

    /// Whether response data is waiting for GET RESPONSE.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    fn next_frame(&mut self, limit: usize) -> Vec<u8> {
        let Some(p) = self.pending.as_mut() else {
            return Vec::from(<[u8; 2]>::from(BridgeError::NothingPending.status()));
        };
        let rest = p.data.get(p.sent..).unwrap_or_default();
        let take = rest.len().min(limit.max(1));
        let mut frame = Vec::with_capacity(take + 2);
        frame.extend_from_slice(rest.get(..take).unwrap_or_default());
        p.sent += take;
        let left = p.data.len().saturating_sub(p.sent);
        let sw = if left == 0 {
            let sw = p.sw;
            if let Some(done) = self.pending.take() {
                self.spare = done.data;
            }
            sw
        } else {
            // 61 00 while 256 or more bytes remain.
            Status::MoreAvailable(u8::try_from(left).unwrap_or(0))
        };
        frame.extend_from_slice(&<[u8; 2]>::from(sw));
        frame
    }
}
