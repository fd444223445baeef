//! The virtual readers through pcscd: waiting for a reader, a card or an empty slot with
//! `SCardGetStatusChange` (never with sleeps), connecting, and transmitting with the
//! APDUs printed in hex on failure.

use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

/// A vpcd slot as pcscd names it.
#[derive(Debug, Clone)]
pub struct Reader {
    /// vpcd slot number (0 or 1).
    pub slot: u8,
    /// `Virtual PCD 00 0N`.
    pub name: String,
}

impl Reader {
    /// The reader of vpcd slot `slot` (`Virtual PCD 00 00` ↔ TCP 35963, `00 01` ↔ 35964).
    #[must_use]
    pub fn slot(slot: u8) -> Self {
        Self {
            slot,
            name: format!("Virtual PCD 00 {slot:02}"),
        }
    }

    /// The TCP port vpcd listens on for this slot's card.
    #[must_use]
    pub fn vpcd_port(&self) -> u16 {
        35963 + u16::from(self.slot)
    }

    fn cname(&self) -> CString {
        CString::new(self.name.clone()).unwrap_or_default()
    }

    /// Waits until pcscd lists this reader (it does so shortly after it starts).
    ///
    /// # Errors
    /// On timeout or a PC/SC error.
    pub fn wait_listed(&self, ctx: &Context, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut pnp = [ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
        loop {
            let listed = match ctx.list_readers_owned() {
                Ok(names) => names
                    .iter()
                    .any(|n| n.as_c_str() == self.cname().as_c_str()),
                Err(pcsc::Error::NoReadersAvailable) => false,
                Err(e) => return Err(format!("SCardListReaders: {e}")),
            };
            if listed {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "reader {:?} not listed after {timeout:?}",
                    self.name
                ));
            }
            match ctx.get_status_change(left, &mut pnp) {
                Ok(()) | Err(pcsc::Error::Timeout) => pnp[0].sync_current_state(),
                Err(e) => return Err(format!("SCardGetStatusChange(PnP): {e}")),
            }
        }
    }

    /// Waits until a card is present (`present`) or the slot is empty (`!present`), with
    /// `SCardGetStatusChange`. Returns the ATR pcscd reports (empty when waiting for
    /// removal).
    ///
    /// # Errors
    /// On timeout or a PC/SC error.
    pub fn wait(&self, present: bool, timeout: Duration) -> Result<Vec<u8>, String> {
        let ctx = context()?;
        self.wait_listed(&ctx, timeout)?;
        let deadline = Instant::now() + timeout;
        let mut states = [ReaderState::new(self.cname(), State::UNAWARE)];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ctx.get_status_change(left, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => {
                    return Err(format!(
                        "{}: no card {} after {timeout:?} (state {:?})",
                        self.name,
                        if present { "inserted" } else { "removed" },
                        states[0].event_state()
                    ));
                }
                Err(e) => return Err(format!("SCardGetStatusChange({}): {e}", self.name)),
            }
            let state = states[0].event_state();
            if present && state.contains(State::PRESENT) && !state.contains(State::MUTE) {
                return Ok(states[0].atr().to_vec());
            }
            if !present && state.contains(State::EMPTY) {
                return Ok(Vec::new());
            }
            states[0].sync_current_state();
        }
    }

    /// Connects (shared, T=0 or T=1) to the card in this reader.
    ///
    /// # Errors
    /// On a PC/SC error.
    pub fn connect(&self) -> Result<Conn, String> {
        let ctx = context()?;
        let card = ctx
            .connect(&self.cname(), ShareMode::Shared, Protocols::ANY)
            .map_err(|e| format!("SCardConnect({}): {e}", self.name))?;
        Ok(Conn {
            card: Some(card),
            _ctx: ctx,
            reader: self.clone(),
        })
    }
}

/// A new PC/SC context.
///
/// # Errors
/// When pcscd does not answer.
pub fn context() -> Result<Context, String> {
    Context::establish(Scope::User).map_err(|e| format!("SCardEstablishContext: {e}"))
}

/// A connection to the card in a reader.
pub struct Conn {
    card: Option<pcsc::Card>,
    _ctx: Context,
    /// Where it is connected.
    pub reader: Reader,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

/// Hex with spaces, shortened in the middle past 96 bytes.
#[must_use]
pub fn hex_spaced(bytes: &[u8]) -> String {
    fn join(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
    if bytes.len() <= 96 {
        join(bytes)
    } else {
        format!(
            "{} ... {} ({} bytes)",
            join(&bytes[..48]),
            join(&bytes[bytes.len() - 16..]),
            bytes.len()
        )
    }
}

impl Conn {
    fn card(&self) -> &pcsc::Card {
        self.card
            .as_ref()
            .unwrap_or_else(|| panic!("{}: connection already closed", self.reader.name))
    }

    /// Sends one command APDU; returns the whole response (data || SW1 SW2).
    ///
    /// # Errors
    /// The PC/SC error, with the command in hex.
    pub fn try_transmit(&self, apdu: &[u8]) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match self.card().transmit(apdu, &mut buf) {
            Ok(resp) => Ok(resp.to_vec()),
            Err(e) => Err(format!(
                "SCardTransmit on {} failed: {e}\n  C-APDU: {}",
                self.reader.name,
                hex_spaced(apdu)
            )),
        }
    }

    /// Sends one command APDU; returns the whole response (data || SW1 SW2). Panics with
    /// the command in hex on a PC/SC error or a response shorter than a status word.
    #[must_use]
    pub fn transmit(&self, apdu: &[u8]) -> Vec<u8> {
        let resp = self.try_transmit(apdu).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            resp.len() >= 2,
            "response without status word\n  C-APDU: {}\n  R-APDU: {}",
            hex_spaced(apdu),
            hex_spaced(&resp)
        );
        resp
    }

    /// Sends `apdu` and asserts the exact response, printing both in hex when it differs.
    pub fn expect(&self, apdu: &[u8], expected: &[u8]) {
        let resp = self.transmit(apdu);
        assert!(
            resp == expected,
            "unexpected response on {}\n  C-APDU:   {}\n  R-APDU:   {}\n  expected: {}",
            self.reader.name,
            hex_spaced(apdu),
            hex_spaced(&resp),
            hex_spaced(expected)
        );
    }

    /// Sends `apdu` and asserts the status word only; returns the data.
    #[must_use]
    pub fn expect_sw(&self, apdu: &[u8], sw: u16) -> Vec<u8> {
        let mut resp = self.transmit(apdu);
        let got = split_sw(&mut resp);
        assert!(
            got == sw,
            "unexpected status word on {}: {got:04X}, expected {sw:04X}\n  C-APDU: {}\n  data:   {}",
            self.reader.name,
            hex_spaced(apdu),
            hex_spaced(&resp)
        );
        resp
    }

    /// The ATR as pcscd reports it for this connection.
    ///
    /// # Errors
    /// On a PC/SC error.
    pub fn atr(&self) -> Result<Vec<u8>, String> {
        self.card()
            .status2_owned()
            .map(|s| s.atr().to_vec())
            .map_err(|e| format!("SCardStatus: {e}"))
    }

    /// Disconnects, powering the card down (a field loss for the card).
    pub fn unpower(mut self) {
        if let Some(card) = self.card.take() {
            let _ = card.disconnect(Disposition::UnpowerCard);
        }
    }
}

/// Splits off and returns the status word of a response.
#[must_use]
pub fn split_sw(resp: &mut Vec<u8>) -> u16 {
    assert!(resp.len() >= 2, "response without status word");
    let sw2 = resp.pop().unwrap_or_default();
    let sw1 = resp.pop().unwrap_or_default();
    u16::from_be_bytes([sw1, sw2])
}
