//! getCredsMetadata, enumerateRPs and enumerateCredentials (CTAP 2.1
//! §6.8.2-§6.8.4).
//!
//! ```text
//!  getCredsMetadata          { 0x01 existing, 0x02 maxPossibleRemaining }
//!  enumerateRPsBegin         { 0x03 rp {id, ?name}, 0x04 rpIDHash, 0x05 totalRPs }
//!  enumerateRPsGetNextRP     { 0x03 rp {id, ?name}, 0x04 rpIDHash }
//!  enumerateCredentialsBegin { 0x06 user, 0x07 credentialID, 0x08 publicKey,
//!                              0x09 totalCredentials, 0x0A credProtect,
//!                              ?0x0B largeBlobKey, ?0x0C thirdPartyPayment }
//!  ...GetNextCredential      the same without 0x09
//! ```
//! RPs come in the order of their oldest credential, credentials in creation
//! order; each is returned exactly once. `rp` carries `id` and, when one
//! was given at registration, `name` (as stored: truncated like the other
//! strings, CTAP 2.1 §6.1.2).

use std::collections::BTreeSet;

use super::{resp, Enumeration};
use crate::cbor::Value;
use crate::ctap::extensions::{extension_enabled, Extension};
use crate::ctap::{descriptor, Authenticator};
use crate::error::CtapError;
use crate::state::ResidentCredential;

fn pair(key: u8, value: Value) -> (Value, Value) {
    (Value::from(key), value)
}

/// getCredsMetadata.
pub(super) fn metadata(auth: &Authenticator) -> Value {
    let existing = auth.state.persistent().credentials.len();
    let remaining = auth
        .config
        .max_resident_credentials
        .saturating_sub(existing);
    Value::Map(vec![
        pair(resp::EXISTING_COUNT, Value::from(existing)),
        pair(resp::REMAINING_COUNT, Value::from(remaining)),
    ])
}

/// The distinct RP ID hashes, in the order of their oldest credential.
fn rp_hashes(auth: &Authenticator) -> Vec<[u8; 32]> {
    let mut seen = BTreeSet::new();
    auth.state
        .persistent()
        .credentials
        .iter()
        .filter(|c| seen.insert(c.rp_id_hash))
        .map(|c| c.rp_id_hash)
        .collect()
}

fn rp_response(
    auth: &Authenticator,
    hash: &[u8; 32],
    total: Option<usize>,
) -> Result<Value, CtapError> {
    let credentials = &auth.state.persistent().credentials;
    let rp_id = credentials
        .iter()
        .find(|c| c.rp_id_hash == *hash)
        .map(|c| c.rp_id.as_str())
        .ok_or(CtapError::NoCredentials)?;
    // The name given with the RP's most recent registration that had one.
    let rp_name = credentials
        .iter()
        .rev()
        .filter(|c| c.rp_id_hash == *hash)
        .find_map(|c| c.rp_name.as_deref());
    let mut rp = vec![(Value::from("id"), Value::from(rp_id))];
    if let Some(name) = rp_name {
        rp.push((Value::from("name"), Value::from(name)));
    }
    let mut m = vec![
        pair(resp::RP, Value::Map(rp)),
        pair(resp::RP_ID_HASH, Value::from(hash.to_vec())),
    ];
    if let Some(total) = total {
        m.push(pair(resp::TOTAL_RPS, Value::from(total)));
    }
    Ok(Value::Map(m))
}

/// A Begin subcommand: answer the first of `items` with the total; keep
/// the rest (reversed, popped from the end) for the GetNext subcommand.
/// `respond` answers one item; `total` only in the Begin response.
fn begin<T>(
    auth: &mut Authenticator,
    mut items: Vec<T>,
    respond: impl Fn(&Authenticator, &T, Option<usize>) -> Result<Value, CtapError>,
    keep: fn(Vec<T>) -> Enumeration,
) -> Result<Value, CtapError> {
    items.reverse();
    let total = items.len();
    let first = items.pop().ok_or(CtapError::NoCredentials)?;
    let response = respond(auth, &first, Some(total))?;
    if !items.is_empty() {
        auth.transient.cred_mgmt = Some(keep(items));
    }
    Ok(response)
}

/// A GetNext subcommand on the rest kept by [`begin`] (`None`: not in an
/// enumeration of this kind, `CTAP2_ERR_NOT_ALLOWED`).
fn next<T>(
    auth: &mut Authenticator,
    rest: Option<Vec<T>>,
    respond: impl Fn(&Authenticator, &T, Option<usize>) -> Result<Value, CtapError>,
    keep: fn(Vec<T>) -> Enumeration,
) -> Result<Value, CtapError> {
    let mut rest = rest.ok_or(CtapError::NotAllowed)?;
    let item = rest.pop().ok_or(CtapError::NotAllowed)?;
    let response = respond(auth, &item, None)?;
    if !rest.is_empty() {
        auth.transient.cred_mgmt = Some(keep(rest));
    }
    Ok(response)
}

/// enumerateRPsBegin: the first RP; the rest wait for GetNextRP.
pub(super) fn rps_begin(auth: &mut Authenticator) -> Result<Value, CtapError> {
    let hashes = rp_hashes(auth);
    begin(auth, hashes, rp_response, Enumeration::Rps)
}

/// enumerateRPsGetNextRP.
pub(super) fn rps_next(
    auth: &mut Authenticator,
    enumeration: Option<Enumeration>,
) -> Result<Value, CtapError> {
    let rest = match enumeration {
        Some(Enumeration::Rps(rest)) => Some(rest),
        _ => None,
    };
    next(auth, rest, rp_response, Enumeration::Rps)
}

/// The user entity as stored.
fn user_entity(c: &ResidentCredential) -> Value {
    let mut m = vec![(Value::from("id"), Value::from(c.user_id.clone()))];
    if let Some(name) = &c.user_name {
        m.push((Value::from("name"), Value::from(name.as_str())));
    }
    if let Some(display) = &c.user_display_name {
        m.push((Value::from("displayName"), Value::from(display.as_str())));
    }
    Value::Map(m)
}

fn credential_response(
    auth: &Authenticator,
    id: &[u8],
    total: Option<usize>,
) -> Result<Value, CtapError> {
    let c = auth.resident(id).ok_or(CtapError::NoCredentials)?;
    // The public key is recomputed from the key sealed in the ID.
    let sealed = auth
        .id_key
        .unwrap(&c.rp_id_hash, &c.id)
        .ok_or(CtapError::Other)?;
    let mut m = vec![
        pair(resp::USER, user_entity(c)),
        pair(resp::CREDENTIAL_ID, descriptor(&c.id)),
        pair(resp::PUBLIC_KEY, sealed.key.public_cose()),
        pair(resp::CRED_PROTECT, Value::from(c.cred_protect.max(1))),
    ];
    if let Some(total) = total {
        m.push(pair(resp::TOTAL_CREDENTIALS, Value::from(total)));
    }
    if let Some(key) = &c.large_blob_key {
        m.push(pair(resp::LARGE_BLOB_KEY, Value::from(key.to_vec())));
    }
    if extension_enabled(&auth.config, Extension::ThirdPartyPayment) {
        m.push(pair(
            resp::THIRD_PARTY_PAYMENT,
            Value::from(sealed.flags.third_party_payment),
        ));
    }
    Ok(Value::Map(m))
}

/// enumerateCredentialsBegin: the RP's first credential; the rest wait for
/// GetNextCredential.
pub(super) fn credentials_begin(
    auth: &mut Authenticator,
    hash: &[u8; 32],
) -> Result<Value, CtapError> {
    let ids: Vec<Vec<u8>> = auth
        .state
        .persistent()
        .credentials
        .iter()
        .filter(|c| c.rp_id_hash == *hash)
        .map(|c| c.id.clone())
        .collect();
    begin(
        auth,
        ids,
        |a, id: &Vec<u8>, t| credential_response(a, id, t),
        Enumeration::Credentials,
    )
}

/// enumerateCredentialsGetNextCredential.
pub(super) fn credentials_next(
    auth: &mut Authenticator,
    enumeration: Option<Enumeration>,
) -> Result<Value, CtapError> {
    let rest = match enumeration {
        Some(Enumeration::Credentials(rest)) => Some(rest),
        _ => None,
    };
    next(
        auth,
        rest,
        |a, id: &Vec<u8>, t| credential_response(a, id, t),
        Enumeration::Credentials,
    )
}
