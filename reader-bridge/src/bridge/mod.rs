//! [`Bridge`]: the ISO 7816-4 layer between the virtual reader and the
//! applets, as a [`vsmartcard::VirtualCard`].
//!
//! ```text
//!  transmit(raw)
//!   ├─ parse (7 length cases)          malformed → 67 00, nothing runs
//!   ├─ GET RESPONSE (INS C0)           next page of the pending response
//!   ├─ CLA bit 0x10                    buffer the block → 90 00   (chaining)
//!   ├─ SELECT (00 A4 04 ..)            route by AID               (select)
//!   ├─ 80 10 / 80 11 / 80 12           NFC CTAP binding           (nfc_ctap)
//!   └─ anything else                   selected applet's `process`
//!  reply → first frame now, the rest with 61 XX + GET RESPONSE    (paging)
//! ```
//!
//! State by lifetime: the chain, the pending response and a request waiting
//! for user presence are transient; any command other than GET RESPONSE
//! drops a pending response, any command other than NFCCTAP_GETRESPONSE
//! drops a waiting request, and a malformed command drops all three. Power off, reset and disconnect clear all of it,
//! forget the selection and call [`Applet::power_off`] on every applet.

mod chaining;
mod error;
mod nfc_ctap;
mod paging;
mod select;

pub use chaining::CHAIN_MAX;
pub use error::BridgeError;
pub use nfc_ctap::{
    CLA_NFCCTAP, CTAP2_ERR_KEEPALIVE_CANCEL, CTAP2_ERR_USER_ACTION_TIMEOUT, INS_NFCCTAP_CONTROL,
    INS_NFCCTAP_GETRESPONSE, INS_NFCCTAP_MSG, P1_CANCEL, P1_END_SESSION, P1_GETRESPONSE_SUPPORTED,
    SW_STATUS_UPDATE, UPDATE_UP_NEEDED,
};
pub use paging::{FRAME_DATA_MAX, GET_RESPONSE_CLASSES, INS_GET_RESPONSE};
pub use select::{INS_SELECT, P1_BY_NAME};

use crate::apdu::{cla_is_chained, Apdu, CLA_CHAINING};
use applet::iso::{Applet, Command, Status};
use chaining::Chain;
use nfc_ctap::WaitingRequest;
use paging::{frame_limit, Outgoing};

/// A card application the bridge can route to.
pub type BoxedApplet = Box<dyn Applet + Send>;

/// CLA `FF` is invalid in ISO/IEC 7816-4 (PC/SC uses it for reader
/// pseudo-APDUs): its bit `0x10` is not a chaining bit.
const CLA_INVALID: u8 = 0xFF;

/// The virtual card: ATR, applets, and the transient ISO 7816-4 state.
pub struct Bridge {
    atr: Vec<u8>,
    applets: Vec<BoxedApplet>,
    selected: Option<usize>,
    chain: Chain,
    outgoing: Outgoing,
    waiting: Option<WaitingRequest>,
}

/// What a handler produced, before paging.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Response data, sent with `90 00` and paged for a request with this
    /// Ne / length form.
    Data {
        data: Vec<u8>,
        ne: usize,
        extended: bool,
    },
    /// `<status byte> 91 00` (NFC CTAP status update).
    StatusUpdate(u8),
}

impl Reply {
    fn data(data: Vec<u8>, cmd: &Command<'_>) -> Self {
        Reply::Data {
            data,
            ne: cmd.ne,
            extended: cmd.extended,
        }
    }
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let aids: Vec<String> = self.applets.iter().map(|a| hex::encode(a.aid())).collect();
        f.debug_struct("Bridge")
            .field("atr", &hex::encode(&self.atr))
            .field("applets", &aids)
            .field("selected", &self.selected)
            .field("chain_active", &self.chain.is_active())
            .field("response_pending", &self.outgoing.is_pending())
            .field("ctap_waiting", &self.waiting.is_some())
            .finish()
    }
}

impl Bridge {
    /// A card presenting `atr` with these applets. When two applets share an
    /// AID, the first one wins.
    pub fn new(atr: Vec<u8>, applets: Vec<BoxedApplet>) -> Self {
        Bridge {
            atr,
            applets,
            selected: None,
            chain: Chain::default(),
            outgoing: Outgoing::default(),
            waiting: None,
        }
    }

    /// Add one more applet.
    pub fn add_applet(&mut self, applet: BoxedApplet) {
        self.applets.push(applet);
    }

    /// The AID of the selected applet, if any.
    pub fn selected_aid(&self) -> Option<&[u8]> {
        self.selected
            .and_then(|i| self.applets.get(i))
            .map(|a| a.aid())
    }

    /// Process one command APDU and return the response APDU.
    pub fn process(&mut self, raw: &[u8]) -> Vec<u8> {
        match self.try_process(raw) {
            Ok(frame) => frame,
            Err(e) => Vec::from(<[u8; 2]>::from(e.status())),
        }
    }

    fn try_process(&mut self, raw: &[u8]) -> Result<Vec<u8>, BridgeError> {
        let apdu = match Apdu::parse(raw) {
            Ok(a) => a,
            Err(e) => {
                self.clear_transient();
                return Err(e.into());
            }
        };
        let chained = apdu.cla != CLA_INVALID && cla_is_chained(apdu.cla);
        if chained || apdu.cla != CLA_NFCCTAP || apdu.ins != INS_NFCCTAP_GETRESPONSE {
            self.waiting = None;
        }
        if apdu.ins == INS_GET_RESPONSE && !chained {
            self.chain.clear();
            return self.outgoing.get_response(&apdu);
        }
        self.outgoing.clear();
        let cla = if chained {
            apdu.cla & !CLA_CHAINING
        } else {
            apdu.cla
        };
        let key = [cla, apdu.ins, apdu.p1, apdu.p2];
        if chained {
            self.chain.push(key, apdu.data)?;
            return Ok(Vec::from(<[u8; 2]>::from(Status::Success)));
        }
        let whole = self.chain.finish(key, apdu.data)?;
        let cmd = Command {
            cla,
            ins: apdu.ins,
            p1: apdu.p1,
            p2: apdu.p2,
            data: whole.as_deref().unwrap_or(apdu.data),
            ne: apdu.ne,
            extended: apdu.extended,
        };
        let reply = self.dispatch(&cmd);
        if let Some(buf) = whole {
            self.chain.recycle(buf);
        }
        match reply? {
            Reply::Data { data, ne, extended } => {
                Ok(self
                    .outgoing
                    .start(data, Status::Success, frame_limit(ne, extended)))
            }
            Reply::StatusUpdate(b) => {
                let mut frame = vec![b];
                frame.extend_from_slice(&SW_STATUS_UPDATE);
                Ok(frame)
            }
        }
    }

    fn dispatch(&mut self, cmd: &Command<'_>) -> Result<Reply, BridgeError> {
        if select::is_select(cmd) {
            return self.select(cmd);
        }
        let idx = self.selected.ok_or(BridgeError::NotSelected)?;
        if nfc_ctap::is_nfc_ctap(cmd) {
            return self.nfc_ctap(idx, cmd);
        }
        let mut reply = self.outgoing.take_buffer();
        self.applet_mut(idx)?.process(cmd, &mut reply)?;
        Ok(Reply::data(reply, cmd))
    }

    fn applet_mut(&mut self, idx: usize) -> Result<&mut BoxedApplet, BridgeError> {
        self.applets.get_mut(idx).ok_or(BridgeError::NotSelected)
    }

    /// Drop the chain, the pending response and any waiting CTAP request.
    fn clear_transient(&mut self) {
        self.chain.clear();
        self.outgoing.clear();
        self.waiting = None;
    }

    fn field_off(&mut self) {
        self.clear_transient();
        self.chain.reset();
        self.outgoing.reset();
        self.selected = None;
        for a in &mut self.applets {
            a.power_off();
        }
    }

    fn field_on(&mut self) {
        self.clear_transient();
        self.selected = None;
        for a in &mut self.applets {
            a.power_on();
        }
    }
}

/// The card leaves cleanly (the process stops without being killed): every
/// applet stores what it only reserved ahead of use ([`Applet::shutdown`]).
impl Drop for Bridge {
    fn drop(&mut self) {
        for applet in &mut self.applets {
            applet.shutdown();
        }
    }
}

impl vsmartcard::VirtualCard for Bridge {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn power_on(&mut self) {
        self.field_on();
    }

    fn power_off(&mut self) {
        self.field_off();
    }

    fn reset(&mut self) {
        self.field_off();
        self.field_on();
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.process(command)
    }

    fn disconnected(&mut self) {
        self.field_off();
    }
}
