//! Credential IDs: the key material of a credential, sealed to the card.
//!
//! Every credential ID — non-discoverable, discoverable and U2F key handle —
//! has the same form, so lookup is uniform: AES-256-GCM under a key derived
//! (HKDF-SHA256) from the card's master key, with the RP ID hash (or the U2F
//! application parameter) as associated data. A changed bit, another RP, a
//! truncated or over-long ID all fail authentication and are "not found".
//! authenticatorReset regenerates the master key, so older IDs stop working.
//!
//! ```text
//!  credential ID (63 bytes):
//!  +---------+-----------+---------------------------------------+---------+
//!  | version | nonce     | AES-256-GCM ciphertext (34 bytes)     | tag     |
//!  | 0x01    | 12 bytes  |  alg tag (1) | flags (1) | secret (32)| 16 bytes|
//!  +---------+-----------+---------------------------------------+---------+
//!  associated data: version || rpIdHash (32)
//!  flags: bits 0-1 credProtect level (0 = not set, 1..3), bit 2 U2F key
//!         handle, bit 3 discoverable, bit 4 thirdPartyPayment (CTAP 2.2),
//!         bits 5-7 zero
//! ```

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use p256::elliptic_curve::zeroize::Zeroizing;

use crate::crypto::KeyCache;
use crate::env::CardRng;
use crate::keys::{Algorithm, PrivateKey};

/// Format version byte of credential IDs.
pub const CREDENTIAL_ID_VERSION: u8 = 0x01;
/// Length of every credential ID this card issues.
pub const CREDENTIAL_ID_LEN: usize = 1 + NONCE_LEN + PLAINTEXT_LEN + TAG_LEN;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const PLAINTEXT_LEN: usize = 2 + 32;
const HKDF_SALT: &[u8] = b"tapfido credential id";
const HKDF_INFO: &[u8] = b"AES-256-GCM v1";

/// Per-credential flags sealed inside the ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CredFlags {
    /// credProtect level 1..=3, or 0 when the extension was not requested.
    pub cred_protect: u8,
    /// Created by U2F REGISTER (the RP is the U2F application parameter).
    pub u2f: bool,
    /// A discoverable (resident) credential, stored in the card's state.
    pub discoverable: bool,
    /// Enabled for third-party payment (CTAP 2.2 thirdPartyPayment
    /// extension at makeCredential), for discoverable and non-discoverable
    /// credentials alike.
    pub third_party_payment: bool,
}

impl CredFlags {
    fn to_byte(self) -> u8 {
        (self.cred_protect & 0x03)
            | (u8::from(self.u2f) << 2)
            | (u8::from(self.discoverable) << 3)
            | (u8::from(self.third_party_payment) << 4)
    }

    fn from_byte(b: u8) -> Option<Self> {
        if b & 0xe0 != 0 {
            return None;
        }
        Some(CredFlags {
            cred_protect: b & 0x03,
            u2f: b & 0x04 != 0,
            discoverable: b & 0x08 != 0,
            third_party_payment: b & 0x10 != 0,
        })
    }
}

/// The key material a credential ID carries.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The credential private key.
    pub key: PrivateKey,
    /// Its flags.
    pub flags: CredFlags,
}

/// An opened credential ID: its contents, the key loaded only on demand.
///
/// Loading a P-256 key derives its public key (a scalar multiplication, as
/// costly as a signature); ES256 keys come from the [`IdKey`]'s cache of
/// recently used keys ([`KeyCache`]).
pub struct Opened {
    /// The credential algorithm.
    pub alg: Algorithm,
    /// The credential flags.
    pub flags: CredFlags,
    secret: Zeroizing<[u8; 32]>,
    keys: KeyCache,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("alg", &self.alg)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// The full private key.
    pub fn key(&self) -> Option<PrivateKey> {
        match self.alg {
            Algorithm::Es256 => self.keys.get_or_load(&self.secret).map(PrivateKey::Es256),
            Algorithm::EdDsa => PrivateKey::from_bytes(self.alg, &self.secret),
        }
    }

    /// The 32 secret bytes of the key (P-256 scalar or Ed25519 seed), as
    /// [`PrivateKey::to_bytes`] gives them: the seed of the hmac-secret
    /// CredRandom values (`ctap::extensions::hmac_secret`).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// Sign `message` as [`PrivateKey::sign`] would.
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.key()?.sign(message)
    }
}

/// The credential-ID sealing key, derived from the master key, with the
/// cache of the credential keys it opened last.
#[derive(Clone)]
pub struct IdKey {
    aead: Aes256Gcm,
    keys: KeyCache,
}

impl fmt::Debug for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdKey(..)")
    }
}

impl IdKey {
    /// Derive the sealing key from the card's 32-byte master key.
    pub fn derive(master_key: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), master_key);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: cannot fail.
        let _ = hk.expand(HKDF_INFO, &mut okm);
        let key = aes_gcm::Key::<Aes256Gcm>::from(okm);
        IdKey {
            aead: Aes256Gcm::new(&key),
            keys: KeyCache::default(),
        }
    }

    /// Seal `sealed` into a credential ID bound to `rp_id_hash`.
    pub fn wrap(&self, rng: &mut dyn CardRng, rp_id_hash: &[u8; 32], sealed: &Sealed) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut plaintext = Vec::with_capacity(PLAINTEXT_LEN);
        plaintext.push(sealed.key.algorithm().tag());
        plaintext.push(sealed.flags.to_byte());
        plaintext.extend_from_slice(&sealed.key.to_bytes());
        let aad = associated_data(rp_id_hash);
        let mut id = Vec::with_capacity(CREDENTIAL_ID_LEN);
        id.push(CREDENTIAL_ID_VERSION);
        id.extend_from_slice(&nonce);
        // Encryption with a 12-byte nonce and a short message cannot fail.
        if let Ok(ct) = self.aead.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        ) {
            id.extend_from_slice(&ct);
        }
        id
    }

    /// Open a credential ID for `rp_id_hash`; `None` when it is not one of
    /// ours for this RP (any modification, wrong length, another RP, a
    /// master key from before a reset).
    pub fn unwrap(&self, rp_id_hash: &[u8; 32], id: &[u8]) -> Option<Sealed> {
        let opened = self.open(rp_id_hash, id)?;
        let key = opened.key()?;
        Some(Sealed {
            key,
            flags: opened.flags,
        })
    }

    /// Like [`IdKey::unwrap`], without building the key pair.
    pub fn open(&self, rp_id_hash: &[u8; 32], id: &[u8]) -> Option<Opened> {
        if id.len() != CREDENTIAL_ID_LEN || id.first() != Some(&CREDENTIAL_ID_VERSION) {
            return None;
        }
        let nonce = id.get(1..1 + NONCE_LEN)?;
        let ct = id.get(1 + NONCE_LEN..)?;
        let aad = associated_data(rp_id_hash);
        let pt = Zeroizing::new(
            self.aead
                .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
                .ok()?,
        );
        let alg = Algorithm::from_tag(*pt.first()?)?;
        let flags = CredFlags::from_byte(*pt.get(1)?)?;
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(pt.get(2..)?.try_into().ok()?);
        Some(Opened {
            alg,
            flags,
            secret,
            keys: self.keys.clone(),
        })
    }
}

fn associated_data(rp_id_hash: &[u8; 32]) -> [u8; 33] {
    let mut aad = [0u8; 33];
    aad[0] = CREDENTIAL_ID_VERSION;
    aad[1..].copy_from_slice(rp_id_hash);
    aad
}
