//! authenticatorConfig (0x0D), CTAP 2.1 §6.11.
//!
//! ```text
//!  request map                           subCommand
//!  0x01 subCommand        uint           0x01 enableEnterpriseAttestation (no params)
//!                                         0x02 toggleAlwaysUv       (no params)
//!  0x02 subCommandParams  map            0x03 setMinPINLength:
//!  0x03 pinUvAuthProtocol uint                  0x01 newMinPINLength   uint
//!  0x04 pinUvAuthParam    bstr                  0x02 minPinLengthRPIDs [tstr]
//!                                               0x03 forceChangePin    bool
//!                                               0x04 pinComplexityPolicy bool (CTAP 2.3)
//!  response: empty
//!
//!  pinUvAuthParam = authenticate(pinUvAuthToken,
//!                     32 × FF || 0D || uint8(subCommand) || subCommandParams)
//!  absent while a PIN is set (or alwaysUv is on, except to toggle it)
//!                                          ─▶ CTAP2_ERR_PUAT_REQUIRED
//!  present: protocol missing ─▶ MISSING_PARAMETER, unsupported ─▶ INVALID_PARAMETER,
//!           bad MAC, no token in use or no `acfg` permission ─▶ PIN_AUTH_INVALID
//!  other subCommands (vendorPrototype; enableEnterpriseAttestation on a
//!  card that is not enterprise attestation capable; toggleAlwaysUv on a
//!  profile without alwaysUv)               ─▶ CTAP2_ERR_INVALID_SUBCOMMAND
//! ```
//!
//! enableEnterpriseAttestation (§6.11.1) sets getInfo `ep` to true, kept in
//! the persistent state until authenticatorReset.
//!
//! setMinPINLength (§6.11.4): the minimum never decreases
//! (PIN_POLICY_VIOLATION); forceChangePin without a PIN is PIN_NOT_SET; a
//! minimum above the current PIN's length forces a PIN change; more RP IDs
//! than `maxRPIDsForSetMinPINLength` is KEY_STORE_FULL. `pinComplexityPolicy:
//! true` turns the profile's PIN complexity policy on (it stays on until
//! authenticatorReset; `false` changes nothing) and forces a PIN change
//! when the current PIN does not meet it; on a profile without a policy
//! (no getInfo 0x1B) it is INVALID_PARAMETER. Every change is one atomic
//! write.

use crate::config::CardOption;
use std::fmt;

use super::get_info::option_enabled;
use super::{Authenticator, Failure};
use crate::cbor::{self, Map, Value};
use crate::config::Config;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::policy::MAX_PIN_BYTES;
use crate::pin::token::permission;
use crate::pin::uv::{verify_command_param, PinUvAuth};
use crate::pin::{PinState, PinStore};
use crate::state::CardState;

const KEY_SUB_COMMAND: i64 = 0x01;
const KEY_SUB_COMMAND_PARAMS: i64 = 0x02;
const KEY_PROTOCOL: i64 = 0x03;
const KEY_PIN_UV_AUTH_PARAM: i64 = 0x04;

const PARAM_NEW_MIN_PIN_LENGTH: i64 = 0x01;
const PARAM_MIN_PIN_LENGTH_RP_IDS: i64 = 0x02;
const PARAM_FORCE_CHANGE_PIN: i64 = 0x03;
const PARAM_PIN_COMPLEXITY_POLICY: i64 = 0x04;

/// Command byte of authenticatorConfig, part of the authenticated message.
const COMMAND_BYTE: u8 = 0x0D;

/// The supported subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubCommand {
    EnableEnterpriseAttestation,
    ToggleAlwaysUv,
    SetMinPinLength,
}

/// What authenticatorConfig works on.
pub struct ConfigContext<'a> {
    /// The environment (RNG, clock, storage).
    pub env: &'a mut dyn Env,
    /// The card profile.
    pub config: &'a Config,
    /// Identity and persistent state.
    pub state: &'a mut CardState,
    /// The per-power-cycle ClientPIN state (the token to verify).
    pub pin: &'a mut PinState,
    /// Whether the card is enterprise attestation capable (getInfo lists
    /// `ep`).
    pub ep_capable: bool,
}

impl fmt::Debug for ConfigContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigContext")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

/// setMinPINLength parameters, type-checked.
struct MinPinLength {
    new_min: Option<u64>,
    rp_ids: Option<Vec<String>>,
    force_change_pin: bool,
    pin_complexity_policy: bool,
}

impl MinPinLength {
    fn decode(params: Option<Map<'_>>) -> Result<Self, CtapError> {
        let Some(map) = params else {
            return Ok(Self {
                new_min: None,
                rp_ids: None,
                force_change_pin: false,
                pin_complexity_policy: false,
            });
        };
        let new_min = map
            .get(PARAM_NEW_MIN_PIN_LENGTH)
            .map(Value::as_u64)
            .transpose()?;
        let rp_ids = map
            .get(PARAM_MIN_PIN_LENGTH_RP_IDS)
            .map(|v| {
                v.as_array()?
                    .iter()
                    .map(|id| id.as_text().map(str::to_owned))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let force_change_pin = map
            .get(PARAM_FORCE_CHANGE_PIN)
            .map(Value::as_bool)
            .transpose()?
            .unwrap_or(false);
        let pin_complexity_policy = map
            .get(PARAM_PIN_COMPLEXITY_POLICY)
            .map(Value::as_bool)
            .transpose()?
            .unwrap_or(false);
        Ok(Self {
            new_min,
            rp_ids,
            force_change_pin,
            pin_complexity_policy,
        })
    }
}

/// The subcommands this card supports under `config` (getInfo 0x1F
/// `authenticatorConfigCommands`, CTAP 2.3 §6.4; python-fido2 refuses to
/// send one that is not listed): enableEnterpriseAttestation (0x01) on an
/// enterprise-attestation capable card, toggleAlwaysUv (0x02) with the
/// alwaysUv option, setMinPINLength (0x03) with the setMinPINLength option
/// — exactly the subcommands [`authenticator_config`] accepts.
pub fn supported_subcommands(config: &Config, ep_capable: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if ep_capable {
        out.push(0x01);
    }
    if option_enabled(config, CardOption::AlwaysUv) {
        out.push(0x02);
    }
    if option_enabled(config, CardOption::SetMinPinLength) {
        out.push(0x03);
    }
    out
}

/// authenticatorConfig: `params` is the decoded request map.
pub fn authenticator_config(ctx: ConfigContext<'_>, params: &Value) -> Result<(), CtapError> {
    let ConfigContext {
        env,
        config,
        state,
        pin,
        ep_capable,
    } = ctx;
    let map = params.as_map()?;
    let sub_command = map.required(KEY_SUB_COMMAND)?.as_u64()?;
    let sub_params_value = map.get(KEY_SUB_COMMAND_PARAMS);
    let sub_params = sub_params_value.map(Value::as_map).transpose()?;
    let protocol = map.get(KEY_PROTOCOL).map(Value::as_u64).transpose()?;
    let pin_uv_auth_param = map
        .get(KEY_PIN_UV_AUTH_PARAM)
        .map(Value::as_bytes)
        .transpose()?;
    let sub_command_byte = u8::try_from(sub_command).map_err(|_| CtapError::InvalidSubcommand)?;

    // User verification (§6.11 steps 2-4).
    let always_uv = state.persistent().always_uv;
    let uv_needed = state.pin_hash().is_some() || (always_uv && sub_command != 0x02);
    match pin_uv_auth_param {
        None if uv_needed => return Err(CtapError::PuatRequired),
        None => {}
        Some(param) => {
            let message = || {
                let mut message = vec![0xFF; 32];
                message.push(COMMAND_BYTE);
                message.push(sub_command_byte);
                if let Some(value) = sub_params_value {
                    // The strict decoder only accepts canonical CBOR, so the
                    // canonical re-encoding is the bytes the platform sent.
                    cbor::encode_into(value, &mut message);
                }
                Ok(message)
            };
            let auth = PinUvAuth {
                param: Some(param),
                protocol,
            };
            verify_command_param(
                pin,
                env.now(),
                auth,
                &config.pin_uv_auth_protocols,
                message,
                permission::AUTHENTICATOR_CONFIG,
            )?;
            pin.tokens().mark_used();
        }
    }

    let sub_command = match sub_command {
        0x01 if ep_capable => SubCommand::EnableEnterpriseAttestation,
        // A profile without the alwaysUv option (pocketkey, like the ACS
        // card) has no toggleAlwaysUv.
        0x02 if option_enabled(config, CardOption::AlwaysUv) => SubCommand::ToggleAlwaysUv,
        0x03 if option_enabled(config, CardOption::SetMinPinLength) => SubCommand::SetMinPinLength,
        _ => return Err(CtapError::InvalidSubcommand),
    };
    match sub_command {
        SubCommand::EnableEnterpriseAttestation => state.update(env, |p| {
            p.enterprise_attestation = true;
            Ok(())
        }),
        SubCommand::ToggleAlwaysUv => state.update(env, |p| {
            p.always_uv = !p.always_uv;
            Ok(())
        }),
        SubCommand::SetMinPinLength => {
            let request = MinPinLength::decode(sub_params)?;
            set_min_pin_length(env, config, state, pin, request)
        }
    }
}

/// setMinPINLength (§6.11.4).
fn set_min_pin_length(
    env: &mut dyn Env,
    config: &Config,
    state: &mut CardState,
    pin: &mut PinState,
    request: MinPinLength,
) -> Result<(), CtapError> {
    let current = state.persistent().min_pin_length;
    let new_min = match request.new_min {
        None => current,
        Some(n) => u8::try_from(n)
            .ok()
            .filter(|n| usize::from(*n) <= MAX_PIN_BYTES)
            .ok_or(CtapError::PinPolicyViolation)?,
    };
    if new_min < current {
        return Err(CtapError::PinPolicyViolation);
    }
    if request.pin_complexity_policy && config.pin_complexity_policy.factory().is_none() {
        return Err(CtapError::InvalidParameter);
    }
    if usize::from(new_min) > usize::from(config.max_pin_code_points()) {
        return Err(CtapError::PinPolicyViolation);
    }
    let pin_set = state.pin_hash().is_some();
    if request.force_change_pin && !pin_set {
        return Err(CtapError::PinNotSet);
    }
    if let Some(ids) = &request.rp_ids {
        if ids.len() > config.max_rpids_for_set_min_pin_length {
            return Err(CtapError::KeyStoreFull);
        }
    }
    let complexity_now = request.pin_complexity_policy
        && config.pin_complexity_policy == crate::config::PinComplexityPolicy::Off
        && !state.persistent().pin_complexity_policy;
    let force = request.force_change_pin
        || (pin_set && new_min > state.persistent().pin_code_points)
        || (pin_set && complexity_now && !state.persistent().pin_meets_complexity);
    state.update(env, |p| {
        p.min_pin_length = new_min;
        p.pin_complexity_policy |= request.pin_complexity_policy;
        // CTAP 2.3 §6.11.4 step 8: only a list "present and contains at
        // least one string" replaces the stored one; an empty list changes
        // nothing.
        if let Some(ids) = request.rp_ids.filter(|ids| !ids.is_empty()) {
            p.min_pin_length_rpids = ids;
        }
        p.force_pin_change |= force;
        Ok(())
    })?;
    // Step 7: with forcePINChange true, every pinUvAuthToken is reset (the
    // token that authorised this command included).
    if state.persistent().force_pin_change {
        pin.tokens().reset(env.rng());
    }
    Ok(())
}

/// The dispatcher's entry point.
pub fn handle(auth: &mut Authenticator, env: &mut dyn Env, params: &Value) -> Result<(), Failure> {
    let ep_capable = auth.ep_capable();
    let ctx = ConfigContext {
        ep_capable,
        env,
        config: &auth.config,
        state: &mut auth.state,
        pin: &mut auth.pin,
    };
    Ok(authenticator_config(ctx, params)?)
}
