//! The card process killed (SIGKILL) and started again keeps its state: a U2F key handle
//! registered before still signs after, and the signature counter keeps increasing.
//! U2F raw message formats: FIDO U2F Raw Message Formats §4.3 (register response) and
//! §5.4 (authentication response); signatures checked here with p256, independently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::apdu::{self, Framing, SW_OK};
use e2e::{Card, CardOptions, Conn, FIDO_AID};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

const APP: [u8; 32] = [0xA5; 32];

/// Length of the DER element at the start of `der` (tag, length, value).
fn der_len(der: &[u8]) -> usize {
    let first = usize::from(der[1]);
    if first < 0x80 {
        2 + first
    } else {
        let n = first & 0x7F;
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        2 + n + len
    }
}

struct Registration {
    public_key: Vec<u8>,
    key_handle: Vec<u8>,
}

fn selected(card: &Card) -> Conn {
    let conn = card.connect();
    conn.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
    conn
}

fn register(conn: &Conn) -> Registration {
    let challenge = [0x11u8; 32];
    let data = [challenge.as_slice(), &APP].concat();
    let ex = apdu::send(conn, 0x00, 0x01, 0x00, 0x00, &data, Framing::default());
    assert_eq!(ex.sw, SW_OK, "U2F REGISTER");
    let r = ex.data;
    assert_eq!(r[0], 0x05, "reserved byte");
    let public_key = r[1..66].to_vec();
    let kh_len = usize::from(r[66]);
    let key_handle = r[67..67 + kh_len].to_vec();
    let cert_start = 67 + kh_len;
    let cert_len = der_len(&r[cert_start..]);
    let cert = &r[cert_start..cert_start + cert_len];
    let sig = &r[cert_start + cert_len..];
    assert_eq!(
        der_len(sig),
        sig.len(),
        "signature is the rest of the response"
    );
    assert_eq!(cert[0], 0x30, "attestation certificate is a DER SEQUENCE");
    Registration {
        public_key,
        key_handle,
    }
}

/// AUTHENTICATE with P1 = 03 (enforce presence); returns the verified counter.
fn authenticate(conn: &Conn, reg: &Registration) -> u32 {
    let challenge = [0x22u8; 32];
    let kh_len = u8::try_from(reg.key_handle.len()).unwrap();
    let data = [challenge.as_slice(), &APP, &[kh_len], &reg.key_handle].concat();
    let ex = apdu::send(conn, 0x00, 0x02, 0x03, 0x00, &data, Framing::default());
    assert_eq!(ex.sw, SW_OK, "U2F AUTHENTICATE");
    let r = ex.data;
    assert_eq!(r[0] & 0x01, 0x01, "user presence");
    let counter = u32::from_be_bytes(r[1..5].try_into().unwrap());
    let signed = [APP.as_slice(), &r[0..5], &challenge].concat();
    let key = VerifyingKey::from_sec1_bytes(&reg.public_key).unwrap();
    let sig = Signature::from_der(&r[5..]).unwrap();
    key.verify(&signed, &sig)
        .expect("U2F authentication signature");
    counter
}

fn check_only(conn: &Conn, reg: &Registration) -> Vec<u8> {
    let kh_len = u8::try_from(reg.key_handle.len()).unwrap();
    let data = [[0x33u8; 32].as_slice(), &APP, &[kh_len], &reg.key_handle].concat();
    conn.transmit(&apdu::short(0x00, 0x02, 0x07, 0x00, &data, Some(256)))
}

#[test]
fn state_survives_a_killed_card_process() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::profile("pocketkey"));
    let conn = selected(&card);
    let reg = register(&conn);
    let before = authenticate(&conn, &reg);
    // A valid key handle answers check-only with 69 85 (U2F NFC: test of user presence
    // required), an altered one with 6A 80.
    assert_eq!(check_only(&conn, &reg), [0x69, 0x85]);
    let mut forged = Registration {
        public_key: reg.public_key.clone(),
        key_handle: reg.key_handle.clone(),
    };
    let last = forged.key_handle.len() - 1;
    forged.key_handle[last] ^= 0x01;
    assert_eq!(check_only(&conn, &forged), [0x6A, 0x80]);
    drop(conn);

    card.restart();

    let conn = selected(&card);
    assert_eq!(
        check_only(&conn, &reg),
        [0x69, 0x85],
        "key handle lost with the process"
    );
    let after = authenticate(&conn, &reg);
    assert!(
        after > before,
        "counter {after} after restart, {before} before"
    );
    // The state file exists next to the card's logs.
    assert!(
        card.state_path().exists(),
        "no state at {}",
        card.state_path().display()
    );
}

/// The state file's inode: every store renames a new file over it.
fn state_inode(card: &Card) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(card.state_path()).unwrap().ino()
}

#[test]
fn the_first_sign_ins_after_a_start_do_not_wait_for_the_state_file() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::profile("pocketkey"));
    let conn = selected(&card);
    let reg = register(&conn);
    let stored = state_inode(&card);
    let mut last = 0;
    for _ in 0..3 {
        let counter = authenticate(&conn, &reg);
        assert!(counter > last, "counter {counter} after {last}");
        last = counter;
    }
    assert_eq!(state_inode(&card), stored, "a sign-in stored the state");
    drop(conn);

    // A restarted card reserves its counters when it starts, not on the first tap.
    card.restart();
    let conn = selected(&card);
    let stored = state_inode(&card);
    let after = authenticate(&conn, &reg);
    assert!(after > last, "counter {after} after restart, {last} before");
    assert_eq!(
        state_inode(&card),
        stored,
        "the first sign-in after a restart stored the state"
    );
}
