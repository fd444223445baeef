//! The state blob: versioned, checksummed, CBOR body.
//!
//! ```text
//!  offset  size  field
//!  0       7     magic "TAPFIDO"
//!  7       1     format version (1)
//!  8       4     body length N, big-endian
//!  12      N     body: canonical CBOR (crate::cbor)
//!  12+N    32    SHA-256 of bytes 0 .. 12+N
//!
//!  body = { 1: identity, 2: persistent }
//!  identity   = { 1: masterKey bstr(32), ?2: attestationKey bstr(32) }
//!  persistent = { 1: [credential*], 2: nextCreated uint, 3: signCount uint,
//!                 ?4: pinHash bstr(16), 5: pinCodePoints uint, 6: pinRetries uint,
//!                 7: minPinLength uint, 8: [minPinLengthRPID tstr*],
//!                 9: forcePinChange bool, 10: alwaysUv bool, 11: largeBlob bstr,
//!                 ?12: enterpriseAttestation true (absent = disabled) }
//!  credential = { 1: id bstr, 2: rpIdHash bstr(32), 3: rpId tstr, 4: userId bstr,
//!                 ?5: userName tstr, ?6: userDisplayName tstr, 7: created uint,
//!                 8: credProtect uint, ?9: credBlob bstr, ?10: largeBlobKey bstr(32),
//!                 ?11: rpName tstr }
//! ```
//! `signCount` is the ceiling of the reserved counter block and `pinRetries`
//! the count a restart starts with (one below the live count while an
//! attempt is reserved), see the module docs of [`crate::state`].
//!
//! A blob that fails any check is refused with a [`StateError`]; it is never
//! replaced by a fresh state. The checksum catches accidents only: after decoding, every
//! field is checked against what the card can write (`super::ranges`), so a hand-edited
//! blob with a recomputed checksum is refused too, with the field named.

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::{Identity, Persistent, ResidentCredential, PIN_HASH_LEN};
use crate::cbor::{self, Map, Value};

/// The first seven bytes of every state blob.
pub const MAGIC: &[u8; 7] = b"TAPFIDO";
/// The state format this code writes and reads.
pub const FORMAT_VERSION: u8 = 1;

const HEADER_LEN: usize = 12;
const CHECKSUM_LEN: usize = 32;

/// Why a stored state was refused. The card does not start with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Shorter than header + checksum, or the body length disagrees.
    #[error("state file truncated or of the wrong length ({0} bytes)")]
    Length(usize),
    /// Not a tapfido state blob.
    #[error("state file has the wrong magic (not a tapfido FIDO state)")]
    Magic,
    /// Written by a format this build does not know.
    #[error("state file format version {0} is not supported (this build reads version {FORMAT_VERSION})")]
    Version(u8),
    /// The SHA-256 checksum does not match: the file is corrupt.
    #[error("state file checksum mismatch: the file is corrupt")]
    Checksum,
    /// The body is not valid CBOR.
    #[error("state file body is not valid CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
    /// A field is missing or malformed.
    #[error("state file field {0} is missing or malformed")]
    Field(&'static str),
    /// A field decodes but holds a value the card never writes.
    #[error("state file field {field} is out of range (allowed: {allowed})")]
    Range {
        /// The field, as named in the layout above.
        field: &'static str,
        /// What the card accepts there.
        allowed: &'static str,
    },
    /// The storage itself failed.
    #[error("reading the state failed: {0}")]
    Storage(String),
}

/// Encode identity and persistent state as one blob.
pub fn encode(identity: &Identity, persistent: &Persistent) -> Vec<u8> {
    let mut tree = Value::Map(vec![
        (Value::from(1u8), identity_value(identity)),
        (Value::from(2u8), persistent_value(persistent)),
    ]);
    let body = Zeroizing::new(cbor::encode(&tree));
    tree.zeroize();
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&body);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// Decode a blob written by [`encode`], failing closed on any defect.
pub fn decode(bytes: &[u8]) -> Result<super::CardState, StateError> {
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(StateError::Length(bytes.len()));
    }
    if bytes.get(..7) != Some(MAGIC.as_slice()) {
        return Err(StateError::Magic);
    }
    let version = bytes.get(7).copied().unwrap_or(0);
    if version != FORMAT_VERSION {
        return Err(StateError::Version(version));
    }
    let len_bytes: [u8; 4] = bytes
        .get(8..12)
        .and_then(|s| s.try_into().ok())
        .ok_or(StateError::Length(bytes.len()))?;
    let body_len = usize::try_from(u32::from_be_bytes(len_bytes))
        .map_err(|_| StateError::Length(bytes.len()))?;
    let expected = HEADER_LEN
        .checked_add(body_len)
        .and_then(|n| n.checked_add(CHECKSUM_LEN));
    if expected != Some(bytes.len()) {
        return Err(StateError::Length(bytes.len()));
    }
    let (signed, sum) = bytes.split_at(HEADER_LEN + body_len);
    // Not a secret: a plain comparison is fine for an integrity checksum.
    if Sha256::digest(signed).as_slice() != sum {
        return Err(StateError::Checksum);
    }
    let body = Zeroizing::new(cbor::decode(signed.get(HEADER_LEN..).unwrap_or_default())?);
    let top = map(&body, "body")?;
    let identity = parse_identity(field(&top, 1, "identity")?)?;
    let persistent = parse_persistent(field(&top, 2, "persistent")?)?;
    super::ranges::validate(&identity, &persistent)?;
    Ok(super::CardState::new(identity, persistent))
}

fn identity_value(identity: &Identity) -> Value {
    let mut pairs = vec![(Value::from(1u8), Value::from(identity.master_key.to_vec()))];
    if let Some(k) = identity.attestation_key {
        pairs.push((Value::from(2u8), Value::from(k.to_vec())));
    }
    Value::Map(pairs)
}

fn persistent_value(p: &Persistent) -> Value {
    let mut pairs = vec![
        (
            Value::from(1u8),
            Value::Array(p.credentials.iter().map(credential_value).collect()),
        ),
        (Value::from(2u8), Value::from(p.next_created)),
        (Value::from(3u8), Value::from(p.sign_count)),
        (Value::from(5u8), Value::from(p.pin_code_points)),
        (Value::from(6u8), Value::from(p.pin_retries)),
        (Value::from(7u8), Value::from(p.min_pin_length)),
        (
            Value::from(8u8),
            Value::Array(
                p.min_pin_length_rpids
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect(),
            ),
        ),
        (Value::from(9u8), Value::from(p.force_pin_change)),
        (Value::from(10u8), Value::from(p.always_uv)),
        (Value::from(11u8), Value::from(p.large_blob.clone())),
    ];
    if let Some(h) = p.pin_hash {
        pairs.push((Value::from(4u8), Value::from(h.to_vec())));
    }
    // Written only once enabled: the blob of a card that never enabled it
    // is what earlier builds wrote, and theirs read as "disabled".
    if p.enterprise_attestation {
        pairs.push((Value::from(12u8), Value::from(true)));
    }
    Value::Map(pairs)
}

fn credential_value(c: &ResidentCredential) -> Value {
    let mut pairs = vec![
        (Value::from(1u8), Value::from(c.id.clone())),
        (Value::from(2u8), Value::from(c.rp_id_hash.to_vec())),
        (Value::from(3u8), Value::from(c.rp_id.as_str())),
        (Value::from(4u8), Value::from(c.user_id.clone())),
        (Value::from(7u8), Value::from(c.created)),
        (Value::from(8u8), Value::from(c.cred_protect)),
    ];
    if let Some(n) = &c.user_name {
        pairs.push((Value::from(5u8), Value::from(n.as_str())));
    }
    if let Some(n) = &c.user_display_name {
        pairs.push((Value::from(6u8), Value::from(n.as_str())));
    }
    if let Some(b) = &c.cred_blob {
        pairs.push((Value::from(9u8), Value::from(b.clone())));
    }
    if let Some(k) = &c.large_blob_key {
        pairs.push((Value::from(10u8), Value::from(k.to_vec())));
    }
    if let Some(n) = &c.rp_name {
        pairs.push((Value::from(11u8), Value::from(n.as_str())));
    }
    Value::Map(pairs)
}

fn map<'a>(v: &'a Value, name: &'static str) -> Result<Map<'a>, StateError> {
    v.as_map().map_err(|_| StateError::Field(name))
}

fn field<'a>(m: &Map<'a>, key: i64, name: &'static str) -> Result<&'a Value, StateError> {
    m.get(key).ok_or(StateError::Field(name))
}

fn bytes(m: &Map<'_>, key: i64, name: &'static str) -> Result<Vec<u8>, StateError> {
    field(m, key, name)?
        .as_bytes()
        .map(<[u8]>::to_vec)
        .map_err(|_| StateError::Field(name))
}

fn array<const N: usize>(m: &Map<'_>, key: i64, name: &'static str) -> Result<[u8; N], StateError> {
    bytes(m, key, name)?
        .try_into()
        .map_err(|_| StateError::Field(name))
}

fn opt_array<const N: usize>(
    m: &Map<'_>,
    key: i64,
    name: &'static str,
) -> Result<Option<[u8; N]>, StateError> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => array(m, key, name).map(Some),
    }
}

fn text(m: &Map<'_>, key: i64, name: &'static str) -> Result<String, StateError> {
    field(m, key, name)?
        .as_text()
        .map(str::to_owned)
        .map_err(|_| StateError::Field(name))
}

fn opt_text(m: &Map<'_>, key: i64, name: &'static str) -> Result<Option<String>, StateError> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => text(m, key, name).map(Some),
    }
}

fn uint<T: TryFrom<u64>>(m: &Map<'_>, key: i64, name: &'static str) -> Result<T, StateError> {
    let n = field(m, key, name)?
        .as_u64()
        .map_err(|_| StateError::Field(name))?;
    T::try_from(n).map_err(|_| StateError::Field(name))
}

fn boolean(m: &Map<'_>, key: i64, name: &'static str) -> Result<bool, StateError> {
    field(m, key, name)?
        .as_bool()
        .map_err(|_| StateError::Field(name))
}

fn parse_identity(v: &Value) -> Result<Identity, StateError> {
    let m = map(v, "identity")?;
    Ok(Identity {
        master_key: array(&m, 1, "identity.masterKey")?,
        attestation_key: opt_array(&m, 2, "identity.attestationKey")?,
    })
}

fn parse_persistent(v: &Value) -> Result<Persistent, StateError> {
    let m = map(v, "persistent")?;
    let credentials = field(&m, 1, "persistent.credentials")?
        .as_array()
        .map_err(|_| StateError::Field("persistent.credentials"))?
        .iter()
        .map(parse_credential)
        .collect::<Result<Vec<_>, _>>()?;
    let rpids = field(&m, 8, "persistent.minPinLengthRPIDs")?
        .as_array()
        .map_err(|_| StateError::Field("persistent.minPinLengthRPIDs"))?
        .iter()
        .map(|v| {
            v.as_text()
                .map(str::to_owned)
                .map_err(|_| StateError::Field("persistent.minPinLengthRPIDs"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pin_retries: u8 = uint(&m, 6, "persistent.pinRetries")?;
    if pin_retries > super::MAX_PIN_RETRIES {
        return Err(StateError::Field("persistent.pinRetries"));
    }
    Ok(Persistent {
        credentials,
        next_created: uint(&m, 2, "persistent.nextCreated")?,
        sign_count: uint(&m, 3, "persistent.signCount")?,
        pin_hash: opt_array::<PIN_HASH_LEN>(&m, 4, "persistent.pinHash")?,
        pin_code_points: uint(&m, 5, "persistent.pinCodePoints")?,
        pin_retries,
        min_pin_length: uint(&m, 7, "persistent.minPinLength")?,
        min_pin_length_rpids: rpids,
        force_pin_change: boolean(&m, 9, "persistent.forcePinChange")?,
        always_uv: boolean(&m, 10, "persistent.alwaysUv")?,
        enterprise_attestation: match m.get(12) {
            None => false,
            Some(_) => boolean(&m, 12, "persistent.enterpriseAttestation")?,
        },
        large_blob: bytes(&m, 11, "persistent.largeBlob")?,
    })
}

fn parse_credential(v: &Value) -> Result<ResidentCredential, StateError> {
    let m = map(v, "credential")?;
    let cred_blob = match m.get(9) {
        None => None,
        Some(_) => Some(bytes(&m, 9, "credential.credBlob")?),
    };
    Ok(ResidentCredential {
        id: bytes(&m, 1, "credential.id")?,
        rp_id_hash: array(&m, 2, "credential.rpIdHash")?,
        rp_id: text(&m, 3, "credential.rpId")?,
        rp_name: opt_text(&m, 11, "credential.rpName")?,
        user_id: bytes(&m, 4, "credential.userId")?,
        user_name: opt_text(&m, 5, "credential.userName")?,
        user_display_name: opt_text(&m, 6, "credential.userDisplayName")?,
        created: uint(&m, 7, "credential.created")?,
        cred_protect: uint(&m, 8, "credential.credProtect")?,
        cred_blob,
        large_blob_key: opt_array(&m, 10, "credential.largeBlobKey")?,
    })
}
