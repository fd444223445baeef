//! pinUvAuthParam in authenticatorMakeCredential (CTAP 2.1 §6.1.2) and
//! authenticatorGetAssertion (§6.2.2).
//!
//! ```text
//!  pinUvAuthParam  pinUvAuthProtocol  result
//!  absent          any                UV not requested (the caller applies
//!                                     alwaysUv / rk / makeCredUvNotRqd rules)
//!  h''             any                after user presence: PIN_INVALID if a
//!                                     PIN is set, else PIN_NOT_SET   (step 1)
//!  present         absent             MISSING_PARAMETER               (step 2)
//!  present         not 1/2 or off     INVALID_PARAMETER               (step 2)
//!  present         ok, no PIN set     PIN_NOT_SET
//!  present         ok                 verify(token, clientDataHash, param),
//!                                     permission, RP ID, userVerified:
//!                                     any failure → PIN_AUTH_INVALID (step 11)
//!                                     success → UV; the RP ID is bound
//! ```
//!
//! The caller, once it has collected user presence for the request, calls
//! [`consume_after_user_presence`] (§6.1.2 step 14.4, §6.2.2 step 9): a
//! token verifies one ceremony with presence.

use std::time::Duration;

use crate::error::CtapError;
use crate::pin::machine::PinState;
use crate::pin::protocol::PinUvAuthProtocol;
use crate::pin::store::PinStore;

/// The pinUvAuthParam / pinUvAuthProtocol pair of an MC or GA request.
#[derive(Clone, Copy, Debug, Default)]
pub struct PinUvAuth<'a> {
    /// `pinUvAuthParam` (MC/GA key 0x08 / 0x06).
    pub param: Option<&'a [u8]>,
    /// `pinUvAuthProtocol` (MC/GA key 0x09 / 0x07), as sent.
    pub protocol: Option<u64>,
}

impl PinUvAuth<'_> {
    /// Whether the platform sent a zero-length pinUvAuthParam (§6.1.2
    /// step 1): it is probing for a PIN. The caller collects user presence
    /// first, then returns [`zero_length_status`].
    pub fn is_probe(&self) -> bool {
        self.param.is_some_and(<[u8]>::is_empty)
    }
}

/// The status after a zero-length pinUvAuthParam and user presence
/// (§6.1.2 step 1.3, §6.2.2 step 1.3).
pub fn zero_length_status(store: &dyn PinStore) -> CtapError {
    if store.pin_hash().is_some() {
        CtapError::PinInvalid
    } else {
        CtapError::PinNotSet
    }
}

/// Which command is verifying, with the permission it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UvFor {
    /// authenticatorMakeCredential: `mc`.
    MakeCredential,
    /// authenticatorGetAssertion: `ga`.
    GetAssertion,
}

impl UvFor {
    fn permission(self) -> u8 {
        match self {
            UvFor::MakeCredential => crate::pin::token::permission::MAKE_CREDENTIAL,
            UvFor::GetAssertion => crate::pin::token::permission::GET_ASSERTION,
        }
    }
}

/// The checked pinUvAuthProtocol, or the status for a bad one (§6.1.2
/// step 2): `enabled` is the card's getInfo `pinUvAuthProtocols`.
pub fn check_protocol(
    protocol: Option<u64>,
    enabled: &[u8],
) -> Result<PinUvAuthProtocol, CtapError> {
    let wire = protocol.ok_or(CtapError::MissingParameter)?;
    let protocol = PinUvAuthProtocol::from_wire(wire).map_err(|_| CtapError::InvalidParameter)?;
    if enabled.contains(&protocol.wire()) {
        Ok(protocol)
    } else {
        Err(CtapError::InvalidParameter)
    }
}

/// What an MC or GA asks [`verify_pin_uv_auth_param`] to check.
#[derive(Clone, Copy, Debug)]
pub struct UvCheck<'a> {
    /// pinUvAuthParam and pinUvAuthProtocol as sent.
    pub auth: PinUvAuth<'a>,
    /// The card's getInfo `pinUvAuthProtocols`.
    pub enabled_protocols: &'a [u8],
    /// `clientDataHash`, the message the platform authenticated.
    pub client_data_hash: &'a [u8],
    /// `rp.id` (MC) or `rpId` (GA).
    pub rp_id: &'a str,
    /// The verifying command.
    pub command: UvFor,
}

/// Verifies a present, non-empty pinUvAuthParam for MC or GA (§6.1.2
/// steps 2 and 11, §6.2.2 steps 2 and 5): `Ok(())` means user verification
/// is established for this request and the uv flag is to be set.
///
/// Every failure is `CTAP2_ERR_PIN_AUTH_INVALID` except a missing or
/// unsupported protocol (step 2) and a card without PIN (PIN_NOT_SET). PIN
/// retries are never touched.
pub fn verify_pin_uv_auth_param(
    pin: &mut PinState,
    store: &dyn PinStore,
    now: Duration,
    check: UvCheck<'_>,
) -> Result<(), CtapError> {
    let UvCheck {
        auth,
        enabled_protocols,
        client_data_hash,
        rp_id,
        command,
    } = check;
    let param = auth.param.ok_or(CtapError::MissingParameter)?;
    let protocol = check_protocol(auth.protocol, enabled_protocols)?;
    if param.is_empty() {
        return Err(zero_length_status(store));
    }
    if store.pin_hash().is_none() {
        return Err(CtapError::PinNotSet);
    }
    let tokens = pin.tokens();
    if !tokens.verify(now, protocol, client_data_hash, param) {
        return Err(CtapError::PinAuthInvalid);
    }
    if !tokens.has_permission(now, command.permission()) {
        return Err(CtapError::PinAuthInvalid);
    }
    if !tokens.user_verified(now) {
        return Err(CtapError::PinAuthInvalid);
    }
    // Checked last so that a token is bound only when everything else holds.
    if !tokens.check_or_bind_rp_id(now, rp_id, true) {
        return Err(CtapError::PinAuthInvalid);
    }
    tokens.mark_used();
    Ok(())
}

/// Verifies the pinUvAuthParam of a command authorized by a token alone —
/// authenticatorConfig (§6.11), authenticatorCredentialManagement (§6.8),
/// authenticatorLargeBlobs set (§6.10.2): the param must be present
/// (`PUAT_REQUIRED`), the protocol enabled (step 2 statuses), and
/// `verify(token, message, param)` and the token's `permission` must hold
/// (`PIN_AUTH_INVALID`). `message` builds the authenticated bytes once the
/// protocol is accepted. The caller marks the token used when every other
/// check of its command has passed too.
pub fn verify_command_param(
    pin: &mut PinState,
    now: Duration,
    auth: PinUvAuth<'_>,
    enabled_protocols: &[u8],
    message: impl FnOnce() -> Result<Vec<u8>, CtapError>,
    permission: u8,
) -> Result<(), CtapError> {
    let param = auth.param.ok_or(CtapError::PuatRequired)?;
    let protocol = check_protocol(auth.protocol, enabled_protocols)?;
    let message = message()?;
    let tokens = pin.tokens();
    if !tokens.verify(now, protocol, &message, param) || !tokens.has_permission(now, permission) {
        return Err(CtapError::PinAuthInvalid);
    }
    Ok(())
}

/// `clearUserPresentFlag()`, `clearUserVerifiedFlag()`,
/// `clearPinUvAuthTokenPermissionsExceptLbw()`: call after an MC or GA that
/// collected user presence.
pub fn consume_after_user_presence(pin: &mut PinState) {
    pin.tokens().consume_after_user_presence();
}
