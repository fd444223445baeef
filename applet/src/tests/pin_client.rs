//! An independent platform-side model of PIN/UV auth protocols one and two
//! (CTAP 2.1 §6.5.6, §6.5.7): its own ECDH (scalar multiplication), its own
//! HKDF built from HMAC (RFC 5869 §2.2/§2.3) and its own CBC built from the
//! raw AES block cipher. It shares no code with `crate::pin`.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, ProjectivePoint, PublicKey, SecretKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};

pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// HKDF-SHA-256 with L = 32 (one block): PRK = HMAC(salt, IKM),
/// OKM = T(1) = HMAC(PRK, info || 0x01).
pub(crate) fn hkdf32(salt: &[u8], ikm: &[u8], info: &[u8]) -> Vec<u8> {
    let prk = hmac(salt, ikm);
    let mut t = info.to_vec();
    t.push(1);
    hmac(&prk, &t)
}

/// The platform's kdf (§6.5.6 / §6.5.7).
pub(crate) fn platform_kdf(protocol: PinUvAuthProtocol, z: &[u8]) -> Vec<u8> {
    match protocol {
        PinUvAuthProtocol::One => Sha256::digest(z).to_vec(),
        PinUvAuthProtocol::Two => {
            let mut k = hkdf32(&[0; 32], z, b"CTAP2 HMAC key");
            k.extend(hkdf32(&[0; 32], z, b"CTAP2 AES key"));
            k
        }
    }
}

pub(crate) fn cbc_encrypt(key: &[u8], iv: &[u8], pt: &[u8]) -> Vec<u8> {
    let aes = Aes256::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::new();
    for chunk in pt.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = block.into();
        aes.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    out
}

pub(crate) fn cbc_decrypt(key: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
    let aes = Aes256::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::new();
    for chunk in ct.chunks(16) {
        let mut b = <[u8; 16]>::try_from(chunk).unwrap().into();
        aes.decrypt_block(&mut b);
        let plain: [u8; 16] = b.into();
        for i in 0..16 {
            out.push(plain[i] ^ prev[i]);
        }
        prev = chunk.try_into().unwrap();
    }
    out
}

/// The platform side of one key agreement.
pub(crate) struct Platform {
    pub(crate) protocol: PinUvAuthProtocol,
    pub(crate) public: CoseEcdhKey,
    /// kdf output: 32 bytes (one) or hmacKey || aesKey (two).
    pub(crate) key: Vec<u8>,
}

impl Platform {
    pub(crate) fn encapsulate(protocol: PinUvAuthProtocol, card: &CoseEcdhKey, seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let b = SecretKey::random(&mut rng);
        let card_point = PublicKey::from_encoded_point(&EncodedPoint::from_affine_coordinates(
            &card.x.into(),
            &card.y.into(),
            false,
        ))
        .unwrap();
        let shared =
            (ProjectivePoint::from(*card_point.as_affine()) * *b.to_nonzero_scalar()).to_affine();
        let z = shared.x().to_vec();
        let own = b.public_key().to_encoded_point(false);
        Self {
            protocol,
            public: CoseEcdhKey {
                x: own.x().unwrap().as_slice().try_into().unwrap(),
                y: own.y().unwrap().as_slice().try_into().unwrap(),
            },
            key: platform_kdf(protocol, &z),
        }
    }

    pub(crate) fn hmac_key(&self) -> &[u8] {
        &self.key[..32]
    }

    pub(crate) fn aes_key(&self) -> &[u8] {
        match self.protocol {
            PinUvAuthProtocol::One => &self.key[..32],
            PinUvAuthProtocol::Two => &self.key[32..],
        }
    }

    pub(crate) fn encrypt(&self, iv: [u8; 16], pt: &[u8]) -> Vec<u8> {
        match self.protocol {
            PinUvAuthProtocol::One => cbc_encrypt(self.aes_key(), &[0; 16], pt),
            PinUvAuthProtocol::Two => {
                let mut out = iv.to_vec();
                out.extend(cbc_encrypt(self.aes_key(), &iv, pt));
                out
            }
        }
    }

    pub(crate) fn decrypt(&self, ct: &[u8]) -> Vec<u8> {
        match self.protocol {
            PinUvAuthProtocol::One => cbc_decrypt(self.aes_key(), &[0; 16], ct),
            PinUvAuthProtocol::Two => cbc_decrypt(self.aes_key(), &ct[..16], &ct[16..]),
        }
    }

    pub(crate) fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        let mut mac = hmac(self.hmac_key(), msg);
        if self.protocol == PinUvAuthProtocol::One {
            mac.truncate(16);
        }
        mac
    }
}
