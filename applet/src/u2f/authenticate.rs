//! U2F_AUTHENTICATE (U2F Raw Message Formats v1.2 §5).
//!
//! ```text
//!  P1: 03 enforce presence and sign | 07 check only | 08 sign without presence
//!  request data:  challenge (32) || application (32) || L (1) || key handle (L)
//!  response:      user presence (1: 01 or 00) || counter (4, big-endian) || signature
//!  signature over application (32) || user presence (1) || counter (4) || challenge (32)
//! ```
//! Check-only answers `69 85` for a valid key handle ("presence would be
//! needed") and `6A 80` for an invalid one, changing nothing.

use super::{
    two_params, Params, U2f, U2fError, P1_CHECK_ONLY, P1_DONT_ENFORCE_PRESENCE, P1_ENFORCE_PRESENCE,
};
use crate::credential::Sealed;
use crate::iso::Command;
use crate::keys::PrivateKey;

/// credProtect level 3, userVerificationRequired (CTAP 2.1 §12.1): such a
/// credential is never usable without UV, and U2F has no UV.
const CRED_PROTECT_UV_REQUIRED: u8 = 3;

pub(super) fn authenticate(
    ctx: U2f<'_>,
    cmd: &Command<'_>,
    reply: &mut Vec<u8>,
) -> Result<(), U2fError> {
    let enforce = match cmd.p1 {
        P1_ENFORCE_PRESENCE => true,
        P1_DONT_ENFORCE_PRESENCE | P1_CHECK_ONLY => false,
        _ => return Err(U2fError::IncorrectP1P2),
    };
    let Params {
        challenge,
        application,
        rest,
    } = two_params(cmd.data)?;
    let (&handle_len, key_handle) = rest.split_first().ok_or(U2fError::WrongLength)?;
    if key_handle.len() != usize::from(handle_len) {
        return Err(U2fError::WrongLength);
    }

    let sealed = find_credential(&ctx, application, key_handle).ok_or(U2fError::WrongData)?;
    if cmd.p1 == P1_CHECK_ONLY {
        return Err(U2fError::ConditionsNotSatisfied);
    }
    if enforce && !ctx.user_present {
        return Err(U2fError::ConditionsNotSatisfied);
    }
    let presence = u8::from(ctx.user_present);

    // Persist-then-respond: the counter is durable before it is signed.
    let counter = ctx
        .state
        .next_sign_count(ctx.env)
        .map_err(|_| U2fError::MemoryFailure)?
        .to_be_bytes();

    let mut message = Vec::with_capacity(32 + 1 + 4 + 32);
    message.extend_from_slice(application);
    message.push(presence);
    message.extend_from_slice(&counter);
    message.extend_from_slice(challenge);
    let signature = sealed.key.sign(&message).ok_or(U2fError::Unspecified)?;

    reply.push(presence);
    reply.extend_from_slice(&counter);
    reply.extend_from_slice(&signature);
    Ok(())
}

/// The ES256 credential behind `key_handle` for `application`, if it is one
/// of ours that U2F may use.
fn find_credential(ctx: &U2f<'_>, application: &[u8; 32], key_handle: &[u8]) -> Option<Sealed> {
    let sealed = ctx.id_key.unwrap(application, key_handle)?;
    if !matches!(sealed.key, PrivateKey::Es256(_)) {
        return None;
    }
    if sealed.flags.cred_protect == CRED_PROTECT_UV_REQUIRED {
        return None;
    }
    // A discoverable credential deleted through credential management (or a
    // reset) must not come back through its ID.
    if sealed.flags.discoverable {
        let stored = ctx
            .state
            .persistent()
            .credentials
            .iter()
            .any(|c| c.id == key_handle);
        if !stored {
            return None;
        }
    }
    Some(sealed)
}
