//! Answer To Reset parsing (ISO/IEC 7816-3 §8.2) and the card
//! capabilities a client needs from it: the compact-TLV historical bytes of
//! ISO/IEC 7816-4 §8.1.1 (PC/SC part 3 for contactless cards).
//!
//! ```text
//!  TS T0 [TA1 TB1 TC1 TD1] [TA2 …] … historical(K) [TCK]
//!  T0 = Y1(4 bits) K(4 bits); TDi = Yi+1(4 bits) T(4 bits)
//!  historical: 80 (compact-TLV follows) { tag(4) len(4) value }*
//!  tag 7 card capabilities: byte 3 bit 0x80 command chaining, 0x40 extended Lc/Le
//! ```

use serde::Serialize;

/// What the ATR tells the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AtrInfo {
    /// The historical bytes.
    #[serde(with = "crate::rp::hex_bytes")]
    pub historical: Vec<u8>,
    /// Card capabilities (tag 7) announce command chaining.
    pub chaining: bool,
    /// Card capabilities (tag 7) announce extended Lc and Le.
    pub extended_length: bool,
    /// The historical bytes as text, when they are printable ASCII
    /// (e.g. "ACS AFD02").
    pub historical_text: Option<String>,
}

/// Parse an ATR; malformed input yields what could be read.
pub fn parse_atr(atr: &[u8]) -> AtrInfo {
    let mut info = AtrInfo::default();
    let Some(&t0) = atr.get(1) else {
        return info;
    };
    let k = usize::from(t0 & 0x0f);
    let mut y = t0 >> 4;
    let mut pos = 2;
    loop {
        for bit in [0x1u8, 0x2, 0x4] {
            if y & bit != 0 {
                pos += 1;
            }
        }
        if y & 0x8 != 0 {
            let Some(&td) = atr.get(pos) else {
                return info;
            };
            pos += 1;
            y = td >> 4;
        } else {
            break;
        }
    }
    let Some(hist) = atr.get(pos..pos + k) else {
        return info;
    };
    info.historical = hist.to_vec();
    if hist.first() == Some(&0x80) {
        let mut i = 1;
        while i < hist.len() {
            let tag = hist[i] >> 4;
            let len = usize::from(hist[i] & 0x0f);
            let Some(value) = hist.get(i + 1..i + 1 + len) else {
                break;
            };
            if tag == 0x7 {
                if let Some(&b3) = value.get(2) {
                    info.chaining = b3 & 0x80 != 0;
                    info.extended_length = b3 & 0x40 != 0;
                }
            }
            i += 1 + len;
        }
    } else if !hist.is_empty() && hist.iter().all(|b| (0x20..0x7f).contains(b)) {
        info.historical_text = String::from_utf8(hist.to_vec()).ok();
    }
    info
}
