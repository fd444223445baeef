//! Command and response APDUs (ISO/IEC 7816-4 §5.1), both directions.
//!
//! Card side: [`Apdu::parse`] decodes the seven length cases and rejects
//! anything inconsistent with an [`ApduError`] (wire value `67 00`); nothing
//! is executed for a malformed command. Host side: [`Apdu::encode`],
//! [`split_chained`] and [`ResponseApdu::parse`].
//!
//! ```text
//!  case  layout                                   Nc     Ne
//!  1     CLA INS P1 P2                            0      0
//!  2S    CLA INS P1 P2 Le                         0      Le (00 = 256)
//!  3S    CLA INS P1 P2 Lc data[Lc]                1..255 0
//!  4S    CLA INS P1 P2 Lc data[Lc] Le             1..255 Le (00 = 256)
//!  2E    CLA INS P1 P2 00 Le1 Le2                 0      Le (0000 = 65 536)
//!  3E    CLA INS P1 P2 00 Lc1 Lc2 data[Lc]        1..    0
//!  4E    CLA INS P1 P2 00 Lc1 Lc2 data[Lc] Le1 Le2 1..   Le (0000 = 65 536)
//! ```
//! All multi-byte length fields are big-endian.

mod encode;

pub use encode::{split_chained, EncodeError, LengthForm, ResponseApdu, ResponseError};

use iso7816::Status;

/// CLA bit 8 clear and bit 5 set: "not the last command of a chain"
/// (ISO/IEC 7816-4 §5.4.1, command chaining).
pub const CLA_CHAINING: u8 = 0x10;

/// Largest Ne of a short Le field (`Le = 00`).
pub const SHORT_NE_MAX: usize = 256;
/// Largest Ne of an extended Le field (`Le = 00 00`).
pub const EXTENDED_NE_MAX: usize = 65_536;
/// Largest Nc of a short Lc field.
pub const SHORT_NC_MAX: usize = 255;
/// Largest Nc of an extended Lc field.
pub const EXTENDED_NC_MAX: usize = 65_535;

/// The length case of a command APDU (ISO/IEC 7816-4 §5.1, table 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// No data, no Le.
    One,
    /// Short Le only.
    TwoShort,
    /// Short Lc and data.
    ThreeShort,
    /// Short Lc, data and short Le.
    FourShort,
    /// Extended Le only.
    TwoExtended,
    /// Extended Lc and data.
    ThreeExtended,
    /// Extended Lc, data and extended Le.
    FourExtended,
}

impl Case {
    /// Whether the length fields are extended (cases 2E, 3E, 4E).
    pub fn is_extended(self) -> bool {
        matches!(
            self,
            Case::TwoExtended | Case::ThreeExtended | Case::FourExtended
        )
    }
}

/// Why a command APDU could not be decoded. Every variant is answered with
/// `67 00` (wrong length) and the command is not executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// Fewer than the four header bytes.
    #[error("command shorter than its 4-byte header ({0} bytes)")]
    TooShort(usize),
    /// A short Lc that does not match the body (`Lc` bytes of data, then at
    /// most one Le byte).
    #[error("short Lc {lc} inconsistent with a {body}-byte body")]
    ShortLcMismatch {
        /// The Lc byte.
        lc: u8,
        /// Bytes after the header.
        body: usize,
    },
    /// A body of exactly two bytes starting with `00`: neither a short nor
    /// an extended encoding.
    #[error("two-byte body starting with 00 is neither short nor extended")]
    DanglingExtendedMarker,
    /// An extended Lc of `00 00` (Nc = 0 has no Lc field at all).
    #[error("extended Lc of zero")]
    ExtendedLcZero,
    /// An extended Lc that does not match the body (data, then no Le or a
    /// two-byte Le).
    #[error("extended Lc {lc} inconsistent with a {body}-byte body")]
    ExtendedLcMismatch {
        /// The extended Lc value.
        lc: u16,
        /// Bytes after the header.
        body: usize,
    },
}

impl ApduError {
    /// The status word this error is answered with.
    pub fn status(self) -> Status {
        Status::WrongLength
    }
}

/// A decoded command APDU borrowing its data field.
///
/// `ne` follows [`applet::iso::Command`]: 0 when there is no Le field, 256
/// for a short `Le = 00`, 65 536 for an extended `Le = 00 00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// Class byte as sent (chaining bit included).
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data field (Nc bytes).
    pub data: &'a [u8],
    /// Ne, the maximum number of response bytes expected (0 = no Le).
    pub ne: usize,
    /// Whether the length fields are extended.
    pub extended: bool,
}

impl<'a> Apdu<'a> {
    /// Decode a command APDU (ISO/IEC 7816-4 §5.1). Strict: the body must be
    /// exactly one of the seven cases.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let Some((header, body)) = bytes.split_first_chunk::<4>() else {
            return Err(ApduError::TooShort(bytes.len()));
        };
        let [cla, ins, p1, p2] = *header;
        let mk = |data: &'a [u8], ne: usize, extended: bool| Apdu {
            cla,
            ins,
            p1,
            p2,
            data,
            ne,
            extended,
        };
        let Some((&b1, rest)) = body.split_first() else {
            return Ok(mk(&[], 0, false)); // case 1
        };
        if rest.is_empty() {
            return Ok(mk(&[], short_ne(b1), false)); // case 2S
        }
        if b1 != 0 {
            let lc = usize::from(b1);
            return match rest.len().checked_sub(lc) {
                Some(0) => Ok(mk(rest, 0, false)), // case 3S
                Some(1) => {
                    let (data, le) = rest.split_at(lc);
                    Ok(mk(data, le.first().map_or(0, |&l| short_ne(l)), false)) // case 4S
                }
                _ => Err(ApduError::ShortLcMismatch {
                    lc: b1,
                    body: body.len(),
                }),
            };
        }
        // b1 == 00 with more bytes: extended length fields.
        let Some((&[x1, x2], after)) = rest.split_first_chunk::<2>() else {
            return Err(ApduError::DanglingExtendedMarker);
        };
        let field = u16::from_be_bytes([x1, x2]);
        if after.is_empty() {
            return Ok(mk(&[], extended_ne(field), true)); // case 2E
        }
        if field == 0 {
            return Err(ApduError::ExtendedLcZero);
        }
        let lc = usize::from(field);
        match after.len().checked_sub(lc) {
            Some(0) => Ok(mk(after, 0, true)), // case 3E
            Some(2) => {
                let (data, le) = after.split_at(lc);
                let ne = match le {
                    [a, b] => extended_ne(u16::from_be_bytes([*a, *b])),
                    _ => 0,
                };
                Ok(mk(data, ne, true)) // case 4E
            }
            _ => Err(ApduError::ExtendedLcMismatch {
                lc: field,
                body: body.len(),
            }),
        }
    }

    /// The length case of this command.
    pub fn case(&self) -> Case {
        match (self.extended, self.data.is_empty(), self.ne == 0) {
            (false, true, true) | (true, true, true) => Case::One,
            (false, true, false) => Case::TwoShort,
            (false, false, true) => Case::ThreeShort,
            (false, false, false) => Case::FourShort,
            (true, true, false) => Case::TwoExtended,
            (true, false, true) => Case::ThreeExtended,
            (true, false, false) => Case::FourExtended,
        }
    }
}

/// Whether a CLA byte announces "more command blocks follow": bit 5 (`0x10`)
/// of a first-interindustry or proprietary class byte (ISO/IEC 7816-4 §5.4.1).
pub fn cla_is_chained(cla: u8) -> bool {
    cla & CLA_CHAINING != 0
}

/// Short Le byte to Ne: `00` means 256.
fn short_ne(le: u8) -> usize {
    if le == 0 {
        SHORT_NE_MAX
    } else {
        usize::from(le)
    }
}

/// Extended Le to Ne: `00 00` means 65 536.
fn extended_ne(le: u16) -> usize {
    if le == 0 {
        EXTENDED_NE_MAX
    } else {
        usize::from(le)
    }
}
