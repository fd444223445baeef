//! `tapfido creds list|delete` (credential management, needs the PIN).

use crate::host::client_pin::permissions;
use crate::host::cred_mgmt::CredentialList;
use crate::host::session::CardSession;
use crate::host::transport::Transport;
use crate::host::HostError;

fn token<T: Transport>(
    s: &mut CardSession<T>,
    pin: &str,
) -> Result<crate::host::PinToken, HostError> {
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

impl std::fmt::Display for CredentialList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} discoverable credentials, room for {} more",
            self.existing, self.remaining
        )?;
        for c in &self.credentials {
            writeln!(
                f,
                "  {:<24} {:<24} {}",
                c.rp_id,
                c.user
                    .name
                    .clone()
                    .unwrap_or_else(|| hex::encode(&c.user.id)),
                hex::encode(&c.credential_id)
            )?;
        }
        Ok(())
    }
}
