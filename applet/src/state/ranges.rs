//! The ranges every decoded state field must be in, and how fields depend on each other.
//!
//! The checksum only catches accidents: a file edited by hand (or by anything that can write
//! it) and given a new checksum still decodes. So after decoding, every field is checked
//! against what the card itself can ever write, and a state outside it is refused with
//! [`StateError::Range`] naming the field — never loaded, never repaired:
//!
//! | field | allowed |
//! |-------|---------|
//! | `identity.attestationKey` | a P-256 private scalar (1 ..= n−1) |
//! | `persistent.minPinLength` | 4 ..= 63 (CTAP 2.1 §6.5.1, §6.11.4) |
//! | `persistent.pinCodePoints` | 0 without a PIN; with one, 4 ..= 63 |
//! | `persistent.pinHash` | present whenever pinCodePoints ≠ 0, forcePinChange, or pinRetries < 8 |
//! | `persistent.minPinLengthRPIDs` | at most 255 entries of 1 ..= 255 bytes |
//! | `persistent.largeBlob` | at most 65,536 bytes (the largest array a profile allows) |
//! | `persistent.credentials` | at most 10,000, IDs unique |
//! | `credential.id` | 1 ..= 1024 bytes |
//! | `credential.rpId` | 1 ..= 255 bytes; rpName, userName, userDisplayName ≤ 255 bytes |
//! | `credential.userId` | at most 64 bytes (WebAuthn §5.4.3) |
//! | `credential.created` | below `persistent.nextCreated` |
//! | `credential.credProtect` | 1 ..= 3 (CTAP 2.1 §12.1) |
//! | `credential.credBlob` | at most 1024 bytes |

use std::collections::HashSet;

use super::{Identity, Persistent, ResidentCredential, StateError, MAX_PIN_RETRIES};
use crate::ctap::make_credential::MAX_USER_ID_LEN;
use crate::pin::policy::MAX_PIN_BYTES;

/// Smallest minimum PIN length CTAP 2.1 allows (§6.5.1: at least 4 code points).
const MIN_PIN_CODE_POINTS: u8 = 4;
/// Largest stored string (the profile's `max_stored_string_length` is at most 255).
const MAX_STRING: usize = 255;
/// Most resident credentials a profile can allow.
const MAX_CREDENTIALS: usize = 10_000;
/// Largest credential ID the card accepts back.
const MAX_CREDENTIAL_ID: usize = 1024;
/// Largest credBlob a profile can allow.
const MAX_CRED_BLOB: usize = 1024;
/// Largest serialized large-blob array a profile can allow.
const MAX_LARGE_BLOB: usize = 65_536;
/// Most minPinLengthRPIDs that can be stored.
const MAX_RPIDS: usize = 255;

fn check(ok: bool, field: &'static str, allowed: &'static str) -> Result<(), StateError> {
    if ok {
        Ok(())
    } else {
        Err(StateError::Range { field, allowed })
    }
}

/// Refuses a decoded state with any field out of range or inconsistent with another.
pub(super) fn validate(identity: &Identity, p: &Persistent) -> Result<(), StateError> {
    if let Some(key) = &identity.attestation_key {
        check(
            p256::SecretKey::from_slice(key).is_ok(),
            "identity.attestationKey",
            "a P-256 private key (1 ..= n-1)",
        )?;
    }
    let pin_max = u8::try_from(MAX_PIN_BYTES).unwrap_or(u8::MAX);
    check(
        (MIN_PIN_CODE_POINTS..=pin_max).contains(&p.min_pin_length),
        "persistent.minPinLength",
        "4 ..= 63",
    )?;
    if p.pin_hash.is_some() {
        check(
            (MIN_PIN_CODE_POINTS..=pin_max).contains(&p.pin_code_points),
            "persistent.pinCodePoints",
            "4 ..= 63 with a PIN set",
        )?;
    } else {
        check(
            p.pin_code_points == 0 && !p.force_pin_change && p.pin_retries == MAX_PIN_RETRIES,
            "persistent.pinHash",
            "present when pinCodePoints, forcePinChange or fewer than 8 pinRetries say a PIN is set",
        )?;
    }
    check(
        p.min_pin_length_rpids.len() <= MAX_RPIDS
            && p.min_pin_length_rpids
                .iter()
                .all(|id| (1..=MAX_STRING).contains(&id.len())),
        "persistent.minPinLengthRPIDs",
        "at most 255 RP IDs of 1 ..= 255 bytes",
    )?;
    check(
        p.large_blob.len() <= MAX_LARGE_BLOB,
        "persistent.largeBlob",
        "at most 65536 bytes",
    )?;
    check(
        p.credentials.len() <= MAX_CREDENTIALS,
        "persistent.credentials",
        "at most 10000 credentials",
    )?;
    let mut ids = HashSet::with_capacity(p.credentials.len());
    for credential in &p.credentials {
        validate_credential(credential, p.next_created)?;
        check(
            ids.insert(credential.id.as_slice()),
            "credential.id",
            "unique among the stored credentials",
        )?;
    }
    Ok(())
}

fn validate_credential(c: &ResidentCredential, next_created: u64) -> Result<(), StateError> {
    let string = |s: &Option<String>| s.as_ref().is_none_or(|s| s.len() <= MAX_STRING);
    check(
        (1..=MAX_CREDENTIAL_ID).contains(&c.id.len()),
        "credential.id",
        "1 ..= 1024 bytes",
    )?;
    check(
        (1..=MAX_STRING).contains(&c.rp_id.len()),
        "credential.rpId",
        "1 ..= 255 bytes",
    )?;
    check(string(&c.rp_name), "credential.rpName", "at most 255 bytes")?;
    check(
        c.user_id.len() <= MAX_USER_ID_LEN,
        "credential.userId",
        "at most 64 bytes",
    )?;
    check(
        string(&c.user_name),
        "credential.userName",
        "at most 255 bytes",
    )?;
    check(
        string(&c.user_display_name),
        "credential.userDisplayName",
        "at most 255 bytes",
    )?;
    check(
        c.created < next_created,
        "credential.created",
        "below persistent.nextCreated",
    )?;
    check(
        (1..=3).contains(&c.cred_protect),
        "credential.credProtect",
        "1 ..= 3",
    )?;
    check(
        c.cred_blob
            .as_ref()
            .is_none_or(|b| b.len() <= MAX_CRED_BLOB),
        "credential.credBlob",
        "at most 1024 bytes",
    )
}
