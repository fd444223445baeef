//! An independent client model of ISO/IEC 7816-4 framing, written from the standard (not
//! from the bridge's code): command APDU encodings (§5.1), command chaining with CLA bit
//! `0x10` (§5.1.1.1), and response paging with `61 XX` + GET RESPONSE (§5.1.3, §7.6.1).
//! Every frame received is checked against the rules while it is reassembled.
//!
//! ```text
//!  short:    CLA INS P1 P2 [Lc(1) data] [Le(1), 00 = 256]
//!  extended: CLA INS P1 P2 00 [Lc(2) data] [Le(2), 0000 = 65536]   (Le only: 00 Le(2))
//!  chain:    CLA|10 ... block 1  → 90 00 (no data)
//!            ...
//!            CLA    ... last block, Le = 00 → data (≤ 256) 61 XX | 90 00
//!  paging:   CLA' C0 00 00 XX → data (exactly XX, 00 = 256) 61 XX' | 90 00
//!            (61 00 while 256 or more remain, otherwise 61 <remaining>)
//! ```

use crate::reader::{hex_spaced, split_sw, Conn};

/// `SW_NO_ERROR`.
pub const SW_OK: u16 = 0x9000;

/// A short command APDU. `le` is the expected length Ne in 1..=256 (`256` encodes `00`).
#[must_use]
pub fn short(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u16>) -> Vec<u8> {
    let mut apdu = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        let lc = u8::try_from(data.len()).unwrap_or_else(|_| panic!("short Lc > 255"));
        apdu.push(lc);
        apdu.extend_from_slice(data);
    }
    if let Some(ne) = le {
        assert!((1..=256).contains(&ne), "short Ne {ne}");
        apdu.push(u8::try_from(ne % 256).unwrap_or(0));
    }
    apdu
}

/// An extended command APDU. `le` is Ne in 1..=65536 (`65536` encodes `00 00`).
#[must_use]
pub fn extended(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u32>) -> Vec<u8> {
    let mut apdu = vec![cla, ins, p1, p2, 0x00];
    if !data.is_empty() {
        let lc = u16::try_from(data.len()).unwrap_or_else(|_| panic!("extended Lc > 65535"));
        apdu.extend_from_slice(&lc.to_be_bytes());
        apdu.extend_from_slice(data);
    }
    if let Some(ne) = le {
        assert!((1..=65536).contains(&ne), "extended Ne {ne}");
        let le = u16::try_from(ne % 65536).unwrap_or(0);
        apdu.extend_from_slice(&le.to_be_bytes());
    }
    apdu
}

/// What a chained and paged exchange saw.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The reassembled response data.
    pub data: Vec<u8>,
    /// The final status word.
    pub sw: u16,
    /// Command APDUs sent (blocks + GET RESPONSEs).
    pub commands: usize,
    /// Response frames that carried data.
    pub frames: usize,
}

/// How to frame a [`send`].
#[derive(Debug, Clone, Copy)]
pub struct Framing {
    /// Data bytes per chained block (1..=255).
    pub block: usize,
    /// CLA of GET RESPONSE (`00` as python-fido2, `80` as libfido2/Windows).
    pub get_response_cla: u8,
    /// Put `Le = 00` on the intermediate blocks as well (older libfido2 did).
    pub le_on_intermediate: bool,
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            block: 255,
            get_response_cla: 0x00,
            le_on_intermediate: false,
        }
    }
}

/// Sends `data` as short APDUs (chained in `framing.block`-byte blocks when longer than one
/// block), then fetches the whole response with GET RESPONSE, checking each frame:
/// - every intermediate block is answered by exactly `90 00`;
/// - a frame followed by `61 XX` carries exactly the Ne that was asked for (256 for the
///   final block's `Le = 00`), never more than 256 bytes;
/// - `61 XX` announces `XX` = remaining bytes, or `00` while 256 or more remain: the next
///   frame carries exactly that many.
#[must_use]
pub fn send(
    conn: &Conn,
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    framing: Framing,
) -> Exchange {
    assert!((1..=255).contains(&framing.block), "block size");
    let mut ex = Exchange::default();
    let mut blocks: Vec<&[u8]> = data.chunks(framing.block).collect();
    let last = blocks.pop().unwrap_or(&[]);
    for block in blocks {
        let le = framing.le_on_intermediate.then_some(256);
        let apdu = short(cla | 0x10, ins, p1, p2, block, le);
        ex.commands += 1;
        conn.expect(&apdu, &[0x90, 0x00]);
    }
    let apdu = short(cla, ins, p1, p2, last, Some(256));
    ex.commands += 1;
    let mut resp = conn.transmit(&apdu);
    let mut sw = split_sw(&mut resp);
    let mut asked = 256usize;
    let mut last_cmd = apdu;
    loop {
        if !resp.is_empty() {
            ex.frames += 1;
        }
        assert!(
            resp.len() <= asked,
            "frame of {} bytes for Ne {asked}\n  C-APDU: {}",
            resp.len(),
            hex_spaced(&last_cmd)
        );
        ex.data.extend_from_slice(&resp);
        if sw & 0xFF00 != 0x6100 {
            break;
        }
        assert_eq!(
            resp.len(),
            asked,
            "a frame followed by 61 XX must carry all of Ne\n  C-APDU: {}",
            hex_spaced(&last_cmd)
        );
        let xx = sw & 0x00FF;
        asked = if xx == 0 { 256 } else { usize::from(xx) };
        let get = short(
            framing.get_response_cla,
            0xC0,
            0x00,
            0x00,
            &[],
            Some(u16::try_from(asked).unwrap_or(256)),
        );
        ex.commands += 1;
        resp = conn.transmit(&get);
        sw = split_sw(&mut resp);
        if xx != 0 && sw == SW_OK {
            assert_eq!(
                resp.len(),
                asked,
                "61 {xx:02X} announced {asked} bytes; GET RESPONSE returned {}",
                resp.len()
            );
        }
        last_cmd = get;
    }
    ex.sw = sw;
    ex
}

/// Sends `data` as one extended APDU with Ne = `ne` and returns data and status word.
#[must_use]
pub fn send_extended(
    conn: &Conn,
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    ne: Option<u32>,
) -> Exchange {
    let apdu = extended(cla, ins, p1, p2, data, ne);
    let mut resp = conn.transmit(&apdu);
    let sw = split_sw(&mut resp);
    Exchange {
        frames: usize::from(!resp.is_empty()),
        data: resp,
        sw,
        commands: 1,
    }
}

/// A deterministic test pattern of `len` bytes (position-dependent, so a lost, repeated or
/// reordered block shows).
#[must_use]
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let v = (i.wrapping_mul(31) ^ (i >> 8).wrapping_mul(7)) & 0xFF;
            u8::try_from(v).unwrap_or(0)
        })
        .collect()
}
