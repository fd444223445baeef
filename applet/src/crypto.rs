//! The card's public-key operations in one place: P-256 ECDSA (credential
//! and attestation signatures, key generation), P-256 ECDH (PIN/UV auth key
//! agreement) and Ed25519, on AWS-LC through `aws-lc-rs` (constant-time,
//! assembly-optimized; the choice and its build cost are in the README's
//! crate table and BENCHMARKS.md). Certificates issued when an attestation
//! CA or batch key is created keep the `p256` crate.
//!
//! Keys come from the injected RNG ([`crate::env::Env::rng`]): a key
//! generated from the same bytes is the same key, so the seeded test
//! environment stays deterministic. The bytes are drawn as `p256` draws
//! them (32 bytes, big-endian, again until `0 < d < n`), so keys match
//! those of earlier builds. ECDSA signatures use AWS-LC's own nonces:
//! they are valid but not reproducible (RFC 6979 is not used).
//!
//! ```text
//!  EcdsaKey::sign      DER Ecdsa-Sig-Value over SHA-256(message)  (RFC 3279 §2.2.3)
//!  EcdsaKey::public    04 || x || y                               (SEC 1 §2.3.3)
//!  EcdhKey::agree      Z = x coordinate of d·P, 32 bytes          (SP 800-56A, CTAP 2.1 §6.5.6)
//!  Ed25519Key::sign    64-byte signature                          (RFC 8032 §5.1.6)
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_lc_rs::agreement;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, KeyPair as _};
use p256::elliptic_curve::zeroize::Zeroizing;
use subtle::ConstantTimeEq;

use crate::env::CardRng;

/// Length of an uncompressed P-256 point, `04 || x || y`.
pub const P256_POINT_LEN: usize = 65;

/// The P-256 group order n, big-endian (SEC 2 §2.4.2).
const P256_ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// `0 < d < n`, in constant time over the bytes.
fn valid_p256_scalar(d: &[u8; 32]) -> bool {
    // Big-endian d < n: the first differing byte decides.
    let mut less = 0u8;
    let mut equal = 1u8;
    let mut nonzero = 0u8;
    for (&a, &b) in d.iter().zip(P256_ORDER.iter()) {
        let lt = u8::from(a < b);
        let eq = u8::from(a == b);
        less |= equal & lt;
        equal &= eq;
        nonzero |= a;
    }
    less == 1 && nonzero != 0
}

/// A P-256 scalar from the RNG, drawn as `p256::NonZeroScalar::random` does.
fn random_p256_scalar(rng: &mut dyn CardRng) -> Zeroizing<[u8; 32]> {
    let mut d = Zeroizing::new([0u8; 32]);
    loop {
        rng.fill_bytes(d.as_mut());
        if valid_p256_scalar(&d) {
            return d;
        }
    }
}

/// A P-256 key of either kind from the RNG: scalars are drawn until one
/// loads (a scalar in range always does; the loop only guards the library).
fn generate_p256<K>(rng: &mut dyn CardRng, load: impl Fn(&[u8; 32]) -> Option<K>) -> K {
    loop {
        let d = random_p256_scalar(rng);
        if let Some(key) = load(&d) {
            return key;
        }
    }
}

/// RFC 5915 `ECPrivateKey` for a P-256 scalar, without the public key:
/// `SEQUENCE { INTEGER 1, OCTET STRING d, [0] OID prime256v1 }`.
fn rfc5915(d: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    const PREFIX: [u8; 7] = [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    const CURVE: [u8; 12] = [
        0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07,
    ];
    let mut der = Zeroizing::new(Vec::with_capacity(PREFIX.len() + 32 + CURVE.len()));
    der.extend_from_slice(&PREFIX);
    der.extend_from_slice(d);
    der.extend_from_slice(&CURVE);
    der
}

/// An ECDSA P-256 / SHA-256 signing key.
#[derive(Clone)]
pub struct EcdsaKey {
    pair: Arc<lc::EcdsaKeyPair>,
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for EcdsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EcdsaKey(..)")
    }
}

impl EcdsaKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut dyn CardRng) -> Self {
        generate_p256(rng, Self::from_bytes)
    }

    /// The key with secret scalar `d` (big-endian); `None` unless `0 < d < n`.
    pub fn from_bytes(d: &[u8; 32]) -> Option<Self> {
        if !valid_p256_scalar(d) {
            return None;
        }
        let pair = lc::EcdsaKeyPair::from_private_key_der(
            &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rfc5915(d),
        )
        .ok()?;
        Some(Self {
            pair: Arc::new(pair),
            secret: Zeroizing::new(*d),
        })
    }

    /// The secret scalar, big-endian.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.secret
    }

    /// The public point, `04 || x || y`.
    pub fn public(&self) -> [u8; P256_POINT_LEN] {
        let mut out = [0u8; P256_POINT_LEN];
        let point = self.pair.public_key().as_ref();
        if point.len() == P256_POINT_LEN {
            out.copy_from_slice(point);
        }
        out
    }

    /// ECDSA over SHA-256(`message`), DER-encoded; `None` only if AWS-LC
    /// reports an internal failure.
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .ok()
            .map(|s| s.as_ref().to_vec())
    }
}

/// Recently used ECDSA keys, by secret scalar.
///
/// Loading a key into AWS-LC computes its public key (a base-point
/// multiplication, about the cost of the signature itself) that signing
/// does not need; a card holding the keys it used last pays only for the
/// signature when the same credential signs in again. Bounded to
/// [`KeyCache::CAPACITY`] keys, whose secrets are zeroized when they are
/// evicted or the cache is dropped (with the credential-ID key it belongs to,
/// so authenticatorReset drops it).
#[derive(Clone, Default)]
pub struct KeyCache(Arc<Mutex<Vec<EcdsaKey>>>);

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCache(..)")
    }
}

impl KeyCache {
    /// Keys kept at most.
    pub const CAPACITY: usize = 16;

    /// The key with secret scalar `d`, from the cache or loaded (and then
    /// kept, evicting the least recently used); `None` unless `0 < d < n`.
    pub fn get_or_load(&self, d: &[u8; 32]) -> Option<EcdsaKey> {
        if let Ok(mut recent) = self.0.lock() {
            if let Some(i) = recent
                .iter()
                .position(|k| bool::from(k.secret.as_slice().ct_eq(d.as_slice())))
            {
                let key = recent.remove(i);
                recent.push(key.clone());
                return Some(key);
            }
        }
        let key = EcdsaKey::from_bytes(d)?;
        if let Ok(mut recent) = self.0.lock() {
            if recent.len() >= Self::CAPACITY {
                recent.remove(0);
            }
            recent.push(key.clone());
        }
        Some(key)
    }
}

/// A P-256 key agreement key, reusable for many agreements (the card's
/// PIN/UV auth key lives for a power cycle).
pub struct EcdhKey {
    key: agreement::PrivateKey,
    public: [u8; P256_POINT_LEN],
}

impl fmt::Debug for EcdhKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EcdhKey(..)")
    }
}

impl EcdhKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut dyn CardRng) -> Self {
        generate_p256(rng, Self::from_bytes)
    }

    /// The key with secret scalar `d` (big-endian); `None` unless `0 < d < n`.
    pub fn from_bytes(d: &[u8; 32]) -> Option<Self> {
        if !valid_p256_scalar(d) {
            return None;
        }
        let key = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, d).ok()?;
        let point = key.compute_public_key().ok()?;
        let public = point.as_ref().try_into().ok()?;
        Some(Self { key, public })
    }

    /// The public point, `04 || x || y`.
    pub fn public(&self) -> &[u8; P256_POINT_LEN] {
        &self.public
    }

    /// ECDH with the peer's uncompressed point: the x coordinate of the
    /// shared point. `None` for a point that is not on the curve.
    pub fn agree(&self, peer: &[u8; P256_POINT_LEN]) -> Option<Zeroizing<[u8; 32]>> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer);
        agreement::agree(&self.key, peer, (), |z| {
            let mut out = Zeroizing::new([0u8; 32]);
            if z.len() != out.len() {
                return Err(());
            }
            out.copy_from_slice(z);
            Ok(out)
        })
        .ok()
    }
}

/// An Ed25519 signing key.
#[derive(Clone)]
pub struct Ed25519Key {
    pair: Arc<lc::Ed25519KeyPair>,
    seed: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Key(..)")
    }
}

impl Ed25519Key {
    /// A fresh key: 32 seed bytes from `rng` (AWS-LC accepts every seed;
    /// the loop only guards against an internal failure).
    pub fn generate(rng: &mut dyn CardRng) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(seed.as_mut());
            if let Some(key) = Self::from_bytes(&seed) {
                return key;
            }
        }
    }

    /// The key of a 32-byte seed (RFC 8032 §5.1.5: every seed is a key).
    pub fn from_bytes(seed: &[u8; 32]) -> Option<Self> {
        let pair = lc::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
        Some(Self {
            pair: Arc::new(pair),
            seed: Zeroizing::new(*seed),
        })
    }

    /// The seed.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.seed
    }

    /// The 32-byte public key.
    pub fn public(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let key = self.pair.public_key().as_ref();
        if key.len() == out.len() {
            out.copy_from_slice(key);
        }
        out
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        let sig = self.pair.sign(message);
        if sig.as_ref().len() == out.len() {
            out.copy_from_slice(sig.as_ref());
        }
        out
    }
}
