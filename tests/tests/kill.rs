//! The card process killed (SIGKILL) right after each response it sent, or at any moment
//! of a getAssertion, through the real stack (pcscd + vpcd + `tapfido card`), reliability
//! §8.1 items 1, 5 and 6:
//! - the signature counter a client receives from getAssertion strictly increases across
//!   kills and restarts (the counter is durable before the response leaves the card);
//! - after a wrong-PIN attempt whose answer was received, a killed and restarted card
//!   reports fewer PIN retries than before the attempt, never as many or more.
//!
//! The client is independent of the card: CTAP 2.1 §6.1/§6.2 requests with ciborium, the
//! credential's COSE key and the assertion signature checked with p256, PIN/UV auth
//! protocol one (§6.5.6) from the shared platform model (`testkit::pin`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ciborium::Value;
use e2e::apdu::{self, Framing, SW_OK};
use e2e::ctap::{field, get_assertion_request, make_credential_request, sha256};
use e2e::{Card, CardOptions, Conn, FIDO_AID};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::{EncodedPoint, SecretKey};
use testkit::pin::Shared;

const RP: &str = "kill.example";
const CLIENT_PIN: u8 = 0x06;
const PIN_INVALID: u8 = 0x31;
/// Pause between a kill in the middle of an APDU and the restart (see its use).
const VPCD_SETTLE: std::time::Duration = std::time::Duration::from_millis(2000);

fn selected(card: &Card) -> Conn {
    let conn = card.connect();
    conn.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
    conn
}

/// One CTAP command over NFCCTAP_MSG: (status byte, CBOR body if any).
fn ctap(conn: &Conn, request: &[u8]) -> (u8, Option<Value>) {
    let ex = apdu::send(conn, 0x80, 0x10, 0x00, 0x00, request, Framing::default());
    assert_eq!(ex.sw, SW_OK, "NFCCTAP_MSG status word");
    let (&status, body) = ex.data.split_first().expect("a CTAP status byte");
    let body = (!body.is_empty()).then(|| ciborium::from_reader(body).expect("CBOR body"));
    (status, body)
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn as_bytes(v: &Value) -> Vec<u8> {
    v.as_bytes().expect("a byte string").clone()
}

fn request(cmd: u8, map: Vec<(Value, Value)>) -> Vec<u8> {
    let mut out = vec![cmd];
    ciborium::into_writer(&Value::Map(map), &mut out).unwrap();
    out
}

/// makeCredential; returns the credential ID and its P-256 public key (from the COSE_Key
/// in authData: rpIdHash 32 | flags 1 | signCount 4 | aaguid 16 | L 2 | credId L | key).
fn register(conn: &Conn) -> (Vec<u8>, VerifyingKey) {
    let (status, body) = ctap(conn, &make_credential_request(RP, &sha256(b"register")));
    assert_eq!(status, 0, "makeCredential");
    let ad = as_bytes(field(body.as_ref().unwrap(), 2).unwrap());
    assert_eq!(ad[..32], sha256(RP.as_bytes()));
    let len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
    let id = ad[55..55 + len].to_vec();
    let cose: Value = ciborium::from_reader(&ad[55 + len..]).unwrap();
    let x = as_bytes(field(&cose, -2).unwrap());
    let y = as_bytes(field(&cose, -3).unwrap());
    let point =
        EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    (id, VerifyingKey::from_encoded_point(&point).unwrap())
}

/// getAssertion with the credential in the allowList; the verified counter.
fn sign_in(conn: &Conn, id: &[u8], key: &VerifyingKey, n: u32) -> u32 {
    let cdh = sha256(&n.to_be_bytes());
    let (status, body) = ctap(conn, &get_assertion_request(RP, &cdh, id));
    assert_eq!(status, 0, "getAssertion");
    let body = body.unwrap();
    let ad = as_bytes(field(&body, 2).unwrap());
    let sig = Signature::from_der(&as_bytes(field(&body, 3).unwrap())).unwrap();
    key.verify(&[ad.as_slice(), &cdh].concat(), &sig)
        .expect("assertion signature");
    u32::from_be_bytes(ad[33..37].try_into().unwrap())
}

/// PIN/UV auth protocol one with the card's current key agreement key: the platform
/// COSE_Key and the shared keys (CTAP 2.1 §6.5.6, `testkit::pin`).
fn key_agreement(conn: &Conn) -> (Value, Shared) {
    let (status, body) = ctap(
        conn,
        &request(CLIENT_PIN, vec![(int(1), int(1)), (int(2), int(2))]),
    );
    assert_eq!(status, 0, "getKeyAgreement");
    let cose = field(body.as_ref().unwrap(), 1).unwrap().clone();
    let x = as_bytes(field(&cose, -2).unwrap());
    let y = as_bytes(field(&cose, -3).unwrap());
    let secret = SecretKey::from_slice(&[0x42; 32]).unwrap();
    let shared = Shared::agree(1, &secret, &x, &y);
    let platform = Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-25)),
        (int(-1), int(1)),
        (int(-2), Value::Bytes(shared.x.to_vec())),
        (int(-3), Value::Bytes(shared.y.to_vec())),
    ]);
    (platform, shared)
}

fn set_pin(conn: &Conn, pin: &str) {
    let (platform, shared) = key_agreement(conn);
    let mut padded = pin.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = shared.encrypt([0; 16], &padded);
    let param = shared.authenticate(&new_pin_enc);
    let req = request(
        CLIENT_PIN,
        vec![
            (int(1), int(1)),
            (int(2), int(3)),
            (int(3), platform),
            (int(4), Value::Bytes(param)),
            (int(5), Value::Bytes(new_pin_enc)),
        ],
    );
    assert_eq!(ctap(conn, &req).0, 0, "setPIN");
}

/// getPinToken (0x05) with `pin`: the status byte.
fn pin_attempt(conn: &Conn, pin: &str) -> u8 {
    let (platform, shared) = key_agreement(conn);
    let pin_hash_enc = shared.encrypt([0; 16], &sha256(pin.as_bytes())[..16]);
    let req = request(
        CLIENT_PIN,
        vec![
            (int(1), int(1)),
            (int(2), int(5)),
            (int(3), platform),
            (int(6), Value::Bytes(pin_hash_enc)),
        ],
    );
    ctap(conn, &req).0
}

fn pin_retries(conn: &Conn) -> i128 {
    let (status, body) = ctap(
        conn,
        &request(CLIENT_PIN, vec![(int(1), int(1)), (int(2), int(1))]),
    );
    assert_eq!(status, 0, "getPinRetries");
    i128::from(
        field(body.as_ref().unwrap(), 3)
            .unwrap()
            .as_integer()
            .unwrap(),
    )
}

#[test]
fn counter_increases_across_kills_after_each_response() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::default());
    let conn = selected(&card);
    let (id, key) = register(&conn);
    let mut last = sign_in(&conn, &id, &key, 0);
    drop(conn);
    for n in 1..=4 {
        let conn = selected(&card);
        let counter = sign_in(&conn, &id, &key, n);
        assert!(
            counter > last,
            "counter {counter} after {last} (restart {n})"
        );
        last = counter;
        // Killed right after the response was received.
        drop(conn);
        card.restart();
    }
    let conn = selected(&card);
    let counter = sign_in(&conn, &id, &key, 99);
    assert!(counter > last, "counter {counter} after {last}");
}

#[test]
fn a_killed_wrong_pin_attempt_never_gives_a_retry_back() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::default());
    let conn = selected(&card);
    set_pin(&conn, "4826");
    assert_eq!(pin_retries(&conn), 8);
    drop(conn);
    for n in 0..3 {
        let conn = selected(&card);
        let before = pin_retries(&conn);
        assert_eq!(pin_attempt(&conn, "0000"), PIN_INVALID, "attempt {n}");
        drop(conn);
        card.restart();
        let conn = selected(&card);
        let after = pin_retries(&conn);
        assert!(
            after < before,
            "retries {after} after a killed wrong attempt, {before} before"
        );
        assert_eq!(after, before - 1);
    }
    // The right PIN still works and restores the retries.
    let conn = selected(&card);
    assert_eq!(pin_attempt(&conn, "4826"), 0);
    assert_eq!(pin_retries(&conn), 8);
}

/// getAssertion as one short APDU (no chaining, no GET RESPONSE: the answer fits in one
/// frame); the verified counter, or `None` when the card was gone before it answered.
fn sign_in_once(conn: &Conn, id: &[u8], key: &VerifyingKey, n: u32) -> Option<u32> {
    let cdh = sha256(&n.to_be_bytes());
    let request = get_assertion_request(RP, &cdh, id);
    let apdu = apdu::short(0x80, 0x10, 0x00, 0x00, &request, Some(256));
    let resp = conn.try_transmit(&apdu).ok()?;
    let (body, sw) = resp.split_at(resp.len().checked_sub(2)?);
    if sw != [0x90, 0x00] || body.is_empty() {
        return None;
    }
    assert_eq!(body[0], 0, "getAssertion status");
    let body: Value = ciborium::from_reader(&body[1..]).unwrap();
    let ad = as_bytes(field(&body, 2).unwrap());
    let sig = Signature::from_der(&as_bytes(field(&body, 3).unwrap())).unwrap();
    key.verify(&[ad.as_slice(), &cdh].concat(), &sig)
        .expect("assertion signature");
    Some(u32::from_be_bytes(ad[33..37].try_into().unwrap()))
}

/// The kill lands anywhere: while the command is on its way, being processed, or after
/// the answer. Whatever the client received, the next counter is above it.
#[test]
fn counter_increases_across_kills_at_any_point() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::default());
    let conn = selected(&card);
    let (id, key) = register(&conn);
    let mut last = sign_in(&conn, &id, &key, 0);
    drop(conn);
    for n in 1..=3u32 {
        let conn = selected(&card);
        let (thread_id, thread_key) = (id.clone(), key);
        let client = std::thread::spawn(move || sign_in_once(&conn, &thread_id, &thread_key, n));
        // A different moment each round; the property does not depend on it.
        std::thread::sleep(std::time::Duration::from_millis(u64::from(n % 3) * 3));
        card.kill();
        let got = client.join().unwrap();
        // vpcd needs a moment after a card died in the middle of an APDU before it takes
        // the next card on that slot (without it, pcscd does not see the restarted card
        // for 15 s and more); the pause is not part of what is checked.
        std::thread::sleep(VPCD_SETTLE);
        card.restart();
        if let Some(counter) = got {
            assert!(counter > last, "counter {counter} after {last} (round {n})");
            last = counter;
        }
        let conn = selected(&card);
        let counter = sign_in(&conn, &id, &key, 100 + n);
        assert!(
            counter > last,
            "counter {counter} after {last} (round {n}, after restart)"
        );
        last = counter;
    }
}
