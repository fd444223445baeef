//! An independent platform-side model of PIN/UV auth protocols one and two
//! (CTAP 2.1 §6.5.6, §6.5.7): its own ECDH (scalar multiplication) over the
//! test kit's KDF, CBC and HMAC (`testkit::pin`, written from the
//! specification). It shares no code with `crate::pin`.

use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, ProjectivePoint, PublicKey, SecretKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use testkit::pin::Shared;

use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};

pub(crate) use testkit::pin::{cbc_decrypt, cbc_encrypt, hkdf32, hmac};

/// The platform's kdf (§6.5.6 / §6.5.7): 32 bytes (one) or
/// hmacKey || aesKey (two), from the shared model in `testkit::pin`.
pub(crate) fn platform_kdf(protocol: PinUvAuthProtocol, z: &[u8]) -> Vec<u8> {
    let shared = Shared::from_secret(number(protocol), z, [0; 32], [0; 32]);
    match protocol {
        PinUvAuthProtocol::One => shared.aes_key,
        PinUvAuthProtocol::Two => [shared.hmac_key, shared.aes_key].concat(),
    }
}

fn number(protocol: PinUvAuthProtocol) -> u8 {
    match protocol {
        PinUvAuthProtocol::One => 1,
        PinUvAuthProtocol::Two => 2,
    }
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
