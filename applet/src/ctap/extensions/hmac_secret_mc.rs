//! hmac-secret-mc (CTAP 2.2 §12.7 "HMAC Secret MakeCredential Extension"):
//! the hmac-secret outputs at registration, so that a WebAuthn PRF can be
//! evaluated by the ceremony that creates the credential.
//!
//! ```text
//!  makeCredential input:  "hmac-secret": true,
//!                         "hmac-secret-mc": {
//!                            1: keyAgreement  COSE_Key (platform)
//!                            2: saltEnc       encrypt(shared secret, salt1 [|| salt2])
//!                            3: saltAuth      authenticate(shared secret, saltEnc)
//!                           ?4: pinUvAuthProtocol  uint, default 1 }
//!  output (authData ED):  "hmac-secret": true,
//!                         "hmac-secret-mc": encrypt(shared secret,
//!                            HMAC-SHA-256(CredRandom, salt1)
//!                         [|| HMAC-SHA-256(CredRandom, salt2)])
//!  CredRandom = CredRandomWithUV when the makeCredential has UV, else
//!               CredRandomWithoutUV
//! ```
//!
//! The input has the layout of the getAssertion hmac-secret input and is
//! checked the same way (`hmac_secret::prepare`: types, key agreement,
//! saltAuth, salt lengths) before user presence. The outputs are those of
//! a later getAssertion with the same salts and the same UV state, since
//! CredRandom is derived from the card's master key and the new
//! credential's private key (`hmac_secret::cred_random`). Without
//! `"hmac-secret": true` in the same request the input is ignored: the
//! credential is not being made for hmac-secret.

use std::fmt;

use p256::elliptic_curve::zeroize::Zeroizing;

use super::hmac_secret;
use crate::cbor::Value;
use crate::config::Config;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::protocol::SharedSecret;
use crate::pin::PinState;

/// Extension identifier.
pub const NAME: &str = "hmac-secret-mc";

/// A checked input, waiting for the credential key.
pub struct Pending {
    secret: SharedSecret,
    salts: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("salts", &(self.salts.len() / hmac_secret::SALT_LEN))
            .finish_non_exhaustive()
    }
}

/// Check the input (errors as `hmac_secret::prepare`).
pub fn prepare(pin: &PinState, config: &Config, v: &Value) -> Result<Pending, CtapError> {
    let (secret, salts) = hmac_secret::prepare(pin, config, v)?;
    Ok(Pending { secret, salts })
}

/// The encrypted output for the new credential: `master_key` is the card's,
/// `credential_secret` the new private key's 32 bytes, `uv` whether this
/// makeCredential verified the user.
pub fn output(
    env: &mut dyn Env,
    pending: &Pending,
    master_key: &[u8; 32],
    credential_secret: &[u8; 32],
    uv: bool,
) -> Result<Vec<u8>, CtapError> {
    let cred_random = hmac_secret::cred_random(master_key, credential_secret, uv);
    hmac_secret::output(env, &pending.secret, &cred_random, &pending.salts)
}
