//! authenticatorCredentialManagement (CTAP 2.1 §6.8): list and delete
//! discoverable credentials.
//!
//! ```text
//!  request 0A { 1: subCommand, 2: subCommandParams, 3: pinUvAuthProtocol,
//!              4: pinUvAuthParam = auth(token, subCommand || CBOR(params)) }
//!  01 getCredsMetadata            → { 1: existing, 2: maxPossibleRemaining }
//!  02 enumerateRPsBegin           → { 3: rp, 4: rpIDHash, 5: totalRPs }
//!  03 enumerateRPsGetNextRP       → { 3: rp, 4: rpIDHash }
//!  04 enumerateCredentialsBegin {1: rpIDHash} → { 6: user, 7: credentialID,
//!                                     8: publicKey, 9: totalCredentials, 10: credProtect }
//!  05 enumerateCredentialsGetNextCredential
//!  06 deleteCredential {2: credentialID descriptor}
//! ```
//! Cards that only speak the CTAP 2.1 preview take command 0x41 instead;
//! [`CardSession::list_credentials`] falls back to it.

use serde::Serialize;

use super::client_pin::PinToken;
use super::fields::{self, get, get_text};
use super::get_assertion::UserEntity;
use super::make_credential::credential_descriptor;
use super::pin_protocol::PROTOCOL_TWO;
use super::session::CardSession;
use super::status::CtapStatus;
use super::transport::Transport;
use super::HostError;
use applet::cbor::{self, Value};

/// authenticatorCredentialManagement.
pub const CMD_CRED_MGMT: u8 = 0x0A;
/// The CTAP 2.1 preview command number.
pub const CMD_CRED_MGMT_PREVIEW: u8 = 0x41;

/// One discoverable credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialEntry {
    /// RP ID.
    pub rp_id: String,
    /// User entity.
    pub user: UserEntity,
    /// Credential ID.
    #[serde(with = "relying_party::hex_bytes")]
    pub credential_id: Vec<u8>,
    /// credProtect level, if reported.
    pub cred_protect: Option<u64>,
}

/// `tapfido creds list` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialList {
    /// Discoverable credentials stored.
    pub existing: u64,
    /// Room for more.
    pub remaining: u64,
    /// Every credential, grouped by RP in card order.
    pub credentials: Vec<CredentialEntry>,
}

impl<T: Transport> CardSession<T> {
    fn cred_mgmt(
        &mut self,
        cmd: u8,
        sub: u8,
        params: Option<Value>,
        token: Option<&PinToken>,
    ) -> Result<Value, HostError> {
        let mut m = vec![(Value::from(1u8), Value::from(sub))];
        let mut msg = vec![sub];
        if let Some(p) = &params {
            cbor::encode_into(p, &mut msg);
            m.push((Value::from(2u8), p.clone()));
        }
        if let Some(token) = token {
            m.push((Value::from(3u8), Value::from(PROTOCOL_TWO)));
            m.push((Value::from(4u8), Value::Bytes(token.authenticate(&msg))));
        }
        Ok(self
            .ctap(cmd, Some(&Value::Map(m)))?
            .unwrap_or(Value::Map(Vec::new())))
    }

    /// Every discoverable credential (token with permission `cm`).
    pub fn list_credentials(&mut self, token: &PinToken) -> Result<CredentialList, HostError> {
        let (cmd, meta) = match self.cred_mgmt(CMD_CRED_MGMT, 0x01, None, Some(token)) {
            Ok(v) => (CMD_CRED_MGMT, v),
            Err(HostError::Ctap(CtapStatus::InvalidCommand)) => (
                CMD_CRED_MGMT_PREVIEW,
                self.cred_mgmt(CMD_CRED_MGMT_PREVIEW, 0x01, None, Some(token))?,
            ),
            Err(e) => return Err(e),
        };
        let meta = fields::map(&meta, "metadata")?;
        let existing = fields::uint(get(&meta, 1), "existingResidentCredentialsCount")?;
        let remaining = fields::uint(
            get(&meta, 2),
            "maxPossibleRemainingResidentCredentialsCount",
        )?;
        let mut credentials = Vec::new();
        if existing == 0 {
            return Ok(CredentialList {
                existing,
                remaining,
                credentials,
            });
        }
        let first = fields::map(
            &self.cred_mgmt(cmd, 0x02, None, Some(token))?,
            "enumerateRPsBegin",
        )?;
        let total_rps = fields::uint(get(&first, 5), "totalRPs")?;
        let mut rps = Vec::new();
        let mut rp = first;
        for i in 0..total_rps {
            if i > 0 {
                rp = fields::map(
                    &self.cred_mgmt(cmd, 0x03, None, None)?,
                    "enumerateRPsGetNextRP",
                )?;
            }
            let entity = fields::map(get(&rp, 3).ok_or(HostError::Malformed("rp"))?, "rp")?;
            let id = fields::text(get_text(&entity, "id"), "rp.id")?;
            let hash = fields::bytes(get(&rp, 4), "rpIDHash")?;
            rps.push((id, hash));
        }
        for (rp_id, hash) in rps {
            let params = Value::Map(vec![(Value::from(1u8), Value::Bytes(hash))]);
            let mut c = fields::map(
                &self.cred_mgmt(cmd, 0x04, Some(params), Some(token))?,
                "enumerateCredentialsBegin",
            )?;
            let total = fields::uint(get(&c, 9), "totalCredentials")?;
            for i in 0..total {
                if i > 0 {
                    c = fields::map(
                        &self.cred_mgmt(cmd, 0x05, None, None)?,
                        "enumerateCredentialsGetNextCredential",
                    )?;
                }
                let user = fields::map(get(&c, 6).ok_or(HostError::Malformed("user"))?, "user")?;
                let cred = fields::map(
                    get(&c, 7).ok_or(HostError::Malformed("credentialID"))?,
                    "credentialID",
                )?;
                credentials.push(CredentialEntry {
                    rp_id: rp_id.clone(),
                    user: UserEntity {
                        id: fields::bytes(get_text(&user, "id"), "user.id")?,
                        name: fields::opt_text(get_text(&user, "name")),
                        display_name: fields::opt_text(get_text(&user, "displayName")),
                    },
                    credential_id: fields::bytes(get_text(&cred, "id"), "credentialID.id")?,
                    cred_protect: fields::opt_uint(get(&c, 10)),
                });
            }
        }
        Ok(CredentialList {
            existing,
            remaining,
            credentials,
        })
    }

    /// Delete one discoverable credential (token with permission `cm`).
    pub fn delete_credential(
        &mut self,
        token: &PinToken,
        credential_id: &[u8],
    ) -> Result<(), HostError> {
        let params = Value::Map(vec![(
            Value::from(2u8),
            credential_descriptor(credential_id),
        )]);
        match self.cred_mgmt(CMD_CRED_MGMT, 0x06, Some(params.clone()), Some(token)) {
            Ok(_) => Ok(()),
            Err(HostError::Ctap(CtapStatus::InvalidCommand)) => {
                self.cred_mgmt(CMD_CRED_MGMT_PREVIEW, 0x06, Some(params), Some(token))?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// `tapfido creds list` as text: a summary line, then one line per credential.
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
