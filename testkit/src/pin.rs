//! The platform side of PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6,
//! §6.5.7), written from the specification and shared by every suite that
//! plays the platform: ECDH with `p256`, HKDF built from HMAC-SHA-256
//! (RFC 5869), AES-256-CBC built from the raw AES block cipher. Nothing here
//! uses the applet's own PIN, key or CBOR code.
//!
//! ```text
//!  protocol one: key = SHA-256(Z); encrypt = AES-256-CBC(key, IV = 0);
//!                authenticate = LEFT(HMAC-SHA-256(key, m), 16)
//!  protocol two: HMAC key = HKDF(salt 32×00, Z, "CTAP2 HMAC key"),
//!                AES key  = HKDF(salt 32×00, Z, "CTAP2 AES key");
//!                encrypt = IV || AES-256-CBC(AES key, IV, m);
//!                authenticate = HMAC-SHA-256(HMAC key, m)
//! ```

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey, SecretKey};
use sha2::{Digest, Sha256};

/// HMAC-SHA-256.
pub fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// HKDF-SHA-256 with L = 32 (one block): PRK = HMAC(salt, IKM),
/// OKM = T(1) = HMAC(PRK, info || 0x01).
pub fn hkdf32(salt: &[u8], ikm: &[u8], info: &[u8]) -> Vec<u8> {
    let prk = hmac(salt, ikm);
    let mut t = info.to_vec();
    t.push(1);
    hmac(&prk, &t)
}

/// AES-256-CBC over whole blocks, no padding.
pub fn cbc_encrypt(key: &[u8], iv: &[u8], pt: &[u8]) -> Vec<u8> {
    assert_eq!(pt.len() % 16, 0, "whole blocks");
    let aes = Aes256::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::with_capacity(pt.len());
    for chunk in pt.chunks(16) {
        let mut block = [0u8; 16];
        for (b, (p, c)) in block.iter_mut().zip(chunk.iter().zip(prev)) {
            *b = p ^ c;
        }
        let mut g = block.into();
        aes.encrypt_block(&mut g);
        prev = g.into();
        out.extend_from_slice(&prev);
    }
    out
}

/// AES-256-CBC decryption over whole blocks, no padding.
pub fn cbc_decrypt(key: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
    assert_eq!(ct.len() % 16, 0, "whole blocks");
    let aes = Aes256::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::with_capacity(ct.len());
    for chunk in ct.chunks(16) {
        let mut g = <[u8; 16]>::try_from(chunk).unwrap().into();
        aes.decrypt_block(&mut g);
        let plain: [u8; 16] = g.into();
        out.extend(plain.iter().zip(prev).map(|(p, c)| p ^ c));
        prev = chunk.try_into().unwrap();
    }
    out
}

/// authenticate(key, message) of a protocol: HMAC-SHA-256, the first 16
/// bytes for protocol one.
pub fn authenticate(protocol: u8, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = hmac(key, msg);
    if protocol == 1 {
        mac.truncate(16);
    }
    mac
}

/// The platform side of one key agreement: its public key (sent as
/// keyAgreement) and the keys the protocol derives from the shared secret.
#[derive(Clone, Debug)]
pub struct Shared {
    /// 1 or 2.
    pub protocol: u8,
    /// The platform public key's x coordinate.
    pub x: [u8; 32],
    /// The platform public key's y coordinate.
    pub y: [u8; 32],
    /// Key of `authenticate`.
    pub hmac_key: Vec<u8>,
    /// Key of `encrypt` / `decrypt`.
    pub aes_key: Vec<u8>,
}

impl Shared {
    /// ECDH of `secret` with the card's key agreement point (x, y), then the
    /// protocol's KDF.
    pub fn agree(protocol: u8, secret: &SecretKey, card_x: &[u8], card_y: &[u8]) -> Self {
        let point = EncodedPoint::from_affine_coordinates(card_x.into(), card_y.into(), false);
        let card = PublicKey::from_encoded_point(&point).unwrap();
        let z = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), card.as_affine());
        let own = secret.public_key().to_encoded_point(false);
        Self::from_secret(
            protocol,
            z.raw_secret_bytes(),
            own.x().unwrap().as_slice().try_into().unwrap(),
            own.y().unwrap().as_slice().try_into().unwrap(),
        )
    }

    /// The protocol's KDF over a shared secret Z computed elsewhere.
    pub fn from_secret(protocol: u8, z: &[u8], x: [u8; 32], y: [u8; 32]) -> Self {
        let (hmac_key, aes_key) = match protocol {
            1 => {
                let k = Sha256::digest(z).to_vec();
                (k.clone(), k)
            }
            2 => (
                hkdf32(&[0; 32], z, b"CTAP2 HMAC key"),
                hkdf32(&[0; 32], z, b"CTAP2 AES key"),
            ),
            _ => panic!("PIN/UV auth protocol {protocol}"),
        };
        Self {
            protocol,
            x,
            y,
            hmac_key,
            aes_key,
        }
    }

    /// `encrypt`: protocol one ignores `iv` (it is all zero); protocol two
    /// sends `iv || ciphertext`.
    pub fn encrypt(&self, iv: [u8; 16], pt: &[u8]) -> Vec<u8> {
        match self.protocol {
            1 => cbc_encrypt(&self.aes_key, &[0; 16], pt),
            _ => {
                let mut out = iv.to_vec();
                out.extend(cbc_encrypt(&self.aes_key, &iv, pt));
                out
            }
        }
    }

    /// `decrypt`, the inverse of [`Shared::encrypt`].
    pub fn decrypt(&self, ct: &[u8]) -> Vec<u8> {
        match self.protocol {
            1 => cbc_decrypt(&self.aes_key, &[0; 16], ct),
            _ => cbc_decrypt(&self.aes_key, &ct[..16], &ct[16..]),
        }
    }

    /// `authenticate` with the HMAC key.
    pub fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        authenticate(self.protocol, &self.hmac_key, msg)
    }
}
