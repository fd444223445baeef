//! Command APDUs as the host writes them (ISO/IEC 7816-4 §5.1), and the
//! splitting of long CTAP requests into command chains (§5.1.1, CLA bit
//! `0x10`).
//!
//! ```text
//!  short   CLA INS P1 P2 [Lc(1) data] [Le(1)]         Lc 1..255, Le 00 = 256
//!  extended CLA INS P1 P2 00 Lc(2) data [Le(2)]        Lc 1..65535, Le 0000 = 65536
//!           CLA INS P1 P2 00 Le(2)                     (case 2E)
//!  chain   (CLA|10) … data[0..n]  → 90 00, …, CLA … data[last] Le → response
//! ```

use super::HostError;

/// Block size of libfido2 and kanidm (python-fido2 uses 250).
pub const DEFAULT_CHAIN_BLOCK: usize = 240;

/// Encode one command APDU.
///
/// `ne` is the expected response length: 0 for no Le field; with
/// `extended`, Le is two bytes (`00 00` for 65 536), else one (`00` for 256).
pub fn encode(
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    ne: usize,
    extended: bool,
) -> Result<Vec<u8>, HostError> {
    let mut out = vec![cla, ins, p1, p2];
    if extended {
        let lc = u16::try_from(data.len()).map_err(|_| HostError::RequestTooLong(data.len()))?;
        if !data.is_empty() {
            out.push(0x00);
            out.extend_from_slice(&lc.to_be_bytes());
            out.extend_from_slice(data);
        }
        if ne > 0 {
            if data.is_empty() {
                out.push(0x00);
            }
            let le = if ne >= 65_536 {
                0
            } else {
                u16::try_from(ne).map_err(|_| HostError::RequestTooLong(ne))?
            };
            out.extend_from_slice(&le.to_be_bytes());
        }
    } else {
        if !data.is_empty() {
            let lc = u8::try_from(data.len()).map_err(|_| HostError::RequestTooLong(data.len()))?;
            out.push(lc);
            out.extend_from_slice(data);
        }
        if ne > 0 {
            let le = if ne >= 256 {
                0
            } else {
                u8::try_from(ne).map_err(|_| HostError::RequestTooLong(ne))?
            };
            out.push(le);
        }
    }
    Ok(out)
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
    let block = block.clamp(1, 255);
    if data.is_empty() {
        return Ok(vec![encode(cla, ins, p1, p2, data, 256, false)?]);
    }
    let blocks: Vec<&[u8]> = data.chunks(block).collect();
    let last = blocks.len() - 1;
    blocks
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i == last {
                encode(cla, ins, p1, p2, part, 256, false)
            } else {
                encode(cla | 0x10, ins, p1, p2, part, 0, false)
            }
        })
        .collect()
}

/// A response APDU split into data and status word bytes.
pub fn split_response(response: &[u8]) -> Result<(&[u8], u8, u8), HostError> {
    let n = response.len();
    if n < 2 {
        return Err(HostError::ShortResponse);
    }
    Ok((&response[..n - 2], response[n - 2], response[n - 1]))
}
