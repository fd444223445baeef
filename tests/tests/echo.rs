//! Chained and paged exchanges through pcscd with the test echo applet: command chaining
//! (CLA bit 0x10), `61 XX` + GET RESPONSE paging, and extended APDUs where they fit in
//! vpcd's 65,535-byte frames. Sizes 0, 1, 255, 256, 257, 4 KiB and 64 KiB - 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::apdu::{self, pattern, Framing, SW_OK};
use e2e::{Card, CardOptions, Conn, ECHO_AID, INS_ECHO, INS_GENERATE, INS_REPORT_NE};

const SIZES: [usize; 7] = [0, 1, 255, 256, 257, 4096, 65535];

fn echo_card() -> Card {
    let stack = e2e::stack().unwrap();
    Card::start(stack, CardOptions::echo())
}

fn selected(card: &Card) -> Conn {
    let conn = card.connect();
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    conn
}

/// What the echo applet's GENERATE returns: 0, 1, .., 250, 0, 1, .. (period 251).
fn generated(n: usize) -> Vec<u8> {
    (0..n).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

/// Frames a short exchange of `n` response bytes needs: ceil(n / 256), at least one.
fn frames_for(n: usize) -> usize {
    n.div_ceil(256)
}

#[test]
fn echo_short_chaining_and_paging_all_sizes() {
    let _ = e2e::require_stack!();
    let card = echo_card();
    let conn = selected(&card);
    // Block sizes of real clients: 255 (max), 250 (python-fido2), 240 (libfido2), with
    // GET RESPONSE CLA 00 (python-fido2) and 80 (libfido2, Windows).
    let framings = [
        Framing {
            block: 255,
            get_response_cla: 0x00,
            le_on_intermediate: false,
        },
        Framing {
            block: 250,
            get_response_cla: 0x80,
            le_on_intermediate: false,
        },
        Framing {
            block: 240,
            get_response_cla: 0x00,
            le_on_intermediate: true,
        },
    ];
    for (i, &n) in SIZES.iter().enumerate() {
        let framing = framings[i % framings.len()];
        let data = pattern(n);
        let ex = apdu::send(&conn, 0x00, INS_ECHO, 0x00, 0x00, &data, framing);
        assert_eq!(ex.sw, SW_OK, "echo {n} bytes ({framing:?})");
        assert!(
            ex.data == data,
            "echo {n} bytes: data differs ({framing:?})"
        );
        assert_eq!(ex.frames, frames_for(n), "frames for {n} bytes");
        let blocks = n.div_ceil(framing.block).max(1);
        assert_eq!(
            ex.commands,
            blocks + frames_for(n).saturating_sub(1),
            "APDUs for {n}"
        );
    }
}

#[test]
fn generate_pages_every_size_with_both_get_response_classes() {
    let _ = e2e::require_stack!();
    let card = echo_card();
    let conn = selected(&card);
    for (i, &n) in SIZES.iter().enumerate() {
        let framing = Framing {
            get_response_cla: if i % 2 == 0 { 0x00 } else { 0x80 },
            ..Framing::default()
        };
        let len = u16::try_from(n).unwrap().to_be_bytes();
        let ex = apdu::send(&conn, 0x00, INS_GENERATE, 0x00, 0x00, &len, framing);
        assert_eq!(ex.sw, SW_OK, "generate {n}");
        assert!(ex.data == generated(n), "generate {n}: data differs");
        assert_eq!(ex.frames, frames_for(n), "frames for {n} bytes");
    }
}

#[test]
fn echo_extended_in_one_frame_where_it_fits() {
    let _ = e2e::require_stack!();
    let card = echo_card();
    let conn = selected(&card);
    // The largest echo whose extended command (7 + n + 2 bytes) fits vpcd's 65,535-byte
    // frame; 65,535 bytes only go through chaining and paging.
    let largest = 65535 - 9;
    for n in [0, 1, 255, 256, 257, 4096, largest] {
        let data = pattern(n);
        let ex = apdu::send_extended(&conn, 0x00, INS_ECHO, 0x00, 0x00, &data, Some(65536));
        assert_eq!(ex.sw, SW_OK, "extended echo {n}");
        assert!(ex.data == data, "extended echo {n}: data differs");
        // Case 3E (data, no Le): python-fido2's extended mode expects the data anyway.
        if n > 0 {
            let ex = apdu::send_extended(&conn, 0x00, INS_ECHO, 0x00, 0x00, &data, None);
            assert_eq!(ex.sw, SW_OK, "case 3E echo {n}");
            assert!(ex.data == data, "case 3E echo {n}: data differs");
        }
    }
    // An extended GENERATE of 64 KiB - 3 comes back whole in one frame (+ SW = 65,535).
    let n = 65533usize;
    let len = u16::try_from(n).unwrap().to_be_bytes();
    let ex = apdu::send_extended(&conn, 0x00, INS_GENERATE, 0x00, 0x00, &len, Some(65536));
    assert_eq!(ex.sw, SW_OK);
    assert!(
        ex.data == generated(n),
        "extended generate {n}: data differs"
    );
    // The applet sees the Ne and length form the client sent.
    let ex = apdu::send_extended(&conn, 0x00, INS_REPORT_NE, 0x00, 0x00, &[0x01], Some(65536));
    assert_eq!(
        (ex.data.as_slice(), ex.sw),
        ([0x00, 0x01, 0x00, 0x00, 0x01].as_slice(), SW_OK)
    );
    let ex = apdu::send(
        &conn,
        0x00,
        INS_REPORT_NE,
        0x00,
        0x00,
        &[0x01],
        Framing::default(),
    );
    assert_eq!(
        (ex.data.as_slice(), ex.sw),
        ([0x00, 0x00, 0x01, 0x00, 0x00].as_slice(), SW_OK)
    );
}

#[test]
fn get_response_with_nothing_pending_is_an_error() {
    let _ = e2e::require_stack!();
    let card = echo_card();
    let conn = selected(&card);
    let resp = conn.transmit(&apdu::short(0x00, 0xC0, 0x00, 0x00, &[], Some(256)));
    assert!(
        resp == [0x69, 0x85] || resp == [0x6F, 0x00],
        "GET RESPONSE with nothing pending: {}",
        e2e::reader::hex_spaced(&resp)
    );
    // Abandon a pending response with another command: no stale data afterwards.
    let len = 600u16.to_be_bytes();
    let resp = conn.transmit(&apdu::short(
        0x00,
        INS_GENERATE,
        0x00,
        0x00,
        &len,
        Some(256),
    ));
    assert_eq!(&resp[256..], [0x61, 0x00]);
    conn.expect(
        &apdu::short(0x00, INS_ECHO, 0x00, 0x00, &[0x42], Some(256)),
        &[0x42, 0x90, 0x00],
    );
    let resp = conn.transmit(&apdu::short(0x00, 0xC0, 0x00, 0x00, &[], Some(256)));
    assert!(
        resp == [0x69, 0x85] || resp == [0x6F, 0x00],
        "stale GET RESPONSE: {}",
        e2e::reader::hex_spaced(&resp)
    );
}
