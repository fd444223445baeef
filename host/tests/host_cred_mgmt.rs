//! Credential management (CTAP 2.1 §6.8) and getPinUvAuthTokenUsingPinWithPermissions
//! (§6.5.5.7) against a scripted card whose protocol-two half is the
//! applet's: the card checks pinHashEnc and every pinUvAuthParam
//! (HMAC(token, subCommand || CBOR(params))) before answering.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use applet::cbor::{self, Value};
use applet::pin::protocol::{KeyAgreementKey, PinUvAuthProtocol, SharedSecret};
use applet::pin::CoseEcdhKey;
use hmac::{Hmac, Mac};
use host::{CardSession, CtapStatus, InProcess};
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use vsmartcard::VirtualCard;

const TOKEN: [u8; 32] = [0x77; 32];
const PIN: &str = "1234";

type Log = Arc<Mutex<Vec<(u8, u64)>>>;
type Deleted = Arc<Mutex<Vec<Vec<u8>>>>;

struct CmCard {
    key: KeyAgreementKey,
    rng: rand_chacha::ChaCha20Rng,
    log: Log,
    deleted: Deleted,
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn peer(m: &applet::cbor::Map<'_>) -> CoseEcdhKey {
    let k = m.get(3).unwrap().as_map().unwrap();
    CoseEcdhKey::from_parts(
        2,
        Some(-25),
        1,
        k.get(-2).unwrap().as_bytes().unwrap(),
        k.get(-3).unwrap().as_bytes().unwrap(),
    )
    .unwrap()
}

fn check_param(m: &applet::cbor::Map<'_>, sub: u64) {
    let mut msg = vec![u8::try_from(sub).unwrap()];
    if let Some(p) = m.get(2) {
        msg.extend(cbor::encode(p));
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&TOKEN).unwrap();
    mac.update(&msg);
    assert_eq!(m.get(3).unwrap().as_u64().unwrap(), 2);
    assert_eq!(
        m.get(4).unwrap().as_bytes().unwrap(),
        mac.finalize().into_bytes().as_slice(),
        "pinUvAuthParam for {sub}"
    );
}

fn user(name: &str) -> Value {
    Value::Map(vec![
        (t("id"), Value::Bytes(name.as_bytes().to_vec())),
        (t("name"), t(name)),
    ])
}

fn cred(id: u8) -> Value {
    Value::Map(vec![
        (t("id"), Value::Bytes(vec![id; 16])),
        (t("type"), t("public-key")),
    ])
}

impl CmCard {
    fn shared(&self, m: &applet::cbor::Map<'_>) -> SharedSecret {
        self.key
            .decapsulate(PinUvAuthProtocol::Two, &peer(m))
            .unwrap()
    }

    fn ctap(&mut self, payload: &[u8]) -> Result<Value, u8> {
        let req = cbor::decode(&payload[1..]).unwrap();
        let m = req.as_map().unwrap();
        let sub = m
            .get(if payload[0] == 0x06 { 2 } else { 1 })
            .unwrap()
            .as_u64()
            .unwrap();
        self.log.lock().unwrap().push((payload[0], sub));
        match (payload[0], sub) {
            (0x06, 2) => Ok(Value::Map(vec![(
                Value::from(1u8),
                Value::Map(vec![
                    (Value::from(1i64), Value::from(2i64)),
                    (Value::from(3i64), Value::from(-25i64)),
                    (Value::from(-1i64), Value::from(1i64)),
                    (
                        Value::from(-2i64),
                        Value::Bytes(self.key.public_key().x.to_vec()),
                    ),
                    (
                        Value::from(-3i64),
                        Value::Bytes(self.key.public_key().y.to_vec()),
                    ),
                ]),
            )])),
            (0x06, 9) => {
                let shared = self.shared(&m);
                let hash = shared
                    .decrypt(m.get(6).unwrap().as_bytes().unwrap())
                    .unwrap();
                if hash != Sha256::digest(PIN.as_bytes())[..16] {
                    return Err(0x31);
                }
                assert_eq!(m.get(9).unwrap().as_u64().unwrap(), 0x04, "permission cm");
                let enc = shared.encrypt(&mut self.rng, &TOKEN).unwrap();
                Ok(Value::Map(vec![(Value::from(2u8), Value::Bytes(enc))]))
            }
            (0x0A, 1) => {
                check_param(&m, 1);
                Ok(Value::Map(vec![
                    (Value::from(1u8), Value::from(2u8)),
                    (Value::from(2u8), Value::from(98u8)),
                ]))
            }
            (0x0A, 2) => {
                check_param(&m, 2);
                Ok(Value::Map(vec![
                    (
                        Value::from(3u8),
                        Value::Map(vec![(t("id"), t("a.example"))]),
                    ),
                    (
                        Value::from(4u8),
                        Value::Bytes(Sha256::digest(b"a.example").to_vec()),
                    ),
                    (Value::from(5u8), Value::from(1u8)),
                ]))
            }
            (0x0A, 4) => {
                check_param(&m, 4);
                let params = m.get(2).unwrap().as_map().unwrap();
                assert_eq!(
                    params.get(1).unwrap().as_bytes().unwrap(),
                    Sha256::digest(b"a.example").as_slice()
                );
                Ok(Value::Map(vec![
                    (Value::from(6u8), user("alice")),
                    (Value::from(7u8), cred(1)),
                    (Value::from(9u8), Value::from(2u8)),
                ]))
            }
            (0x0A, 5) => Ok(Value::Map(vec![
                (Value::from(6u8), user("bob")),
                (Value::from(7u8), cred(2)),
            ])),
            (0x0A, 6) => {
                check_param(&m, 6);
                let id = m
                    .get(2)
                    .unwrap()
                    .as_map()
                    .unwrap()
                    .get(2)
                    .unwrap()
                    .as_map()
                    .unwrap()
                    .get_text("id")
                    .unwrap();
                self.deleted
                    .lock()
                    .unwrap()
                    .push(id.as_bytes().unwrap().to_vec());
                Ok(Value::Map(vec![]))
            }
            _ => Err(0x3E),
        }
    }
}

impl VirtualCard for CmCard {
    fn atr(&self) -> Vec<u8> {
        vec![0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0, 0x37]
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, c: &[u8]) -> Vec<u8> {
        // Extended APDUs (the ATR advertises them): 80 10 00 00 00 Lc(2) data 00 00.
        assert_eq!(c[4], 0x00, "extended length expected");
        let lc = usize::from(u16::from_be_bytes([c[5], c[6]]));
        let payload = &c[7..7 + lc];
        let mut r = match self.ctap(payload) {
            Ok(Value::Map(m)) if m.is_empty() => vec![0x00],
            Ok(v) => {
                let mut out = vec![0x00];
                out.extend(cbor::encode(&v));
                out
            }
            Err(code) => vec![code],
        };
        r.extend_from_slice(&[0x90, 0x00]);
        r
    }
}

fn card() -> (CmCard, Log, Deleted) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(51);
    let key = KeyAgreementKey::generate(&mut rng);
    let log = Arc::new(Mutex::new(Vec::new()));
    let deleted = Arc::new(Mutex::new(Vec::new()));
    (
        CmCard {
            key,
            rng,
            log: log.clone(),
            deleted: deleted.clone(),
        },
        log,
        deleted,
    )
}

#[test]
fn list_and_delete() {
    let (c, log, deleted) = card();
    let mut s = CardSession::new(InProcess::new(c));
    let token = s.pin_token(PIN, 0x04, None, true).unwrap();
    let list = s.list_credentials(&token).unwrap();
    assert_eq!((list.existing, list.remaining), (2, 98));
    let names: Vec<_> = list
        .credentials
        .iter()
        .map(|c| (c.rp_id.as_str(), c.user.name.clone().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("a.example", "alice".to_owned()),
            ("a.example", "bob".to_owned())
        ]
    );
    assert_eq!(list.credentials[1].credential_id, vec![2u8; 16]);
    s.delete_credential(&token, &[1u8; 16]).unwrap();
    assert_eq!(*deleted.lock().unwrap(), vec![vec![1u8; 16]]);
    let subs: Vec<u64> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| *c == 0x0A)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(subs, [1, 2, 4, 5, 6]);
}

#[test]
fn wrong_pin_is_named() {
    let (c, _, _) = card();
    let mut s = CardSession::new(InProcess::new(c));
    assert_eq!(
        s.pin_token("9999", 0x04, None, true).unwrap_err().ctap(),
        Some(CtapStatus::PinInvalid)
    );
}
