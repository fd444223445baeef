//! U2F (CTAP1) over NFC: raw message formats of the FIDO U2F Raw Message
//! Formats spec §4-§6, sent as ISO 7816-4 APDUs (U2F NFC protocol).
//!
//! ```text
//!  REGISTER     00 01 00 00 40 challenge(32) application(32) 00
//!               → 05 | pubkey(65) | khLen | keyHandle | attestation cert | sig
//!  AUTHENTICATE 00 02 P1 00 Lc challenge(32) application(32) khLen keyHandle 00
//!               P1: 03 enforce presence, 07 check only, 08 don't enforce
//!               → UP(1) | counter(4) | sig
//!  VERSION      00 03 00 00 00 → "U2F_V2"
//! ```

use serde::Serialize;

use super::session::CardSession;
use super::transport::Transport;
use super::HostError;

/// AUTHENTICATE control byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum U2fControl {
    /// 0x03: enforce user presence and sign.
    EnforcePresence = 0x03,
    /// 0x07: only check the key handle (`69 85` when valid).
    CheckOnly = 0x07,
    /// 0x08: sign without presence.
    DontEnforce = 0x08,
}

/// A parsed U2F registration response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U2fRegistration {
    /// Uncompressed P-256 point.
    #[serde(with = "relying_party::hex_bytes")]
    pub public_key: Vec<u8>,
    /// Key handle.
    #[serde(with = "relying_party::hex_bytes")]
    pub key_handle: Vec<u8>,
    /// Attestation certificate (DER).
    #[serde(with = "relying_party::hex_bytes")]
    pub certificate: Vec<u8>,
    /// Signature (DER).
    #[serde(with = "relying_party::hex_bytes")]
    pub signature: Vec<u8>,
}

/// A parsed U2F authentication response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U2fAuthentication {
    /// User presence byte.
    pub user_presence: u8,
    /// Counter.
    pub counter: u32,
    /// Signature (DER).
    #[serde(with = "relying_party::hex_bytes")]
    pub signature: Vec<u8>,
}

/// Length of a DER element starting at `data[0]`.
fn der_len(data: &[u8]) -> Option<usize> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 3 {
        return None;
    }
    let mut len = 0usize;
    for b in data.get(2..2 + n)? {
        len = (len << 8) | usize::from(*b);
    }
    Some(2 + n + len)
}

impl<T: Transport> CardSession<T> {
    /// VERSION.
    pub fn u2f_version(&mut self) -> Result<String, HostError> {
        let data = self.command(0x00, 0x03, 0x00, 0x00, &[])?;
        Ok(String::from_utf8_lossy(&data).into_owned())
    }

    /// REGISTER.
    pub fn u2f_register(
        &mut self,
        challenge: &[u8; 32],
        application: &[u8; 32],
    ) -> Result<U2fRegistration, HostError> {
        let mut data = challenge.to_vec();
        data.extend_from_slice(application);
        let r = self.command(0x00, 0x01, 0x00, 0x00, &data)?;
        if r.first() != Some(&0x05) {
            return Err(HostError::Malformed(
                "U2F register: reserved byte is not 05",
            ));
        }
        let public_key = r
            .get(1..66)
            .ok_or(HostError::Malformed("U2F register: public key"))?
            .to_vec();
        let kh_len = usize::from(
            *r.get(66)
                .ok_or(HostError::Malformed("U2F register: key handle length"))?,
        );
        let key_handle = r
            .get(67..67 + kh_len)
            .ok_or(HostError::Malformed("U2F register: key handle"))?
            .to_vec();
        let rest = &r[67 + kh_len..];
        let cert_len = der_len(rest).ok_or(HostError::Malformed("U2F register: certificate"))?;
        let certificate = rest
            .get(..cert_len)
            .ok_or(HostError::Malformed("U2F register: certificate"))?
            .to_vec();
        Ok(U2fRegistration {
            public_key,
            key_handle,
            certificate,
            signature: rest[cert_len..].to_vec(),
        })
    }

    /// AUTHENTICATE.
    pub fn u2f_authenticate(
        &mut self,
        control: U2fControl,
        challenge: &[u8; 32],
        application: &[u8; 32],
        key_handle: &[u8],
    ) -> Result<U2fAuthentication, HostError> {
        let kh_len = u8::try_from(key_handle.len())
            .map_err(|_| HostError::RequestTooLong(key_handle.len()))?;
        let mut data = challenge.to_vec();
        data.extend_from_slice(application);
        data.push(kh_len);
        data.extend_from_slice(key_handle);
        let r = self.command(0x00, 0x02, control as u8, 0x00, &data)?;
        let head = r
            .get(..5)
            .ok_or(HostError::Malformed("U2F authenticate: short"))?;
        Ok(U2fAuthentication {
            user_presence: head[0],
            counter: u32::from_be_bytes([head[1], head[2], head[3], head[4]]),
            signature: r[5..].to_vec(),
        })
    }
}
