//! The contract between the ISO 7816-4 layer and a card application.
//!
//! The reader bridge parses every command APDU (all seven length cases),
//! reassembles command chains (CLA bit `0x10`), routes SELECT by AID, and pages
//! long responses with `61 XX` / GET RESPONSE. An [`Applet`] only ever sees a
//! whole command and writes a whole response.
//!
//! ```text
//!  reader ──APDU──▶ bridge ──Command{cla,ins,p1,p2,data,ne}──▶ Applet::process
//!         ◀─R-APDU─        ◀──────── reply bytes + Status ────
//! ```

pub use iso7816::Status;

/// A whole command APDU (ISO/IEC 7816-4 §5.1), de-chained by the bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte with the chaining bit (`0x10`) cleared.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data field (Nc bytes; empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Ne, the maximum number of response data bytes the client accepts:
    /// 0 when the command has no Le field, 256 for a short `Le = 00`,
    /// 65 536 for an extended `Le = 00 00`.
    pub ne: usize,
    /// Whether the command used extended length fields (§5.1, cases 2E/3E/4E).
    pub extended: bool,
}

/// How an NFCCTAP_MSG was answered (CTAP 2.1 §11.3.? NFC binding, see the bridge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtapOutcome {
    /// `reply` holds `status byte || CBOR`.
    Done,
    /// User presence is needed and not given yet; nothing was changed and
    /// `reply` is empty. The bridge answers `02 91 00` to a client that set
    /// P1 bit `0x80` and re-submits the same request on NFCCTAP_GETRESPONSE.
    UserPresenceNeeded,
}

/// A card application selectable by AID.
///
/// Every method returns quickly and never panics on any input.
pub trait Applet {
    /// The AID this applet answers to (exact match, ISO 7816-4 §11.2.2).
    fn aid(&self) -> &[u8];

    /// SELECT by this applet's AID: writes the response data (for FIDO,
    /// `"U2F_V2"` or `"FIDO_2_0"`) and resets per-selection state.
    fn select(&mut self, reply: &mut Vec<u8>) -> Result<(), Status>;

    /// Another applet was selected, or the session ended.
    fn deselect(&mut self) {}

    /// Any command other than SELECT and the NFC CTAP instructions.
    fn process(&mut self, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), Status>;

    /// The payload of an NFCCTAP_MSG (`80 10`): CTAP command byte `||` CBOR.
    /// `may_wait` is true when the client set P1 bit `0x80` and so
    /// understands `91 00` + NFCCTAP_GETRESPONSE; when false and presence is
    /// missing the applet answers with a CTAP error itself.
    fn ctap(
        &mut self,
        request: &[u8],
        may_wait: bool,
        reply: &mut Vec<u8>,
    ) -> Result<CtapOutcome, Status> {
        let _ = (request, may_wait, reply);
        Err(Status::InstructionNotSupportedOrInvalid)
    }

    /// NFCCTAP_CONTROL end of session (`80 12 01 00`): drop transient state
    /// that belongs to the session (not the power cycle).
    fn end_session(&mut self) {}

    /// The card entered the field (power on or warm reset): a new tap.
    fn power_on(&mut self) {}

    /// Field loss (power off, reset, reader disconnect): drop every piece of
    /// per-power-cycle state — tokens, iterators, pending responses.
    fn power_off(&mut self);

    /// The card process stops cleanly (not called on a crash): store what
    /// was only reserved ahead of use, so a restart loses nothing.
    fn shutdown(&mut self) {}
}
