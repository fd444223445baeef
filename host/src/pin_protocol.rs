//! The platform side of PIN/UV auth protocol two (CTAP 2.1 §6.5.7).
//!
//! ```text
//!  platform key pair (P-256) ── ECDH with the card's keyAgreement ──▶ Z (x coordinate)
//!  HMAC key = HKDF-SHA-256(salt = 32×00, IKM = Z, info = "CTAP2 HMAC key", L = 32)
//!  AES key  = HKDF-SHA-256(salt = 32×00, IKM = Z, info = "CTAP2 AES key",  L = 32)
//!  encrypt(pt)  = IV(16 random) || AES-256-CBC(AES key, IV, pt)      (no padding)
//!  authenticate(key, msg) = HMAC-SHA-256(key, msg)                   (all 32 bytes)
//!  platform COSE_Key = { 1: 2, 3: -25, -1: 1, -2: x, -3: y }
//! ```
//! Secrets are never logged; `Debug` output hides them.

use aes::Aes256;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey, SecretKey};
use sha2::Sha256;

use super::session::HostRng;
use super::HostError;
use applet::cbor::Value;

/// The protocol number on the wire.
pub const PROTOCOL_TWO: u64 = 2;

/// The two keys derived from one key agreement, wiped when dropped.
#[derive(zeroize::ZeroizeOnDrop)]
pub struct SharedSecret {
    hmac_key: [u8; 32],
    aes_key: [u8; 32],
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecret").finish_non_exhaustive()
    }
}

/// One key agreement: the platform's public COSE_Key (sent to the card as
/// `keyAgreement`) and the shared secret.
#[derive(Debug)]
pub struct KeyAgreement {
    /// The platform public key, COSE_Key form.
    pub platform_key: Value,
    /// The derived keys.
    pub shared: SharedSecret,
}

fn int(i: i64) -> Value {
    if i >= 0 {
        Value::Unsigned(i.unsigned_abs())
    } else {
        Value::Negative(i.unsigned_abs() - 1)
    }
}

fn cose_get(map: &[(Value, Value)], label: i64) -> Option<&Value> {
    let key = int(label);
    map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Run ECDH against the card's key agreement COSE_Key and derive the keys.
pub fn key_agreement(card_key: &Value, rng: &mut dyn HostRng) -> Result<KeyAgreement, HostError> {
    let Value::Map(map) = card_key else {
        return Err(HostError::Malformed("keyAgreement is not a COSE_Key map"));
    };
    let coord = |label| match cose_get(map, label) {
        Some(Value::Bytes(b)) if b.len() == 32 => Ok(b.clone()),
        _ => Err(HostError::Malformed("keyAgreement coordinate")),
    };
    let (x, y) = (coord(-2)?, coord(-3)?);
    if cose_get(map, 1) != Some(&int(2)) || cose_get(map, -1) != Some(&int(1)) {
        return Err(HostError::Malformed("keyAgreement is not an EC2 P-256 key"));
    }
    let point =
        EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    let card_pub = Option::<PublicKey>::from(PublicKey::from_encoded_point(&point))
        .ok_or(HostError::Protocol("card key is not on P-256"))?;
    let secret = SecretKey::random(&mut &mut *rng);
    let z = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), card_pub.as_affine());
    let hkdf = Hkdf::<Sha256>::new(Some(&[0u8; 32]), z.raw_secret_bytes().as_slice());
    let mut hmac_key = [0u8; 32];
    let mut aes_key = [0u8; 32];
    hkdf.expand(b"CTAP2 HMAC key", &mut hmac_key)
        .map_err(|_| HostError::Protocol("HKDF"))?;
    hkdf.expand(b"CTAP2 AES key", &mut aes_key)
        .map_err(|_| HostError::Protocol("HKDF"))?;
    let own = secret.public_key().to_encoded_point(false);
    let (Some(ox), Some(oy)) = (own.x(), own.y()) else {
        return Err(HostError::Protocol("platform key encoding"));
    };
    let platform_key = Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-25)),
        (int(-1), int(1)),
        (int(-2), Value::Bytes(ox.to_vec())),
        (int(-3), Value::Bytes(oy.to_vec())),
    ]);
    Ok(KeyAgreement {
        platform_key,
        shared: SharedSecret { hmac_key, aes_key },
    })
}

impl SharedSecret {
    /// `encrypt(key, demPlaintext)`: a random IV then AES-256-CBC; the
    /// plaintext must be a multiple of 16 bytes.
    pub fn encrypt(&self, plaintext: &[u8], rng: &mut dyn HostRng) -> Result<Vec<u8>, HostError> {
        if !plaintext.len().is_multiple_of(16) {
            return Err(HostError::Protocol(
                "plaintext is not a multiple of 16 bytes",
            ));
        }
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut iv);
        let enc = cbc::Encryptor::<Aes256>::new(&self.aes_key.into(), &iv.into());
        let mut out = iv.to_vec();
        out.extend_from_slice(&enc.encrypt_padded_vec_mut::<NoPadding>(plaintext));
        Ok(out)
    }

    /// `decrypt(key, IV || ct)`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        if ciphertext.len() < 16 || !ciphertext.len().is_multiple_of(16) {
            return Err(HostError::Protocol("ciphertext length"));
        }
        let (iv, ct) = ciphertext.split_at(16);
        let iv: [u8; 16] = iv.try_into().map_err(|_| HostError::Protocol("IV"))?;
        cbc::Decryptor::<Aes256>::new(&self.aes_key.into(), &iv.into())
            .decrypt_padded_vec_mut::<NoPadding>(ct)
            .map_err(|_| HostError::Protocol("AES-CBC"))
    }

    /// `authenticate(HMAC key, message)`.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        authenticate(&self.hmac_key, message)
    }
}

/// HMAC-SHA-256 with the whole 32-byte output (protocol two).
pub fn authenticate(key: &[u8], message: &[u8]) -> Vec<u8> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this arm is never taken.
        Err(_) => Vec::new(),
    }
}
