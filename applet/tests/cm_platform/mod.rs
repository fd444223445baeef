//! The platform side of PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6,
//! §6.5.7) for integration tests, written from the specification with
//! `p256`, `hmac`, `sha2` and the raw AES block cipher only: its own ECDH,
//! HKDF and CBC, no applet code. Used with the `client` module's `Card`.
#![allow(dead_code)]

pub mod cred;

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use ciborium::Value as C;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, ProjectivePoint, PublicKey, SecretKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use crate::client::{as_bytes, bytes, cmap, get, int, text, Card};

/// authenticatorClientPIN.
pub const CLIENT_PIN: u8 = 0x06;

/// Permission bits (CTAP 2.1 §6.5.5.7).
pub const MC: u8 = 0x01;
pub const GA: u8 = 0x02;
pub const CM: u8 = 0x04;
pub const LBW: u8 = 0x10;
pub const ACFG: u8 = 0x20;

pub fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// HKDF-SHA-256 with a 32-byte output (RFC 5869: one T block).
fn hkdf32(salt: &[u8], ikm: &[u8], info: &[u8]) -> Vec<u8> {
    let prk = hmac256(salt, ikm);
    let mut t = info.to_vec();
    t.push(1);
    hmac256(&prk, &t)
}

fn cbc(key: &[u8], iv: &[u8], data: &[u8], encrypt: bool) -> Vec<u8> {
    let aes = Aes256::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::new();
    for chunk in data.chunks(16) {
        let block: [u8; 16] = chunk.try_into().unwrap();
        if encrypt {
            let mut b = [0u8; 16];
            for i in 0..16 {
                b[i] = block[i] ^ prev[i];
            }
            let mut g = b.into();
            aes.encrypt_block(&mut g);
            prev = g.into();
            out.extend_from_slice(&prev);
        } else {
            let mut g = block.into();
            aes.decrypt_block(&mut g);
            let plain: [u8; 16] = g.into();
            for i in 0..16 {
                out.push(plain[i] ^ prev[i]);
            }
            prev = block;
        }
    }
    out
}

/// A shared secret with the card for one protocol.
pub struct Session {
    pub protocol: u8,
    /// The platform's key agreement key as a COSE_Key.
    pub cose: C,
    /// Protocol one: SHA-256(Z); two: HMAC key || AES key.
    key: Vec<u8>,
    seed: u64,
}

impl Session {
    /// getKeyAgreement, then ECDH with a seeded platform key.
    pub fn open(card: &mut Card, protocol: u8, seed: u64) -> Self {
        let resp = card
            .ctap(
                CLIENT_PIN,
                Some(cmap(vec![
                    (int(1), int(i64::from(protocol))),
                    (int(2), int(2)),
                ])),
            )
            .ok();
        let ka = get(&resp, 1).unwrap();
        let x: [u8; 32] = as_bytes(get(ka, -2).unwrap()).try_into().unwrap();
        let y: [u8; 32] = as_bytes(get(ka, -3).unwrap()).try_into().unwrap();
        let card_key = PublicKey::from_encoded_point(&EncodedPoint::from_affine_coordinates(
            &x.into(),
            &y.into(),
            false,
        ))
        .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let secret = SecretKey::random(&mut rng);
        let shared = (ProjectivePoint::from(*card_key.as_affine()) * *secret.to_nonzero_scalar())
            .to_affine();
        let z = shared.x().to_vec();
        let key = if protocol == 1 {
            Sha256::digest(&z).to_vec()
        } else {
            let mut k = hkdf32(&[0; 32], &z, b"CTAP2 HMAC key");
            k.extend(hkdf32(&[0; 32], &z, b"CTAP2 AES key"));
            k
        };
        let own = secret.public_key().to_encoded_point(false);
        let cose = cmap(vec![
            (int(1), int(2)),
            (int(3), int(-25)),
            (int(-1), int(1)),
            (int(-2), bytes(own.x().unwrap())),
            (int(-3), bytes(own.y().unwrap())),
        ]);
        Session {
            protocol,
            cose,
            key,
            seed,
        }
    }

    fn aes_key(&self) -> &[u8] {
        if self.protocol == 1 {
            &self.key
        } else {
            &self.key[32..]
        }
    }

    pub fn encrypt(&self, data: &[u8]) -> Vec<u8> {
        if self.protocol == 1 {
            cbc(self.aes_key(), &[0; 16], data, true)
        } else {
            let iv: [u8; 16] = Sha256::digest(self.seed.to_be_bytes())[..16]
                .try_into()
                .unwrap();
            let mut out = iv.to_vec();
            out.extend(cbc(self.aes_key(), &iv, data, true));
            out
        }
    }

    pub fn decrypt(&self, data: &[u8]) -> Vec<u8> {
        if self.protocol == 1 {
            cbc(self.aes_key(), &[0; 16], data, false)
        } else {
            cbc(self.aes_key(), &data[..16], &data[16..], false)
        }
    }

    pub fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        authenticate(self.protocol, &self.key[..32], msg)
    }
}

/// authenticate(key, message): HMAC-SHA-256, first 16 bytes for protocol one.
pub fn authenticate(protocol: u8, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = hmac256(key, msg);
    if protocol == 1 {
        mac.truncate(16);
    }
    mac
}

/// setPIN (0x03).
pub fn set_pin(card: &mut Card, protocol: u8, pin: &str) {
    let s = Session::open(card, protocol, 1);
    let mut padded = pin.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = s.encrypt(&padded);
    let param = s.authenticate(&new_pin_enc);
    card.ctap(
        CLIENT_PIN,
        Some(cmap(vec![
            (int(1), int(i64::from(protocol))),
            (int(2), int(3)),
            (int(3), s.cose.clone()),
            (int(4), bytes(&param)),
            (int(5), bytes(&new_pin_enc)),
        ])),
    )
    .ok();
}

/// A pinUvAuthToken as the platform holds it.
#[derive(Clone, Debug)]
pub struct Token {
    pub protocol: u8,
    pub value: Vec<u8>,
}

impl Token {
    /// pinUvAuthParam over `msg`.
    pub fn param(&self, msg: &[u8]) -> Vec<u8> {
        authenticate(self.protocol, &self.value, msg)
    }
}

/// getPinUvAuthTokenUsingPinWithPermissions (0x09).
pub fn token(
    card: &mut Card,
    protocol: u8,
    pin: &str,
    permissions: u8,
    rp_id: Option<&str>,
) -> Token {
    let s = Session::open(card, protocol, 2);
    let hash = &Sha256::digest(pin.as_bytes())[..16];
    let pin_hash_enc = s.encrypt(hash);
    let mut m = vec![
        (int(1), int(i64::from(protocol))),
        (int(2), int(9)),
        (int(3), s.cose.clone()),
        (int(6), bytes(&pin_hash_enc)),
        (int(9), int(i64::from(permissions))),
    ];
    if let Some(rp) = rp_id {
        m.push((int(0x0A), text(rp)));
    }
    let resp = card.ctap(CLIENT_PIN, Some(cmap(m))).ok();
    let value = s.decrypt(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(value.len(), 32);
    Token { protocol, value }
}
