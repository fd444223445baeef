//! authenticatorConfig (CTAP 2.1 §6.11): enableEnterpriseAttestation.
//!
//! ```text
//!  request 0D { 1: subCommand 01, ?3: pinUvAuthProtocol 2,
//!              ?4: pinUvAuthParam = authenticate(token, 32 × FF || 0D || 01) }
//!  response 00
//! ```
//! The token needs the `acfg` permission; a card without a PIN takes the
//! command without one.

use super::client_pin::PinToken;
use super::pin_protocol::PROTOCOL_TWO;
use super::session::CardSession;
use super::transport::Transport;
use super::HostError;
use applet::cbor::Value;

/// authenticatorConfig.
pub const CMD_CONFIG: u8 = 0x0D;
/// enableEnterpriseAttestation.
pub const SUB_ENABLE_ENTERPRISE_ATTESTATION: u8 = 0x01;

impl<T: Transport> CardSession<T> {
    /// authenticatorConfig enableEnterpriseAttestation (§6.11.1): getInfo
    /// `ep` turns true until the card is reset.
    pub fn enable_enterprise_attestation(
        &mut self,
        token: Option<&PinToken>,
    ) -> Result<(), HostError> {
        let mut m = vec![(
            Value::from(1u8),
            Value::from(SUB_ENABLE_ENTERPRISE_ATTESTATION),
        )];
        if let Some(token) = token {
            let mut message = vec![0xFF; 32];
            message.extend_from_slice(&[CMD_CONFIG, SUB_ENABLE_ENTERPRISE_ATTESTATION]);
            m.push((Value::from(3u8), Value::from(PROTOCOL_TWO)));
            m.push((Value::from(4u8), Value::Bytes(token.authenticate(&message))));
        }
        self.ctap(CMD_CONFIG, Some(&Value::Map(m)))?;
        Ok(())
    }
}
