//! `tapfido creds list|delete` (credential management, needs the PIN).

use host::client_pin::permissions;
use host::cred_mgmt::CredentialList;
use host::session::CardSession;
use host::transport::Transport;
use host::HostError;

fn token<T: Transport>(s: &mut CardSession<T>, pin: &str) -> Result<host::PinToken, HostError> {
    if s.version().is_none() {
        s.select()?;
    }
    let info = s.get_info()?;
    if info.option("credMgmt") != Some(true) && info.option("credentialMgmtPreview") != Some(true) {
        return Err(HostError::Unsupported("credential management"));
    }
    let with_perms = info.option("pinUvAuthToken") == Some(true);
    s.pin_token(pin, permissions::CM, None, with_perms)
}

/// `tapfido creds list`.
pub fn list<T: Transport>(s: &mut CardSession<T>, pin: &str) -> Result<CredentialList, HostError> {
    let token = token(s, pin)?;
    s.list_credentials(&token)
}

/// `tapfido creds delete ID`.
pub fn delete<T: Transport>(
    s: &mut CardSession<T>,
    pin: &str,
    credential_id: &[u8],
) -> Result<(), HostError> {
    let token = token(s, pin)?;
    s.delete_credential(&token, credential_id)
}
