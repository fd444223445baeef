//! Command APDUs as the host writes them, on top of the crate's ISO/IEC
//! 7816-4 codec ([`reader_bridge::apdu`], host direction): one place encodes length
//! fields and splits chains, for the card side and the host side alike.
//!
//! ```text
//!  short    CLA INS P1 P2 [Lc(1) data] [Le(1)]         Lc 1..255, Le 00 = 256
//!  extended CLA INS P1 P2 00 [Lc(2) data] [Le(2)]      Lc 1..65535, Le 0000 = 65536
//!  chain    (CLA|10) … data[0..n]  → 90 00, …, CLA … data[last] Le → response
//! ```

use super::HostError;
use reader_bridge::apdu::{split_chained, Apdu, LengthForm, ResponseApdu};

/// Block size of libfido2 and kanidm (python-fido2 uses 250).
pub const DEFAULT_CHAIN_BLOCK: usize = 240;

fn too_long(len: usize) -> impl Fn(reader_bridge::apdu::EncodeError) -> HostError {
    move |_| HostError::RequestTooLong(len)
}

/// Encode one command APDU; `ne` 0 means no Le field.
pub fn encode(
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    ne: usize,
    extended: bool,
) -> Result<Vec<u8>, HostError> {
    let form = if extended {
        LengthForm::Extended
    } else {
        LengthForm::Short
    };
    Apdu {
        cla,
        ins,
        p1,
        p2,
        data,
        ne,
        extended,
    }
    .encode(form)
    .map_err(too_long(data.len()))
}

/// Split `data` into a short-APDU command chain: every block but the last
/// has CLA bit `0x10` set and no Le; the last carries `Le = 00`.
pub fn chain(
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    block: usize,
) -> Result<Vec<Vec<u8>>, HostError> {
    split_chained([cla, ins, p1, p2], data, 256, block).map_err(too_long(data.len()))
}

/// A response APDU split into data and status word bytes.
pub fn split_response(response: &[u8]) -> Result<(&[u8], u8, u8), HostError> {
    let r = ResponseApdu::parse(response).map_err(|_| HostError::ShortResponse)?;
    Ok((r.data, r.sw1, r.sw2))
}
