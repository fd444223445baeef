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
    #[serde(with = "relying_party::hex_bytes")]
    pub historical: Vec<u8>,
    /// Card capabilities (tag 7) announce command chaining.
    pub chaining: bool,
    /// Card capabilities (tag 7) announce extended Lc and Le.
    pub extended_length: bool,
    /// The historical bytes as text, when they are printable ASCII
    /// (e.g. "ACS AFD02").
    pub historical_text: Option<String>,
}

/// Parse an ATR with the crate's checker ([`reader_bridge::atr::validate`]); an
/// ATR that does not validate yields no capabilities.
pub fn parse_atr(atr: &[u8]) -> AtrInfo {
    let mut info = AtrInfo::default();
    let Ok(hist) = reader_bridge::atr::validate(atr) else {
        return info;
    };
    info.historical = hist.to_vec();
    if let Some(&b3) = reader_bridge::atr::card_capabilities(hist).and_then(|caps| caps.get(2)) {
        info.chaining = b3 & 0x80 != 0;
        info.extended_length = b3 & 0x40 != 0;
    }
    if hist.first() != Some(&0x80)
        && !hist.is_empty()
        && hist.iter().all(|b| (0x20..0x7f).contains(b))
    {
        info.historical_text = String::from_utf8(hist.to_vec()).ok();
    }
    info
}
