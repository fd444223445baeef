//! authenticatorClientPIN (CTAP 2.1 §6.5) with PIN/UV auth protocol two.
//!
//! ```text
//!  request 06 { 1: pinUvAuthProtocol, 2: subCommand, 3: keyAgreement, 4: pinUvAuthParam,
//!              5: newPinEnc, 6: pinHashEnc, 9: permissions, 10: rpId }
//!  01 getPINRetries      → { 3: pinRetries, 4: powerCycleState }
//!  02 getKeyAgreement    → { 1: COSE_Key }
//!  03 setPIN             newPinEnc = enc(PIN padded to 64), param = auth(newPinEnc)
//!  04 changePIN          + pinHashEnc = enc(LEFT(SHA-256(curPin), 16)),
//!                        param = auth(newPinEnc || pinHashEnc)
//!  05 getPinToken                          → { 2: enc(token) }
//!  09 getPinUvAuthTokenUsingPinWithPermissions → { 2: enc(token) }
//! ```

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::fields::{self, get};
use super::pin_protocol::{key_agreement, KeyAgreement, PROTOCOL_TWO};
use super::session::CardSession;
use super::transport::Transport;
use super::HostError;
use applet::cbor::Value;

/// authenticatorClientPIN.
pub const CMD_CLIENT_PIN: u8 = 0x06;

/// pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7).
pub mod permissions {
    /// makeCredential.
    pub const MC: u8 = 0x01;
    /// getAssertion.
    pub const GA: u8 = 0x02;
    /// credentialManagement.
    pub const CM: u8 = 0x04;
    /// bioEnrollment.
    pub const BE: u8 = 0x08;
    /// largeBlobWrite.
    pub const LBW: u8 = 0x10;
    /// authenticatorConfig.
    pub const ACFG: u8 = 0x20;
}

/// The PIN retry counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PinRetries {
    /// Attempts left before the PIN blocks.
    pub retries: u64,
    /// A power cycle is needed before the next attempt.
    pub power_cycle_required: Option<bool>,
}

/// A pinUvAuthToken, never printed; its bytes are wiped when dropped.
#[derive(zeroize::ZeroizeOnDrop)]
pub struct PinToken {
    token: Vec<u8>,
    /// Permissions asked for.
    #[zeroize(skip)]
    pub permissions: u8,
    /// RP ID the token is bound to.
    #[zeroize(skip)]
    pub rp_id: Option<String>,
}

impl std::fmt::Debug for PinToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinToken")
            .field("permissions", &self.permissions)
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

impl PinToken {
    /// `authenticate(pinUvAuthToken, message)` (protocol two: full HMAC).
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        super::pin_protocol::authenticate(&self.token, message)
    }
}

fn pin_bytes(pin: &str) -> Result<Vec<u8>, HostError> {
    let bytes = pin.as_bytes();
    if bytes.len() < 4 || bytes.len() > 63 {
        return Err(HostError::PinLength);
    }
    Ok(bytes.to_vec())
}

fn pin_hash(pin: &str) -> Vec<u8> {
    Sha256::digest(pin.as_bytes())[..16].to_vec()
}

fn request(sub: u8, extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![
        (Value::from(1u8), Value::from(PROTOCOL_TWO)),
        (Value::from(2u8), Value::from(sub)),
    ];
    m.extend(extra);
    Value::Map(m)
}

impl<T: Transport> CardSession<T> {
    /// getPINRetries (subcommand 0x01).
    pub fn pin_retries(&mut self) -> Result<PinRetries, HostError> {
        let v = self
            .ctap(CMD_CLIENT_PIN, Some(&request(0x01, vec![])))?
            .ok_or(HostError::Malformed("getPINRetries returned no data"))?;
        let m = fields::map(&v, "getPINRetries response")?;
        Ok(PinRetries {
            retries: fields::uint(get(&m, 3), "pinRetries")?,
            power_cycle_required: match get(&m, 4) {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            },
        })
    }

    /// getKeyAgreement (subcommand 0x02) and the platform half of ECDH.
    pub fn key_agreement(&mut self) -> Result<KeyAgreement, HostError> {
        let v = self
            .ctap(CMD_CLIENT_PIN, Some(&request(0x02, vec![])))?
            .ok_or(HostError::Malformed("getKeyAgreement returned no data"))?;
        let m = fields::map(&v, "getKeyAgreement response")?;
        let card_key = get(&m, 1)
            .ok_or(HostError::Malformed("keyAgreement missing"))?
            .clone();
        key_agreement(&card_key, self.rng())
    }

    fn new_pin_enc(&mut self, ka: &KeyAgreement, pin: &str) -> Result<Vec<u8>, HostError> {
        let mut padded = pin_bytes(pin)?;
        padded.resize(64, 0);
        ka.shared.encrypt(&padded, self.rng())
    }

    /// setPIN (subcommand 0x03) on a card without a PIN.
    pub fn set_pin(&mut self, pin: &str) -> Result<(), HostError> {
        pin_bytes(pin)?;
        let ka = self.key_agreement()?;
        let new_pin_enc = self.new_pin_enc(&ka, pin)?;
        let param = ka.shared.authenticate(&new_pin_enc);
        let req = request(
            0x03,
            vec![
                (Value::from(3u8), ka.platform_key.clone()),
                (Value::from(4u8), Value::Bytes(param)),
                (Value::from(5u8), Value::Bytes(new_pin_enc)),
            ],
        );
        self.ctap(CMD_CLIENT_PIN, Some(&req))?;
        Ok(())
    }

    /// changePIN (subcommand 0x04).
    pub fn change_pin(&mut self, current: &str, new: &str) -> Result<(), HostError> {
        pin_bytes(current)?;
        pin_bytes(new)?;
        let ka = self.key_agreement()?;
        let new_pin_enc = self.new_pin_enc(&ka, new)?;
        let pin_hash_enc = ka.shared.encrypt(&pin_hash(current), self.rng())?;
        let mut msg = new_pin_enc.clone();
        msg.extend_from_slice(&pin_hash_enc);
        let param = ka.shared.authenticate(&msg);
        let req = request(
            0x04,
            vec![
                (Value::from(3u8), ka.platform_key.clone()),
                (Value::from(4u8), Value::Bytes(param)),
                (Value::from(5u8), Value::Bytes(new_pin_enc)),
                (Value::from(6u8), Value::Bytes(pin_hash_enc)),
            ],
        );
        self.ctap(CMD_CLIENT_PIN, Some(&req))?;
        Ok(())
    }

    /// A pinUvAuthToken from the PIN: subcommand 0x09 with `permissions`
    /// and `rp_id` when `with_permissions` (CTAP 2.1 cards, option
    /// `pinUvAuthToken`), else the CTAP 2.0 getPinToken (0x05).
    pub fn pin_token(
        &mut self,
        pin: &str,
        permissions: u8,
        rp_id: Option<&str>,
        with_permissions: bool,
    ) -> Result<PinToken, HostError> {
        pin_bytes(pin)?;
        let ka = self.key_agreement()?;
        let pin_hash_enc = ka.shared.encrypt(&pin_hash(pin), self.rng())?;
        let mut extra = vec![
            (Value::from(3u8), ka.platform_key.clone()),
            (Value::from(6u8), Value::Bytes(pin_hash_enc)),
        ];
        let sub = if with_permissions {
            extra.push((Value::from(9u8), Value::from(permissions)));
            if let Some(rp) = rp_id {
                extra.push((Value::from(10u8), Value::Text(rp.to_owned())));
            }
            0x09
        } else {
            0x05
        };
        let v = self
            .ctap(CMD_CLIENT_PIN, Some(&request(sub, extra)))?
            .ok_or(HostError::Malformed("getPinToken returned no data"))?;
        let m = fields::map(&v, "getPinToken response")?;
        let enc = fields::bytes(get(&m, 2), "pinUvAuthToken")?;
        let token = ka.shared.decrypt(&enc)?;
        if token.len() != 32 {
            return Err(HostError::Protocol("pinUvAuthToken is not 32 bytes"));
        }
        Ok(PinToken {
            token,
            permissions,
            rp_id: rp_id.map(str::to_owned),
        })
    }
}

/// "N PIN retries left", with the power-cycle hint when the card asks for one.
impl std::fmt::Display for PinRetries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} PIN retries left", self.retries)?;
        if self.power_cycle_required == Some(true) {
            write!(f, " (tap the card again before the next try)")?;
        }
        Ok(())
    }
}
