//! Answer To Reset: the PC/SC part 3 contactless ATR and a structural check
//! of any ATR (ISO/IEC 7816-3 §8.2).
//!
//! ```text
//!  PC/SC part 3 (contactless, §3.1.3.2.3):
//!  3B  8n  80  01  <n historical bytes>  TCK
//!  TS  T0  TD1 TD2                       XOR of T0 .. last historical byte
//!      │   │   └ T=1, no further interface bytes
//!      │   └ T=0 indicated, TD2 follows
//!      └ TD1 present, n historical bytes
//! ```
//!
//! Card capabilities (ISO/IEC 7816-4 §8.1.1.2.7), a compact-TLV object in
//! the historical bytes after category indicator `80`:
//! ```text
//!  80  73  S1  S2  S3        tag 7, length 3
//!          │   │   └ b8 command chaining, b7 extended Lc/Le, b3..b1 channels
//!          │   └ data coding byte
//!          └ selection methods (b8: by full DF name)
//! ```

/// Historical bytes of the default profile: category `80`, card
/// capabilities `73 80 01 C0` (select by full DF name; data coding 01;
/// command chaining and extended Lc/Le).
pub const DEFAULT_HISTORICAL: [u8; 5] = [0x80, 0x73, 0x80, 0x01, 0xC0];

/// Card capabilities third byte, b8: command chaining.
pub const CAP_COMMAND_CHAINING: u8 = 0x80;
/// Card capabilities third byte, b7: extended Lc and Le fields.
pub const CAP_EXTENDED_LENGTH: u8 = 0x40;

/// Largest ATR (ISO/IEC 7816-3 §8.2.1: TS plus at most 32 bytes).
pub const ATR_MAX: usize = 33;
/// Largest number of historical bytes (T0 low nibble).
pub const HISTORICAL_MAX: usize = 15;

/// Why an ATR is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AtrError {
    /// More than 15 historical bytes.
    #[error("{0} historical bytes (at most 15)")]
    TooManyHistorical(usize),
    /// Not a direct or inverse convention TS.
    #[error("TS {0:#04x} is neither 3B nor 3F")]
    BadTs(u8),
    /// The ATR ends before its announced bytes.
    #[error("ATR truncated")]
    Truncated,
    /// Bytes after the last announced byte.
    #[error("ATR has {0} trailing bytes")]
    Trailing(usize),
    /// TCK does not make the XOR of T0..TCK zero.
    #[error("TCK {found:#04x}, expected {expected:#04x}")]
    BadTck {
        /// TCK in the ATR.
        found: u8,
        /// TCK that would be right.
        expected: u8,
    },
    /// Longer than 33 bytes.
    #[error("ATR of {0} bytes (at most 33)")]
    TooLong(usize),
}

/// XOR of all bytes (the TCK of `T0 .. last historical byte`).
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Build the PC/SC part 3 contactless ATR `3B 8n 80 01 <hist> TCK`.
pub fn contactless(historical: &[u8]) -> Result<Vec<u8>, AtrError> {
    let n = u8::try_from(historical.len())
        .ok()
        .filter(|&n| usize::from(n) <= HISTORICAL_MAX)
        .ok_or(AtrError::TooManyHistorical(historical.len()))?;
    let mut atr = vec![0x3B, 0x80 | n, 0x80, 0x01];
    atr.extend_from_slice(historical);
    let tck = xor(atr.get(1..).unwrap_or_default());
    atr.push(tck);
    Ok(atr)
}

/// Check the structure of an ATR: TS, the interface bytes announced by
/// T0/TDi, the historical bytes, and TCK (present when any protocol other
/// than T=0 is indicated). Returns the historical bytes.
pub fn validate(atr: &[u8]) -> Result<&[u8], AtrError> {
    if atr.len() > ATR_MAX {
        return Err(AtrError::TooLong(atr.len()));
    }
    let (&ts, rest) = atr.split_first().ok_or(AtrError::Truncated)?;
    if ts != 0x3B && ts != 0x3F {
        return Err(AtrError::BadTs(ts));
    }
    let (&t0, mut rest) = rest.split_first().ok_or(AtrError::Truncated)?;
    let k = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut needs_tck = false;
    loop {
        // TA, TB, TC announced by bits 5, 6, 7 of Y; TD by bit 8.
        let skip = usize::from(y & 1) + usize::from((y >> 1) & 1) + usize::from((y >> 2) & 1);
        rest = rest.get(skip..).ok_or(AtrError::Truncated)?;
        if y & 0x8 == 0 {
            break;
        }
        let (&td, r) = rest.split_first().ok_or(AtrError::Truncated)?;
        rest = r;
        needs_tck |= td & 0x0F != 0;
        y = td >> 4;
    }
    let historical = rest.get(..k).ok_or(AtrError::Truncated)?;
    let after = rest.get(k..).unwrap_or_default();
    match (needs_tck, after) {
        (false, []) => Ok(historical),
        (true, [tck]) => {
            let body = atr.get(1..atr.len() - 1).unwrap_or_default();
            let expected = xor(body);
            if expected == *tck {
                Ok(historical)
            } else {
                Err(AtrError::BadTck {
                    found: *tck,
                    expected,
                })
            }
        }
        (true, []) => Err(AtrError::Truncated),
        (_, extra) => Err(AtrError::Trailing(extra.len())),
    }
}

/// The card capabilities bytes (compact-TLV tag 7) in historical bytes that
/// start with category indicator `80`, if present.
pub fn card_capabilities(historical: &[u8]) -> Option<&[u8]> {
    let (&category, mut rest) = historical.split_first()?;
    if category != 0x80 {
        return None;
    }
    while let Some((&tl, r)) = rest.split_first() {
        let len = usize::from(tl & 0x0F);
        let value = r.get(..len)?;
        if tl >> 4 == 7 {
            return Some(value);
        }
        rest = r.get(len..)?;
    }
    None
}
