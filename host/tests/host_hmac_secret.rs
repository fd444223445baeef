//! hmac-secret (CTAP 2.1 §12.5) on the platform side, against a scripted
//! card whose half is the applet's own PIN/UV auth protocol two: the card
//! checks saltAuth, decrypts the salt, returns HMAC-SHA-256(CredRandom,
//! salt) encrypted, and the host must decrypt exactly that.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use applet::cbor::{self, Value};
use applet::pin::protocol::{KeyAgreementKey, PinUvAuthProtocol};
use applet::pin::CoseEcdhKey;
use hmac::{Hmac, Mac};
use host::{hmac_secret_output, CardSession, GetAssertionRequest, InProcess};
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use vsmartcard::VirtualCard;

const CRED_RANDOM: [u8; 32] = [0x5A; 32];
const RP: &str = "hmac.example.com";

struct HmacCard {
    key: KeyAgreementKey,
    rng: rand_chacha::ChaCha20Rng,
    seen_protocol: Arc<Mutex<Option<u64>>>,
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn cose(k: &CoseEcdhKey) -> Value {
    Value::Map(vec![
        (Value::from(1i64), Value::from(2i64)),
        (Value::from(3i64), Value::from(-25i64)),
        (Value::from(-1i64), Value::from(1i64)),
        (Value::from(-2i64), Value::Bytes(k.x.to_vec())),
        (Value::from(-3i64), Value::Bytes(k.y.to_vec())),
    ])
}

impl HmacCard {
    fn ctap(&mut self, payload: &[u8]) -> Vec<u8> {
        let req = cbor::decode(&payload[1..]).unwrap();
        let m = req.as_map().unwrap();
        let body = match payload[0] {
            0x06 => {
                assert_eq!(m.get(2).unwrap().as_u64().unwrap(), 2, "getKeyAgreement");
                Value::Map(vec![(Value::from(1u8), cose(&self.key.public_key()))])
            }
            0x02 => {
                let input = m
                    .get(4)
                    .unwrap()
                    .as_map()
                    .unwrap()
                    .get_text("hmac-secret")
                    .unwrap()
                    .as_map()
                    .unwrap();
                *self.seen_protocol.lock().unwrap() = Some(input.get(4).unwrap().as_u64().unwrap());
                let pk = input.get(1).unwrap().as_map().unwrap();
                let peer = CoseEcdhKey::from_parts(
                    2,
                    Some(-25),
                    1,
                    pk.get(-2).unwrap().as_bytes().unwrap(),
                    pk.get(-3).unwrap().as_bytes().unwrap(),
                )
                .unwrap();
                let shared = self.key.decapsulate(PinUvAuthProtocol::Two, &peer).unwrap();
                let salt_enc = input.get(2).unwrap().as_bytes().unwrap();
                shared
                    .verify(salt_enc, input.get(3).unwrap().as_bytes().unwrap())
                    .unwrap();
                let salt = shared.decrypt(salt_enc).unwrap();
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&CRED_RANDOM).unwrap();
                mac.update(&salt);
                let out = mac.finalize().into_bytes();
                let enc = shared.encrypt(&mut self.rng, &out).unwrap();
                let mut auth = Sha256::digest(RP.as_bytes()).to_vec();
                auth.push(0x81); // UP | ED
                auth.extend_from_slice(&1u32.to_be_bytes());
                auth.extend(cbor::encode(&Value::Map(vec![(
                    t("hmac-secret"),
                    Value::Bytes(enc),
                )])));
                Value::Map(vec![
                    (
                        Value::from(1u8),
                        Value::Map(vec![
                            (t("id"), Value::Bytes(vec![1; 16])),
                            (t("type"), t("public-key")),
                        ]),
                    ),
                    (Value::from(2u8), Value::Bytes(auth)),
                    (Value::from(3u8), Value::Bytes(vec![0x30, 0x00])),
                ])
            }
            other => panic!("unexpected command {other:#x}"),
        };
        let mut out = vec![0x00];
        out.extend(cbor::encode(&body));
        out
    }
}

impl VirtualCard for HmacCard {
    fn atr(&self) -> Vec<u8> {
        // Extended length advertised: one APDU per command.
        vec![0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0, 0x37]
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, c: &[u8]) -> Vec<u8> {
        let payload = if c[4] == 0 && c.len() > 7 {
            let lc = usize::from(u16::from_be_bytes([c[5], c[6]]));
            &c[7..7 + lc]
        } else {
            &c[5..5 + usize::from(c[4])]
        };
        let mut r = self.ctap(payload);
        r.extend_from_slice(&[0x90, 0x00]);
        r
    }
}

#[test]
fn hmac_secret_output_is_the_cards_hmac_of_the_salt() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(41);
    let key = KeyAgreementKey::generate(&mut rng);
    let seen = Arc::new(Mutex::new(None));
    let card = HmacCard {
        key,
        rng,
        seen_protocol: seen.clone(),
    };
    let mut s = CardSession::new(InProcess::new(card));
    let salt = [0x42u8; 32];
    let req = GetAssertionRequest {
        rp_id: RP.into(),
        client_data_hash: [7; 32],
        allow_list: vec![vec![1; 16]],
        hmac_salts: Some(salt.to_vec()),
        third_party_payment: false,
    };
    let (a, ka) = s.get_assertion(&req, None).unwrap();
    let out = hmac_secret_output(&a, ka.as_ref().unwrap())
        .unwrap()
        .unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&CRED_RANDOM).unwrap();
    mac.update(&salt);
    assert_eq!(out, mac.finalize().into_bytes().to_vec());
    assert_eq!(
        *seen.lock().unwrap(),
        Some(2),
        "pinUvAuthProtocol 2 in the extension input"
    );
}
