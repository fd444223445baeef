//! PIN/UV auth protocols one and two, authenticator side (CTAP 2.1 §6.5.4,
//! §6.5.6, §6.5.7). Pure cryptography: no state beyond the key agreement key.
//!
//! ```text
//!  platform                                   card
//!  getKeyAgreement ─────────────────────────▶ getPublicKey(): COSE_Key aG
//!  bG, ECDH(b, aG) = Z                        decapsulate(bG): ECDH(a, bG) = Z
//!  shared secret = kdf(Z)                     shared secret = kdf(Z)
//!
//!  kdf, protocol one:  SHA-256(Z)                          32 bytes, one key
//!  kdf, protocol two:  HKDF-SHA-256(salt = 32 × 00, Z,
//!                        info "CTAP2 HMAC key", L = 32)    HMAC key
//!                   || HKDF-SHA-256(salt = 32 × 00, Z,
//!                        info "CTAP2 AES key",  L = 32)    AES key
//!
//!  encrypt, one: AES-256-CBC(key, IV = 16 × 00, pt)        no padding
//!  encrypt, two: IV (16 random bytes) || AES-256-CBC(aesKey, IV, pt)
//!  authenticate, one: LEFT(HMAC-SHA-256(key, msg), 16)
//!  authenticate, two: HMAC-SHA-256(hmacKey, msg)           32 bytes
//! ```
//!
//! The key agreement COSE_Key (CTAP 2.1 §6.5.6 getPublicKey):
//!
//! ```text
//!  { 1 (kty): 2 (EC2), 3 (alg): -25 (ECDH-ES+HKDF-256), -1 (crv): 1 (P-256),
//!    -2 (x): bstr 32, -3 (y): bstr 32 }
//! ```
//!
//! Errors are returned as [`ProtocolError`]; the command handlers map them to
//! the CTAP status the failing step calls for (for example a bad peer key is
//! `CTAP1_ERR_INVALID_PARAMETER`, a failed `verify` is
//! `CTAP2_ERR_PIN_AUTH_INVALID`).

use std::fmt;

use aes::Aes256;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::FromEncodedPoint;
use p256::elliptic_curve::zeroize::Zeroize;
use p256::{EncodedPoint, PublicKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::crypto::{EcdhKey, P256_POINT_LEN};
use crate::env::CardRng;

/// AES block length; every PIN protocol ciphertext is a multiple of it.
pub const AES_BLOCK_LEN: usize = 16;

/// HKDF `info` for the HMAC key of protocol two (CTAP 2.1 §6.5.7).
const INFO_HMAC_KEY: &[u8] = b"CTAP2 HMAC key";
/// HKDF `info` for the AES key of protocol two (CTAP 2.1 §6.5.7).
const INFO_AES_KEY: &[u8] = b"CTAP2 AES key";

/// Why a PIN/UV auth protocol operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// `pinUvAuthProtocol` is neither 1 nor 2.
    UnsupportedProtocol,
    /// The peer COSE_Key has a wrong kty, alg or crv, coordinates that are
    /// not 32 bytes, or a point that is not on P-256.
    InvalidPeerKey,
    /// A ciphertext or plaintext whose length the protocol does not allow.
    InvalidLength,
    /// `verify` found a MAC that does not match (or has the wrong length).
    MacMismatch,
}

/// The two PIN/UV auth protocols of CTAP 2.1 §6.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinUvAuthProtocol {
    /// Protocol one (§6.5.6): SHA-256 KDF, zero IV, 16-byte MACs.
    One,
    /// Protocol two (§6.5.7): HKDF, random IV, 32-byte MACs.
    Two,
}

impl PinUvAuthProtocol {
    /// Both protocols, in the order getInfo lists them (preferred first).
    pub const ALL: [PinUvAuthProtocol; 2] = [PinUvAuthProtocol::Two, PinUvAuthProtocol::One];

    /// The protocol for a `pinUvAuthProtocol` wire value.
    pub fn from_wire(value: u64) -> Result<Self, ProtocolError> {
        match value {
            1 => Ok(Self::One),
            2 => Ok(Self::Two),
            _ => Err(ProtocolError::UnsupportedProtocol),
        }
    }

    /// The `pinUvAuthProtocol` wire value.
    pub fn wire(self) -> u8 {
        match self {
            Self::One => 1,
            Self::Two => 2,
        }
    }

    /// Length of `authenticate` output: 16 (one) or 32 (two).
    pub fn mac_len(self) -> usize {
        match self {
            Self::One => 16,
            Self::Two => 32,
        }
    }

    /// `authenticate(key, message)` with a raw key (a pinUvAuthToken).
    ///
    /// Protocol one: `LEFT(HMAC-SHA-256(key, message), 16)`; protocol two:
    /// `HMAC-SHA-256(key, message)`.
    pub fn authenticate(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = hmac_sha256(key, message).to_vec();
        mac.truncate(self.mac_len());
        mac
    }

    /// `verify(key, message, signature)` with a raw key, in constant time.
    /// A signature of the wrong length never matches.
    pub fn verify(self, key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), ProtocolError> {
        let expected = self.authenticate(key, message);
        if signature.len() == expected.len() && bool::from(expected.ct_eq(signature)) {
            Ok(())
        } else {
            Err(ProtocolError::MacMismatch)
        }
    }
}

/// HMAC-SHA-256 over `message`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the
    // fallback keeps the function total without a panic path.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// An EC2 P-256 public key as carried in a COSE_Key for key agreement.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CoseEcdhKey {
    /// Big-endian affine x coordinate.
    pub x: [u8; 32],
    /// Big-endian affine y coordinate.
    pub y: [u8; 32],
}

impl fmt::Debug for CoseEcdhKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoseEcdhKey").finish_non_exhaustive()
    }
}

impl CoseEcdhKey {
    /// COSE key type EC2 (RFC 9053 §7.1), label 1.
    pub const KTY_EC2: i64 = 2;
    /// COSE algorithm ECDH-ES+HKDF-256, label 3. CTAP 2.1 §6.5.6 uses it as
    /// the nominal algorithm of both protocols' key agreement keys.
    pub const ALG_ECDH_ES_HKDF_256: i64 = -25;
    /// COSE algorithm ES256. libfido2 before its issue #154 (2020) sent it
    /// in key agreement keys; it is accepted for compatibility.
    pub const ALG_ES256: i64 = -7;
    /// COSE curve P-256, label -1.
    pub const CRV_P256: i64 = 1;

    /// COSE_Key map labels.
    pub const LABEL_KTY: i64 = 1;
    /// COSE_Key map label of `alg`.
    pub const LABEL_ALG: i64 = 3;
    /// COSE_Key map label of `crv`.
    pub const LABEL_CRV: i64 = -1;
    /// COSE_Key map label of `x`.
    pub const LABEL_X: i64 = -2;
    /// COSE_Key map label of `y`.
    pub const LABEL_Y: i64 = -3;

    /// Checks the fields of a platform key agreement COSE_Key.
    ///
    /// `kty` must be EC2 and `crv` P-256; `alg`, which early platforms
    /// omitted, must be ECDH-ES+HKDF-256 or (legacy) ES256 when present;
    /// both coordinates must be 32 bytes. Whether the point lies on the curve
    /// is checked by [`KeyAgreementKey::decapsulate`].
    pub fn from_parts(
        kty: i64,
        alg: Option<i64>,
        crv: i64,
        x: &[u8],
        y: &[u8],
    ) -> Result<Self, ProtocolError> {
        let alg_ok = matches!(
            alg,
            None | Some(Self::ALG_ECDH_ES_HKDF_256) | Some(Self::ALG_ES256)
        );
        if kty != Self::KTY_EC2 || crv != Self::CRV_P256 || !alg_ok {
            return Err(ProtocolError::InvalidPeerKey);
        }
        let x = <[u8; 32]>::try_from(x).map_err(|_| ProtocolError::InvalidPeerKey)?;
        let y = <[u8; 32]>::try_from(y).map_err(|_| ProtocolError::InvalidPeerKey)?;
        Ok(Self { x, y })
    }

    /// The point, if it lies on P-256 (and is not the identity).
    fn to_public_key(self) -> Result<PublicKey, ProtocolError> {
        let point = EncodedPoint::from_affine_coordinates(&self.x.into(), &self.y.into(), false);
        Option::from(PublicKey::from_encoded_point(&point)).ok_or(ProtocolError::InvalidPeerKey)
    }
}

/// The authenticator's key agreement key pair (one per protocol), generated
/// at power-up and regenerated on demand (`regenerate`, CTAP 2.1 §6.5.4).
pub struct KeyAgreementKey {
    key: EcdhKey,
}

impl fmt::Debug for KeyAgreementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAgreementKey").finish_non_exhaustive()
    }
}

impl KeyAgreementKey {
    /// A fresh random P-256 key pair.
    pub fn generate(rng: &mut dyn CardRng) -> Self {
        Self {
            key: EcdhKey::generate(rng),
        }
    }

    /// A key pair from a known scalar (known-answer tests).
    #[cfg(test)]
    pub(crate) fn from_scalar(bytes: &[u8; 32]) -> Option<Self> {
        EcdhKey::from_bytes(bytes).map(|key| Self { key })
    }

    /// `getPublicKey()`: the public point, to be encoded as the COSE_Key in
    /// the module documentation.
    pub fn public_key(&self) -> CoseEcdhKey {
        let point = self.key.public();
        let mut key = CoseEcdhKey {
            x: [0; 32],
            y: [0; 32],
        };
        key.x.copy_from_slice(&point[1..33]);
        key.y.copy_from_slice(&point[33..]);
        key
    }

    /// `decapsulate(peerCoseKey)`: ECDH with the platform's point, then the
    /// protocol's KDF. A point not on the curve is
    /// [`ProtocolError::InvalidPeerKey`].
    pub fn decapsulate(
        &self,
        protocol: PinUvAuthProtocol,
        peer: &CoseEcdhKey,
    ) -> Result<SharedSecret, ProtocolError> {
        // Refused here first, with the same rules as before (on the curve,
        // not the identity).
        peer.to_public_key()?;
        let mut point = [0u8; P256_POINT_LEN];
        point[0] = 0x04;
        point[1..33].copy_from_slice(&peer.x);
        point[33..].copy_from_slice(&peer.y);
        let z = self
            .key
            .agree(&point)
            .ok_or(ProtocolError::InvalidPeerKey)?;
        SharedSecret::derive(protocol, z.as_slice())
    }
}

/// The shared secret of one key agreement (CTAP 2.1 §6.5.6 / §6.5.7 kdf).
///
/// Protocol one uses one 32-byte key for both HMAC and AES; protocol two
/// splits its 64 bytes into an HMAC key and an AES key.
pub struct SharedSecret {
    protocol: PinUvAuthProtocol,
    hmac_key: [u8; 32],
    aes_key: [u8; 32],
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecret")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.hmac_key.zeroize();
        self.aes_key.zeroize();
    }
}

impl SharedSecret {
    /// `kdf(Z)` of the protocol, Z being the ECDH x coordinate.
    fn derive(protocol: PinUvAuthProtocol, z: &[u8]) -> Result<Self, ProtocolError> {
        match protocol {
            PinUvAuthProtocol::One => {
                let key: [u8; 32] = Sha256::digest(z).into();
                Ok(Self {
                    protocol,
                    hmac_key: key,
                    aes_key: key,
                })
            }
            PinUvAuthProtocol::Two => {
                let hkdf = Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut hmac_key = [0u8; 32];
                let mut aes_key = [0u8; 32];
                hkdf.expand(INFO_HMAC_KEY, &mut hmac_key)
                    .map_err(|_| ProtocolError::InvalidLength)?;
                hkdf.expand(INFO_AES_KEY, &mut aes_key)
                    .map_err(|_| ProtocolError::InvalidLength)?;
                Ok(Self {
                    protocol,
                    hmac_key,
                    aes_key,
                })
            }
        }
    }

    /// A shared secret from known keys (known-answer tests).
    #[cfg(test)]
    pub(crate) fn from_keys(
        protocol: PinUvAuthProtocol,
        hmac_key: [u8; 32],
        aes_key: [u8; 32],
    ) -> Self {
        Self {
            protocol,
            hmac_key,
            aes_key,
        }
    }

    /// The protocol this secret was derived for.
    pub fn protocol(&self) -> PinUvAuthProtocol {
        self.protocol
    }

    /// The derived key bytes as the specification lays them out: 32 bytes
    /// for protocol one, `hmacKey || aesKey` (64 bytes) for protocol two.
    pub fn kdf_output(&self) -> Vec<u8> {
        match self.protocol {
            PinUvAuthProtocol::One => self.hmac_key.to_vec(),
            PinUvAuthProtocol::Two => [self.hmac_key, self.aes_key].concat(),
        }
    }

    /// `encrypt(key, plaintext)`. The plaintext must be a whole number of
    /// AES blocks (the specification never pads).
    pub fn encrypt(
        &self,
        rng: &mut dyn CardRng,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ProtocolError> {
        if !plaintext.len().is_multiple_of(AES_BLOCK_LEN) {
            return Err(ProtocolError::InvalidLength);
        }
        match self.protocol {
            PinUvAuthProtocol::One => {
                aes_cbc_encrypt(&self.aes_key, &[0; AES_BLOCK_LEN], plaintext)
            }
            PinUvAuthProtocol::Two => {
                let mut iv = [0u8; AES_BLOCK_LEN];
                rng.fill_bytes(&mut iv);
                let mut out = iv.to_vec();
                out.extend_from_slice(&aes_cbc_encrypt(&self.aes_key, &iv, plaintext)?);
                Ok(out)
            }
        }
    }

    /// `decrypt(key, ciphertext)`: protocol one expects whole blocks,
    /// protocol two `IV (16) || whole blocks`.
    /// Callers holding secret plaintext (a PIN block) wrap it in
    /// `Zeroizing`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let (iv, body) = match self.protocol {
            PinUvAuthProtocol::One => ([0u8; AES_BLOCK_LEN], ciphertext),
            PinUvAuthProtocol::Two => {
                if ciphertext.len() < AES_BLOCK_LEN {
                    return Err(ProtocolError::InvalidLength);
                }
                let (iv, body) = ciphertext.split_at(AES_BLOCK_LEN);
                let iv = <[u8; AES_BLOCK_LEN]>::try_from(iv)
                    .map_err(|_| ProtocolError::InvalidLength)?;
                (iv, body)
            }
        };
        if body.len() % AES_BLOCK_LEN != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        aes_cbc_decrypt(&self.aes_key, &iv, body)
    }

    /// `authenticate(sharedSecret, message)` with the HMAC key.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        self.protocol.authenticate(&self.hmac_key, message)
    }

    /// `verify(sharedSecret, message, signature)`, in constant time.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), ProtocolError> {
        self.protocol.verify(&self.hmac_key, message, signature)
    }
}

/// AES-256-CBC without padding over whole blocks.
fn aes_cbc_encrypt(
    key: &[u8; 32],
    iv: &[u8; AES_BLOCK_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>, ProtocolError> {
    if !plaintext.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(ProtocolError::InvalidLength);
    }
    let cipher = cbc::Encryptor::<Aes256>::new(key.into(), iv.into());
    Ok(cipher.encrypt_padded_vec_mut::<NoPadding>(plaintext))
}

/// AES-256-CBC decryption without padding over whole blocks.
fn aes_cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; AES_BLOCK_LEN],
    ciphertext: &[u8],
) -> Result<Vec<u8>, ProtocolError> {
    if !ciphertext.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(ProtocolError::InvalidLength);
    }
    let cipher = cbc::Decryptor::<Aes256>::new(key.into(), iv.into());
    cipher
        .decrypt_padded_vec_mut::<NoPadding>(ciphertext)
        .map_err(|_| ProtocolError::InvalidLength)
}
