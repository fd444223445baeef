//! The persistent pinUvAuthToken (CTAP 2.2/2.3 §6.5.5.7.2 `pcmr`, §6.8
//! read-only credential management, §6.4 `encIdentifier` /
//! `encCredStoreState`).
//!
//! ```text
//!  getPinUvAuthTokenUsingPinWithPermissions, permissions = pcmr (0x40) alone,
//!  profile option perCredMgmtRO = true
//!    ─▶ new random 32-byte token, stored in the persistent state, then
//!       returned encrypted like any pinUvAuthToken
//!
//!  lifetime: survives power cycles and restarts; no usage timers
//!  ends at:  the next pcmr issue (replaced), changePIN / setPIN,
//!            authenticatorReset
//!  allows:   authenticatorCredentialManagement getCredsMetadata,
//!            enumerateRPsBegin, enumerateCredentialsBegin (and their
//!            GetNext), with either PIN/UV auth protocol; nothing else
//!            (delete, update, MC, GA, config, largeBlobs: PIN_AUTH_INVALID)
//!
//!  getInfo, while a persistent token exists:
//!    0x19 encIdentifier     = iv (16) || AES-128-CBC(k("encIdentifier"), iv, identifier (16))
//!    0x1E encCredStoreState = iv (16) || AES-128-CBC(k("encCredStoreState"), iv, state (16))
//!    k(info) = HKDF-SHA-256(salt = 32 × 00, IKM = persistent token, info, L = 16)
//!    iv fresh from the RNG on every getInfo
//!
//!  identifier = HKDF-SHA-256(salt "tapfido encIdentifier", IKM = master key,
//!               info "v1", L = 16): constant until authenticatorReset
//!  state      = LEFT(SHA-256("tapfido encCredStoreState v1" || master key
//!               || canonical CBOR of the discoverable credentials), 16):
//!               changes with every credential created, deleted or updated
//! ```

use aes::Aes128;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use hkdf::Hkdf;
use p256::elliptic_curve::zeroize::Zeroizing;
use sha2::{Digest, Sha256};

use crate::env::Env;
use crate::error::CtapError;
use crate::pin::protocol::PinUvAuthProtocol;
use crate::pin::store::PinStore;

/// Length of the encrypted members' plaintext (one AES block).
pub const MEMBER_LEN: usize = 16;

/// HKDF info of getInfo 0x19.
pub const INFO_ENC_IDENTIFIER: &[u8] = b"encIdentifier";
/// HKDF info of getInfo 0x1E.
pub const INFO_ENC_CRED_STORE_STATE: &[u8] = b"encCredStoreState";

/// Issue a new persistent token: random, persisted (replacing any earlier
/// one) before it is returned.
pub fn issue(
    env: &mut dyn Env,
    store: &mut dyn PinStore,
) -> Result<Zeroizing<[u8; 32]>, CtapError> {
    let mut token = Zeroizing::new([0u8; 32]);
    env.rng().fill_bytes(token.as_mut_slice());
    store.persist_persistent_token(env, *token)?;
    Ok(token)
}

/// `verify(persistentToken, message, signature)` for `protocol`, in
/// constant time; false when no persistent token exists.
pub fn verify(
    store: &dyn PinStore,
    protocol: PinUvAuthProtocol,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(token) = store.persistent_token().map(Zeroizing::new) else {
        return false;
    };
    protocol
        .verify(token.as_slice(), message, signature)
        .is_ok()
}

/// `iv || AES-128-CBC(k(info), iv, plaintext)` for a getInfo member.
pub fn encrypt_member(
    env: &mut dyn Env,
    token: &[u8; 32],
    info: &[u8],
    plaintext: &[u8; MEMBER_LEN],
) -> Vec<u8> {
    let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), token);
    let mut key = Zeroizing::new([0u8; 16]);
    // 16 bytes is far below HKDF-SHA256's limit: cannot fail.
    let _ = hk.expand(info, key.as_mut_slice());
    let mut iv = [0u8; 16];
    env.rng().fill_bytes(&mut iv);
    let cipher = cbc::Encryptor::<Aes128>::new(key.as_slice().into(), (&iv).into());
    let mut out = iv.to_vec();
    out.extend_from_slice(&cipher.encrypt_padded_vec_mut::<NoPadding>(plaintext));
    out
}

/// The device identifier behind `encIdentifier`.
pub fn identifier(master_key: &[u8; 32]) -> Zeroizing<[u8; MEMBER_LEN]> {
    let hk = Hkdf::<Sha256>::new(Some(b"tapfido encIdentifier"), master_key);
    let mut out = Zeroizing::new([0u8; MEMBER_LEN]);
    let _ = hk.expand(b"v1", out.as_mut_slice());
    out
}

/// The credential-store state behind `encCredStoreState`; `credentials`
/// is the canonical CBOR of the stored discoverable credentials.
pub fn cred_store_state(master_key: &[u8; 32], credentials: &[u8]) -> [u8; MEMBER_LEN] {
    let mut h = Sha256::new();
    h.update(b"tapfido encCredStoreState v1");
    h.update(master_key);
    h.update(credentials);
    let digest = h.finalize();
    let mut out = [0u8; MEMBER_LEN];
    out.copy_from_slice(&digest[..MEMBER_LEN]);
    out
}
