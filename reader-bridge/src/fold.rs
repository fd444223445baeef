//! Folding APDU frames into exchanges: what the client meant, not how the
//! transport cut it.
//!
//! One exchange is one request and its final answer. The transport splits it
//! three ways (ISO 7816-4 §5.1.1.1 chaining, §5.3.4 GET RESPONSE paging;
//! CTAP 2.1 §11.3.2 NFCCTAP_GETRESPONSE polling), all folded here:
//!
//! ```text
//!  90 10 80 00 FA <250 bytes>   → 90 00        ┐ chained blocks: data joined
//!  80 10 80 00 2C <44 bytes> 00 → 91 00 02     │ status update: polling starts
//!  80 11 00 00 00               → 91 00 02     │ poll (update bytes dropped)
//!  80 11 00 00 00               → <256> 61 2C  │ final answer, first page
//!  00 C0 00 00 2C               → <44> 90 00   ┘ GET RESPONSE: data joined
//!    = one exchange: header 80 10 80 00, 294 request bytes, 300 response
//!      bytes, SW 90 00, five frames
//! ```
//!
//! A frame that does not continue the pending exchange (another instruction
//! in the middle of a chain, a power cycle) closes it as incomplete.

use crate::apdu::{Apdu, CLA_CHAINING};
use crate::bridge::{CLA_NFCCTAP, INS_GET_RESPONSE, INS_NFCCTAP_GETRESPONSE, INS_NFCCTAP_MSG};

/// One command APDU and the response the card sent to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The command APDU as received.
    pub command: Vec<u8>,
    /// The response APDU as sent (data `||` SW1 SW2).
    pub response: Vec<u8>,
}

/// A request and its final answer, reassembled from its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// CLA INS P1 P2 of the first command, chaining bit cleared; all zero
    /// when the first command was shorter than a header.
    pub header: [u8; 4],
    /// The request data: the data fields of every chained block, joined.
    pub request: Vec<u8>,
    /// The response data: every page joined, status updates left out.
    pub response: Vec<u8>,
    /// The final status word (0 when the last response was shorter than two bytes).
    pub sw: u16,
    /// Every frame, in order.
    pub frames: Vec<Frame>,
    /// False when the exchange was cut short (chain not finished, pages not
    /// fetched, polling abandoned, card powered off).
    pub complete: bool,
}

impl Exchange {
    fn start(command: &[u8]) -> Self {
        let mut header = [0u8; 4];
        if let Some(bytes) = command.get(..4) {
            header.copy_from_slice(bytes);
            if header[0] != 0xFF {
                header[0] &= !CLA_CHAINING;
            }
        }
        Exchange {
            header,
            request: Vec::new(),
            response: Vec::new(),
            sw: 0,
            frames: Vec::new(),
            complete: false,
        }
    }

    /// Whether this is an NFCCTAP_MSG (`80 10`): request and response then
    /// start with a CTAP command byte and a CTAP status byte.
    pub fn is_ctap_msg(&self) -> bool {
        self.header[0] == CLA_NFCCTAP && self.header[1] == INS_NFCCTAP_MSG
    }
}

/// Where a pending exchange stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Chained blocks received, the final block still to come.
    Chaining,
    /// `61 XX` sent: GET RESPONSE frames fetch the rest.
    Paging,
    /// `91 00` sent: NFCCTAP_GETRESPONSE frames poll for the answer.
    Polling,
}

/// Folds a card's frames into [`Exchange`]s, one card at a time.
#[derive(Debug, Default)]
pub struct Folder {
    pending: Option<(Exchange, Phase)>,
}

impl Folder {
    /// A folder with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one frame; returns the exchanges it completed (none while an
    /// exchange is still being chained, paged or polled; two when the frame
    /// cut a pending exchange short and was itself a whole exchange).
    pub fn push(&mut self, command: &[u8], response: &[u8]) -> Vec<Exchange> {
        let mut done = Vec::new();
        let apdu = Apdu::parse(command).ok();
        let continues = match (&self.pending, &apdu) {
            (Some((ex, phase)), Some(a)) => match phase {
                Phase::Chaining => {
                    a.cla != 0xFF && a.cla & !CLA_CHAINING == ex.header[0] && a.ins == ex.header[1]
                }
                Phase::Paging => a.ins == INS_GET_RESPONSE,
                Phase::Polling => a.cla == CLA_NFCCTAP && a.ins == INS_NFCCTAP_GETRESPONSE,
            },
            _ => false,
        };
        let (mut ex, phase) = match self.pending.take() {
            Some((ex, phase)) if continues => (ex, Some(phase)),
            Some((ex, _)) => {
                done.push(ex);
                (Exchange::start(command), None)
            }
            None => (Exchange::start(command), None),
        };
        if matches!(phase, None | Some(Phase::Chaining)) {
            if let Some(a) = &apdu {
                ex.request.extend_from_slice(a.data);
            }
        }
        ex.frames.push(Frame {
            command: command.to_vec(),
            response: response.to_vec(),
        });
        let (data, sw) = match response.len().checked_sub(2) {
            Some(n) => (
                &response[..n],
                u16::from_be_bytes([response[n], response[n + 1]]),
            ),
            None => (response, 0),
        };
        let chained = apdu
            .as_ref()
            .is_some_and(|a| a.cla != 0xFF && a.cla & CLA_CHAINING != 0);
        let next = if chained && sw == 0x9000 && data.is_empty() {
            Some(Phase::Chaining)
        } else if sw & 0xFF00 == 0x6100 {
            ex.response.extend_from_slice(data);
            Some(Phase::Paging)
        } else if sw == 0x9100 && ex.is_ctap_msg() {
            Some(Phase::Polling)
        } else {
            ex.response.extend_from_slice(data);
            None
        };
        ex.sw = sw;
        match next {
            Some(phase) => self.pending = Some((ex, phase)),
            None => {
                ex.complete = true;
                done.push(ex);
            }
        }
        done
    }

    /// Close the pending exchange, if any, as incomplete (power off, reset,
    /// card removed).
    pub fn flush(&mut self) -> Option<Exchange> {
        self.pending.take().map(|(ex, _)| ex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn a_plain_exchange_is_one_frame() {
        let mut f = Folder::new();
        let out = f.push(&h("80 10 80 00 01 04 00"), &h("00 a1 01 80 90 00"));
        assert_eq!(out.len(), 1);
        let ex = &out[0];
        assert_eq!(ex.header, [0x80, 0x10, 0x80, 0x00]);
        assert_eq!(ex.request, vec![0x04]);
        assert_eq!(ex.response, h("00 a1 01 80"));
        assert_eq!(ex.sw, 0x9000);
        assert!(ex.complete);
        assert!(f.flush().is_none());
    }

    /// ISO 7816-4 §5.1.1.1 chaining, §5.3.4 GET RESPONSE, CTAP 2.1 §11.3.2 polling.
    #[test]
    fn chaining_polling_and_paging_fold_into_one_exchange() {
        let mut f = Folder::new();
        assert!(f.push(&h("90 10 80 00 02 01 a1"), &h("90 00")).is_empty());
        assert!(f
            .push(&h("80 10 80 00 02 01 02 00"), &h("02 91 00"))
            .is_empty());
        assert!(f.push(&h("80 11 00 00 00"), &h("02 91 00")).is_empty());
        assert!(f.push(&h("80 11 00 00 00"), &h("00 aa 61 02")).is_empty());
        let out = f.push(&h("00 c0 00 00 02"), &h("bb cc 90 00"));
        assert_eq!(out.len(), 1);
        let ex = &out[0];
        assert_eq!(ex.header, [0x80, 0x10, 0x80, 0x00]);
        assert_eq!(ex.request, h("01 a1 01 02"));
        assert_eq!(ex.response, h("00 aa bb cc"));
        assert_eq!(ex.sw, 0x9000);
        assert_eq!(ex.frames.len(), 5);
        assert!(ex.complete);
    }

    #[test]
    fn an_interrupted_chain_is_closed_incomplete() {
        let mut f = Folder::new();
        assert!(f.push(&h("90 10 80 00 01 01"), &h("90 00")).is_empty());
        let out = f.push(&h("00 a4 04 00 01 aa"), &h("6a 82"));
        assert_eq!(out.len(), 2);
        assert!(!out[0].complete);
        assert_eq!(out[0].request, vec![0x01]);
        assert!(out[1].complete);
        assert_eq!(out[1].sw, 0x6a82);
    }

    #[test]
    fn flush_returns_unfetched_pages() {
        let mut f = Folder::new();
        assert!(f
            .push(&h("80 10 80 00 01 04 00"), &h("00 01 61 10"))
            .is_empty());
        let ex = f.flush().unwrap();
        assert!(!ex.complete);
        assert_eq!(ex.response, h("00 01"));
        assert_eq!(ex.sw, 0x6110);
    }

    #[test]
    fn malformed_frames_stand_alone() {
        let mut f = Folder::new();
        let out = f.push(&[0x80], &[0x67]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].header, [0; 4]);
        assert_eq!(out[0].sw, 0);
        assert_eq!(out[0].response, vec![0x67]);
    }
}
