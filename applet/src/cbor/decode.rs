//! Strict CTAP2 request decoding (CTAP 2.1 §8 "Message encoding").

use std::cmp::Ordering;

use super::Value;

/// Containers (arrays and maps) may nest at most this deep: the request map is
/// level 1, `pubKeyCredParams` level 2, each of its entries level 3, and a
/// COSE key inside an extension input level 4 (CTAP 2.1 §8: authenticators
/// must support a nesting depth of 4).
pub const MAX_DEPTH: usize = 4;

/// Why a request's CBOR was refused. Every variant is `CTAP2_ERR_INVALID_CBOR`
/// (0x12) on the wire; the variants exist for tests and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// The input ended inside a data item.
    #[error("CBOR input truncated")]
    Truncated,
    /// Bytes follow the single top-level item.
    #[error("trailing bytes after the CBOR item")]
    TrailingBytes,
    /// An indefinite-length item or a stray break code (additional info 31).
    #[error("indefinite-length CBOR item")]
    Indefinite,
    /// A value or length not in its shortest form.
    #[error("non-shortest CBOR encoding")]
    NonShortest,
    /// The same map key appears twice.
    #[error("duplicate CBOR map key")]
    DuplicateKey,
    /// Map keys not in CTAP2 canonical order.
    #[error("CBOR map keys not in canonical order")]
    KeyOrder,
    /// A text string that is not UTF-8.
    #[error("invalid UTF-8 in CBOR text string")]
    InvalidUtf8,
    /// Containers nested deeper than [`MAX_DEPTH`].
    #[error("CBOR nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A float, tag, `undefined` or other simple value: not in the CTAP2 subset.
    #[error("CBOR type outside the CTAP2 subset")]
    UnsupportedType,
    /// Reserved additional-information values 28..=30.
    #[error("malformed CBOR initial byte")]
    Malformed,
}

/// Decode exactly one CBOR data item that fills all of `input`.
///
/// Never panics and never allocates more than the input length justifies.
pub fn decode(input: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader { buf: input, pos: 0 };
    let value = reader.item(0)?;
    if reader.pos != input.len() {
        return Err(CborError::TrailingBytes);
    }
    Ok(value)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.buf.get(self.pos).ok_or(CborError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// The argument of a head with additional info `ai` (0..=27), shortest form
    /// enforced.
    fn argument(&mut self, ai: u8) -> Result<u64, CborError> {
        let (value, min) = match ai {
            0..=23 => return Ok(u64::from(ai)),
            24 => (u64::from(self.byte()?), 24),
            25 => {
                let b = self.take(2)?;
                (u64::from(u16::from_be_bytes([b[0], b[1]])), 0x100)
            }
            26 => {
                let b = self.take(4)?;
                (
                    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    0x1_0000,
                )
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            28..=30 => return Err(CborError::Malformed),
            _ => return Err(CborError::Indefinite),
        };
        if value < min {
            return Err(CborError::NonShortest);
        }
        Ok(value)
    }

    /// A length argument that the remaining input can possibly satisfy, given
    /// that each element takes at least `unit` bytes.
    fn length(&mut self, ai: u8, unit: usize) -> Result<usize, CborError> {
        let n = self.argument(ai)?;
        let n = usize::try_from(n).map_err(|_| CborError::Truncated)?;
        if n.checked_mul(unit).ok_or(CborError::Truncated)? > self.remaining() {
            return Err(CborError::Truncated);
        }
        Ok(n)
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let initial = self.byte()?;
        let major = initial >> 5;
        let ai = initial & 0x1f;
        match major {
            0 => Ok(Value::Unsigned(self.int_argument(ai)?)),
            1 => Ok(Value::Negative(self.int_argument(ai)?)),
            2 => {
                let n = self.length(ai, 1)?;
                Ok(Value::Bytes(self.take(n)?.to_vec()))
            }
            3 => {
                let n = self.length(ai, 1)?;
                let raw = self.take(n)?;
                let text = std::str::from_utf8(raw).map_err(|_| CborError::InvalidUtf8)?;
                Ok(Value::Text(text.to_owned()))
            }
            4 => {
                let n = self.length(ai, 1)?;
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep);
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let n = self.length(ai, 2)?;
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep);
                }
                let mut pairs = Vec::with_capacity(n);
                let mut previous: Option<&'a [u8]> = None;
                for _ in 0..n {
                    let start = self.pos;
                    let key = self.item(depth + 1)?;
                    let raw_key = self.buf.get(start..self.pos).ok_or(CborError::Truncated)?;
                    if let Some(prev) = previous {
                        match canonical_cmp(prev, raw_key) {
                            Ordering::Less => {}
                            Ordering::Equal => return Err(CborError::DuplicateKey),
                            Ordering::Greater => return Err(CborError::KeyOrder),
                        }
                    }
                    previous = Some(raw_key);
                    let value = self.item(depth + 1)?;
                    pairs.push((key, value));
                }
                Ok(Value::Map(pairs))
            }
            6 => Err(CborError::UnsupportedType),
            _ => match ai {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                28..=30 => Err(CborError::Malformed),
                31 => Err(CborError::Indefinite),
                // 0..=19 unassigned simple values, 23 undefined, 24 one-byte
                // simple value, 25..=27 half/single/double floats.
                _ => Err(CborError::UnsupportedType),
            },
        }
    }

    /// Integer argument: additional info 31 is malformed for majors 0 and 1.
    fn int_argument(&mut self, ai: u8) -> Result<u64, CborError> {
        if ai == 31 {
            return Err(CborError::Malformed);
        }
        self.argument(ai)
    }
}

/// CTAP2 canonical key order (CTAP 2.1 §8): lower major type first, then the
/// shorter encoding, then bytewise lexical order of the encodings.
pub(super) fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let major = |s: &[u8]| s.first().map_or(0, |b| b >> 5);
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then_with(|| a.cmp(b))
}

/// Every CBOR violation is `CTAP2_ERR_INVALID_CBOR` (0x12) at the CTAP layer.
impl From<CborError> for crate::error::CtapError {
    fn from(_: CborError) -> Self {
        crate::error::CtapError::InvalidCbor
    }
}
