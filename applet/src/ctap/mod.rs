//! CTAP2 over NFC: the command dispatcher and the authenticator it drives
//! (CTAP 2.1 §6 "Authenticator API").
//!
//! ```text
//!  request  = command byte || CBOR map (parameters)      (CTAP 2.1 §8.1)
//!  response = status byte  || CBOR map (when status 00)
//! ```
//!
//! One module per command holds its request parsing, response building and
//! handler; [`Authenticator::process`] dispatches by command byte. Bytes stay
//! here: handlers see decoded [`Value`]s and return a [`Value`].
//!
//! Hook points for later features:
//! - pinUvAuthParam / UV: [`Authenticator::verify_uv`] (wraps `pin::uv`).
//! - extensions: the [`extensions`] module (`make_credential` / `get_assertion`).
//! - further commands (ClientPIN 0x06, reset 0x07, credMgmt 0x0A/0x41,
//!   selection 0x0B, largeBlobs 0x0C, config 0x0D): one arm each in
//!   [`Authenticator::process`].

pub mod client_pin;
pub mod config;
pub mod cred_mgmt;
pub mod extensions;
pub mod get_assertion;
pub mod get_info;
mod get_info_ctap23;
pub mod get_next_assertion;
pub mod large_blobs;
pub mod make_credential;
pub mod reset;
pub mod selection;

use crate::config::CardOption;
use std::time::Duration;

use crate::attestation::BatchAttestation;
use crate::cbor::{self, Map, Value};
use crate::config::Config;
use crate::credential::IdKey;
use crate::env::{Env, Presence};
use crate::error::CtapError;
use crate::pin::uv::{self, PinUvAuth, UvCheck, UvFor};
use crate::pin::{PinState, PinStore};
use crate::state::{CardState, ResidentCredential, Transient};

/// authenticatorMakeCredential.
pub const MAKE_CREDENTIAL: u8 = 0x01;
/// authenticatorGetAssertion.
pub const GET_ASSERTION: u8 = 0x02;
/// authenticatorGetInfo.
pub const GET_INFO: u8 = 0x04;
/// authenticatorClientPIN.
pub const CLIENT_PIN: u8 = 0x06;
/// authenticatorReset.
pub const RESET: u8 = 0x07;
/// authenticatorGetNextAssertion.
pub const GET_NEXT_ASSERTION: u8 = 0x08;
/// authenticatorCredentialManagement.
pub const CREDENTIAL_MANAGEMENT: u8 = 0x0A;
/// authenticatorSelection.
pub const SELECTION: u8 = 0x0B;
/// authenticatorLargeBlobs.
pub const LARGE_BLOBS: u8 = 0x0C;
/// authenticatorConfig.
pub const CONFIG: u8 = 0x0D;
/// authenticatorCredentialManagement, FIDO_2_1_PRE command byte.
pub const CREDENTIAL_MANAGEMENT_PRE: u8 = 0x41;

/// Why a command did not produce a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A CTAP error status.
    Ctap(CtapError),
    /// User presence is needed and not given; nothing was changed.
    PresenceNeeded,
}

impl From<CtapError> for Failure {
    fn from(e: CtapError) -> Self {
        Failure::Ctap(e)
    }
}

impl From<cbor::CborError> for Failure {
    fn from(e: cbor::CborError) -> Self {
        Failure::Ctap(e.into())
    }
}

/// The FIDO2 authenticator: profile, state of every lifetime, and keys.
#[derive(Debug)]
pub struct Authenticator {
    /// The card profile.
    pub config: Config,
    /// Identity and persistent state, always equal to storage.
    pub state: CardState,
    /// Per-power-cycle state.
    pub transient: Transient,
    /// ClientPIN per-power-cycle state (key agreement, tokens, mismatches).
    pub pin: PinState,
    /// Credential-ID sealing key, derived from the identity's master key.
    pub id_key: IdKey,
    /// Batch attestation, or `None` for self attestation.
    pub attestation: Option<BatchAttestation>,
}

impl Authenticator {
    /// An authenticator over loaded state, powered up now.
    pub fn new(
        env: &mut dyn Env,
        config: Config,
        state: CardState,
        attestation: Option<BatchAttestation>,
    ) -> Self {
        let id_key = IdKey::derive(&state.identity().master_key);
        let pin = PinState::new(env, config.token_times());
        Authenticator {
            config,
            state,
            transient: Transient::power_up(env.now()),
            pin,
            id_key,
            attestation,
        }
    }

    /// Whether the card is enterprise attestation capable (CTAP 2.1 §7.1):
    /// the profile lists `ep` and the card has an attestation CA, so an
    /// enterprise attestation certificate.
    pub fn ep_capable(&self) -> bool {
        self.config.claims_option(CardOption::Ep)
            && self
                .attestation
                .as_ref()
                .is_some_and(|a| a.enterprise().is_some())
    }

    /// Process one CTAP request (`command byte || CBOR`) and return the
    /// response (`status 00 || CBOR`). Errors carry the status to send.
    pub fn process(&mut self, env: &mut dyn Env, request: &[u8]) -> Result<Vec<u8>, Failure> {
        if request.len() > self.config.max_msg_size {
            return Err(CtapError::InvalidLength.into());
        }
        let (&command, body) = request.split_first().ok_or(CtapError::InvalidLength)?;
        if command != GET_NEXT_ASSERTION {
            // CTAP 2.1 §6.3: any other command ends a getNextAssertion sequence.
            self.transient.assertions = None;
        }
        if command != CREDENTIAL_MANAGEMENT && command != CREDENTIAL_MANAGEMENT_PRE {
            // Any other command ends a credential-management enumeration.
            self.transient.cred_mgmt = None;
        }
        if matches!(command, GET_INFO | GET_NEXT_ASSERTION | RESET | SELECTION) && !body.is_empty()
        {
            // CTAP 2.1 §6.4, §6.3, §6.6, §6.9: these take no parameters, so anything after
            // the command byte makes the message the wrong length (§8.2 CTAP1_ERR_INVALID_LENGTH),
            // refused before anything is done.
            return Err(CtapError::InvalidLength.into());
        }
        let response = match command {
            MAKE_CREDENTIAL => make_credential::handle(self, env, &params(body)?)?,
            GET_ASSERTION => get_assertion::handle(self, env, &params(body)?)?,
            GET_INFO => get_info::handle(self, env),
            GET_NEXT_ASSERTION => get_next_assertion::handle(self, env)?,
            CLIENT_PIN if self.client_pin_supported() => {
                let response = client_pin::handle(self, env, &params(body)?)?;
                return Ok(client_pin::status_ok(response));
            }
            RESET => {
                reset::handle(self, env)?;
                return Ok(client_pin::status_ok(None));
            }
            SELECTION => {
                selection::handle(self, env)?;
                return Ok(client_pin::status_ok(None));
            }
            CONFIG if get_info::option_enabled(&self.config, CardOption::AuthnrCfg) => {
                config::handle(self, env, &params(body)?)?;
                return Ok(client_pin::status_ok(None));
            }
            CREDENTIAL_MANAGEMENT | CREDENTIAL_MANAGEMENT_PRE
                if cred_mgmt::supported(self, command) =>
            {
                // Taken first: even a malformed request ends an enumeration.
                let enumeration = self.transient.cred_mgmt.take();
                let response = cred_mgmt::handle(self, env, enumeration, &params(body)?)?;
                return Ok(client_pin::status_ok(response));
            }
            LARGE_BLOBS if large_blobs::supported(self) => {
                let response = large_blobs::handle(self, env, &params(body)?)?;
                return Ok(client_pin::status_ok(response));
            }
            _ => return Err(CtapError::InvalidCommand.into()),
        };
        let mut out = vec![crate::error::CTAP2_OK];
        cbor::encode_into(&response, &mut out);
        Ok(out)
    }

    /// Whether the user is present now (NFC: the tap, within the window).
    pub fn user_present(&self, env: &dyn Env) -> bool {
        match env.presence() {
            Presence::Touched => true,
            Presence::Withheld => false,
            Presence::Field => {
                env.now().saturating_sub(self.transient.powered_at) <= self.config.presence_window()
            }
        }
    }

    /// Require user presence: `Err(PresenceNeeded)` with nothing changed.
    pub fn require_presence(&self, env: &dyn Env) -> Result<(), Failure> {
        if self.user_present(env) {
            Ok(())
        } else {
            Err(Failure::PresenceNeeded)
        }
    }

    /// Time since power-up (the reset window).
    pub fn since_power_up(&self, env: &dyn Env) -> Duration {
        env.now().saturating_sub(self.transient.powered_at)
    }

    /// Whether ClientPIN is offered (getInfo lists `clientPin`).
    pub fn client_pin_supported(&self) -> bool {
        get_info::option_enabled(&self.config, CardOption::ClientPin)
    }

    /// UV hook: verify a present pinUvAuthParam (CTAP 2.1 §6.1.2 step 11,
    /// §6.2.2 step 5). `Ok(true)`: user verified; `Ok(false)`: no param.
    pub fn verify_uv(
        &mut self,
        env: &dyn Env,
        auth: PinUvAuth<'_>,
        client_data_hash: &[u8],
        rp_id: &str,
        command: UvFor,
    ) -> Result<bool, CtapError> {
        if auth.param.is_none() {
            return Ok(false);
        }
        let check = UvCheck {
            auth,
            enabled_protocols: &self.config.pin_uv_auth_protocols,
            client_data_hash,
            rp_id,
            command,
        };
        uv::verify_pin_uv_auth_param(&mut self.pin, &self.state, env.now(), check)?;
        Ok(true)
    }

    /// A discoverable credential by ID.
    pub fn resident(&self, id: &[u8]) -> Option<&ResidentCredential> {
        self.state
            .persistent()
            .credentials
            .iter()
            .find(|c| c.id == id)
    }

    /// Common pinUvAuthParam preamble of MC and GA (CTAP 2.1 §6.1.2 steps
    /// 1-2, §6.2.2 steps 1-2): a zero-length param asks for presence and
    /// then reports whether a PIN is set; a present param needs a supported
    /// protocol.
    pub fn pin_uv_preamble(&self, env: &dyn Env, auth: PinUvAuth<'_>) -> Result<(), Failure> {
        if auth.is_probe() {
            self.require_presence(env)?;
            return Err(uv::zero_length_status(&self.state).into());
        }
        if auth.param.is_some() {
            uv::check_protocol(auth.protocol, &self.config.pin_uv_auth_protocols)?;
        }
        Ok(())
    }

    /// Whether a PIN is set.
    pub fn pin_is_set(&self) -> bool {
        self.state.pin_hash().is_some()
    }
}

/// The parameter map of a request body; an empty body has no parameters.
fn params(body: &[u8]) -> Result<Value, Failure> {
    if body.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    Ok(cbor::decode(body)?)
}

/// Parse helpers shared by the command modules.
pub(crate) mod parse {
    use super::*;

    /// The request as a map (`CBOR_UNEXPECTED_TYPE` otherwise).
    pub fn request(v: &Value) -> Result<Map<'_>, CtapError> {
        v.as_map()
    }

    /// An optional byte string.
    pub fn opt_bytes<'a>(m: &Map<'a>, key: i64) -> Result<Option<&'a [u8]>, CtapError> {
        m.get(key).map(Value::as_bytes).transpose()
    }

    /// An optional text string under a text key.
    pub fn opt_text<'a>(m: &Map<'a>, key: &str) -> Result<Option<&'a str>, CtapError> {
        m.get_text(key).map(Value::as_text).transpose()
    }

    /// The `options` map: `(up, uv, rk)` as present; unknown keys ignored,
    /// known keys must be booleans.
    pub fn options(m: &Map<'_>, key: i64) -> Result<Options, CtapError> {
        let mut out = Options::default();
        if let Some(v) = m.get(key) {
            let o = v.as_map()?;
            for (k, v) in o.pairs() {
                let Value::Text(name) = k else { continue };
                let slot = match name.as_str() {
                    "up" => &mut out.up,
                    "uv" => &mut out.uv,
                    "rk" => &mut out.rk,
                    _ => continue,
                };
                *slot = Some(v.as_bool()?);
            }
        }
        Ok(out)
    }

    /// pinUvAuthParam / pinUvAuthProtocol at the given keys.
    pub fn pin_uv_auth<'a>(
        m: &Map<'a>,
        param_key: i64,
        protocol_key: i64,
    ) -> Result<PinUvAuth<'a>, CtapError> {
        Ok(PinUvAuth {
            param: opt_bytes(m, param_key)?,
            protocol: m.get(protocol_key).map(Value::as_u64).transpose()?,
        })
    }

    /// The credential IDs of a list of PublicKeyCredentialDescriptors
    /// (`{type: tstr, id: bstr}`), skipping types other than "public-key".
    pub fn descriptors<'a>(m: &Map<'a>, key: i64) -> Result<Vec<&'a [u8]>, CtapError> {
        let mut out = Vec::new();
        if let Some(v) = m.get(key) {
            for entry in v.as_array()? {
                let d = entry.as_map()?;
                let ty = d.required_text("type")?.as_text()?;
                let id = d.required_text("id")?.as_bytes()?;
                if ty == "public-key" {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    /// Options present in a request.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Options {
        /// `up`, if present.
        pub up: Option<bool>,
        /// `uv`, if present.
        pub uv: Option<bool>,
        /// `rk`, if present.
        pub rk: Option<bool>,
    }
}

/// `PublicKeyCredentialDescriptor` of a credential for a response.
pub(crate) fn descriptor(id: &[u8]) -> Value {
    Value::Map(vec![
        (Value::from("id"), Value::from(id)),
        (Value::from("type"), Value::from("public-key")),
    ])
}

/// Truncate `s` to at most `max` bytes at a UTF-8 boundary.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

/// SHA-256 of an RP ID.
pub(crate) fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(rp_id.as_bytes()).into()
}
