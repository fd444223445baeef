//! U2F (CTAP1) over NFC: REGISTER, AUTHENTICATE and VERSION.
//!
//! FIDO U2F Raw Message Formats v1.2 §3–§6 and FIDO U2F NFC Protocol v1.2
//! §5: the bridge has already parsed the APDU (short or extended, chained or
//! not) and hands over the raw U2F message in `data`.
//!
//! ```text
//!  CLA INS P1 P2  data                                     response
//!  00  01  xx xx  challenge(32) app(32)                    05 pk(65) L kh(L) cert sig
//!  00  02  03/07/08 00  challenge(32) app(32) L kh(L)      up(1) counter(4, BE) sig
//!  00  03  00 00  (none)                                   "U2F_V2"
//! ```
//!
//! | condition | status word |
//! |-----------|-------------|
//! | CLA ≠ 00 | `6E 00` |
//! | INS not 01/02/03 | `6D 00` |
//! | AUTHENTICATE P1 not 03/07/08, VERSION P1/P2 ≠ 00 | `6A 86` |
//! | data length wrong for the instruction | `67 00` |
//! | key handle not ours, for another application, not ES256, credProtect 3, deleted | `6A 80` |
//! | P1 07 (check-only) with a valid key handle | `69 85` |
//! | presence needed (REGISTER, P1 03) and not given | `69 85` |
//! | the signature counter could not be persisted | `65 81` |
//! | signing failed | `6F 00` |
//!
//! Key handles are ordinary credential IDs ([`crate::credential`]) sealed to
//! the application parameter and flagged `u2f`, so a key handle registered
//! here signs in through CTAP2 getAssertion with the AppID as RP ID (the
//! WebAuthn `appid` extension), and CTAP2 ES256 credentials answer U2F
//! AUTHENTICATE for `SHA-256(rpId)`. The signature counter is the card's
//! global counter, persisted before the response is returned.

mod authenticate;
mod register;

use crate::attestation::BatchAttestation;
use crate::credential::IdKey;
use crate::env::Env;
use crate::iso::{Command, Status};
use crate::state::CardState;

/// INS of U2F_REGISTER.
pub const INS_REGISTER: u8 = 0x01;
/// INS of U2F_AUTHENTICATE.
pub const INS_AUTHENTICATE: u8 = 0x02;
/// INS of U2F_VERSION.
pub const INS_VERSION: u8 = 0x03;
/// The VERSION response.
pub const VERSION: &[u8] = b"U2F_V2";

/// AUTHENTICATE P1: enforce user presence and sign.
pub const P1_ENFORCE_PRESENCE: u8 = 0x03;
/// AUTHENTICATE P1: check only whether the key handle is valid.
pub const P1_CHECK_ONLY: u8 = 0x07;
/// AUTHENTICATE P1: sign without requiring user presence.
pub const P1_DONT_ENFORCE_PRESENCE: u8 = 0x08;

/// REGISTER response's reserved first byte.
pub const REGISTER_ID: u8 = 0x05;

/// U2F errors with their status words (U2F Raw Message Formats v1.2 §3.3;
/// ISO/IEC 7816-4 §5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[repr(u16)]
pub enum U2fError {
    /// `67 00` SW_WRONG_LENGTH.
    #[error("wrong length")]
    WrongLength = 0x6700,
    /// `69 85` SW_CONDITIONS_NOT_SATISFIED: presence missing, or check-only.
    #[error("conditions of use not satisfied")]
    ConditionsNotSatisfied = 0x6985,
    /// `6A 80` SW_WRONG_DATA: bad key handle or other application.
    #[error("wrong data")]
    WrongData = 0x6A80,
    /// `6A 86` incorrect P1/P2.
    #[error("incorrect P1 or P2")]
    IncorrectP1P2 = 0x6A86,
    /// `6D 00` SW_INS_NOT_SUPPORTED.
    #[error("instruction not supported")]
    InsNotSupported = 0x6D00,
    /// `6E 00` SW_CLA_NOT_SUPPORTED.
    #[error("class not supported")]
    ClaNotSupported = 0x6E00,
    /// `65 81` memory failure: the counter could not be persisted.
    #[error("memory failure")]
    MemoryFailure = 0x6581,
    /// `6F 00` no precise diagnosis (signing failed).
    #[error("unspecified error")]
    Unspecified = 0x6F00,
}

impl U2fError {
    /// The status word.
    pub fn sw(self) -> u16 {
        self as u16
    }
}

impl From<U2fError> for Status {
    fn from(e: U2fError) -> Self {
        Status::from(e.sw())
    }
}

/// What a U2F command needs from the applet.
pub struct U2f<'a> {
    /// The environment (RNG for new keys and IDs, storage for the counter).
    pub env: &'a mut dyn Env,
    /// The card state (global signature counter, discoverable credentials).
    pub state: &'a mut CardState,
    /// The credential-ID sealing key.
    pub id_key: &'a IdKey,
    /// The batch attestation: its certificate and signature in REGISTER;
    /// `None` for self attestation (a self-signed certificate of the new key).
    pub attestation: Option<&'a BatchAttestation>,
    /// Whether user presence is established now (NFC: within the tap window,
    /// or touched).
    pub user_present: bool,
}

impl std::fmt::Debug for U2f<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("U2f")
            .field("user_present", &self.user_present)
            .finish_non_exhaustive()
    }
}

/// Handle one U2F command; on success `reply` holds the response data (the
/// status is `90 00`).
pub fn process(ctx: U2f<'_>, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), U2fError> {
    if cmd.cla != 0x00 {
        return Err(U2fError::ClaNotSupported);
    }
    match cmd.ins {
        INS_REGISTER => register::register(ctx, cmd, reply),
        INS_AUTHENTICATE => authenticate::authenticate(ctx, cmd, reply),
        INS_VERSION => version(cmd, reply),
        _ => Err(U2fError::InsNotSupported),
    }
}

/// U2F_VERSION (Raw Message Formats §6): no data, answers `"U2F_V2"`.
fn version(cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), U2fError> {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(U2fError::IncorrectP1P2);
    }
    if !cmd.data.is_empty() {
        return Err(U2fError::WrongLength);
    }
    reply.extend_from_slice(VERSION);
    Ok(())
}

/// The leading challenge and application parameters of REGISTER and
/// AUTHENTICATE, and what follows them.
struct Params<'a> {
    challenge: &'a [u8; 32],
    application: &'a [u8; 32],
    rest: &'a [u8],
}

/// Split `data` into challenge (32) || application (32) || rest.
fn two_params(data: &[u8]) -> Result<Params<'_>, U2fError> {
    let (challenge, rest) = data
        .split_first_chunk::<32>()
        .ok_or(U2fError::WrongLength)?;
    let (application, rest) = rest
        .split_first_chunk::<32>()
        .ok_or(U2fError::WrongLength)?;
    Ok(Params {
        challenge,
        application,
        rest,
    })
}
