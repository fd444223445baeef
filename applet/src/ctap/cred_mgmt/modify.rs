//! deleteCredential and updateUserInformation (CTAP 2.1 §6.8.5, §6.8.6).
//!
//! ```text
//!  deleteCredential       {0x02 credentialID}        ─▶ 00 (no data)
//!  updateUserInformation  {0x02 credentialID,
//!                          0x03 user {id, ?name, ?displayName}} ─▶ 00
//!
//!  credentialID not a stored discoverable credential ─▶ NO_CREDENTIALS
//!  user.id differs from the stored user handle      ─▶ INVALID_PARAMETER
//!  name / displayName absent or empty               ─▶ removed, otherwise
//!                                                      replaced (truncated)
//! ```
//! Both are one atomic write through `CardState::update`, done before the
//! success status is returned.

use crate::cbor::Value;
use crate::ctap::{truncate_utf8, Authenticator};
use crate::env::Env;
use crate::error::CtapError;

/// The RP ID hash of a stored discoverable credential (`NO_CREDENTIALS`
/// when there is none with this ID).
pub(super) fn rp_of(auth: &Authenticator, id: &[u8]) -> Result<[u8; 32], CtapError> {
    auth.resident(id)
        .map(|c| c.rp_id_hash)
        .ok_or(CtapError::NoCredentials)
}

/// deleteCredential: remove it, durably.
pub(super) fn delete(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    id: &[u8],
) -> Result<(), CtapError> {
    auth.state.update(env, |p| {
        let before = p.credentials.len();
        p.credentials.retain(|c| c.id != id);
        if p.credentials.len() == before {
            return Err(CtapError::NoCredentials);
        }
        Ok(())
    })
}

/// The `user` parameter of updateUserInformation.
#[derive(Debug)]
pub(super) struct UserUpdate<'a> {
    id: &'a [u8],
    name: Option<&'a str>,
    display_name: Option<&'a str>,
}

impl<'a> UserUpdate<'a> {
    pub(super) fn decode(v: &'a Value) -> Result<Self, CtapError> {
        let m = v.as_map()?;
        let id = m.required_text("id")?.as_bytes()?;
        let name = m.get_text("name").map(Value::as_text).transpose()?;
        let display_name = m.get_text("displayName").map(Value::as_text).transpose()?;
        Ok(UserUpdate {
            id,
            name,
            display_name,
        })
    }
}

/// updateUserInformation: same user handle required; name and displayName
/// replaced, or removed when absent or empty.
pub(super) fn update_user(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    id: &[u8],
    user: &UserUpdate<'_>,
) -> Result<(), CtapError> {
    let max = auth.config.max_stored_string_length;
    let keep = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(|s| truncate_utf8(s, max));
    let name = keep(user.name);
    let display_name = keep(user.display_name);
    auth.state.update(env, |p| {
        let c = p
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(CtapError::NoCredentials)?;
        if c.user_id != user.id {
            return Err(CtapError::InvalidParameter);
        }
        c.user_name = name;
        c.user_display_name = display_name;
        Ok(())
    })
}
