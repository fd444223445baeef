//! A session with a FIDO card: SELECT, CTAP2 over NFCCTAP_MSG, U2F, with
//! command chaining, extended length and GET RESPONSE paging done here.
//!
//! ```text
//!  SELECT      00 A4 04 00 08 A0 00 00 06 47 2F 00 01 00  → "U2F_V2"|"FIDO_2_0" 90 00
//!  CTAP2       80 10 00 00 Lc <cmd || CBOR> 00            → <status || CBOR> 90 00
//!              (CTAP 2.1 §11.3 NFC binding; P1 0x00: no 91 00 keep-alives)
//!  long        90 10 00 00 F0 <240 bytes> … 80 10 00 00 Lc <rest> 00   (ISO 7816-4 §5.1.1)
//!              or 80 10 00 00 00 Lc(2) <all> 00 00 when the ATR announces extended length
//!  paging      … 61 XX → 80 C0 00 00 XX → … 90 00                 (ISO 7816-4 §7.6.1)
//! ```

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;

use super::apdu::{self, DEFAULT_CHAIN_BLOCK};
use super::atr::{parse_atr, AtrInfo};
use super::status::{CtapStatus, StatusWord};
use super::transport::{SendApdu, Transport};
use super::HostError;
use applet::cbor::{self, Value};

/// The FIDO applet identifier (FIDO NFC protocol / CTAP 2.1 §11.3.1).
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];

/// CLA of the CTAP NFC instructions.
pub const CLA_CTAP: u8 = 0x80;
/// NFCCTAP_MSG.
pub const INS_NFCCTAP_MSG: u8 = 0x10;
/// GET RESPONSE.
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// A cryptographic RNG usable as a trait object.
pub trait HostRng: RngCore + CryptoRng + Send {}
impl<T: RngCore + CryptoRng + Send> HostRng for T {}

/// What SELECT answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FidoVersion {
    /// `"U2F_V2"`: U2F (CTAP1) is available, CTAP2 may be too.
    #[serde(rename = "U2F_V2")]
    U2fV2,
    /// `"FIDO_2_0"`: CTAP2 only.
    #[serde(rename = "FIDO_2_0")]
    Fido20,
}

impl std::fmt::Display for FidoVersion {
    /// The version string the card answered SELECT with.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::U2fV2 => "U2F_V2",
            Self::Fido20 => "FIDO_2_0",
        })
    }
}

/// How long requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthMode {
    /// Short APDUs, command chaining in blocks of the given size.
    Chained(usize),
    /// Extended Lc/Le in one APDU.
    Extended,
}

/// A session with one card through one transport.
pub struct CardSession<T: Transport> {
    transport: T,
    atr: AtrInfo,
    mode: LengthMode,
    apdus: usize,
    version: Option<FidoVersion>,
    rng: Box<dyn HostRng>,
    /// Every command APDU and response, when recording is on (hex dumps
    /// for `--trace`); off by default.
    trace: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl<T: Transport> std::fmt::Debug for CardSession<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSession")
            .field("atr", &self.atr)
            .field("mode", &self.mode)
            .field("apdus", &self.apdus)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> CardSession<T> {
    /// A session using OS randomness; extended length when the ATR
    /// announces it, else chaining in 240-byte blocks.
    pub fn new(transport: T) -> Self {
        let atr = parse_atr(&transport.atr());
        let mode = if atr.extended_length {
            LengthMode::Extended
        } else {
            LengthMode::Chained(DEFAULT_CHAIN_BLOCK)
        };
        Self {
            transport,
            atr,
            mode,
            apdus: 0,
            version: None,
            rng: Box::new(rand_core::OsRng),
            trace: None,
        }
    }

    /// Replace the RNG (seeded RNGs in tests).
    pub fn with_rng(mut self, rng: Box<dyn HostRng>) -> Self {
        self.rng = rng;
        self
    }

    /// Force a length mode (e.g. 250-byte blocks as python-fido2 sends).
    pub fn set_length_mode(&mut self, mode: LengthMode) {
        self.mode = mode;
    }

    /// The length mode in use.
    pub fn length_mode(&self) -> LengthMode {
        self.mode
    }

    /// Start or stop recording every exchange.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on.then(Vec::new);
    }

    /// The exchanges recorded since tracing began.
    pub fn take_trace(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// What the ATR says.
    pub fn atr_info(&self) -> &AtrInfo {
        &self.atr
    }

    /// The raw ATR.
    pub fn atr(&self) -> Vec<u8> {
        self.transport.atr()
    }

    /// APDUs sent so far.
    pub fn apdu_count(&self) -> usize {
        self.apdus
    }

    /// The answer to the last SELECT.
    pub fn version(&self) -> Option<FidoVersion> {
        self.version
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The session's RNG.
    pub fn rng(&mut self) -> &mut dyn HostRng {
        &mut *self.rng
    }

    /// Remove the card from the field and tap it again; SELECT is needed after.
    pub fn power_cycle(&mut self) -> Result<(), HostError> {
        self.version = None;
        self.transport.power_cycle()?;
        self.atr = parse_atr(&self.transport.atr());
        Ok(())
    }

    /// Send one APDU as is, counting it.
    pub fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, HostError> {
        let response = self.transport.transmit(apdu)?;
        record(&mut self.apdus, &mut self.trace, apdu, &response);
        Ok(response)
    }

    /// Send `blocks` (a command, or a command chain) and page the last one's answer with GET
    /// RESPONSE, all as one exclusive exchange of the transport ([`Transport::exclusive`]):
    /// no other client's APDU comes in between. Returns the data of a `90 00` answer, else
    /// the named status word.
    fn exchange(&mut self, blocks: &[Vec<u8>], get_response_cla: u8) -> Result<Vec<u8>, HostError> {
        let Self {
            transport,
            apdus,
            trace,
            ..
        } = self;
        transport.exclusive(&mut |send| {
            let mut counted = |apdu: &[u8]| {
                let response = send(apdu)?;
                record(apdus, trace, apdu, &response);
                Ok(response)
            };
            run_blocks(&mut counted, blocks, get_response_cla)
        })
    }

    /// Send a command with any amount of data, then page the response:
    /// with [`LengthMode::Extended`] one extended APDU with Le `00 00` (the
    /// card may answer everything at once); otherwise one short APDU or a
    /// command chain. The whole exchange is one PC/SC transaction.
    pub fn command(
        &mut self,
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
    ) -> Result<Vec<u8>, HostError> {
        let blocks = match self.mode {
            // Extended Le = 00 00: the whole response in one frame.
            LengthMode::Extended => vec![apdu::encode(cla, ins, p1, p2, data, 65_536, true)?],
            LengthMode::Chained(_) if data.len() <= 255 => {
                vec![apdu::encode(cla, ins, p1, p2, data, 256, false)?]
            }
            LengthMode::Chained(block) => apdu::chain(cla, ins, p1, p2, data, block)?,
        };
        self.exchange(&blocks, cla)
    }

    /// SELECT by DF name (`00 A4 04 00 Lc AID 00`, ISO 7816-4 §11.2.2);
    /// returns the answer's data.
    pub fn select_aid(&mut self, aid: &[u8]) -> Result<Vec<u8>, HostError> {
        let apdu = apdu::encode(0x00, 0xA4, 0x04, 0x00, aid, 256, false)?;
        self.exchange(&[apdu], 0x00)
    }

    /// SELECT the FIDO applet (ISO 7816-4 §11.2.2).
    pub fn select(&mut self) -> Result<FidoVersion, HostError> {
        let data = self.select_aid(&FIDO_AID)?;
        let version = match data.as_slice() {
            b"U2F_V2" => FidoVersion::U2fV2,
            b"FIDO_2_0" => FidoVersion::Fido20,
            other => {
                return Err(HostError::UnexpectedVersion(
                    String::from_utf8_lossy(other).into_owned(),
                ))
            }
        };
        self.version = Some(version);
        Ok(version)
    }

    /// Send `cmd || params` as NFCCTAP_MSG and return the status byte and
    /// the raw CBOR that followed it.
    pub fn ctap_raw(&mut self, payload: &[u8]) -> Result<(CtapStatus, Vec<u8>), HostError> {
        let data = self.command(CLA_CTAP, INS_NFCCTAP_MSG, 0x00, 0x00, payload)?;
        let (&status, body) = data
            .split_first()
            .ok_or(HostError::Malformed("empty CTAP response"))?;
        Ok((CtapStatus::from_code(status), body.to_vec()))
    }

    /// A CTAP2 command: `cmd` with optional CBOR parameters (canonical
    /// encoding by `applet::cbor`); the response is decoded strictly, so a
    /// non-canonical answer is an error.
    pub fn ctap(&mut self, cmd: u8, params: Option<&Value>) -> Result<Option<Value>, HostError> {
        let mut payload = vec![cmd];
        if let Some(p) = params {
            cbor::encode_into(p, &mut payload);
        }
        let (status, body) = self.ctap_raw(&payload)?;
        if status != CtapStatus::Ok {
            return Err(HostError::Ctap(status));
        }
        if body.is_empty() {
            return Ok(None);
        }
        Ok(Some(cbor::decode(&body)?))
    }
}

/// Counts an APDU and records it when tracing.
fn record(
    apdus: &mut usize,
    trace: &mut Option<Vec<(Vec<u8>, Vec<u8>)>>,
    apdu: &[u8],
    response: &[u8],
) {
    *apdus += 1;
    if let Some(trace) = trace.as_mut() {
        trace.push((apdu.to_vec(), response.to_vec()));
    }
}

/// Sends every block of a chain (each but the last must answer `90 00`), then follows the
/// last one's `61 XX` with GET RESPONSE until the end (ISO/IEC 7816-4 §5.1.1, §7.6.1).
fn run_blocks(
    send: &mut SendApdu<'_>,
    blocks: &[Vec<u8>],
    get_response_cla: u8,
) -> Result<Vec<u8>, HostError> {
    let (last, chained) = blocks
        .split_last()
        .ok_or(HostError::Malformed("empty command chain"))?;
    for block in chained {
        let response = send(block)?;
        let (_, sw1, sw2) = apdu::split_response(&response)?;
        let sw = StatusWord::from_bytes(sw1, sw2);
        if sw != StatusWord::Success {
            return Err(HostError::Status(sw));
        }
    }
    let mut response = send(last)?;
    let mut data = Vec::new();
    loop {
        let (body, sw1, sw2) = apdu::split_response(&response)?;
        data.extend_from_slice(body);
        if sw1 == 0x61 {
            let ne = if sw2 == 0 { 256 } else { usize::from(sw2) };
            let get = apdu::encode(get_response_cla, INS_GET_RESPONSE, 0, 0, &[], ne, false)?;
            response = send(&get)?;
            continue;
        }
        return match StatusWord::from_bytes(sw1, sw2) {
            StatusWord::Success => Ok(data),
            other => Err(HostError::Status(other)),
        };
    }
}
