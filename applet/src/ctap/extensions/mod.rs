//! Extension processing for makeCredential and getAssertion
//! (CTAP 2.1 §12 "Defined Extensions").
//!
//! ```text
//!  makeCredential extensions (request key 0x06)      authData ED output
//!  "credProtect":  uint 1..3                    ──▶  "credProtect": uint
//!  "credBlob":     bstr (≤ maxCredBlobLength)   ──▶  "credBlob": bool (stored?)
//!  "hmac-secret":  true                         ──▶  "hmac-secret": true
//!  "minPinLength": true                         ──▶  "minPinLength": uint (listed RPs only)
//!  "largeBlobKey": true (rk only)               ──▶  response key 0x05 largeBlobKey
//!  "hmac-secret-mc": {1, 2, 3, ?4} (with
//!                    "hmac-secret": true)         ──▶  "hmac-secret-mc": bstr (CTAP 2.2)
//!  "thirdPartyPayment": true                    ──▶  (sealed in the credential ID)
//!  "pinComplexityPolicy": true                  ──▶  "pinComplexityPolicy": bool (CTAP 2.3)
//!
//!  getAssertion extensions (request key 0x04)        authData ED output
//!  "hmac-secret":  {1: keyAgreement, 2: saltEnc,
//!                   3: saltAuth, ?4: protocol}  ──▶  "hmac-secret": bstr (encrypted outputs)
//!  "credBlob":     true                         ──▶  "credBlob": bstr (empty when none)
//!  "largeBlobKey": true                         ──▶  response key 0x07 largeBlobKey
//!  "thirdPartyPayment": true                    ──▶  "thirdPartyPayment": bool (CTAP 2.2)
//! ```
//!
//! Only extensions listed by getInfo ([`Extension`] ∩
//! the profile's claims) are processed; for the others, and for unknown
//! names, the input is ignored and no output is produced (§6.1.2, §6.2.2).
//! Inputs of a processed extension are type-checked
//! (`CBOR_UNEXPECTED_TYPE`).
//!
//! credProtect is enforced by the commands themselves (the level is sealed
//! in the credential ID's flags, `credential::CredFlags`): excludeList and
//! allowList/discovery in makeCredential/getAssertion, and U2F authenticate.

pub mod cred_blob;
pub mod cred_protect;
pub mod hmac_secret;
pub mod hmac_secret_mc;
pub mod large_blob_key;
pub mod min_pin_length;
pub mod pin_complexity_policy;
pub mod third_party_payment;

use super::Authenticator;
use crate::authdata::FLAG_UP;
use crate::cbor::{Map, Value};
use crate::config::Config;
use crate::env::Env;
use crate::error::CtapError;

/// The extensions the card implements, one module each. Profiles and requests name
/// them as text; the code asks for them by variant, so a misspelt extension is a compile
/// error. `largeBlobKey` is only useful with the `largeBlobs` option
/// (authenticatorLargeBlobs), which the default profile claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extension {
    /// `credBlob` ([`cred_blob`]).
    CredBlob,
    /// `credProtect` ([`cred_protect`]).
    CredProtect,
    /// `hmac-secret` ([`hmac_secret`]).
    HmacSecret,
    /// `largeBlobKey` ([`large_blob_key`]).
    LargeBlobKey,
    /// `minPinLength` ([`min_pin_length`]).
    MinPinLength,
    /// `hmac-secret-mc` ([`hmac_secret_mc`], CTAP 2.2).
    HmacSecretMc,
    /// `thirdPartyPayment` ([`third_party_payment`], CTAP 2.2).
    ThirdPartyPayment,
    /// `pinComplexityPolicy` ([`pin_complexity_policy`], CTAP 2.3).
    PinComplexityPolicy,
}

impl Extension {
    /// Every extension, in getInfo's usual order.
    pub const ALL: [Extension; 8] = [
        Extension::CredBlob,
        Extension::CredProtect,
        Extension::HmacSecret,
        Extension::LargeBlobKey,
        Extension::MinPinLength,
        Extension::HmacSecretMc,
        Extension::ThirdPartyPayment,
        Extension::PinComplexityPolicy,
    ];

    /// The extension's identifier on the wire and in profiles.
    pub const fn name(self) -> &'static str {
        match self {
            Extension::CredBlob => cred_blob::NAME,
            Extension::CredProtect => cred_protect::NAME,
            Extension::HmacSecret => hmac_secret::NAME,
            Extension::LargeBlobKey => large_blob_key::NAME,
            Extension::MinPinLength => min_pin_length::NAME,
            Extension::HmacSecretMc => hmac_secret_mc::NAME,
            Extension::ThirdPartyPayment => third_party_payment::NAME,
            Extension::PinComplexityPolicy => pin_complexity_policy::NAME,
        }
    }

    /// The extension named `name`, if the card implements it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Whether `extension` is claimed by the profile and usable (hmac-secret-mc also needs
/// hmac-secret; pinComplexityPolicy a policy).
pub fn extension_enabled(config: &Config, extension: Extension) -> bool {
    let needs = match extension {
        Extension::HmacSecretMc => config.claims_extension(Extension::HmacSecret.name()),
        Extension::PinComplexityPolicy => config.pin_complexity_policy.factory().is_some(),
        _ => true,
    };
    needs && config.claims_extension(extension.name())
}

/// What the makeCredential extensions decided.
#[derive(Debug, Default)]
pub struct McExtensions {
    /// credProtect level to seal into the credential (0: not requested).
    pub cred_protect: u8,
    /// credBlob to store with a discoverable credential.
    pub cred_blob: Option<Vec<u8>>,
    /// largeBlobKey to store with a discoverable credential, also returned
    /// as makeCredential response key 0x05.
    pub large_blob_key: Option<[u8; 32]>,
    /// Authenticator-data extension outputs (ED), as map pairs.
    pub outputs: Vec<(Value, Value)>,
    /// Unsigned extension outputs (response key 0x06), as map pairs.
    pub unsigned: Vec<(Value, Value)>,
    /// thirdPartyPayment: seal the mark into the credential ID.
    pub third_party_payment: bool,
    /// hmac-secret-mc: the checked input, computed once the key exists
    /// ([`McExtensions::finish`]).
    pub hmac_secret_mc: Option<hmac_secret_mc::Pending>,
}

impl McExtensions {
    /// Outputs that need the new credential's private key (hmac-secret-mc),
    /// added to [`McExtensions::outputs`].
    pub fn finish(
        &mut self,
        env: &mut dyn Env,
        master_key: &[u8; 32],
        credential_secret: &[u8; 32],
        uv: bool,
    ) -> Result<(), CtapError> {
        if let Some(pending) = self.hmac_secret_mc.take() {
            let output = hmac_secret_mc::output(env, &pending, master_key, credential_secret, uv)?;
            self.outputs
                .push((Value::from(hmac_secret_mc::NAME), Value::from(output)));
        }
        Ok(())
    }
}

/// What the getAssertion extensions produced for one credential.
#[derive(Clone, Debug, Default)]
pub struct GaExtensions {
    /// Authenticator-data extension outputs (ED), as map pairs.
    pub outputs: Vec<(Value, Value)>,
    /// The credential's largeBlobKey, when requested (response key 0x07).
    pub large_blob_key: Option<[u8; 32]>,
}

/// The credential an assertion is made with, as the extensions see it.
#[derive(Clone, Copy, Debug)]
pub struct AssertedCredential<'a> {
    /// The credential ID.
    pub id: &'a [u8],
    /// The 32 secret bytes of its private key (`PrivateKey::to_bytes`),
    /// the seed of the hmac-secret CredRandom values.
    pub secret: &'a [u8; 32],
    /// Its thirdPartyPayment mark (sealed in the ID).
    pub third_party_payment: bool,
}

/// The input of `extension` when the card processes it.
fn input<'a>(
    auth: &Authenticator,
    extensions: Option<&Map<'a>>,
    extension: Extension,
) -> Option<&'a Value> {
    if !extension_enabled(&auth.config, extension) {
        return None;
    }
    extensions.and_then(|m| m.get_text(extension.name()))
}

/// Process makeCredential extension inputs (CTAP 2.1 §6.1.2 step 13).
///
/// Errors: `CBOR_UNEXPECTED_TYPE` for an input of the wrong type;
/// `INVALID_OPTION` for `largeBlobKey` other than `true`, or without `rk`.
pub fn make_credential(
    auth: &Authenticator,
    env: &mut dyn Env,
    extensions: Option<Map<'_>>,
    rk: bool,
    rp_id: &str,
) -> Result<McExtensions, CtapError> {
    let m = extensions.as_ref();
    let mut out = McExtensions::default();
    let cred_blob_in = input(auth, m, Extension::CredBlob)
        .map(cred_blob::mc_input)
        .transpose()?;
    let cred_protect_in = input(auth, m, Extension::CredProtect)
        .map(cred_protect::mc_input)
        .transpose()?
        .flatten();
    let hmac_secret_in = input(auth, m, Extension::HmacSecret)
        .map(hmac_secret::mc_input)
        .transpose()?;
    let min_pin_length_in = input(auth, m, Extension::MinPinLength)
        .map(min_pin_length::mc_input)
        .transpose()?;
    let large_blob_key_in = input(auth, m, Extension::LargeBlobKey)
        .map(|v| large_blob_key::mc_input(v, rk))
        .transpose()?;
    let third_party_payment_in = input(auth, m, Extension::ThirdPartyPayment)
        .map(third_party_payment::input)
        .transpose()?;
    let pin_complexity_in = input(auth, m, Extension::PinComplexityPolicy)
        .map(pin_complexity_policy::mc_input)
        .transpose()?;
    let hmac_secret_mc_in = input(auth, m, Extension::HmacSecretMc)
        .filter(|_| hmac_secret_in == Some(true))
        .map(|v| hmac_secret_mc::prepare(&auth.pin, &auth.config, v))
        .transpose()?;

    if let Some(blob) = cred_blob_in {
        let stored = cred_blob::mc_accept(blob, rk, auth.config.max_cred_blob_length);
        out.outputs
            .push((Value::from(cred_blob::NAME), Value::from(stored.is_some())));
        out.cred_blob = stored;
    }
    if let Some(level) = cred_protect_in {
        out.cred_protect = level;
        out.outputs
            .push((Value::from(cred_protect::NAME), Value::from(level)));
    }
    if hmac_secret_in == Some(true) {
        out.outputs
            .push((Value::from(hmac_secret::NAME), Value::from(true)));
    }
    if min_pin_length_in == Some(true) {
        if let Some(len) = min_pin_length::mc_output(&auth.state, rp_id) {
            out.outputs
                .push((Value::from(min_pin_length::NAME), Value::from(len)));
        }
    }
    if large_blob_key_in.is_some() {
        out.large_blob_key = Some(large_blob_key::generate(env));
    }
    out.third_party_payment = third_party_payment_in == Some(true);
    if pin_complexity_in == Some(true) {
        if let Some(on) = pin_complexity_policy::enforced(&auth.config, &auth.state) {
            out.outputs
                .push((Value::from(pin_complexity_policy::NAME), Value::from(on)));
        }
    }
    out.hmac_secret_mc = hmac_secret_mc_in;
    Ok(out)
}

/// Check getAssertion extension inputs once, after the credentials are
/// located and before user presence is asked for (CTAP 2.1 §6.2.2 order),
/// so that a malformed input fails the command with nothing changed (no
/// presence wait, no counter step).
///
/// Errors: those of [`hmac_secret::prepare`] (`MISSING_PARAMETER`,
/// `CBOR_UNEXPECTED_TYPE`, `INVALID_PARAMETER`, `PIN_AUTH_INVALID`),
/// `UNSUPPORTED_OPTION` for hmac-secret with `up: false` (the extension
/// needs user presence), `CBOR_UNEXPECTED_TYPE` / `INVALID_OPTION` for
/// credBlob / largeBlobKey.
pub fn check_get_assertion(
    auth: &Authenticator,
    extensions: Option<Map<'_>>,
    up: bool,
) -> Result<(), CtapError> {
    let m = extensions.as_ref();
    if let Some(v) = input(auth, m, Extension::HmacSecret) {
        // Full check: key agreement, saltAuth, salt lengths.
        hmac_secret::prepare(&auth.pin, &auth.config, v)?;
        if !up {
            return Err(CtapError::UnsupportedOption);
        }
    }
    if let Some(v) = input(auth, m, Extension::CredBlob) {
        cred_blob::ga_input(v)?;
    }
    if let Some(v) = input(auth, m, Extension::LargeBlobKey) {
        large_blob_key::ga_input(v)?;
    }
    if let Some(v) = input(auth, m, Extension::ThirdPartyPayment) {
        third_party_payment::input(v)?;
    }
    Ok(())
}

/// Process getAssertion extension inputs for one credential (getAssertion
/// and each getNextAssertion, CTAP 2.1 §6.2.2, §6.3). `flags` is the
/// authenticator-data flags byte (UP/UV) of this assertion.
pub fn get_assertion(
    auth: &Authenticator,
    env: &mut dyn Env,
    extensions: Option<Map<'_>>,
    flags: u8,
    credential: AssertedCredential<'_>,
) -> Result<GaExtensions, CtapError> {
    let uv = flags & crate::authdata::FLAG_UV != 0;
    let m = extensions.as_ref();
    let mut out = GaExtensions::default();
    if let Some(v) = input(auth, m, Extension::CredBlob) {
        if cred_blob::ga_input(v)? {
            let blob = auth
                .resident(credential.id)
                .and_then(|c| c.cred_blob.clone())
                .unwrap_or_default();
            out.outputs
                .push((Value::from(cred_blob::NAME), Value::from(blob)));
        }
    }
    if let Some(v) = input(auth, m, Extension::HmacSecret) {
        if flags & FLAG_UP == 0 {
            return Err(CtapError::UnsupportedOption);
        }
        let (secret, salts) = hmac_secret::prepare(&auth.pin, &auth.config, v)?;
        let master_key = &auth.state.identity().master_key;
        let cred_random = hmac_secret::cred_random(master_key, credential.secret, uv);
        let output = hmac_secret::output(env, &secret, &cred_random, &salts)?;
        out.outputs
            .push((Value::from(hmac_secret::NAME), Value::from(output)));
    }
    if let Some(v) = input(auth, m, Extension::LargeBlobKey) {
        large_blob_key::ga_input(v)?;
        out.large_blob_key = auth.resident(credential.id).and_then(|c| c.large_blob_key);
    }
    if let Some(v) = input(auth, m, Extension::ThirdPartyPayment) {
        if third_party_payment::input(v)? {
            out.outputs.push((
                Value::from(third_party_payment::NAME),
                Value::from(credential.third_party_payment),
            ));
        }
    }
    Ok(out)
}

/// The authenticator-data extensions map, or `None` when there are no outputs.
pub fn outputs_map(outputs: &[(Value, Value)]) -> Option<Value> {
    if outputs.is_empty() {
        None
    } else {
        Some(Value::Map(outputs.to_vec()))
    }
}
