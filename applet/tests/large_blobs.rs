//! authenticatorLargeBlobs (CTAP 2.1 §6.10) through the CTAP2 entry point,
//! checked by the independent client (`client`, ciborium) and its platform PIN
//! protocol (`client::pin`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::config::Config;
use ciborium::Value as C;
use client::pin::*;
use client::status::*;
use client::*;

const LB: u8 = 0x0C;
const PIN: &str = "2468";

/// Default profile: maxMsgSize 7609, so maxFragmentLength 7545.
const MAX_FRAGMENT: usize = 7609 - 64;

/// A serialized large-blob array: `array || LEFT(SHA-256(array), 16)`.
fn serialized(array: &C) -> Vec<u8> {
    let mut out = ser(array);
    let hash = sha256(&out);
    out.extend_from_slice(&hash[..16]);
    out
}

/// An array of one entry whose ciphertext has `n` bytes (the card does not
/// look inside).
fn sample(n: usize, fill: u8) -> Vec<u8> {
    let entry = cmap(vec![
        (int(1), bytes(&vec![fill; n])),
        (int(2), bytes(&[fill; 12])),
        (int(3), int(i64::try_from(n).unwrap())),
    ]);
    serialized(&C::Array(vec![entry]))
}

fn get_req(offset: usize, count: usize) -> C {
    cmap(vec![
        (int(1), int(i64::try_from(count).unwrap())),
        (int(3), int(i64::try_from(offset).unwrap())),
    ])
}

/// A set request; `token` signs `32×FF || 0C 00 || uint32LE(offset) || SHA-256(fragment)`.
fn set_req(fragment: &[u8], offset: usize, length: Option<usize>, token: Option<&Token>) -> C {
    let mut m = vec![
        (int(2), bytes(fragment)),
        (int(3), int(i64::try_from(offset).unwrap())),
    ];
    if let Some(l) = length {
        m.push((int(4), int(i64::try_from(l).unwrap())));
    }
    if let Some(t) = token {
        let mut msg = vec![0xff; 32];
        msg.extend_from_slice(&[0x0c, 0x00]);
        msg.extend_from_slice(&u32::try_from(offset).unwrap().to_le_bytes());
        msg.extend_from_slice(&sha256(fragment));
        m.push((int(5), bytes(&t.param(&msg))));
        m.push((int(6), int(i64::from(t.protocol))));
    }
    cmap(m)
}

/// Read the whole array with `get` in chunks of `chunk` bytes.
fn read_all(card: &mut Card, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let r = card.ctap(LB, Some(get_req(out.len(), chunk))).ok();
        let part = as_bytes(get(&r, 1).unwrap());
        assert!(part.len() <= chunk);
        let done = part.len() < chunk;
        out.extend(part);
        if done {
            return out;
        }
    }
}

/// Write `array` in fragments of `chunk` bytes.
fn write_all(card: &mut Card, array: &[u8], chunk: usize, token: Option<&Token>) -> u8 {
    let mut status = OK;
    for (i, fragment) in array.chunks(chunk).enumerate() {
        let offset = i * chunk;
        let length = (offset == 0).then_some(array.len());
        let r = card.ctap(LB, Some(set_req(fragment, offset, length, token)));
        assert!(r.body.is_none());
        status = r.status;
        if status != OK {
            break;
        }
    }
    status
}

/// An error reply that left the stored state untouched.
fn refused(card: &mut Card, request: C, status: u8) {
    let before = card.storage();
    let r = card.ctap(LB, Some(request));
    assert_eq!(r.status, status, "expected {status:#04x}");
    assert!(r.body.is_none());
    assert_eq!(card.storage(), before, "an error changed the stored state");
}

fn initial() -> Vec<u8> {
    serialized(&C::Array(vec![]))
}

#[test]
fn get_info_and_profiles() {
    let mut card = Card::new(1, Config::default(), false);
    let info = card.ctap(GET_INFO, None).ok();
    assert_eq!(
        get_text(get(&info, 4).unwrap(), "largeBlobs"),
        Some(&C::Bool(true))
    );
    assert!(as_int(get(&info, 0x0B).unwrap()) >= 1024);
    assert_eq!(as_int(get(&info, 0x0B).unwrap()), 4096);

    let mut card = Card::new(1, Config::pocketkey(), false);
    let info = card.ctap(GET_INFO, None).ok();
    assert!(get_text(get(&info, 4).unwrap(), "largeBlobs").is_none());
    assert!(get(&info, 0x0B).is_none());
    assert_eq!(card.ctap(LB, Some(get_req(0, 100))).status, INVALID_COMMAND);
}

#[test]
fn fresh_card_holds_the_empty_array() {
    let mut card = Card::new(2, Config::default(), false);
    let expected = initial();
    assert_eq!(expected.len(), 17);
    assert_eq!(expected[0], 0x80);
    assert_eq!(read_all(&mut card, 1024), expected);
    assert_eq!(read_all(&mut card, 5), expected);
    // Reading at the very end gives nothing, past it is an error.
    let r = card.ctap(LB, Some(get_req(17, 10))).ok();
    assert_eq!(as_bytes(get(&r, 1).unwrap()), Vec::<u8>::new());
    refused(&mut card, get_req(18, 10), INVALID_PARAMETER);
}

#[test]
fn fragmented_round_trip_without_pin_persists() {
    let mut card = Card::new(3, Config::default(), false);
    let array = sample(1500, 0x5a);
    assert!(array.len() > 1500);
    let writes = card.storage().1;
    assert_eq!(write_all(&mut card, &array, 400, None), OK);
    // One write, with the last fragment.
    assert_eq!(card.storage().1, writes + 1);
    assert_eq!(read_all(&mut card, 700), array);
    card.restart();
    assert_eq!(read_all(&mut card, MAX_FRAGMENT), array);
    // A second write replaces it; the maximum size fits.
    let big = sample(4096 - 40, 0x11);
    assert!(big.len() <= 4096 && big.len() > 4000);
    assert_eq!(write_all(&mut card, &big, MAX_FRAGMENT, None), OK);
    assert_eq!(read_all(&mut card, 1000), big);
}

#[test]
fn pending_fragments_do_not_touch_the_stored_array() {
    let mut card = Card::new(4, Config::default(), false);
    let array = sample(900, 1);
    let before = card.storage();
    let r = card.ctap(LB, Some(set_req(&array[..300], 0, Some(array.len()), None)));
    assert_eq!(r.status, OK);
    assert_eq!(card.storage(), before);
    assert_eq!(read_all(&mut card, 100), initial());
    // A power cycle abandons the write.
    card.power_cycle();
    refused(
        &mut card,
        set_req(&array[300..600], 300, None, None),
        INVALID_SEQ,
    );
    // Restarting at offset 0 works.
    assert_eq!(write_all(&mut card, &array, 300, None), OK);
    assert_eq!(read_all(&mut card, 4000), array);
}

#[test]
fn integrity_failure_keeps_the_old_array() {
    let mut card = Card::new(5, Config::default(), false);
    let good = sample(600, 7);
    assert_eq!(write_all(&mut card, &good, 250, None), OK);
    let mut bad = sample(800, 8);
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let before = card.storage();
    assert_eq!(write_all(&mut card, &bad, 300, None), INTEGRITY_FAILURE);
    assert_eq!(card.storage(), before);
    assert_eq!(read_all(&mut card, 512), good);
    // The failed write is over: continuing it is out of sequence.
    refused(
        &mut card,
        set_req(&bad[..10], bad.len(), None, None),
        INVALID_SEQ,
    );
    // A hash over a modified body fails too.
    let mut bad = sample(100, 9);
    bad[5] ^= 0x80;
    assert_eq!(write_all(&mut card, &bad, 1000, None), INTEGRITY_FAILURE);
    assert_eq!(read_all(&mut card, 512), good);
}

#[test]
fn parameter_errors_change_nothing() {
    let mut card = Card::new(6, Config::default(), false);
    let array = sample(300, 3);
    assert_eq!(write_all(&mut card, &array, 1000, None), OK);
    let n = |v: usize| int(i64::try_from(v).unwrap());
    // offset missing; neither or both of get and set.
    refused(&mut card, cmap(vec![(int(1), n(10))]), INVALID_PARAMETER);
    refused(&mut card, cmap(vec![(int(3), n(0))]), INVALID_PARAMETER);
    refused(
        &mut card,
        cmap(vec![(int(1), n(10)), (int(2), bytes(&[1])), (int(3), n(0))]),
        INVALID_PARAMETER,
    );
    // get: length not allowed, count up to maxFragmentLength.
    refused(
        &mut card,
        cmap(vec![(int(1), n(10)), (int(3), n(0)), (int(4), n(10))]),
        INVALID_PARAMETER,
    );
    refused(&mut card, get_req(0, MAX_FRAGMENT + 1), INVALID_LENGTH);
    assert_eq!(card.ctap(LB, Some(get_req(0, MAX_FRAGMENT))).status, OK);
    // set at offset 0: length required, at least 17, at most 4096.
    refused(&mut card, set_req(&array, 0, None, None), INVALID_PARAMETER);
    refused(
        &mut card,
        set_req(&array[..16], 0, Some(16), None),
        INVALID_PARAMETER,
    );
    refused(
        &mut card,
        set_req(&array, 0, Some(4097), None),
        LARGE_BLOB_STORAGE_FULL,
    );
    // A fragment longer than announced.
    refused(
        &mut card,
        set_req(&array, 0, Some(array.len() - 1), None),
        INVALID_PARAMETER,
    );
    // Continuation: no length, the expected offset only.
    let r = card.ctap(LB, Some(set_req(&array[..100], 0, Some(array.len()), None)));
    assert_eq!(r.status, OK);
    refused(
        &mut card,
        set_req(&array[100..200], 100, Some(array.len()), None),
        INVALID_PARAMETER,
    );
    refused(
        &mut card,
        set_req(&array[100..200], 101, None, None),
        INVALID_SEQ,
    );
    refused(
        &mut card,
        set_req(&array[100..200], 99, None, None),
        INVALID_SEQ,
    );
    // The stored array is still the first one.
    assert_eq!(read_all(&mut card, 128), array);
}

#[test]
fn continuation_after_errors() {
    // The errors above left the pending write where it was: it completes.
    let mut card = Card::new(7, Config::default(), false);
    let array = sample(300, 4);
    let r = card.ctap(LB, Some(set_req(&array[..100], 0, Some(array.len()), None)));
    assert_eq!(r.status, OK);
    refused(
        &mut card,
        set_req(&array[100..200], 99, None, None),
        INVALID_SEQ,
    );
    refused(
        &mut card,
        set_req(&array[100..], 100, Some(5), None),
        INVALID_PARAMETER,
    );
    let r = card.ctap(LB, Some(set_req(&array[100..], 100, None, None)));
    assert_eq!(r.status, OK);
    assert_eq!(read_all(&mut card, 128), array);
}

#[test]
fn pin_protected_writes_need_an_lbw_token() {
    for protocol in [1u8, 2] {
        let mut card = Card::new(8 + u64::from(protocol), Config::default(), false);
        set_pin(&mut card, protocol, PIN);
        let array = sample(2000, 0x77);
        // Reading needs no token.
        assert_eq!(read_all(&mut card, 64), initial());
        // No pinUvAuthParam.
        refused(
            &mut card,
            set_req(&array[..1000], 0, Some(array.len()), None),
            PUAT_REQUIRED,
        );
        // A token without lbw, a corrupted one, and a MAC over another offset.
        let t = token(
            &mut card,
            protocol,
            PIN,
            PERM_CM | PERM_GA,
            Some("a.example"),
        );
        refused(
            &mut card,
            set_req(&array[..1000], 0, Some(array.len()), Some(&t)),
            PIN_AUTH_INVALID,
        );
        let t = token(&mut card, protocol, PIN, PERM_LBW, None);
        let mut bad = t.clone();
        bad.value[3] ^= 0x40;
        refused(
            &mut card,
            set_req(&array[..1000], 0, Some(array.len()), Some(&bad)),
            PIN_AUTH_INVALID,
        );
        let ok = card.ctap(
            LB,
            Some(set_req(&array[..1000], 0, Some(array.len()), Some(&t))),
        );
        assert_eq!(ok.status, OK);
        let mut wrong_offset = set_req(&array[1000..], 1000, None, Some(&t));
        let C::Map(pairs) = &mut wrong_offset else {
            panic!()
        };
        let forged = set_req(&array[1000..], 0, None, Some(&t));
        let forged_mac = get(&forged, 5).unwrap().clone();
        for (k, v) in pairs.iter_mut() {
            if *k == int(5) {
                *v = forged_mac.clone();
            }
        }
        refused(&mut card, wrong_offset, PIN_AUTH_INVALID);
        // The right MAC completes the write.
        let done = card.ctap(LB, Some(set_req(&array[1000..], 1000, None, Some(&t))));
        assert_eq!(done.status, OK);
        assert_eq!(read_all(&mut card, 900), array);
        card.restart();
        assert_eq!(read_all(&mut card, 900), array);
    }
}

#[test]
fn a_get_assertion_token_keeps_lbw_for_the_write() {
    // The platform's largeBlob write flow: one token with ga | lbw signs the
    // getAssertion that reads largeBlobKey, then the fragments.
    let mut card = Card::new(12, Config::default(), false);
    let rp = "blob.example";
    let cdh = [3u8; 32];
    let C::Map(mut pairs) = mc_request(rp, b"u", &cdh, &[-7], true) else {
        panic!()
    };
    pairs.push((int(6), cmap(vec![(text("largeBlobKey"), C::Bool(true))])));
    let created = card.ctap(MC, Some(cmap(pairs))).ok();
    let key = as_bytes(get(&created, 5).unwrap());
    set_pin(&mut card, 2, PIN);
    let t = token(&mut card, 2, PIN, PERM_GA | PERM_LBW, Some(rp));
    let C::Map(mut pairs) = ga_request(rp, &cdh, &[]) else {
        panic!()
    };
    pairs.push((int(4), cmap(vec![(text("largeBlobKey"), C::Bool(true))])));
    pairs.push((int(6), bytes(&t.param(&cdh))));
    pairs.push((int(7), int(2)));
    let asserted = card.ctap(GA, Some(cmap(pairs))).ok();
    assert_eq!(as_bytes(get(&asserted, 7).unwrap()), key);
    let array = sample(1200, 0x42);
    assert_eq!(write_all(&mut card, &array, 500, Some(&t)), OK);
    assert_eq!(read_all(&mut card, 4096), array);
}

#[test]
fn a_profile_with_large_blobs_needs_room_for_them() {
    assert!(Config::default().validate().is_ok());
    assert!(Config::pocketkey().validate().is_ok());
    let small = Config {
        max_serialized_large_blob_array: 1023,
        ..Config::default()
    };
    assert!(small.validate().is_err());
    let minimal = Config {
        max_serialized_large_blob_array: 1024,
        ..Config::default()
    };
    assert!(minimal.validate().is_ok());
    // Without the option the size is not used.
    let mut off = small.clone();
    off.options.remove("largeBlobs");
    assert!(off.validate().is_ok());
}

#[test]
fn reset_abandons_a_pending_write_and_restores_the_empty_array() {
    let mut card = Card::new(13, Config::default(), false);
    let first = sample(500, 1);
    assert_eq!(write_all(&mut card, &first, 1000, None), OK);
    let second = sample(500, 2);
    let r = card.ctap(
        LB,
        Some(set_req(&second[..200], 0, Some(second.len()), None)),
    );
    assert_eq!(r.status, OK);
    assert_eq!(card.ctap(0x07, None).status, OK);
    assert_eq!(read_all(&mut card, 1000), initial());
    refused(
        &mut card,
        set_req(&second[200..], 200, None, None),
        INVALID_SEQ,
    );
}

#[test]
fn a_failed_commit_keeps_the_old_array_and_the_last_fragment_can_be_resent() {
    let mut card = Card::new(14, Config::default(), false);
    let old = sample(300, 5);
    assert_eq!(write_all(&mut card, &old, 1000, None), OK);
    let new = sample(700, 6);
    let r = card.ctap(LB, Some(set_req(&new[..400], 0, Some(new.len()), None)));
    assert_eq!(r.status, OK);
    card.env().storage.fail_after = Some(0);
    refused(&mut card, set_req(&new[400..], 400, None, None), 0x7F);
    card.env().storage.fail_after = None;
    assert_eq!(read_all(&mut card, 1000), old);
    let r = card.ctap(LB, Some(set_req(&new[400..], 400, None, None)));
    assert_eq!(r.status, OK);
    assert_eq!(read_all(&mut card, 1000), new);
}
