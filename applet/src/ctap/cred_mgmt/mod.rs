//! authenticatorCredentialManagement (0x0A, and 0x41 for FIDO_2_1_PRE
//! platforms, same semantics), CTAP 2.1 §6.8.
//!
//! ```text
//!  request map                            subCommand
//!  0x01 subCommand        uint            0x01 getCredsMetadata
//!  0x02 subCommandParams  map             0x02 enumerateRPsBegin
//!         0x01 rpIDHash      bstr(32)     0x03 enumerateRPsGetNextRP
//!         0x02 credentialID  descriptor   0x04 enumerateCredentialsBegin   {rpIDHash}
//!         0x03 user          user entity  0x05 enumerateCredentialsGetNextCredential
//!  0x03 pinUvAuthProtocol uint            0x06 deleteCredential          {credentialID}
//!  0x04 pinUvAuthParam    bstr            0x07 updateUserInformation     {credentialID, user}
//!
//!  response map
//!  0x01 existingResidentCredentialsCount             0x06 user
//!  0x02 maxPossibleRemainingResidentCredentialsCount 0x07 credentialID
//!  0x03 rp            0x04 rpIDHash                  0x08 publicKey (COSE_Key)
//!  0x05 totalRPs      (Begin only)                   0x09 totalCredentials (Begin only)
//!                                                    0x0A credProtect
//!                                                    0x0B largeBlobKey
//!
//!  pinUvAuthParam = authenticate(pinUvAuthToken, uint8(subCommand) || subCommandParams)
//!    (every subcommand except the two GetNext ones)
//!    missing ─▶ PUAT_REQUIRED; protocol missing ─▶ MISSING_PARAMETER, unsupported
//!    ─▶ INVALID_PARAMETER; bad MAC, no token in use, no `cm` permission
//!    ─▶ PIN_AUTH_INVALID
//!  token bound to an RP (permissions RP ID): only its own RP's credentials;
//!    getCredsMetadata and enumerateRPs ─▶ PIN_AUTH_INVALID
//!  persistent pinUvAuthToken (`pcmr`, CTAP 2.3, profile option
//!    perCredMgmtRO): accepted for getCredsMetadata, enumerateRPsBegin and
//!    enumerateCredentialsBegin, across power cycles, unbound;
//!    deleteCredential and updateUserInformation ─▶ PIN_AUTH_INVALID
//!  0x0C thirdPartyPayment (enumerateCredentials, CTAP 2.2, with the
//!    thirdPartyPayment extension): the credential's mark
//!  unknown subCommand ─▶ INVALID_SUBCOMMAND
//! ```
//!
//! Enumeration state ([`Enumeration`]) lives in [`crate::state::Transient`]:
//! a Begin replaces it, the matching GetNext consumes it, any other command
//! (another credMgmt subcommand included) and a power cycle drop it. GET
//! RESPONSE paging happens in the bridge and never reaches the applet, so it
//! cannot disturb an enumeration. GetNext without one ─▶ NOT_ALLOWED.
//!
//! deleteCredential and updateUserInformation go through
//! [`crate::state::CardState::update`]: the change is durable before the
//! response leaves, and a failed write changes nothing.

mod enumerate;
mod modify;

use crate::config::CardOption;
use subtle::ConstantTimeEq;

use super::{parse, rp_id_hash, Authenticator, Failure};
use crate::cbor::{self, Map, Value};
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::persistent;
use crate::pin::token::permission;
use crate::pin::uv::{check_protocol, verify_command_param, PinUvAuth};

/// getCredsMetadata.
pub const GET_CREDS_METADATA: u8 = 0x01;
/// enumerateRPsBegin.
pub const ENUMERATE_RPS_BEGIN: u8 = 0x02;
/// enumerateRPsGetNextRP.
pub const ENUMERATE_RPS_GET_NEXT: u8 = 0x03;
/// enumerateCredentialsBegin.
pub const ENUMERATE_CREDENTIALS_BEGIN: u8 = 0x04;
/// enumerateCredentialsGetNextCredential.
pub const ENUMERATE_CREDENTIALS_GET_NEXT: u8 = 0x05;
/// deleteCredential.
pub const DELETE_CREDENTIAL: u8 = 0x06;
/// updateUserInformation.
pub const UPDATE_USER_INFORMATION: u8 = 0x07;

const KEY_SUB_COMMAND: i64 = 0x01;
const KEY_SUB_COMMAND_PARAMS: i64 = 0x02;
const KEY_PROTOCOL: i64 = 0x03;
const KEY_PIN_UV_AUTH_PARAM: i64 = 0x04;

/// subCommandParams keys.
const PARAM_RP_ID_HASH: i64 = 0x01;
const PARAM_CREDENTIAL_ID: i64 = 0x02;
const PARAM_USER: i64 = 0x03;

/// Response keys.
mod resp {
    pub const EXISTING_COUNT: u8 = 0x01;
    pub const REMAINING_COUNT: u8 = 0x02;
    pub const RP: u8 = 0x03;
    pub const RP_ID_HASH: u8 = 0x04;
    pub const TOTAL_RPS: u8 = 0x05;
    pub const USER: u8 = 0x06;
    pub const CREDENTIAL_ID: u8 = 0x07;
    pub const PUBLIC_KEY: u8 = 0x08;
    pub const TOTAL_CREDENTIALS: u8 = 0x09;
    pub const CRED_PROTECT: u8 = 0x0A;
    pub const LARGE_BLOB_KEY: u8 = 0x0B;
    pub const THIRD_PARTY_PAYMENT: u8 = 0x0C;
}

pub use crate::state::Enumeration;

/// A decoded request.
#[derive(Debug)]
struct Request<'a> {
    sub_command: u8,
    /// subCommandParams as sent (part of the authenticated message).
    params_value: Option<&'a Value>,
    params: Option<Map<'a>>,
    auth: PinUvAuth<'a>,
}

fn decode(params: &Value) -> Result<Request<'_>, CtapError> {
    let m = parse::request(params)?;
    let sub_command = m.required(KEY_SUB_COMMAND)?.as_u64()?;
    let params_value = m.get(KEY_SUB_COMMAND_PARAMS);
    let params = params_value.map(Value::as_map).transpose()?;
    let auth = parse::pin_uv_auth(&m, KEY_PIN_UV_AUTH_PARAM, KEY_PROTOCOL)?;
    let sub_command = u8::try_from(sub_command).map_err(|_| CtapError::InvalidSubcommand)?;
    Ok(Request {
        sub_command,
        params_value,
        params,
        auth,
    })
}

impl Request<'_> {
    /// A required subCommandParams entry (`MISSING_PARAMETER` otherwise).
    fn param(&self, key: i64) -> Result<&Value, CtapError> {
        self.params
            .as_ref()
            .and_then(|p| p.get(key))
            .ok_or(CtapError::MissingParameter)
    }

    /// The `id` of the credentialID descriptor.
    fn credential_id(&self) -> Result<&[u8], CtapError> {
        let d = self.param(PARAM_CREDENTIAL_ID)?.as_map()?;
        if let Some(ty) = d.get_text("type") {
            ty.as_text()?;
        }
        d.required_text("id")?.as_bytes()
    }

    /// rpIDHash (32 bytes; another length is `INVALID_PARAMETER`).
    fn rp_id_hash(&self) -> Result<[u8; 32], CtapError> {
        <[u8; 32]>::try_from(self.param(PARAM_RP_ID_HASH)?.as_bytes()?)
            .map_err(|_| CtapError::InvalidParameter)
    }
}

/// What the token may see (CTAP 2.1 §6.8.2-§6.8.6, permissions RP ID steps).
#[derive(Clone, Copy, Debug)]
enum Scope<'a> {
    /// The whole store: a token bound to an RP is refused.
    All,
    /// One RP's credentials: a token bound to another RP is refused.
    Rp(&'a [u8; 32]),
}

/// Which token authorized a subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Authorized {
    /// The pinUvAuthToken in use, with the `cm` permission.
    Token,
    /// The persistent pinUvAuthToken (`pcmr`): read-only subcommands only.
    Persistent,
}

/// The authenticated message: `subCommand || subCommandParams`.
fn message(req: &Request<'_>) -> Vec<u8> {
    let mut message = vec![req.sub_command];
    if let Some(value) = req.params_value {
        // The strict decoder accepts only canonical CBOR, so re-encoding
        // gives back the bytes the platform authenticated.
        cbor::encode_into(value, &mut message);
    }
    message
}

/// Verify pinUvAuthParam over `subCommand || subCommandParams` and the `cm`
/// permission; for a read-only subcommand (`read_only`), the persistent
/// token is tried when the ordinary one does not verify. The RP scope is
/// checked separately ([`check_scope`]) where the specification puts it.
fn verify_token(
    auth: &mut Authenticator,
    env: &dyn Env,
    req: &Request<'_>,
    read_only: bool,
) -> Result<Authorized, CtapError> {
    let ordinary = verify_command_param(
        &mut auth.pin,
        env.now(),
        req.auth,
        &auth.config.pin_uv_auth_protocols,
        || Ok(message(req)),
        permission::CREDENTIAL_MANAGEMENT,
    );
    match ordinary {
        Err(CtapError::PinAuthInvalid)
            if read_only
                && super::get_info::option_enabled(&auth.config, CardOption::PerCredMgmtRo) =>
        {
            let protocol = check_protocol(req.auth.protocol, &auth.config.pin_uv_auth_protocols)?;
            let param = req.auth.param.ok_or(CtapError::PuatRequired)?;
            if persistent::verify(&auth.state, protocol, &message(req), param) {
                Ok(Authorized::Persistent)
            } else {
                Err(CtapError::PinAuthInvalid)
            }
        }
        Err(e) => Err(e),
        Ok(()) => Ok(Authorized::Token),
    }
}

/// Check the token's permissions RP ID against `scope`; on success the
/// token counts as used. The persistent token is bound to no RP.
fn check_scope(
    auth: &mut Authenticator,
    env: &dyn Env,
    by: Authorized,
    scope: Scope<'_>,
) -> Result<(), CtapError> {
    if by == Authorized::Persistent {
        return Ok(());
    }
    let now = env.now();
    let tokens = auth.pin.tokens();
    let bound = tokens.rp_id(now).map(rp_id_hash);
    let allowed = match (bound, scope) {
        (None, _) => true,
        (Some(_), Scope::All) => false,
        (Some(bound), Scope::Rp(hash)) => bool::from(bound.ct_eq(hash)),
    };
    if !allowed {
        return Err(CtapError::PinAuthInvalid);
    }
    tokens.mark_used();
    Ok(())
}

/// Whether the profile offers credential management under `command`
/// (0x0A: `credMgmt`; 0x41: `credMgmt` or `credentialMgmtPreview`).
pub fn supported(auth: &Authenticator, command: u8) -> bool {
    let on = |name| super::get_info::option_enabled(&auth.config, name);
    match command {
        super::CREDENTIAL_MANAGEMENT => on(CardOption::CredMgmt),
        super::CREDENTIAL_MANAGEMENT_PRE => {
            on(CardOption::CredMgmt) || on(CardOption::CredentialMgmtPreview)
        }
        _ => false,
    }
}

/// The dispatcher's entry point: the response map, or `None` for a bare
/// success status (deleteCredential, updateUserInformation).
///
/// `enumeration` is the one in progress, already taken out of
/// [`crate::state::Transient`]: only the matching GetNext puts the rest back.
pub fn handle(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    enumeration: Option<Enumeration>,
    params: &Value,
) -> Result<Option<Value>, Failure> {
    let req = decode(params)?;
    let response = match req.sub_command {
        GET_CREDS_METADATA => {
            let by = verify_token(auth, env, &req, true)?;
            check_scope(auth, env, by, Scope::All)?;
            Some(enumerate::metadata(auth))
        }
        ENUMERATE_RPS_BEGIN => {
            let by = verify_token(auth, env, &req, true)?;
            check_scope(auth, env, by, Scope::All)?;
            Some(enumerate::rps_begin(auth)?)
        }
        ENUMERATE_RPS_GET_NEXT => Some(enumerate::rps_next(auth, enumeration)?),
        ENUMERATE_CREDENTIALS_BEGIN => {
            let hash = req.rp_id_hash()?;
            let by = verify_token(auth, env, &req, true)?;
            check_scope(auth, env, by, Scope::Rp(&hash))?;
            Some(enumerate::credentials_begin(auth, &hash)?)
        }
        ENUMERATE_CREDENTIALS_GET_NEXT => Some(enumerate::credentials_next(auth, enumeration)?),
        DELETE_CREDENTIAL => {
            let id = req.credential_id()?;
            let by = verify_token(auth, env, &req, false)?;
            let hash = modify::rp_of(auth, id)?;
            check_scope(auth, env, by, Scope::Rp(&hash))?;
            modify::delete(auth, env, id)?;
            None
        }
        UPDATE_USER_INFORMATION => {
            let id = req.credential_id()?;
            let user = modify::UserUpdate::decode(req.param(PARAM_USER)?)?;
            let by = verify_token(auth, env, &req, false)?;
            let hash = modify::rp_of(auth, id)?;
            check_scope(auth, env, by, Scope::Rp(&hash))?;
            modify::update_user(auth, env, id, &user)?;
            None
        }
        _ => return Err(CtapError::InvalidSubcommand.into()),
    };
    Ok(response)
}
