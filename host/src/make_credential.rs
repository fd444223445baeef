//! authenticatorMakeCredential (CTAP 2.1 §6.1).
//!
//! ```text
//!  request 01 { 1: clientDataHash, 2: rp {id, name}, 3: user {id, name, displayName},
//!              4: pubKeyCredParams [{alg, type}], 5: excludeList, 6: extensions,
//!              7: options {rk, uv}, 8: pinUvAuthParam = auth(token, clientDataHash),
//!              9: pinUvAuthProtocol, 10: enterpriseAttestation }
//!  response 00 { 1: fmt, 2: authData, 3: attStmt, ?4: epAtt }
//! ```

use serde::Serialize;

use super::client_pin::PinToken;
use super::fields::{self, get, t};
use super::pin_protocol::PROTOCOL_TWO;
use super::session::CardSession;
use super::transport::Transport;
use super::HostError;
use applet::cbor::{self, Value};

/// authenticatorMakeCredential.
pub const CMD_MAKE_CREDENTIAL: u8 = 0x01;

/// What to register.
#[derive(Debug, Clone)]
pub struct MakeCredentialRequest {
    /// SHA-256 of the clientDataJSON.
    pub client_data_hash: [u8; 32],
    /// RP ID.
    pub rp_id: String,
    /// RP display name.
    pub rp_name: Option<String>,
    /// User handle.
    pub user_id: Vec<u8>,
    /// User name.
    pub user_name: String,
    /// User display name.
    pub user_display_name: String,
    /// COSE algorithms, preferred first.
    pub algorithms: Vec<i64>,
    /// Credential IDs that must not be registered again.
    pub exclude_list: Vec<Vec<u8>>,
    /// Discoverable (resident) credential.
    pub resident_key: bool,
    /// Ask for the hmac-secret extension.
    pub hmac_secret: bool,
    /// `enterpriseAttestation` (0x0A): 1 vendor-facilitated, 2
    /// platform-managed (CTAP 2.1 §6.1.2 step 9).
    pub enterprise_attestation: Option<u8>,
}

impl MakeCredentialRequest {
    /// A request for ES256 with the given RP, user and clientDataHash.
    pub fn new(client_data_hash: [u8; 32], rp_id: &str, user_id: &[u8], user_name: &str) -> Self {
        Self {
            client_data_hash,
            rp_id: rp_id.to_owned(),
            rp_name: None,
            user_id: user_id.to_vec(),
            user_name: user_name.to_owned(),
            user_display_name: user_name.to_owned(),
            algorithms: vec![-7, -8],
            exclude_list: Vec::new(),
            resident_key: false,
            hmac_secret: false,
            enterprise_attestation: None,
        }
    }
}

/// The authenticator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakeCredentialResponse {
    /// Attestation statement format.
    pub fmt: String,
    /// Authenticator data.
    pub auth_data: Vec<u8>,
    /// Attestation statement.
    pub att_stmt: Value,
    /// `epAtt` (0x04): the card returned an enterprise attestation.
    pub ep_att: bool,
}

/// A summary for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MakeCredentialSummary {
    /// Attestation format.
    pub fmt: String,
    /// Length of authData.
    pub auth_data_len: usize,
}

impl MakeCredentialResponse {
    /// The WebAuthn attestationObject `{fmt, attStmt, authData}` (canonical
    /// CBOR), as a browser would hand it to a relying party.
    pub fn attestation_object(&self) -> Vec<u8> {
        cbor::encode(&Value::Map(vec![
            (t("fmt"), t(&self.fmt)),
            (t("attStmt"), self.att_stmt.clone()),
            (t("authData"), Value::Bytes(self.auth_data.clone())),
        ]))
    }
}

pub(crate) fn credential_descriptor(id: &[u8]) -> Value {
    Value::Map(vec![
        (t("id"), Value::Bytes(id.to_vec())),
        (t("type"), t("public-key")),
    ])
}

impl<T: Transport> CardSession<T> {
    /// authenticatorMakeCredential; with a token, the request carries
    /// `pinUvAuthParam` and so asks for UV.
    pub fn make_credential(
        &mut self,
        req: &MakeCredentialRequest,
        token: Option<&PinToken>,
    ) -> Result<MakeCredentialResponse, HostError> {
        let mut rp = vec![(t("id"), t(&req.rp_id))];
        if let Some(name) = &req.rp_name {
            rp.push((t("name"), t(name)));
        }
        let user = vec![
            (t("id"), Value::Bytes(req.user_id.clone())),
            (t("name"), t(&req.user_name)),
            (t("displayName"), t(&req.user_display_name)),
        ];
        let params = req
            .algorithms
            .iter()
            .map(|alg| {
                Value::Map(vec![
                    (t("alg"), Value::from(*alg)),
                    (t("type"), t("public-key")),
                ])
            })
            .collect();
        let mut m = vec![
            (
                Value::from(1u8),
                Value::Bytes(req.client_data_hash.to_vec()),
            ),
            (Value::from(2u8), Value::Map(rp)),
            (Value::from(3u8), Value::Map(user)),
            (Value::from(4u8), Value::Array(params)),
        ];
        if !req.exclude_list.is_empty() {
            m.push((
                Value::from(5u8),
                Value::Array(
                    req.exclude_list
                        .iter()
                        .map(|id| credential_descriptor(id))
                        .collect(),
                ),
            ));
        }
        if req.hmac_secret {
            m.push((
                Value::from(6u8),
                Value::Map(vec![(t("hmac-secret"), Value::Bool(true))]),
            ));
        }
        if req.resident_key {
            m.push((
                Value::from(7u8),
                Value::Map(vec![(t("rk"), Value::Bool(true))]),
            ));
        }
        if let Some(token) = token {
            m.push((
                Value::from(8u8),
                Value::Bytes(token.authenticate(&req.client_data_hash)),
            ));
            m.push((Value::from(9u8), Value::from(PROTOCOL_TWO)));
        }
        if let Some(ea) = req.enterprise_attestation {
            m.push((Value::from(0x0Au8), Value::from(ea)));
        }
        let v = self
            .ctap(CMD_MAKE_CREDENTIAL, Some(&Value::Map(m)))?
            .ok_or(HostError::Malformed("makeCredential returned no data"))?;
        let r = fields::map(&v, "makeCredential response")?;
        Ok(MakeCredentialResponse {
            fmt: fields::text(get(&r, 1), "fmt")?,
            auth_data: fields::bytes(get(&r, 2), "authData")?,
            att_stmt: get(&r, 3).ok_or(HostError::Malformed("attStmt"))?.clone(),
            ep_att: matches!(get(&r, 4), Some(Value::Bool(true))),
        })
    }

    /// authenticatorReset (0x07): erases every credential and the PIN. Cards
    /// accept it only within 10 s of power-up (CTAP 2.1 §6.6).
    pub fn reset(&mut self) -> Result<(), HostError> {
        self.ctap(0x07, None)?;
        Ok(())
    }
}
