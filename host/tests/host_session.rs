//! The host client against a scripted card: exact APDU bytes for SELECT,
//! command chaining, extended length and GET RESPONSE paging (ISO/IEC
//! 7816-4 §5.1, §7.6; CTAP 2.1 §11.3), named errors, and PIN/UV auth
//! protocol two checked by the applet's own card-side implementation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use applet::cbor::{self, Value};
use applet::env::{Env, TestEnv};
use applet::pin::protocol::{KeyAgreementKey, PinUvAuthProtocol};
use applet::pin::CoseEcdhKey;
use host::atr::parse_atr;
use host::{CardSession, CtapStatus, FidoVersion, HostError, InProcess, LengthMode, StatusWord};
use rand_core::SeedableRng;
use vsmartcard::VirtualCard;

type Responder = Box<dyn FnMut(&[u8]) -> Vec<u8> + Send>;
type Log = Arc<Mutex<Vec<Vec<u8>>>>;

/// A card that answers with a closure and records every command.
struct Scripted {
    atr: Vec<u8>,
    log: Arc<Mutex<Vec<Vec<u8>>>>,
    respond: Responder,
}

impl VirtualCard for Scripted {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.log.lock().unwrap().push(command.to_vec());
        (self.respond)(command)
    }
}

/// ACS PocketKey NFC ATR (pcsc-tools smart card list).
const ACS_ATR: &str = "3b89800141435320414644303238";

fn acs_atr() -> Vec<u8> {
    hex::decode(ACS_ATR).unwrap()
}

/// A contactless ATR whose compact-TLV card capabilities (tag 7, third byte
/// 0xC0) announce chaining and extended Lc/Le: 3B 8n 80 01 80 73 00 00 C0 TCK.
fn extended_atr() -> Vec<u8> {
    let mut atr = vec![0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0];
    let tck = atr[1..].iter().fold(0u8, |a, b| a ^ b);
    atr.push(tck);
    atr
}

fn session(atr: Vec<u8>, respond: Responder) -> (CardSession<InProcess<Scripted>>, Log) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let card = Scripted {
        atr,
        log: log.clone(),
        respond,
    };
    let s = CardSession::new(InProcess::new(card))
        .with_rng(Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(7)));
    (s, log)
}

fn ok(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&[0x90, 0x00]);
    v
}

#[test]
fn atr_capabilities() {
    let acs = parse_atr(&acs_atr());
    assert_eq!(acs.historical_text.as_deref(), Some("ACS AFD02"));
    assert!(!acs.extended_length && !acs.chaining);
    let ext = parse_atr(&extended_atr());
    assert!(ext.extended_length && ext.chaining);
}

#[test]
fn select_sends_the_fido_aid_and_reads_the_version() {
    let (mut s, log) = session(acs_atr(), Box::new(|_| ok(b"U2F_V2")));
    assert_eq!(s.select().unwrap(), FidoVersion::U2fV2);
    assert_eq!(
        log.lock().unwrap()[0],
        hex::decode("00a4040008a0000006472f000100").unwrap()
    );

    let (mut s, _) = session(acs_atr(), Box::new(|_| ok(b"FIDO_2_0")));
    assert_eq!(s.select().unwrap(), FidoVersion::Fido20);

    let (mut s, _) = session(acs_atr(), Box::new(|_| ok(b"U2F_V3")));
    assert!(matches!(s.select().unwrap_err(), HostError::UnexpectedVersion(v) if v == "U2F_V3"));

    let (mut s, _) = session(acs_atr(), Box::new(|_| vec![0x6A, 0x82]));
    let err = s.select().unwrap_err();
    assert_eq!(err.status_word(), Some(StatusWord::NotFound));
    assert_eq!(
        err.to_string(),
        "card returned 6A82 file or application not found"
    );
}

#[test]
fn long_requests_are_chained_in_240_byte_blocks() {
    let (mut s, log) = session(
        acs_atr(),
        Box::new(|c: &[u8]| {
            if c[0] & 0x10 != 0 {
                vec![0x90, 0x00]
            } else {
                ok(&[0x00])
            }
        }),
    );
    assert_eq!(s.length_mode(), LengthMode::Chained(240));
    let payload: Vec<u8> = (0..600u32).map(|i| (i % 251).to_le_bytes()[0]).collect();
    let (status, body) = s.ctap_raw(&payload).unwrap();
    assert_eq!(status, CtapStatus::Ok);
    assert!(body.is_empty());
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0][..5], [0x90, 0x10, 0x00, 0x00, 0xF0]);
    assert_eq!(log[0].len(), 5 + 240, "intermediate blocks carry no Le");
    assert_eq!(log[1][..5], [0x90, 0x10, 0x00, 0x00, 0xF0]);
    assert_eq!(log[2][..5], [0x80, 0x10, 0x00, 0x00, 0x78]);
    assert_eq!(*log[2].last().unwrap(), 0x00, "the last block carries Le");
    assert_eq!(log[2].len(), 5 + 120 + 1);
    let sent: Vec<u8> = log
        .iter()
        .flat_map(|a| a[5..5 + usize::from(a[4])].to_vec())
        .collect();
    assert_eq!(sent, payload);
}

#[test]
fn python_fido2_block_size() {
    let (mut s, log) = session(
        acs_atr(),
        Box::new(|c: &[u8]| {
            if c[0] & 0x10 != 0 {
                vec![0x90, 0x00]
            } else {
                ok(&[0x00])
            }
        }),
    );
    s.set_length_mode(LengthMode::Chained(250));
    s.ctap_raw(&[0xAB; 300]).unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log[0][4], 250);
    assert_eq!(log[1][..5], [0x80, 0x10, 0x00, 0x00, 50]);
}

#[test]
fn extended_length_when_the_atr_says_so() {
    let (mut s, log) = session(extended_atr(), Box::new(|_| ok(&[0x00])));
    assert_eq!(s.length_mode(), LengthMode::Extended);
    s.ctap_raw(&[0x11; 600]).unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0][..7], [0x80, 0x10, 0x00, 0x00, 0x00, 0x02, 0x58]);
    assert_eq!(log[0][log[0].len() - 2..], [0x00, 0x00]);
    assert_eq!(log[0].len(), 7 + 600 + 2);
}

#[test]
fn short_requests_stay_short_and_get_response_pages() {
    let full: Vec<u8> = (0..300u32).map(|i| (i % 256).to_le_bytes()[0]).collect();
    let first = full.clone();
    let mut calls = 0;
    let (mut s, log) = session(
        acs_atr(),
        Box::new(move |c: &[u8]| {
            calls += 1;
            match calls {
                1 => {
                    assert_eq!(c[..4], [0x80, 0x10, 0x00, 0x00]);
                    let mut r = first[..256].to_vec();
                    r.extend_from_slice(&[0x61, 0x2C]);
                    r
                }
                _ => ok(&first[256..]),
            }
        }),
    );
    let (status, body) = s.ctap_raw(&[0x04]).unwrap();
    assert_eq!(status, CtapStatus::from_code(full[0]));
    assert_eq!(body, full[1..]);
    let log = log.lock().unwrap();
    assert_eq!(log[0], [0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00]);
    assert_eq!(log[1], [0x80, 0xC0, 0x00, 0x00, 0x2C]);
    assert_eq!(s.apdu_count(), 2);
}

#[test]
fn ctap_errors_are_named() {
    let (mut s, _) = session(acs_atr(), Box::new(|_| ok(&[0x31])));
    let err = s.pin_retries().unwrap_err();
    assert_eq!(err.ctap(), Some(CtapStatus::PinInvalid));
    assert_eq!(err.to_string(), "CTAP error 0x31 CTAP2_ERR_PIN_INVALID");
    assert_eq!(
        CtapStatus::from_code(0x99).to_string(),
        "0x99 (unlisted CTAP status)"
    );
}

#[test]
fn non_canonical_cbor_is_refused() {
    // {2: 0, 1: 0}: keys out of canonical order.
    let (mut s, _) = session(
        acs_atr(),
        Box::new(|_| ok(&[0x00, 0xA2, 0x02, 0x00, 0x01, 0x00])),
    );
    assert!(matches!(s.get_info().unwrap_err(), HostError::Cbor(_)));
}

#[test]
fn chain_abort_reports_the_status_word() {
    let (mut s, _) = session(acs_atr(), Box::new(|_| vec![0x68, 0x84]));
    let err = s.ctap_raw(&[0u8; 400]).unwrap_err();
    assert_eq!(err.status_word(), Some(StatusWord::ChainingNotSupported));
}

fn cose_of(key: &CoseEcdhKey) -> Value {
    Value::Map(vec![
        (Value::from(1i64), Value::from(2i64)),
        (Value::from(3i64), Value::from(-25i64)),
        (Value::from(-1i64), Value::from(1i64)),
        (Value::from(-2i64), Value::Bytes(key.x.to_vec())),
        (Value::from(-3i64), Value::Bytes(key.y.to_vec())),
    ])
}

fn platform_key(req: &Value) -> CoseEcdhKey {
    let m = req.as_map().unwrap();
    let k = m.get(3).unwrap().as_map().unwrap();
    CoseEcdhKey::from_parts(
        k.get(1).unwrap().as_i64().unwrap(),
        Some(k.get(3).unwrap().as_i64().unwrap()),
        k.get(-1).unwrap().as_i64().unwrap(),
        k.get(-2).unwrap().as_bytes().unwrap(),
        k.get(-3).unwrap().as_bytes().unwrap(),
    )
    .unwrap()
}

/// setPIN and changePIN, decrypted and checked by the applet's card-side
/// protocol two (an implementation independent of the host's).
#[test]
fn pin_protocol_two_against_the_card_side_implementation() {
    let mut env = TestEnv::seeded(3);
    let card_key = Arc::new(KeyAgreementKey::generate(env.rng()));
    let requests = Arc::new(Mutex::new(Vec::<Value>::new()));
    let (k, r) = (card_key.clone(), requests.clone());
    let (mut s, _) = session(
        acs_atr(),
        Box::new(move |c: &[u8]| {
            assert_eq!(c[..4], [0x80, 0x10, 0x00, 0x00]);
            let payload = &c[5..5 + usize::from(c[4])];
            assert_eq!(payload[0], 0x06);
            let req = cbor::decode(&payload[1..]).unwrap();
            let sub = req.as_map().unwrap().get(2).unwrap().as_u64().unwrap();
            r.lock().unwrap().push(req);
            if sub == 2 {
                let mut out = vec![0x00];
                out.extend(cbor::encode(&Value::Map(vec![(
                    Value::from(1u8),
                    cose_of(&k.public_key()),
                )])));
                ok(&out)
            } else {
                ok(&[0x00])
            }
        }),
    );
    s.set_pin("1234").unwrap();
    s.change_pin("1234", "87654321").unwrap();
    let reqs = requests.lock().unwrap();
    assert_eq!(
        reqs.len(),
        4,
        "getKeyAgreement + setPIN, getKeyAgreement + changePIN"
    );

    let set = reqs[1].as_map().unwrap();
    assert_eq!(set.get(1).unwrap().as_u64().unwrap(), 2, "protocol two");
    assert_eq!(set.get(2).unwrap().as_u64().unwrap(), 3, "setPIN");
    let shared = card_key
        .decapsulate(PinUvAuthProtocol::Two, &platform_key(&reqs[1]))
        .unwrap();
    let new_pin_enc = set.get(5).unwrap().as_bytes().unwrap();
    shared
        .verify(new_pin_enc, set.get(4).unwrap().as_bytes().unwrap())
        .unwrap();
    let mut want = b"1234".to_vec();
    want.resize(64, 0);
    assert_eq!(shared.decrypt(new_pin_enc).unwrap(), want);

    let change = reqs[3].as_map().unwrap();
    assert_eq!(change.get(2).unwrap().as_u64().unwrap(), 4, "changePIN");
    let shared = card_key
        .decapsulate(PinUvAuthProtocol::Two, &platform_key(&reqs[3]))
        .unwrap();
    let new_enc = change.get(5).unwrap().as_bytes().unwrap();
    let hash_enc = change.get(6).unwrap().as_bytes().unwrap();
    let mut msg = new_enc.to_vec();
    msg.extend_from_slice(hash_enc);
    shared
        .verify(&msg, change.get(4).unwrap().as_bytes().unwrap())
        .unwrap();
    let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"1234").into();
    assert_eq!(shared.decrypt(hash_enc).unwrap(), hash[..16]);
    let mut want = b"87654321".to_vec();
    want.resize(64, 0);
    assert_eq!(shared.decrypt(new_enc).unwrap(), want);
}

#[test]
fn pin_length_is_checked_before_sending() {
    let (mut s, log) = session(acs_atr(), Box::new(|_| ok(&[0x00])));
    assert!(matches!(
        s.set_pin("123").unwrap_err(),
        HostError::PinLength
    ));
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn extended_mode_asks_for_the_whole_response_at_once() {
    let (mut s, log) = session(extended_atr(), Box::new(|_| ok(&[0x00])));
    s.ctap_raw(&[0x04]).unwrap();
    // Case 4E: 00, Lc = 00 01, data 04, Le = 00 00 (65 536).
    assert_eq!(
        log.lock().unwrap()[0],
        [0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00]
    );
}
