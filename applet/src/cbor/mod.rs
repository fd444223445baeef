//! A small, strict CBOR codec for CTAP2 (CTAP 2.1 §8 "Message encoding").
//!
//! Requests are decoded strictly ([`decode`]): only the data model CTAP2
//! uses is accepted (unsigned and negative integers, byte and text strings,
//! arrays, maps, `true`, `false`, `null`), every length must use its shortest
//! form, map keys must be unique and in CTAP2 canonical order, text must be
//! UTF-8, there may be no trailing bytes, and containers nest at most
//! [`MAX_DEPTH`] deep. Every violation is a distinct [`CborError`], and every
//! [`CborError`] becomes `CTAP2_ERR_INVALID_CBOR` (0x12) at the CTAP layer.
//!
//! Responses are written by [`encode`] in CTAP2 canonical form: shortest
//! lengths, definite lengths, map keys sorted by the length of their encoding,
//! then bytewise.
//!
//! ```text
//!  initial byte:  MMM AAAAA    M = major type (0..7), A = additional info
//!                 A < 24       value/length is A itself
//!                 A = 24..27   value/length follows in 1, 2, 4, 8 bytes (big-endian)
//!                 A = 28..30   reserved (malformed)       A = 31  indefinite (refused)
//! ```

mod decode;
mod encode;

pub use decode::{decode, CborError, MAX_DEPTH};
pub use encode::{encode, encode_into};

use crate::error::CtapError;

/// A CBOR data item of the CTAP2 subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Major type 0: an unsigned integer.
    Unsigned(u64),
    /// Major type 1: the integer `-1 - n` for the stored `n`.
    Negative(u64),
    /// Major type 2: a byte string.
    Bytes(Vec<u8>),
    /// Major type 3: a UTF-8 text string.
    Text(String),
    /// Major type 4: an array.
    Array(Vec<Value>),
    /// Major type 5: a map, pairs in wire order (canonical order once encoded).
    Map(Vec<(Value, Value)>),
    /// Simple values 20 and 21.
    Bool(bool),
    /// Simple value 22.
    Null,
}

/// Wipes every byte and text string, recursively: a decoded state body holds the master key
/// and the PIN hash.
impl zeroize::Zeroize for Value {
    fn zeroize(&mut self) {
        match self {
            Value::Bytes(b) => b.zeroize(),
            Value::Text(t) => t.zeroize(),
            Value::Array(items) => items.iter_mut().for_each(Value::zeroize),
            Value::Map(pairs) => pairs.iter_mut().for_each(|(k, v)| {
                k.zeroize();
                v.zeroize();
            }),
            Value::Unsigned(n) | Value::Negative(n) => *n = 0,
            Value::Bool(b) => *b = false,
            Value::Null => {}
        }
    }
}

impl Value {
    /// A map value from pairs (the encoder sorts the keys).
    pub fn map(pairs: Vec<(Value, Value)>) -> Self {
        Value::Map(pairs)
    }

    /// The integer value when it fits an `i64`.
    pub fn as_i64(&self) -> Result<i64, CtapError> {
        match self {
            Value::Unsigned(n) => i64::try_from(*n).map_err(|_| CtapError::InvalidParameter),
            Value::Negative(n) => i64::try_from(*n)
                .map(|n| -1 - n)
                .map_err(|_| CtapError::InvalidParameter),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// An unsigned integer.
    pub fn as_u64(&self) -> Result<u64, CtapError> {
        match self {
            Value::Unsigned(n) => Ok(*n),
            Value::Negative(_) => Err(CtapError::InvalidParameter),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// A byte string.
    pub fn as_bytes(&self) -> Result<&[u8], CtapError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// A text string.
    pub fn as_text(&self) -> Result<&str, CtapError> {
        match self {
            Value::Text(t) => Ok(t),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// An array.
    pub fn as_array(&self) -> Result<&[Value], CtapError> {
        match self {
            Value::Array(a) => Ok(a),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// A map, wrapped for key lookup.
    pub fn as_map(&self) -> Result<Map<'_>, CtapError> {
        match self {
            Value::Map(m) => Ok(Map(m)),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Result<bool, CtapError> {
        match self {
            Value::Bool(b) => Ok(*b),
            _ => Err(CtapError::CborUnexpectedType),
        }
    }
}

/// Read access to a decoded map by integer or text key.
#[derive(Clone, Copy, Debug)]
pub struct Map<'a>(pub &'a [(Value, Value)]);

impl<'a> Map<'a> {
    /// The value under integer key `key`, if present.
    pub fn get(&self, key: i64) -> Option<&'a Value> {
        let want = Value::from(key);
        self.0.iter().find(|(k, _)| *k == want).map(|(_, v)| v)
    }

    /// The value under text key `key`, if present.
    pub fn get_text(&self, key: &str) -> Option<&'a Value> {
        self.0
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }

    /// The value under integer key `key`, or `CTAP2_ERR_MISSING_PARAMETER`.
    pub fn required(&self, key: i64) -> Result<&'a Value, CtapError> {
        self.get(key).ok_or(CtapError::MissingParameter)
    }

    /// The value under text key `key`, or `CTAP2_ERR_MISSING_PARAMETER`.
    pub fn required_text(&self, key: &str) -> Result<&'a Value, CtapError> {
        self.get_text(key).ok_or(CtapError::MissingParameter)
    }

    /// All pairs in wire order.
    pub fn pairs(&self) -> &'a [(Value, Value)] {
        self.0
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Unsigned(n)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Unsigned(u64::from(n))
    }
}

impl From<u8> for Value {
    fn from(n: u8) -> Self {
        Value::Unsigned(u64::from(n))
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Unsigned(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        if n >= 0 {
            Value::Unsigned(n.unsigned_abs())
        } else {
            // -1 - m = n  =>  m = -1 - n = |n| - 1, never overflows for n < 0.
            Value::Negative(n.unsigned_abs() - 1)
        }
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::from(i64::from(n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value::Bytes(b.to_vec())
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}
