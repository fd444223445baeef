//! hmac-secret (CTAP 2.1 §12.5): a symmetric secret per credential, for
//! offline uses such as Windows sign-in and the WebAuthn PRF extension.
//!
//! ```text
//!  makeCredential input:  "hmac-secret": true
//!  output (authData ED):  "hmac-secret": true
//!
//!  getAssertion input:    "hmac-secret": {
//!                            1: keyAgreement  COSE_Key (platform, §6.5.6 layout)
//!                            2: saltEnc       encrypt(shared secret, salt1 [|| salt2])
//!                            3: saltAuth      authenticate(shared secret, saltEnc)
//!                           ?4: pinUvAuthProtocol  uint, default 1 }
//!  output (authData ED):  "hmac-secret": encrypt(shared secret,
//!                            HMAC-SHA-256(CredRandom, salt1)
//!                         [|| HMAC-SHA-256(CredRandom, salt2)])
//!  CredRandom = CredRandomWithUV when the assertion has UV, else
//!               CredRandomWithoutUV
//! ```
//!
//! CredRandom values are not stored: they are derived from the card's
//! master key and the credential's private key (which the credential ID
//! carries), so non-discoverable credentials need no storage and the
//! outputs stay the same across power cycles and restarts; a reset (new
//! master key, old IDs rejected) ends them. Since every credential has
//! them, a credential made without `hmac-secret: true` answers too.
//! hmac-secret needs user presence: with `up: false` getAssertion fails
//! with `CTAP2_ERR_UNSUPPORTED_OPTION`.
//!
//! ```text
//!  PRK        = HKDF-Extract(salt "tapfido credRandom v1",
//!                            masterKey (32) || credentialPrivateKey (32))
//!  CredRandom = HKDF-Expand(PRK, "CredRandomWithUV" | "CredRandomWithoutUV", 32)
//! ```
//!
//! Errors, in order: `CBOR_UNEXPECTED_TYPE` (input not a map, field of the
//! wrong type), `MISSING_PARAMETER` (keyAgreement, saltEnc or saltAuth
//! absent), `PIN_AUTH_INVALID` (pinUvAuthProtocol absent on a card
//! without protocol 1), `INVALID_PARAMETER` (protocol not enabled, unusable
//! keyAgreement), `PIN_AUTH_INVALID` (saltAuth does not verify),
//! `INVALID_PARAMETER` (decrypted salts not 32 or 64 bytes).

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::zeroize::Zeroizing;
use sha2::Sha256;

use crate::cbor::Value;
use crate::config::Config;
use crate::ctap::client_pin::parse_key_agreement;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::protocol::{PinUvAuthProtocol, SharedSecret};
use crate::pin::PinState;

/// Extension identifier.
pub const NAME: &str = "hmac-secret";
/// Length of one salt and of one output.
pub const SALT_LEN: usize = 32;

const KEY_KEY_AGREEMENT: i64 = 1;
const KEY_SALT_ENC: i64 = 2;
const KEY_SALT_AUTH: i64 = 3;
const KEY_PROTOCOL: i64 = 4;

const CRED_RANDOM_SALT: &[u8] = b"tapfido credRandom v1";
const INFO_WITH_UV: &[u8] = b"CredRandomWithUV";
const INFO_WITHOUT_UV: &[u8] = b"CredRandomWithoutUV";

/// The makeCredential input (a boolean).
pub fn mc_input(v: &Value) -> Result<bool, CtapError> {
    v.as_bool()
}

/// Check the getAssertion input and return the shared secret with the
/// platform and the decrypted salts (32 or 64 bytes, wiped when dropped).
pub fn prepare(
    pin: &PinState,
    config: &Config,
    v: &Value,
) -> Result<(SharedSecret, Zeroizing<Vec<u8>>), CtapError> {
    let m = v.as_map()?;
    let key_agreement = m.get(KEY_KEY_AGREEMENT).map(Value::as_map).transpose()?;
    let salt_enc = m.get(KEY_SALT_ENC).map(Value::as_bytes).transpose()?;
    let salt_auth = m.get(KEY_SALT_AUTH).map(Value::as_bytes).transpose()?;
    let protocol = m.get(KEY_PROTOCOL).map(Value::as_u64).transpose()?;
    let (Some(key_agreement), Some(salt_enc), Some(salt_auth)) =
        (key_agreement, salt_enc, salt_auth)
    else {
        return Err(CtapError::MissingParameter);
    };
    let peer = parse_key_agreement(&key_agreement)?;
    // CTAP 2.3 §12.5 (hmac-secret, authenticator processing): "If
    // pinUvAuthProtocol is absent and a pinUvAuthProtocol value of 1 is not
    // supported ... return CTAP2_ERR_PIN_AUTH_INVALID".
    if protocol.is_none() && !config.pin_uv_auth_protocols.contains(&1) {
        return Err(CtapError::PinAuthInvalid);
    }
    let protocol = protocol.unwrap_or(1);
    let enabled = config
        .pin_uv_auth_protocols
        .iter()
        .any(|p| u64::from(*p) == protocol);
    let protocol = PinUvAuthProtocol::from_wire(protocol)
        .ok()
        .filter(|_| enabled)
        .ok_or(CtapError::InvalidParameter)?;
    let secret = pin.shared_secret(protocol, peer.as_ref())?;
    secret
        .verify(salt_enc, salt_auth)
        .map_err(|_| CtapError::PinAuthInvalid)?;
    let salts = Zeroizing::new(
        secret
            .decrypt(salt_enc)
            .map_err(|_| CtapError::InvalidParameter)?,
    );
    if salts.len() != SALT_LEN && salts.len() != 2 * SALT_LEN {
        return Err(CtapError::InvalidParameter);
    }
    Ok((secret, salts))
}

/// CredRandomWithUV (`uv`) or CredRandomWithoutUV of a credential.
pub fn cred_random(master_key: &[u8; 32], secret: &[u8; 32], uv: bool) -> Zeroizing<[u8; 32]> {
    let mut ikm = Zeroizing::new([0u8; 64]);
    ikm[..32].copy_from_slice(master_key);
    ikm[32..].copy_from_slice(secret);
    let hk = Hkdf::<Sha256>::new(Some(CRED_RANDOM_SALT), ikm.as_slice());
    let info = if uv { INFO_WITH_UV } else { INFO_WITHOUT_UV };
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit: cannot fail.
    let _ = hk.expand(info, out.as_mut_slice());
    out
}

/// The encrypted extension output for `salts` (one or two salts).
pub fn output(
    env: &mut dyn Env,
    secret: &SharedSecret,
    cred_random: &[u8; 32],
    salts: &[u8],
) -> Result<Vec<u8>, CtapError> {
    let mut outputs = Zeroizing::new(Vec::with_capacity(salts.len()));
    for salt in salts.chunks(SALT_LEN) {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(cred_random).map_err(|_| CtapError::Other)?;
        mac.update(salt);
        outputs.extend_from_slice(&mac.finalize().into_bytes());
    }
    secret
        .encrypt(env.rng(), &outputs)
        .map_err(|_| CtapError::Other)
}
