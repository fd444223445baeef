//! Command chaining: reassembly, Le on intermediate blocks, broken chains,
//! the size cap, zero-length blocks.

use super::{collect, h, Harness, FIDO_2_0_OK, SELECT_ECHO, SELECT_FIDO};
use crate::bridge::CHAIN_MAX;

/// Test data independent of the echo applet's own pattern.
fn data(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from((i * 31 + 5) % 256).unwrap())
        .collect()
}

/// Chained short blocks built by hand: `CLA|10 ... Lc chunk` for all but the
/// last, `CLA ... Lc chunk 00` for the last (no Lc when the chunk is empty).
fn blocks(cla: u8, ins: u8, data: &[u8], block: usize, le_on_intermediate: bool) -> Vec<Vec<u8>> {
    let mut chunks: Vec<&[u8]> = data.chunks(block).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let last = i + 1 == n;
            let mut b = vec![if last { cla } else { cla | 0x10 }, ins, 0, 0];
            if !c.is_empty() {
                b.push(u8::try_from(c.len()).unwrap());
                b.extend_from_slice(c);
            }
            if last || le_on_intermediate {
                b.push(0x00);
            }
            b
        })
        .collect()
}

/// Send the blocks, check every intermediate answer is exactly 90 00, and
/// return the final answer.
fn send_chain(hn: &mut Harness, blocks: &[Vec<u8>]) -> Vec<u8> {
    let (last, init) = blocks.split_last().unwrap();
    for b in init {
        assert_eq!(hn.send(b), h("90 00"));
    }
    hn.send(last)
}

#[test]
fn echo_sizes_through_chaining_and_paging() {
    let sizes = [0, 1, 255, 256, 257, 512, 513, 4096, 65_535];
    for block in [240, 250, 255] {
        for (k, &n) in sizes.iter().enumerate() {
            let mut hn = Harness::new();
            hn.run(&[(SELECT_ECHO, "90 00")]);
            let d = data(n);
            let first = send_chain(&mut hn, &blocks(0x00, 0xEE, &d, block, k % 2 == 1));
            // Alternate the GET RESPONSE class between 00 and 80.
            let gr_cla = if k % 2 == 0 { 0x00 } else { 0x80 };
            let (got, sw, frames) = collect(&mut hn, first, gr_cla, 0x00);
            assert_eq!(sw, 0x9000, "n={n} block={block}");
            assert_eq!(got.len(), n, "n={n} block={block}");
            assert!(got == d, "n={n} block={block}: data differs");
            assert_eq!(frames, n.div_ceil(256).max(1), "n={n}");
        }
    }
}

#[test]
fn intermediate_le_tolerated_and_answer_is_bare_9000() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("10 EE 00 00 02 01 02 00", "90 00"),
        ("10 EE 00 00 01 03 10", "90 00"),
        ("00 EE 00 00 01 04 00", "01 02 03 04 90 00"),
    ]);
}

#[test]
fn zero_length_chained_blocks() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("10 EE 00 00", "90 00"),
        ("10 EE 00 00 02 AA BB", "90 00"),
        ("10 EE 00 00 00", "90 00"),
        ("00 EE 00 00 00", "AA BB 90 00"),
    ]);
}

#[test]
fn chain_broken_by_other_command_is_discarded() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("10 EE 00 00 02 AA BB", "90 00"),
        // Another INS: runs on its own.
        ("00 E8 00 00 02 00 03 00", "00 01 02 90 00"),
        // The old chain is gone.
        ("00 EE 00 00 01 CC 00", "CC 90 00"),
        // Other P1 breaks it too.
        ("10 EE 00 00 01 11", "90 00"),
        ("00 EE 01 00 01 22", "22 90 00"),
        ("00 EE 00 00 01 33", "33 90 00"),
        // Other CLA (beyond the chaining bit) as well.
        ("10 EE 00 00 01 11", "90 00"),
        ("80 EE 00 00 01 44", "44 90 00"),
        ("00 EE 00 00 01 55", "55 90 00"),
        // A chained block with another header starts a new chain.
        ("10 EE 00 00 01 11", "90 00"),
        ("10 EE 00 01 01 66", "90 00"),
        ("00 EE 00 01 01 77", "66 77 90 00"),
    ]);
}

#[test]
fn chain_broken_by_select_is_discarded() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("10 EE 00 00 02 AA BB", "90 00"),
        (SELECT_ECHO, "90 00"),
        ("00 EE 00 00 01 CC", "CC 90 00"),
    ]);
}

#[test]
fn malformed_block_breaks_the_chain() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_ECHO, "90 00"),
        ("10 EE 00 00 02 AA BB", "90 00"),
        ("10 EE 00 00 05 CC", "67 00"),
        ("00 EE 00 00 01 DD", "DD 90 00"),
    ]);
}

#[test]
fn chain_over_the_cap_is_refused_and_freed() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let mut block = vec![0x10, 0xEE, 0x00, 0x00, 0xFF];
    block.extend([0xAB; 255]);
    // 257 × 255 = 65 535 bytes buffered.
    for _ in 0..257 {
        assert_eq!(hn.send(&block), h("90 00"));
    }
    // Two more bytes: 65 537 > 64 KiB.
    hn.run(&[("10 EE 00 00 02 01 02", "67 00")]);
    // The buffer is gone: the final block runs alone.
    hn.run(&[("00 EE 00 00 01 CC 00", "CC 90 00")]);
    assert_eq!(CHAIN_MAX, 65_536);
}

#[test]
fn final_block_over_the_cap_is_refused() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let mut block = vec![0x10, 0xEE, 0x00, 0x00, 0xFF];
    block.extend([0xAB; 255]);
    for _ in 0..257 {
        assert_eq!(hn.send(&block), h("90 00"));
    }
    hn.run(&[("00 EE 00 00 02 01 02", "67 00")]);
    hn.run(&[("00 EE 00 00 01 CC", "CC 90 00")]);
}

#[test]
fn chain_of_exactly_the_cap_is_accepted() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00")]);
    let d = data(CHAIN_MAX);
    let first = send_chain(&mut hn, &blocks(0x00, 0xEE, &d, 255, false));
    let (got, sw, _) = collect(&mut hn, first, 0x00, 0x00);
    assert_eq!(sw, 0x9000);
    assert!(got == d);
}

#[test]
fn chained_nfcctap_msg_reaches_the_applet_whole() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_FIDO, FIDO_2_0_OK)]);
    let mut req = vec![0x01];
    req.extend(data(600));
    let first = send_chain(&mut hn, &blocks(0x80, 0x10, &req, 250, false));
    let (got, sw, _) = collect(&mut hn, first, 0x80, 0x00);
    assert_eq!(sw, 0x9000);
    // Presence missing and P1 = 00: the applet answers 27 itself.
    assert_eq!(got, [0x27]);
    assert_eq!(hn.log().last_ctap.clone().unwrap(), (req, false));
    assert_eq!(hn.log().ctap, 1);
}
