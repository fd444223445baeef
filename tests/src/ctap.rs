//! CTAP2 over NFC through PC/SC for the end-to-end suites and the benchmark: the requests
//! and response checks are the shared independent client's (`testkit::client`, CBOR with
//! ciborium, written from CTAP 2.1 §6); this module adds the NFC transport (§11.3).
//!
//! ```text
//!  NFCCTAP_MSG:  80 10 00 00 Lc <cmd || CBOR> 00     (P1 = 00: no 91 00 polling)
//!  response:     <status || CBOR> 90 00              (paged with 61 XX when long)
//!  authData:     rpIdHash(32) flags(1) signCount(4) [aaguid(16) credIdLen(2) credId ..]
//! ```

use ciborium::Value;
use testkit::client;

use crate::apdu::{self, Framing, SW_OK};
use crate::reader::Conn;

pub use testkit::client::sha256;

/// authenticatorMakeCredential.
pub const MAKE_CREDENTIAL: u8 = client::MC;
/// authenticatorGetAssertion.
pub const GET_ASSERTION: u8 = client::GA;

/// `cmd || CBOR(params)`.
fn encode(cmd: u8, params: &Value) -> Vec<u8> {
    let mut out = vec![cmd];
    out.extend_from_slice(&client::ser(params));
    out
}

/// A makeCredential request for a non-discoverable ES256 credential (keys and map
/// entries in CTAP2 canonical order).
#[must_use]
pub fn make_credential_request(rp_id: &str, client_data_hash: &[u8; 32]) -> Vec<u8> {
    encode(
        MAKE_CREDENTIAL,
        &client::mc_request(rp_id, b"bench-user", client_data_hash, &[-7], false),
    )
}

/// A getAssertion request with a one-entry allowList.
#[must_use]
pub fn get_assertion_request(rp_id: &str, client_data_hash: &[u8; 32], cred_id: &[u8]) -> Vec<u8> {
    encode(
        GET_ASSERTION,
        &client::ga_request(rp_id, client_data_hash, &[cred_id]),
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

/// Field `key` of a CBOR map with integer keys (`None` when `map` is not a map).
#[must_use]
pub fn field(map: &Value, key: i64) -> Option<&Value> {
    map.as_map().and_then(|_| client::get(map, key))
}

/// The credential ID inside makeCredential's authData (CTAP 2.1 §6.1, WebAuthn §6.5.1).
#[must_use]
pub fn credential_id(make_credential_response: &Value) -> Option<Vec<u8>> {
    let auth_data = field(make_credential_response, 2)?.as_bytes()?;
    client::parse_auth_data(auth_data).credential_id
}
