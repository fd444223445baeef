//! The CTAP NFC binding instructions (CTAP 2.1 §11.3 "NFC": applet
//! selection, framing and NFCCTAP_GETRESPONSE; CTAP 2.0 had them in
//! §8.2.3–8.2.4). NFCCTAP_CONTROL is described in later revisions; Windows
//! and kanidm send it.
//!
//! ```text
//!  NFCCTAP_MSG          80 10 P1 00 Lc <ctap cmd || CBOR> Le
//!                       (90 10 ... for the chained blocks)
//!     → <status || CBOR> 90 00                 done
//!     → 02 91 00                               P1 & 80 set, waiting for presence
//!  NFCCTAP_GETRESPONSE  80 11 00 00 [Le]        re-submit the waiting request
//!                       80 11 11 00             cancel → 2D 90 00
//!  NFCCTAP_CONTROL      80 12 01 00             end of session, deselect → 90 00
//!                                               (then 69 85 until a SELECT)
//! ```
//!
//! `91 00` is only ever sent to a client that set P1 bit `0x80` on the
//! NFCCTAP_MSG. The waiting request is kept by the bridge, not the applet:
//! re-submitting it calls [`applet::iso::Applet::ctap`] again with the same
//! bytes, and any other command drops it.

use super::{Bridge, BridgeError, Reply};
use applet::iso::{Command, CtapOutcome};

/// Proprietary class used by the NFC CTAP instructions.
pub const CLA_NFCCTAP: u8 = 0x80;
/// NFCCTAP_MSG.
pub const INS_NFCCTAP_MSG: u8 = 0x10;
/// NFCCTAP_GETRESPONSE.
pub const INS_NFCCTAP_GETRESPONSE: u8 = 0x11;
/// NFCCTAP_CONTROL.
pub const INS_NFCCTAP_CONTROL: u8 = 0x12;
/// NFCCTAP_MSG P1 bit: the client understands NFCCTAP_GETRESPONSE.
pub const P1_GETRESPONSE_SUPPORTED: u8 = 0x80;
/// NFCCTAP_GETRESPONSE P1: cancel the waiting request.
pub const P1_CANCEL: u8 = 0x11;
/// NFCCTAP_CONTROL P1: end of session.
pub const P1_END_SESSION: u8 = 0x01;
/// SW `91 00`: status update, poll with NFCCTAP_GETRESPONSE. Not an ISO
/// status word, so not an [`iso7816::Status`] variant.
pub const SW_STATUS_UPDATE: [u8; 2] = [0x91, 0x00];
/// Status update byte "user presence needed".
pub const UPDATE_UP_NEEDED: u8 = 0x02;
/// CTAP2_ERR_KEEPALIVE_CANCEL (CTAP 2.1 §8.2), the answer to a cancel.
pub const CTAP2_ERR_KEEPALIVE_CANCEL: u8 = 0x2D;
/// CTAP2_ERR_USER_ACTION_TIMEOUT (CTAP 2.1 §8.2): what a client that did
/// not set P1 bit `0x80` gets if an applet still asks to wait.
pub const CTAP2_ERR_USER_ACTION_TIMEOUT: u8 = 0x2F;

/// A request waiting for user presence.
#[derive(Debug)]
pub(crate) struct WaitingRequest {
    applet: usize,
    request: Vec<u8>,
    ne: usize,
    extended: bool,
}

/// Whether a (de-chained) command is one of the NFC CTAP instructions.
pub(crate) fn is_nfc_ctap(cmd: &Command<'_>) -> bool {
    cmd.cla == CLA_NFCCTAP
        && matches!(
            cmd.ins,
            INS_NFCCTAP_MSG | INS_NFCCTAP_GETRESPONSE | INS_NFCCTAP_CONTROL
        )
}

impl Bridge {
    pub(crate) fn nfc_ctap(&mut self, idx: usize, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        match cmd.ins {
            INS_NFCCTAP_MSG => self.nfcctap_msg(idx, cmd),
            INS_NFCCTAP_GETRESPONSE => self.nfcctap_getresponse(cmd),
            _ => self.nfcctap_control(idx, cmd),
        }
    }

    fn nfcctap_msg(&mut self, idx: usize, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        let may_wait = cmd.p1 & P1_GETRESPONSE_SUPPORTED != 0;
        let mut reply = self.outgoing.take_buffer();
        let applet = self.applet_mut(idx)?;
        match applet.ctap(cmd.data, may_wait, &mut reply)? {
            CtapOutcome::Done => Ok(Reply::data(reply, cmd)),
            CtapOutcome::UserPresenceNeeded if may_wait => {
                self.waiting = Some(WaitingRequest {
                    applet: idx,
                    request: cmd.data.to_vec(),
                    ne: cmd.ne,
                    extended: cmd.extended,
                });
                Ok(Reply::StatusUpdate(UPDATE_UP_NEEDED))
            }
            CtapOutcome::UserPresenceNeeded => Ok(Reply::Data {
                data: vec![CTAP2_ERR_USER_ACTION_TIMEOUT],
                ne: cmd.ne,
                extended: cmd.extended,
            }),
        }
    }

    fn nfcctap_getresponse(&mut self, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        let waiting = self.waiting.take().ok_or(BridgeError::NoCtapRequest)?;
        if cmd.p1 == P1_CANCEL {
            return Ok(Reply::Data {
                data: vec![CTAP2_ERR_KEEPALIVE_CANCEL],
                ne: waiting.ne,
                extended: waiting.extended,
            });
        }
        let mut reply = self.outgoing.take_buffer();
        let applet = self.applet_mut(waiting.applet)?;
        match applet.ctap(&waiting.request, true, &mut reply)? {
            CtapOutcome::Done => Ok(Reply::Data {
                data: reply,
                ne: waiting.ne,
                extended: waiting.extended,
            }),
            CtapOutcome::UserPresenceNeeded => {
                self.waiting = Some(waiting);
                Ok(Reply::StatusUpdate(UPDATE_UP_NEEDED))
            }
        }
    }

    fn nfcctap_control(&mut self, idx: usize, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        if cmd.p1 != P1_END_SESSION {
            return Err(BridgeError::WrongP1P2);
        }
        self.clear_transient();
        let applet = self.applet_mut(idx)?;
        applet.end_session();
        applet.deselect();
        // CTAP 2.3 §11.3.4 "Applet deselection": the authenticator ignores
        // CTAP commands until the next SELECT (here `69 85`, as before any
        // SELECT).
        self.selected = None;
        Ok(Reply::data(Vec::new(), cmd))
    }
}
