//! A minimal CTAP2-over-NFC client of its own (CBOR with ciborium, written from CTAP 2.1
//! §6 and §11.3), used by the benchmark: makeCredential once, then getAssertion.
//!
//! ```text
//!  NFCCTAP_MSG:  80 10 00 00 Lc <cmd || CBOR> 00     (P1 = 00: no 91 00 polling)
//!  response:     <status || CBOR> 90 00              (paged with 61 XX when long)
//!  authData:     rpIdHash(32) flags(1) signCount(4) [aaguid(16) credIdLen(2) credId ..]
//! ```

use ciborium::Value;
use sha2::{Digest, Sha256};

use crate::apdu::{self, Framing, SW_OK};
use crate::reader::Conn;

/// authenticatorMakeCredential.
pub const MAKE_CREDENTIAL: u8 = 0x01;
/// authenticatorGetAssertion.
pub const GET_ASSERTION: u8 = 0x02;

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn encode(cmd: u8, map: Vec<(Value, Value)>) -> Vec<u8> {
    let mut out = vec![cmd];
    ciborium::into_writer(&Value::Map(map), &mut out)
        .unwrap_or_else(|e| panic!("CBOR encode: {e}"));
    out
}

/// A makeCredential request (keys and map entries in CTAP2 canonical order).
#[must_use]
pub fn make_credential_request(rp_id: &str, client_data_hash: &[u8; 32]) -> Vec<u8> {
    encode(
        MAKE_CREDENTIAL,
        vec![
            (int(1), Value::Bytes(client_data_hash.to_vec())),
            (int(2), Value::Map(vec![(text("id"), text(rp_id))])),
            (
                int(3),
                Value::Map(vec![
                    (text("id"), Value::Bytes(b"bench-user".to_vec())),
                    (text("name"), text("bench")),
                ]),
            ),
            (
                int(4),
                Value::Array(vec![Value::Map(vec![
                    (text("alg"), int(-7)),
                    (text("type"), text("public-key")),
                ])]),
            ),
        ],
    )
}

/// A getAssertion request with a one-entry allowList.
#[must_use]
pub fn get_assertion_request(rp_id: &str, client_data_hash: &[u8; 32], cred_id: &[u8]) -> Vec<u8> {
    encode(
        GET_ASSERTION,
        vec![
            (int(1), text(rp_id)),
            (int(2), Value::Bytes(client_data_hash.to_vec())),
            (
                int(3),
                Value::Array(vec![Value::Map(vec![
                    (text("id"), Value::Bytes(cred_id.to_vec())),
                    (text("type"), text("public-key")),
                ])]),
            ),
        ],
    )
}

/// Sends one CTAP2 command over NFCCTAP_MSG (chained, paged); returns the CBOR map after
/// a success status byte, and how many APDUs it took.
///
/// # Errors
/// A status word other than `90 00`, or a CTAP status other than `00`.
pub fn call(conn: &Conn, request: &[u8]) -> Result<(Value, usize), String> {
    let ex = apdu::send(conn, 0x80, 0x10, 0x00, 0x00, request, Framing::default());
    if ex.sw != SW_OK {
        return Err(format!("NFCCTAP_MSG: SW {:04X}", ex.sw));
    }
    match ex.data.split_first() {
        Some((0x00, cbor)) => {
            let value: Value =
                ciborium::from_reader(cbor).map_err(|e| format!("CBOR response: {e}"))?;
            Ok((value, ex.commands))
        }
        Some((status, _)) => Err(format!("CTAP status {status:#04x}")),
        None => Err("empty CTAP response".to_owned()),
    }
}

/// Field `key` of a CBOR map with integer keys.
#[must_use]
pub fn field(map: &Value, key: i64) -> Option<&Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_integer() == Some(key.into()))
        .map(|(_, v)| v)
}

/// The credential ID inside makeCredential's authData (CTAP 2.1 §6.1, WebAuthn §6.5.1).
#[must_use]
pub fn credential_id(make_credential_response: &Value) -> Option<Vec<u8>> {
    let auth_data = field(make_credential_response, 2)?.as_bytes()?;
    let len = usize::from(u16::from_be_bytes([
        *auth_data.get(53)?,
        *auth_data.get(54)?,
    ]));
    auth_data.get(55..55 + len).map(<[u8]>::to_vec)
}

/// SHA-256 of `data` (a stand-in clientDataHash).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}
