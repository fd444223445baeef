//! authenticatorGetAssertion / GetNextAssertion (CTAP 2.1 §6.2, §6.3) and
//! the hmac-secret extension (CTAP 2.1 §12.5).
//!
//! ```text
//!  request 02 { 1: rpId, 2: clientDataHash, 3: allowList, 4: extensions,
//!              5: options {up}, 6: pinUvAuthParam, 7: pinUvAuthProtocol }
//!  response 00 { 1: credential {id, type}, 2: authData, 3: signature, 4: user,
//!               5: numberOfCredentials }
//!  hmac-secret input  { 1: keyAgreement, 2: saltEnc = enc(salt1 [|| salt2]),
//!                       3: saltAuth = auth(saltEnc), 4: pinUvAuthProtocol }
//!  hmac-secret output authData extensions "hmac-secret": enc(output1 [|| output2])
//! ```

use serde::Serialize;

use super::client_pin::PinToken;
use super::fields::{self, get, get_text, t};
use super::make_credential::credential_descriptor;
use super::pin_protocol::{KeyAgreement, PROTOCOL_TWO};
use super::session::CardSession;
use super::transport::Transport;
use super::HostError;
use applet::cbor::Value;

/// authenticatorGetAssertion.
pub const CMD_GET_ASSERTION: u8 = 0x02;
/// authenticatorGetNextAssertion.
pub const CMD_GET_NEXT_ASSERTION: u8 = 0x08;

/// What to sign.
#[derive(Debug, Clone)]
pub struct GetAssertionRequest {
    /// RP ID.
    pub rp_id: String,
    /// SHA-256 of the clientDataJSON.
    pub client_data_hash: [u8; 32],
    /// Allowed credential IDs; empty for discoverable credentials.
    pub allow_list: Vec<Vec<u8>>,
    /// One or two 32-byte salts for hmac-secret.
    pub hmac_salts: Option<Vec<u8>>,
    /// Ask for thirdPartyPayment (CTAP 2.2 §12.9): the credential's mark.
    pub third_party_payment: bool,
}

/// The user entity in an assertion of a discoverable credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEntity {
    /// User handle.
    #[serde(with = "relying_party::hex_bytes")]
    pub id: Vec<u8>,
    /// User name, when the card returns it.
    pub name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// One assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// Credential ID used.
    pub credential_id: Vec<u8>,
    /// Authenticator data.
    pub auth_data: Vec<u8>,
    /// Signature over authData || clientDataHash.
    pub signature: Vec<u8>,
    /// User (discoverable credentials).
    pub user: Option<UserEntity>,
    /// How many credentials matched (first assertion only).
    pub number_of_credentials: Option<u64>,
}

fn parse_assertion(v: &Value) -> Result<Assertion, HostError> {
    let m = fields::map(v, "getAssertion response")?;
    let cred = fields::map(
        get(&m, 1).ok_or(HostError::Malformed("credential"))?,
        "credential",
    )?;
    let user = match get(&m, 4) {
        Some(Value::Map(u)) => Some(UserEntity {
            id: fields::bytes(get_text(u, "id"), "user.id")?,
            name: fields::opt_text(get_text(u, "name")),
            display_name: fields::opt_text(get_text(u, "displayName")),
        }),
        _ => None,
    };
    Ok(Assertion {
        credential_id: fields::bytes(get_text(&cred, "id"), "credential.id")?,
        auth_data: fields::bytes(get(&m, 2), "authData")?,
        signature: fields::bytes(get(&m, 3), "signature")?,
        user,
        number_of_credentials: fields::opt_uint(get(&m, 5)),
    })
}

/// The thirdPartyPayment output of an assertion (CTAP 2.2 §12.9), if the
/// card gave one.
pub fn third_party_payment_output(assertion: &Assertion) -> Result<Option<bool>, HostError> {
    let auth = relying_party::AuthData::parse(&assertion.auth_data)
        .map_err(|_| HostError::Malformed("authData"))?;
    let Some(ciborium::Value::Map(ext)) = auth.extensions else {
        return Ok(None);
    };
    Ok(ext.iter().find_map(|(k, v)| match (k, v) {
        (ciborium::Value::Text(name), ciborium::Value::Bool(b)) if name == "thirdPartyPayment" => {
            Some(*b)
        }
        _ => None,
    }))
}

/// The decrypted hmac-secret output of an assertion, if the card gave one.
pub fn hmac_secret_output(
    assertion: &Assertion,
    ka: &KeyAgreement,
) -> Result<Option<Vec<u8>>, HostError> {
    let auth = relying_party::AuthData::parse(&assertion.auth_data)
        .map_err(|_| HostError::Malformed("authData"))?;
    let Some(ciborium::Value::Map(ext)) = auth.extensions else {
        return Ok(None);
    };
    let enc = ext.iter().find_map(|(k, v)| match (k, v) {
        (ciborium::Value::Text(name), ciborium::Value::Bytes(b)) if name == "hmac-secret" => {
            Some(b.clone())
        }
        _ => None,
    });
    match enc {
        Some(enc) => Ok(Some(ka.shared.decrypt(&enc)?)),
        None => Ok(None),
    }
}

impl<T: Transport> CardSession<T> {
    /// authenticatorGetAssertion. With `token`, asks for UV; with
    /// `req.hmac_salts`, runs a key agreement and returns it so the caller
    /// can decrypt the output ([`hmac_secret_output`]).
    pub fn get_assertion(
        &mut self,
        req: &GetAssertionRequest,
        token: Option<&PinToken>,
    ) -> Result<(Assertion, Option<KeyAgreement>), HostError> {
        let mut m = vec![
            (Value::from(1u8), t(&req.rp_id)),
            (
                Value::from(2u8),
                Value::Bytes(req.client_data_hash.to_vec()),
            ),
        ];
        if !req.allow_list.is_empty() {
            m.push((
                Value::from(3u8),
                Value::Array(
                    req.allow_list
                        .iter()
                        .map(|id| credential_descriptor(id))
                        .collect(),
                ),
            ));
        }
        let mut ka_out = None;
        let mut extensions = Vec::new();
        if let Some(salts) = &req.hmac_salts {
            if salts.len() != 32 && salts.len() != 64 {
                return Err(HostError::Protocol(
                    "hmac-secret salts must be 32 or 64 bytes",
                ));
            }
            let ka = self.key_agreement()?;
            let salt_enc = ka.shared.encrypt(salts, self.rng())?;
            let salt_auth = ka.shared.authenticate(&salt_enc);
            let input = Value::Map(vec![
                (Value::from(1u8), ka.platform_key.clone()),
                (Value::from(2u8), Value::Bytes(salt_enc)),
                (Value::from(3u8), Value::Bytes(salt_auth)),
                (Value::from(4u8), Value::from(PROTOCOL_TWO)),
            ]);
            extensions.push((t("hmac-secret"), input));
            ka_out = Some(ka);
        }
        if req.third_party_payment {
            extensions.push((t("thirdPartyPayment"), Value::Bool(true)));
        }
        if !extensions.is_empty() {
            m.push((Value::from(4u8), Value::Map(extensions)));
        }
        if let Some(token) = token {
            m.push((
                Value::from(6u8),
                Value::Bytes(token.authenticate(&req.client_data_hash)),
            ));
            m.push((Value::from(7u8), Value::from(PROTOCOL_TWO)));
        }
        let v = self
            .ctap(CMD_GET_ASSERTION, Some(&Value::Map(m)))?
            .ok_or(HostError::Malformed("getAssertion returned no data"))?;
        Ok((parse_assertion(&v)?, ka_out))
    }

    /// authenticatorGetNextAssertion.
    pub fn get_next_assertion(&mut self) -> Result<Assertion, HostError> {
        let v = self
            .ctap(CMD_GET_NEXT_ASSERTION, None)?
            .ok_or(HostError::Malformed("getNextAssertion returned no data"))?;
        parse_assertion(&v)
    }
}
