//! Credential key pairs, their COSE public keys and signatures.
//!
//! ```text
//! ES256 COSE_Key (RFC 9053 §7.1.1, CTAP 2.1 §6.5.6):
//!   { 1 (kty): 2 (EC2), 3 (alg): -7, -1 (crv): 1 (P-256), -2 (x): bstr 32, -3 (y): bstr 32 }
//! EdDSA COSE_Key (RFC 9053 §7.2):
//!   { 1 (kty): 1 (OKP), 3 (alg): -8, -1 (crv): 6 (Ed25519), -2 (x): bstr 32 }
//! ```
//! ES256 signatures are ASN.1 DER `Ecdsa-Sig-Value` over SHA-256 of the
//! message (WebAuthn §6.5.5); EdDSA signatures are the raw 64 bytes.

use std::fmt;

use crate::cbor::Value;
use crate::crypto::{EcdsaKey, Ed25519Key};
use crate::env::CardRng;

/// COSE algorithm identifier for ECDSA P-256 with SHA-256 (RFC 9053).
pub const ES256: i64 = -7;
/// COSE algorithm identifier for EdDSA (Ed25519) (RFC 9053).
pub const EDDSA: i64 = -8;

/// A supported signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256, COSE -7.
    Es256,
    /// Ed25519, COSE -8.
    EdDsa,
}

impl Algorithm {
    /// The COSE algorithm identifier.
    pub fn cose(self) -> i64 {
        match self {
            Algorithm::Es256 => ES256,
            Algorithm::EdDsa => EDDSA,
        }
    }

    /// The algorithm for a COSE identifier, if supported at all.
    pub fn from_cose(alg: i64) -> Option<Self> {
        match alg {
            ES256 => Some(Algorithm::Es256),
            EDDSA => Some(Algorithm::EdDsa),
            _ => None,
        }
    }

    /// One-byte tag used inside credential IDs and the state file.
    pub fn tag(self) -> u8 {
        match self {
            Algorithm::Es256 => 1,
            Algorithm::EdDsa => 2,
        }
    }

    /// Inverse of [`Algorithm::tag`].
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Algorithm::Es256),
            2 => Some(Algorithm::EdDsa),
            _ => None,
        }
    }
}

/// A credential private key.
#[derive(Clone)]
pub enum PrivateKey {
    /// P-256 signing key.
    Es256(EcdsaKey),
    /// Ed25519 signing key.
    EdDsa(Ed25519Key),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, ..)", self.algorithm())
    }
}

impl PrivateKey {
    /// A fresh key pair from `rng` (the same bytes give the same key).
    pub fn generate(alg: Algorithm, rng: &mut dyn CardRng) -> Self {
        match alg {
            Algorithm::Es256 => PrivateKey::Es256(EcdsaKey::generate(rng)),
            Algorithm::EdDsa => PrivateKey::EdDsa(Ed25519Key::generate(rng)),
        }
    }

    /// Rebuild from the 32 secret bytes of [`PrivateKey::to_bytes`].
    pub fn from_bytes(alg: Algorithm, bytes: &[u8; 32]) -> Option<Self> {
        match alg {
            Algorithm::Es256 => EcdsaKey::from_bytes(bytes).map(PrivateKey::Es256),
            Algorithm::EdDsa => Ed25519Key::from_bytes(bytes).map(PrivateKey::EdDsa),
        }
    }

    /// The 32 secret bytes (P-256 scalar or Ed25519 seed).
    pub fn to_bytes(&self) -> [u8; 32] {
        match self {
            PrivateKey::Es256(k) => k.to_bytes(),
            PrivateKey::EdDsa(k) => k.to_bytes(),
        }
    }

    /// The algorithm of this key.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Es256(_) => Algorithm::Es256,
            PrivateKey::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    /// The public key as a COSE_Key map.
    pub fn public_cose(&self) -> Value {
        match self {
            PrivateKey::Es256(k) => {
                let point = k.public();
                Value::Map(vec![
                    (Value::from(1i64), Value::from(2i64)),
                    (Value::from(3i64), Value::from(ES256)),
                    (Value::from(-1i64), Value::from(1i64)),
                    (Value::from(-2i64), Value::Bytes(point[1..33].to_vec())),
                    (Value::from(-3i64), Value::Bytes(point[33..].to_vec())),
                ])
            }
            PrivateKey::EdDsa(k) => Value::Map(vec![
                (Value::from(1i64), Value::from(1i64)),
                (Value::from(3i64), Value::from(EDDSA)),
                (Value::from(-1i64), Value::from(6i64)),
                (Value::from(-2i64), Value::Bytes(k.public().to_vec())),
            ]),
        }
    }

    /// The uncompressed SEC1 public point `04 || x || y` (P-256 only; U2F).
    pub fn public_sec1(&self) -> Option<Vec<u8>> {
        match self {
            PrivateKey::Es256(k) => Some(k.public().to_vec()),
            PrivateKey::EdDsa(_) => None,
        }
    }

    /// Sign `message` (DER ECDSA over SHA-256, or raw Ed25519); `None` only
    /// on an internal failure of the cryptographic library.
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        match self {
            PrivateKey::Es256(k) => k.sign(message),
            PrivateKey::EdDsa(k) => Some(k.sign(message).to_vec()),
        }
    }
}
