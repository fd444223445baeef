//! authenticatorLargeBlobs (0x0C), CTAP 2.1 §6.10.
//!
//! ```text
//!  request map                         response
//!  0x01 get     uint  (bytes to read)  get: { 0x01 config bstr }
//!  0x02 set     bstr  (a fragment)     set: 00 (no data)
//!  0x03 offset  uint  (required)
//!  0x04 length  uint  (total length; set at offset 0 only)
//!  0x05 pinUvAuthParam  bstr
//!  0x06 pinUvAuthProtocol uint
//!
//!  serialized large-blob array = CBOR array || LEFT(SHA-256(CBOR array), 16)
//!  initial value               = 80 || LEFT(SHA-256(80), 16)
//!  maxFragmentLength           = maxMsgSize − 64
//!
//!  set with a PIN set (or alwaysUv):
//!    pinUvAuthParam = authenticate(pinUvAuthToken,
//!        32 × FF || 0C 00 || uint32LE(offset) || SHA-256(set))
//!    with the `lbw` permission (no RP binding)
//! ```
//!
//! Errors (§6.10.2): offset missing, neither or both of get/set, length with
//! get or with a non-zero offset, length missing at offset 0 or below 17,
//! offset past the array, fragment past the announced length ─▶
//! INVALID_PARAMETER; get or set longer than maxFragmentLength ─▶
//! INVALID_LENGTH; length above maxSerializedLargeBlobArray ─▶
//! LARGE_BLOB_STORAGE_FULL; offset not the next expected one ─▶ INVALID_SEQ;
//! pinUvAuthParam missing ─▶ PUAT_REQUIRED, bad or without `lbw` ─▶
//! PIN_AUTH_INVALID; last fragment with a wrong hash ─▶ INTEGRITY_FAILURE
//! (the write is abandoned, the stored array is unchanged).
//!
//! Fragments collect in [`PendingWrite`] (per power cycle). The array is
//! stored in the persistent state in one atomic write when the last fragment
//! arrives and checks out. An error leaves both the stored array and the
//! pending write as they were, except INTEGRITY_FAILURE, which ends the write.

use crate::config::CardOption;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{parse, Authenticator, Failure};
use crate::cbor::Value;
use crate::config::Config;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::token::permission;
use crate::pin::uv::{verify_command_param, PinUvAuth};

/// Length of the trailing truncated hash.
pub const HASH_LEN: usize = 16;
/// The shortest serialized array: an empty CBOR array and its hash.
pub const MIN_ARRAY_LEN: usize = 1 + HASH_LEN;
/// Room kept for the CBOR framing of a fragment (§6.10: maxMsgSize − 64).
pub const FRAGMENT_OVERHEAD: usize = 64;

/// Command byte, part of the authenticated message.
const COMMAND_BYTE: u8 = 0x0C;

const KEY_GET: i64 = 0x01;
const KEY_SET: i64 = 0x02;
const KEY_OFFSET: i64 = 0x03;
const KEY_LENGTH: i64 = 0x04;
const KEY_PIN_UV_AUTH_PARAM: i64 = 0x05;
const KEY_PROTOCOL: i64 = 0x06;
const RESP_CONFIG: u8 = 0x01;

pub use crate::state::PendingWrite;

/// `80 || LEFT(SHA-256(80), 16)`: the array of a fresh card.
pub fn initial_array() -> Vec<u8> {
    let mut out = vec![0x80];
    out.extend_from_slice(&truncated_hash(&[0x80]));
    out
}

/// The serialized large-blob array as `get` reads it.
pub fn serialized_array(auth: &Authenticator) -> Vec<u8> {
    let stored = &auth.state.persistent().large_blob;
    if stored.is_empty() {
        initial_array()
    } else {
        stored.clone()
    }
}

/// maxFragmentLength of the profile.
pub fn max_fragment_length(config: &Config) -> usize {
    config.max_msg_size.saturating_sub(FRAGMENT_OVERHEAD)
}

/// Whether the profile offers authenticatorLargeBlobs (getInfo `largeBlobs`).
pub fn supported(auth: &Authenticator) -> bool {
    super::get_info::option_enabled(&auth.config, CardOption::LargeBlobs)
}

fn truncated_hash(data: &[u8]) -> [u8; HASH_LEN] {
    let digest = Sha256::digest(data);
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(digest.get(..HASH_LEN).unwrap_or(&[0; HASH_LEN]));
    out
}

/// Whether `array` ends with the truncated hash of the rest.
fn hash_matches(array: &[u8]) -> bool {
    let Some(split) = array.len().checked_sub(HASH_LEN) else {
        return false;
    };
    let (data, hash) = array.split_at(split);
    bool::from(truncated_hash(data).ct_eq(hash))
}

fn to_usize(n: u64) -> Result<usize, CtapError> {
    usize::try_from(n).map_err(|_| CtapError::InvalidParameter)
}

/// The dispatcher's entry point: `{0x01 config}` for get, `None` for set.
pub fn handle(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    params: &Value,
) -> Result<Option<Value>, Failure> {
    let m = parse::request(params)?;
    let get = m.get(KEY_GET).map(Value::as_u64).transpose()?;
    let set = parse::opt_bytes(&m, KEY_SET)?;
    let offset = m.get(KEY_OFFSET).map(Value::as_u64).transpose()?;
    let length = m.get(KEY_LENGTH).map(Value::as_u64).transpose()?;
    let pin_uv_auth = parse::pin_uv_auth(&m, KEY_PIN_UV_AUTH_PARAM, KEY_PROTOCOL)?;
    let offset = to_usize(offset.ok_or(CtapError::InvalidParameter)?)?;
    match (get, set) {
        (Some(count), None) => {
            if length.is_some() {
                return Err(CtapError::InvalidParameter.into());
            }
            Ok(Some(read(auth, offset, count)?))
        }
        (None, Some(fragment)) => {
            let write = Write {
                offset,
                fragment,
                length,
                param: pin_uv_auth.param,
                protocol: pin_uv_auth.protocol,
            };
            write_fragment(auth, env, &write)?;
            Ok(None)
        }
        _ => Err(CtapError::InvalidParameter.into()),
    }
}

/// get: up to `count` bytes from `offset`.
fn read(auth: &Authenticator, offset: usize, count: u64) -> Result<Value, CtapError> {
    let count = usize::try_from(count).map_err(|_| CtapError::InvalidLength)?;
    if count > max_fragment_length(&auth.config) {
        return Err(CtapError::InvalidLength);
    }
    let array = serialized_array(auth);
    if offset > array.len() {
        return Err(CtapError::InvalidParameter);
    }
    let end = offset.saturating_add(count).min(array.len());
    let chunk = array.get(offset..end).unwrap_or_default().to_vec();
    Ok(Value::Map(vec![(
        Value::from(RESP_CONFIG),
        Value::from(chunk),
    )]))
}

/// One set request.
struct Write<'a> {
    offset: usize,
    fragment: &'a [u8],
    length: Option<u64>,
    param: Option<&'a [u8]>,
    protocol: Option<u64>,
}

/// set: check the fragment, authenticate it, append it, and commit the
/// array when complete.
fn write_fragment(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    w: &Write<'_>,
) -> Result<(), CtapError> {
    if w.fragment.len() > max_fragment_length(&auth.config) {
        return Err(CtapError::InvalidLength);
    }
    // The sequence this fragment continues or starts; nothing is changed
    // before every check has passed.
    let mut pending = if w.offset == 0 {
        let length = to_usize(w.length.ok_or(CtapError::InvalidParameter)?)?;
        if length > auth.config.max_serialized_large_blob_array {
            return Err(CtapError::LargeBlobStorageFull);
        }
        if length < MIN_ARRAY_LEN {
            return Err(CtapError::InvalidParameter);
        }
        PendingWrite {
            expected_length: length,
            buffer: Vec::with_capacity(length),
        }
    } else {
        if w.length.is_some() {
            return Err(CtapError::InvalidParameter);
        }
        match &auth.transient.large_blob_write {
            Some(p) if p.buffer.len() == w.offset => p.clone(),
            _ => return Err(CtapError::InvalidSeq),
        }
    };
    if auth.pin_is_set() || auth.state.persistent().always_uv {
        authenticate(auth, env, w)?;
    }
    let end = w
        .offset
        .checked_add(w.fragment.len())
        .ok_or(CtapError::InvalidParameter)?;
    if end > pending.expected_length {
        return Err(CtapError::InvalidParameter);
    }
    pending.buffer.extend_from_slice(w.fragment);
    if pending.buffer.len() < pending.expected_length {
        auth.transient.large_blob_write = Some(pending);
        return Ok(());
    }
    if !hash_matches(&pending.buffer) {
        auth.transient.large_blob_write = None;
        return Err(CtapError::IntegrityFailure);
    }
    let array = pending.buffer;
    auth.state.update(env, |p| {
        p.large_blob = array;
        Ok(())
    })?;
    auth.transient.large_blob_write = None;
    Ok(())
}

/// pinUvAuthParam of a set (§6.10.2 step "If the authenticator is protected
/// by some form of user verification").
fn authenticate(auth: &mut Authenticator, env: &dyn Env, w: &Write<'_>) -> Result<(), CtapError> {
    let message = || {
        let offset = u32::try_from(w.offset).map_err(|_| CtapError::InvalidParameter)?;
        let mut message = vec![0xFF; 32];
        message.extend_from_slice(&[COMMAND_BYTE, 0x00]);
        message.extend_from_slice(&offset.to_le_bytes());
        message.extend_from_slice(&Sha256::digest(w.fragment));
        Ok(message)
    };
    let auth_pair = PinUvAuth {
        param: w.param,
        protocol: w.protocol,
    };
    verify_command_param(
        &mut auth.pin,
        env.now(),
        auth_pair,
        &auth.config.pin_uv_auth_protocols,
        message,
        permission::LARGE_BLOB_WRITE,
    )?;
    auth.pin.tokens().mark_used();
    Ok(())
}
