//! The host direction: encoding command APDUs, splitting long commands into
//! chained short blocks, and decoding response APDUs (ISO/IEC 7816-4 §5.1,
//! §5.4.1 command chaining, §5.6 status bytes).
//!
//! ```text
//!  chained short blocks of size B (CLA | 0x10 on all but the last):
//!  CLA|10 INS P1 P2 B data[0..B]
//!  CLA|10 INS P1 P2 B data[B..2B]
//!  ...
//!  CLA    INS P1 P2 r data[..r] [Le]      Le only on the last block
//! ```

use super::{Apdu, CLA_CHAINING, EXTENDED_NC_MAX, EXTENDED_NE_MAX, SHORT_NC_MAX, SHORT_NE_MAX};
use iso7816::Status;

/// Which length fields to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthForm {
    /// One-byte Lc / Le (Nc ≤ 255, Ne ≤ 256).
    Short,
    /// Three-byte Lc / two- or three-byte Le (Nc ≤ 65 535, Ne ≤ 65 536).
    Extended,
    /// Short when the lengths fit, extended otherwise.
    Auto,
}

/// Why a command could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Nc too large for the requested form.
    #[error("{nc} data bytes do not fit a {form:?} Lc field")]
    DataTooLong {
        /// Data length.
        nc: usize,
        /// Requested form.
        form: LengthForm,
    },
    /// Ne too large for the requested form.
    #[error("Ne {ne} does not fit a {form:?} Le field")]
    NeTooLarge {
        /// Requested Ne.
        ne: usize,
        /// Requested form.
        form: LengthForm,
    },
    /// A chaining block size outside 1..=255.
    #[error("chaining block size {0} outside 1..=255")]
    BadBlockSize(usize),
}

impl Apdu<'_> {
    /// Encode this command (`cla`, `ins`, `p1`, `p2`, `data`, `ne`; the
    /// `extended` field is ignored in favour of `form`). A command without
    /// data and with `ne = 0` is case 1 in either form.
    pub fn encode(&self, form: LengthForm) -> Result<Vec<u8>, EncodeError> {
        let nc = self.data.len();
        let extended = match form {
            LengthForm::Short => false,
            LengthForm::Extended => true,
            LengthForm::Auto => nc > SHORT_NC_MAX || self.ne > SHORT_NE_MAX,
        };
        let (nc_max, ne_max) = if extended {
            (EXTENDED_NC_MAX, EXTENDED_NE_MAX)
        } else {
            (SHORT_NC_MAX, SHORT_NE_MAX)
        };
        if nc > nc_max {
            return Err(EncodeError::DataTooLong { nc, form });
        }
        if self.ne > ne_max {
            return Err(EncodeError::NeTooLarge { ne: self.ne, form });
        }
        let mut out = Vec::with_capacity(4 + 3 + nc + 2);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if extended {
            if nc > 0 || self.ne > 0 {
                out.push(0x00);
            }
            if nc > 0 {
                out.extend_from_slice(&length_bytes(nc));
                out.extend_from_slice(self.data);
            }
            if self.ne > 0 {
                // 65 536 is written as 00 00.
                out.extend_from_slice(&length_bytes(self.ne % EXTENDED_NE_MAX));
            }
        } else {
            if nc > 0 {
                out.push(length_byte(nc));
                out.extend_from_slice(self.data);
            }
            if self.ne > 0 {
                // 256 is written as 00.
                out.push(length_byte(self.ne % SHORT_NE_MAX));
            }
        }
        Ok(out)
    }
}

/// Low byte of a length already checked to be below 256.
fn length_byte(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(0)
}

/// Two big-endian bytes of a length already checked to be below 65 536.
fn length_bytes(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(0).to_be_bytes()
}

/// Split a command into chained short APDUs of at most `block` data bytes
/// (ISO/IEC 7816-4 §5.4.1): CLA `| 0x10` on every block but the last, and
/// the Le (`ne`, ≤ 256) only on the last. Empty data gives one command.
pub fn split_chained(
    header: [u8; 4],
    data: &[u8],
    ne: usize,
    block: usize,
) -> Result<Vec<Vec<u8>>, EncodeError> {
    if block == 0 || block > SHORT_NC_MAX {
        return Err(EncodeError::BadBlockSize(block));
    }
    if ne > SHORT_NE_MAX {
        return Err(EncodeError::NeTooLarge {
            ne,
            form: LengthForm::Short,
        });
    }
    let [cla, ins, p1, p2] = header;
    let mut chunks: Vec<&[u8]> = data.chunks(block).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let is_last = i == last;
            Apdu {
                cla: if is_last { cla } else { cla | CLA_CHAINING },
                ins,
                p1,
                p2,
                data: chunk,
                ne: if is_last { ne } else { 0 },
                extended: false,
            }
            .encode(LengthForm::Short)
        })
        .collect()
}

/// A response APDU: data field then SW1 SW2 (ISO/IEC 7816-4 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseApdu<'a> {
    /// Response data field.
    pub data: &'a [u8],
    /// SW1.
    pub sw1: u8,
    /// SW2.
    pub sw2: u8,
}

/// Why a response APDU could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Fewer than the two status bytes.
    #[error("response of {0} bytes has no status word")]
    TooShort(usize),
}

impl<'a> ResponseApdu<'a> {
    /// Split a response into its data and status bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ResponseError> {
        match bytes.split_last_chunk::<2>() {
            Some((data, &[sw1, sw2])) => Ok(ResponseApdu { data, sw1, sw2 }),
            None => Err(ResponseError::TooShort(bytes.len())),
        }
    }

    /// The status word as a number (`0x9000`).
    pub fn sw(&self) -> u16 {
        u16::from_be_bytes([self.sw1, self.sw2])
    }

    /// The status word as an [`iso7816::Status`].
    pub fn status(&self) -> Status {
        Status::from(self.sw())
    }
}
