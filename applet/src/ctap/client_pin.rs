//! authenticatorClientPIN (0x06), CTAP 2.1 §6.5.5.
//!
//! ```text
//!  request map                          response map
//!  0x01 pinUvAuthProtocol  uint         0x01 keyAgreement     COSE_Key
//!  0x02 subCommand         uint         0x02 pinUvAuthToken   bstr (encrypted)
//!  0x03 keyAgreement       COSE_Key     0x03 pinRetries       uint
//!  0x04 pinUvAuthParam     bstr         0x04 powerCycleState  bool
//!  0x05 newPinEnc          bstr
//!  0x06 pinHashEnc         bstr
//!  0x09 permissions        uint
//!  0x0A rpId               tstr
//!
//!  subCommand                                      needs                       answers
//!  0x01 getPINRetries                              –                           0x03, 0x04
//!  0x02 getKeyAgreement                            01                          0x01
//!  0x03 setPIN                                     01 03 04 05                 –
//!  0x04 changePIN                                  01 03 04 05 06              –
//!  0x05 getPinToken                                01 03 06 (no 09, 0A)        0x02
//!  0x09 getPinUvAuthTokenUsingPinWithPermissions   01 03 06 09 (0A for mc/ga)  0x02
//!  0x06 / 0x07 (built-in UV)                       –                           INVALID_SUBCOMMAND
//! ```
//!
//! A present parameter of the wrong CBOR type is
//! `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`; a missing one `CTAP2_ERR_MISSING_PARAMETER`;
//! a protocol other than the profile's `pinUvAuthProtocols`
//! `CTAP1_ERR_INVALID_PARAMETER`; an unknown subcommand
//! `CTAP2_ERR_INVALID_SUBCOMMAND`. The card has no built-in user
//! verification, so the UV subcommands are unknown to it.

use super::get_info::option_enabled;
use super::{Authenticator, Failure};
use crate::cbor::{self, Map, Value};
use crate::config::CardOption;
use crate::config::Config;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::machine::{NewPinRequest, TokenRequest};
use crate::pin::policy::PinRules;
use crate::pin::protocol::CoseEcdhKey;
use crate::pin::token::permission;
use crate::pin::uv::check_protocol;
use crate::pin::{PinState, PinStore};

/// Request keys.
const KEY_PROTOCOL: i64 = 0x01;
const KEY_SUB_COMMAND: i64 = 0x02;
const KEY_KEY_AGREEMENT: i64 = 0x03;
const KEY_PIN_UV_AUTH_PARAM: i64 = 0x04;
const KEY_NEW_PIN_ENC: i64 = 0x05;
const KEY_PIN_HASH_ENC: i64 = 0x06;
const KEY_PERMISSIONS: i64 = 0x09;
const KEY_RP_ID: i64 = 0x0A;

/// Response keys.
const RESP_KEY_AGREEMENT: i64 = 0x01;
const RESP_PIN_UV_AUTH_TOKEN: i64 = 0x02;
const RESP_PIN_RETRIES: i64 = 0x03;
const RESP_POWER_CYCLE_STATE: i64 = 0x04;

/// The subcommands (CTAP 2.1 §6.5.5 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubCommand {
    /// 0x01.
    GetPinRetries,
    /// 0x02.
    GetKeyAgreement,
    /// 0x03.
    SetPin,
    /// 0x04.
    ChangePin,
    /// 0x05.
    GetPinToken,
    /// 0x09.
    GetPinUvAuthTokenUsingPinWithPermissions,
}

impl SubCommand {
    fn from_wire(value: u64) -> Result<Self, CtapError> {
        Ok(match value {
            0x01 => Self::GetPinRetries,
            0x02 => Self::GetKeyAgreement,
            0x03 => Self::SetPin,
            0x04 => Self::ChangePin,
            0x05 => Self::GetPinToken,
            0x09 => Self::GetPinUvAuthTokenUsingPinWithPermissions,
            // 0x06 getPinUvAuthTokenUsingUvWithPermissions and 0x07
            // getUVRetries need built-in UV, which this card does not have.
            _ => return Err(CtapError::InvalidSubcommand),
        })
    }
}

/// The request, type-checked.
struct Request<'a> {
    protocol: Option<u64>,
    sub_command: u64,
    key_agreement: Option<Map<'a>>,
    pin_uv_auth_param: Option<&'a [u8]>,
    new_pin_enc: Option<&'a [u8]>,
    pin_hash_enc: Option<&'a [u8]>,
    permissions: Option<u64>,
    rp_id: Option<&'a str>,
}

fn opt<'a, T>(
    map: &Map<'a>,
    key: i64,
    read: impl FnOnce(&'a Value) -> Result<T, CtapError>,
) -> Result<Option<T>, CtapError> {
    map.get(key).map(read).transpose()
}

impl<'a> Request<'a> {
    fn decode(params: &'a Value) -> Result<Self, CtapError> {
        let map = params.as_map()?;
        let sub_command = map.required(KEY_SUB_COMMAND)?.as_u64()?;
        let request = Request {
            protocol: opt(&map, KEY_PROTOCOL, Value::as_u64)?,
            sub_command,
            key_agreement: opt(&map, KEY_KEY_AGREEMENT, Value::as_map)?,
            pin_uv_auth_param: opt(&map, KEY_PIN_UV_AUTH_PARAM, Value::as_bytes)?,
            new_pin_enc: opt(&map, KEY_NEW_PIN_ENC, Value::as_bytes)?,
            pin_hash_enc: opt(&map, KEY_PIN_HASH_ENC, Value::as_bytes)?,
            permissions: opt(&map, KEY_PERMISSIONS, Value::as_u64)?,
            rp_id: opt(&map, KEY_RP_ID, Value::as_text)?,
        };
        Ok(request)
    }
}

/// The platform key agreement COSE_Key (CTAP 2.1 §6.5.6 getPublicKey
/// layout). Wrong CBOR types are `CBOR_UNEXPECTED_TYPE` at once; a missing
/// or wrong field makes the key unusable (`Ok(None)`), which the state
/// machine reports as `CTAP1_ERR_INVALID_PARAMETER` at the decapsulate step.
pub fn parse_key_agreement(map: &Map<'_>) -> Result<Option<CoseEcdhKey>, CtapError> {
    let int = |label| opt(map, label, Value::as_i64);
    let bytes = |label| opt(map, label, Value::as_bytes);
    let kty = int(CoseEcdhKey::LABEL_KTY)?;
    let alg = int(CoseEcdhKey::LABEL_ALG)?;
    let crv = int(CoseEcdhKey::LABEL_CRV)?;
    let x = bytes(CoseEcdhKey::LABEL_X)?;
    let y = bytes(CoseEcdhKey::LABEL_Y)?;
    Ok(match (kty, crv, x, y) {
        (Some(kty), Some(crv), Some(x), Some(y)) => {
            CoseEcdhKey::from_parts(kty, alg, crv, x, y).ok()
        }
        _ => None,
    })
}

/// `getPublicKey()` as a COSE_Key value.
pub fn cose_key_value(key: &CoseEcdhKey) -> Value {
    Value::map(vec![
        (
            Value::from(CoseEcdhKey::LABEL_KTY),
            Value::from(CoseEcdhKey::KTY_EC2),
        ),
        (
            Value::from(CoseEcdhKey::LABEL_ALG),
            Value::from(CoseEcdhKey::ALG_ECDH_ES_HKDF_256),
        ),
        (
            Value::from(CoseEcdhKey::LABEL_CRV),
            Value::from(CoseEcdhKey::CRV_P256),
        ),
        (
            Value::from(CoseEcdhKey::LABEL_X),
            Value::from(key.x.to_vec()),
        ),
        (
            Value::from(CoseEcdhKey::LABEL_Y),
            Value::from(key.y.to_vec()),
        ),
    ])
}

/// The permissions a token of this card can carry (CTAP 2.1 §6.5.5.7.2
/// step 4): `mc` and `ga` always, `cm` with credMgmt, `lbw` with
/// largeBlobs, `acfg` with authnrCfg, `pcmr` with perCredMgmtRO (each as
/// getInfo lists it), `be` never (no bioEnroll).
pub fn grantable_permissions(config: &Config) -> u8 {
    let mut grantable = permission::MAKE_CREDENTIAL | permission::GET_ASSERTION;
    if option_enabled(config, CardOption::PerCredMgmtRo) {
        grantable |= permission::PER_CRED_MGMT_RO;
    }
    if option_enabled(config, CardOption::CredMgmt) {
        grantable |= permission::CREDENTIAL_MANAGEMENT;
    }
    if option_enabled(config, CardOption::LargeBlobs) {
        grantable |= permission::LARGE_BLOB_WRITE;
    }
    if option_enabled(config, CardOption::AuthnrCfg) {
        grantable |= permission::AUTHENTICATOR_CONFIG;
    }
    grantable
}

/// The rules a new PIN must meet now (CTAP 2.3 §6.5.5.5 / §6.5.5.6: the
/// current minPINLength, maxPINLength, and the complexity policy when it is
/// enforced — from the factory, or turned on by setMinPINLength).
pub fn pin_rules(config: &Config, store: &dyn PinStore) -> PinRules {
    let complexity = config
        .pin_complexity_policy
        .factory()
        .map(|_| config.pin_complexity);
    let enforce = match config.pin_complexity_policy.factory() {
        None => false,
        Some(factory) => factory || store.complexity_policy_on(),
    };
    PinRules {
        min_code_points: store.min_pin_length(),
        max_code_points: config.max_pin_code_points(),
        complexity,
        enforce_complexity: enforce,
    }
}

/// What the handler works on.
pub struct ClientPinContext<'a> {
    /// The environment (RNG, clock, storage).
    pub env: &'a mut dyn Env,
    /// The card profile.
    pub config: &'a Config,
    /// The persistent PIN data.
    pub store: &'a mut dyn PinStore,
    /// The per-power-cycle ClientPIN state.
    pub pin: &'a mut PinState,
}

impl std::fmt::Debug for ClientPinContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientPinContext")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

fn required(value: Option<&[u8]>) -> Result<&[u8], CtapError> {
    value.ok_or(CtapError::MissingParameter)
}

/// authenticatorClientPIN: `params` is the decoded request map; the result
/// is the response map, or `None` for an empty `CTAP2_OK`.
pub fn client_pin(ctx: ClientPinContext<'_>, params: &Value) -> Result<Option<Value>, CtapError> {
    let ClientPinContext {
        env,
        config,
        store,
        pin,
    } = ctx;
    let request = Request::decode(params)?;
    let sub_command = SubCommand::from_wire(request.sub_command)?;
    // Subcommand 0x09 is the `pinUvAuthToken` feature (CTAP 2.1 §6.4).
    if sub_command == SubCommand::GetPinUvAuthTokenUsingPinWithPermissions
        && !option_enabled(config, CardOption::PinUvAuthToken)
    {
        return Err(CtapError::InvalidSubcommand);
    }
    let enabled = config.pin_uv_auth_protocols.as_slice();
    match sub_command {
        SubCommand::GetPinRetries => Ok(Some(Value::map(vec![
            (
                Value::from(RESP_PIN_RETRIES),
                Value::from(store.pin_retries()),
            ),
            (
                Value::from(RESP_POWER_CYCLE_STATE),
                Value::from(pin.power_cycle_required()),
            ),
        ]))),
        SubCommand::GetKeyAgreement => {
            let protocol = check_protocol(request.protocol, enabled)?;
            Ok(Some(Value::map(vec![(
                Value::from(RESP_KEY_AGREEMENT),
                cose_key_value(&pin.key_agreement(protocol)),
            )])))
        }
        SubCommand::SetPin | SubCommand::ChangePin => {
            let key_agreement = request.key_agreement.ok_or(CtapError::MissingParameter)?;
            let pin_uv_auth_param = required(request.pin_uv_auth_param)?;
            let new_pin_enc = required(request.new_pin_enc)?;
            let pin_hash_enc = if sub_command == SubCommand::ChangePin {
                Some(required(request.pin_hash_enc)?)
            } else {
                None
            };
            let key_agreement = parse_key_agreement(&key_agreement)?;
            let protocol = check_protocol(request.protocol, enabled)?;
            let new_pin = NewPinRequest {
                protocol,
                key_agreement: key_agreement.as_ref(),
                pin_uv_auth_param,
                new_pin_enc,
                rules: pin_rules(config, &*store),
            };
            match pin_hash_enc {
                None => pin.set_pin(env, store, new_pin)?,
                Some(pin_hash_enc) => pin.change_pin(env, store, new_pin, pin_hash_enc)?,
            }
            Ok(None)
        }
        SubCommand::GetPinToken | SubCommand::GetPinUvAuthTokenUsingPinWithPermissions => {
            let key_agreement = request.key_agreement.ok_or(CtapError::MissingParameter)?;
            let key_agreement = parse_key_agreement(&key_agreement)?;
            let pin_hash_enc = required(request.pin_hash_enc)?;
            let permissions = if sub_command == SubCommand::GetPinToken {
                None
            } else {
                Some(request.permissions.ok_or(CtapError::MissingParameter)?)
            };
            let protocol = check_protocol(request.protocol, enabled)?;
            let permissions = match permissions {
                None => {
                    // getPinToken takes neither (CTAP 2.1 §6.5.5.7.1 steps 3-4).
                    if request.permissions.is_some() || request.rp_id.is_some() {
                        return Err(CtapError::InvalidParameter);
                    }
                    None
                }
                Some(0) => return Err(CtapError::InvalidParameter),
                // Undefined bits (above 0x40) are ignored by the token
                // machine (§6.5.5.7.2 step 4), not taken as 0.
                Some(bits) => Some((bits, request.rp_id.map(str::to_owned))),
            };
            let token = pin.get_token(
                env,
                store,
                TokenRequest {
                    protocol,
                    key_agreement: key_agreement.as_ref(),
                    pin_hash_enc,
                    permissions,
                    grantable: grantable_permissions(config),
                },
            )?;
            Ok(Some(Value::map(vec![(
                Value::from(RESP_PIN_UV_AUTH_TOKEN),
                Value::from(token),
            )])))
        }
    }
}

/// The dispatcher's entry point.
pub fn handle(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    params: &Value,
) -> Result<Option<Value>, Failure> {
    let ctx = ClientPinContext {
        env,
        config: &auth.config,
        store: &mut auth.state,
        pin: &mut auth.pin,
    };
    Ok(client_pin(ctx, params)?)
}

/// `00` followed by the CBOR response, or `00` alone for an empty response
/// (CTAP 2.1 §8.1: commands without response data return only the status).
pub fn status_ok(response: Option<Value>) -> Vec<u8> {
    let mut out = vec![crate::error::CTAP2_OK];
    if let Some(value) = response {
        cbor::encode_into(&value, &mut out);
    }
    out
}
