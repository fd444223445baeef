//! SELECT by AID (ISO/IEC 7816-4 §11.2.2): `00 A4 04 P2 Lc AID [Le]`, short
//! or extended, with or without Le.
//!
//! ```text
//!  00 A4 04 00 08 A0 00 00 06 47 2F 00 01 00  → "U2F_V2" 90 00
//!  00 A4 04 00 09 A0 00 00 06 47 2F 00 01 FF  → 6A 82  (exact match only)
//!  00 A4 00 00 02 3F 00                       → 6A 86  (only P1 = 04)
//! ```
//!
//! P2 `00` returns the applet's answer, P2 `0C` ("no response data") drops
//! it; any other P2 gives `6A 86`. A failed SELECT leaves the current
//! selection as it was (§11.2.2: the current application stays selected).

use super::{Bridge, BridgeError, Reply};
use applet::iso::Command;

/// SELECT instruction.
pub const INS_SELECT: u8 = 0xA4;
/// SELECT P1: select by DF name (AID).
pub const P1_BY_NAME: u8 = 0x04;
/// SELECT P2: first or only occurrence, return FCI / applet answer.
const P2_FIRST: u8 = 0x00;
/// SELECT P2: first or only occurrence, no response data.
const P2_FIRST_NO_DATA: u8 = 0x0C;

/// Whether this command is an interindustry SELECT (CLA bit 8 clear).
pub(crate) fn is_select(cmd: &Command<'_>) -> bool {
    cmd.ins == INS_SELECT && cmd.cla & 0x80 == 0
}

impl Bridge {
    pub(crate) fn select(&mut self, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        if cmd.p1 != P1_BY_NAME || (cmd.p2 != P2_FIRST && cmd.p2 != P2_FIRST_NO_DATA) {
            return Err(BridgeError::WrongP1P2);
        }
        let idx = self
            .applets
            .iter()
            .position(|a| a.aid() == cmd.data)
            .ok_or(BridgeError::AppletNotFound)?;
        if let Some(prev) = self.selected.filter(|&p| p != idx) {
            if let Some(a) = self.applets.get_mut(prev) {
                a.deselect();
            }
        }
        self.selected = None;
        let mut reply = self.outgoing.take_buffer();
        let applet = self
            .applets
            .get_mut(idx)
            .ok_or(BridgeError::AppletNotFound)?;
        applet.select(&mut reply)?;
        self.selected = Some(idx);
        if cmd.p2 == P2_FIRST_NO_DATA {
            reply.clear();
        }
        Ok(Reply::data(reply, cmd))
    }
}
