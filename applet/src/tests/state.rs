use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::env::{Env, TestEnv};
use crate::error::CtapError;
use crate::state::{
    decode, encode, CardState, Identity, Persistent, ResidentCredential, StateError,
    SIGN_COUNT_BLOCK,
};

fn sample() -> (Identity, Persistent) {
    let identity = Identity {
        master_key: [7; 32],
        attestation_key: Some([9; 32]),
    };
    let mut p = Persistent::fresh(4);
    p.sign_count = 41;
    p.pin_hash = Some([3; 16]);
    p.pin_code_points = 6;
    p.pin_retries = 5;
    p.min_pin_length_rpids = vec!["example.com".into()];
    p.always_uv = true;
    p.next_created = 2;
    p.credentials.push(ResidentCredential {
        id: vec![1; 63],
        rp_id_hash: [4; 32],
        rp_id: "example.com".into(),
        rp_name: Some("Exämple".into()),
        user_id: vec![5; 16],
        user_name: Some("jo".into()),
        user_display_name: Some("Jö Ünïcode".into()),
        created: 1,
        cred_protect: 2,
        cred_blob: Some(vec![1, 2, 3]),
        large_blob_key: Some([6; 32]),
    });
    (identity, p)
}

#[test]
fn round_trip() {
    let (i, p) = sample();
    let bytes = encode(&i, &p);
    assert_eq!(&bytes[..7], b"TAPFIDO");
    assert_eq!(bytes[7], 1);
    // The checksum is SHA-256 over everything before it.
    let n = bytes.len() - 32;
    assert_eq!(&bytes[n..], Sha256::digest(&bytes[..n]).as_slice());
    let back = decode(&bytes).unwrap();
    assert_eq!(back.identity(), &i);
    assert_eq!(back.persistent(), &p);
    // The fresh state round-trips too.
    let fresh = Persistent::fresh(4);
    let i2 = Identity {
        master_key: [1; 32],
        attestation_key: None,
    };
    assert_eq!(decode(&encode(&i2, &fresh)).unwrap().persistent(), &fresh);
}

#[test]
fn every_defect_fails_closed() {
    let (i, p) = sample();
    let bytes = encode(&i, &p);
    assert_eq!(decode(&[]), Err(StateError::Length(0)));
    for cut in [1, 11, 43, bytes.len() - 1] {
        assert!(
            matches!(decode(&bytes[..cut]), Err(StateError::Length(_))),
            "cut {cut}"
        );
    }
    let mut m = bytes.clone();
    m[0] ^= 1;
    assert_eq!(decode(&m), Err(StateError::Magic));
    let mut v = bytes.clone();
    v[7] = 2;
    assert_eq!(decode(&v), Err(StateError::Version(2)));
    let mut c = bytes.clone();
    let last = c.len() - 1;
    c[last] ^= 0x80;
    assert_eq!(decode(&c), Err(StateError::Checksum));
    // Every single bit flip is refused.
    for bit in 0..bytes.len() * 8 {
        let mut t = bytes.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(decode(&t).is_err(), "bit {bit}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(decode(&longer), Err(StateError::Length(_))));
}

#[test]
fn update_persists_before_commit_and_failure_changes_nothing() {
    let mut env = TestEnv::seeded(1);
    let (i, p) = sample();
    let mut state = CardState::new(i, p);
    state.store_initial(&mut env).unwrap();
    // A failing write: error, memory and storage unchanged, and the
    // counter that could not be stored is not used.
    env.storage.fail_after = Some(0);
    let before = state.clone();
    let stored_before = env.storage.bytes.clone();
    assert_eq!(state.next_sign_count(&mut env), Err(CtapError::Other));
    assert_eq!(state, before);
    assert_eq!(env.storage.bytes, stored_before);
    env.storage.fail_after = None;
    assert_eq!(state.next_sign_count(&mut env).unwrap(), 42);
    // Storage holds a ceiling at or above the new value.
    let stored = decode(env.storage.bytes.as_ref().unwrap()).unwrap();
    assert_eq!(stored.persistent().sign_count, 42 + SIGN_COUNT_BLOCK - 1);
    let before = state.clone();
    // A failing change: nothing stored.
    env.storage.fail_after = None;
    let writes = env.storage.writes;
    let r: Result<(), _> = state.update(&mut env, |p| {
        p.sign_count = 0;
        Err(CtapError::InvalidParameter)
    });
    assert_eq!(r, Err(CtapError::InvalidParameter));
    assert_eq!(state, before);
    assert_eq!(env.storage.writes, writes);
}

#[test]
fn load_reports_missing_and_corrupt() {
    let mut env = TestEnv::seeded(1);
    assert_eq!(CardState::load(&mut env), Ok(None));
    env.storage.bytes = Some(b"TAPFIDO\x01garbage".to_vec());
    assert!(CardState::load(&mut env).is_err());
    let _ = env.rng();
}

proptest! {
    #[test]
    fn arbitrary_state_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
        let mut with_header = b"TAPFIDO\x01".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = decode(&with_header);
    }

    #[test]
    fn valid_checksum_arbitrary_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut out = b"TAPFIDO\x01".to_vec();
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&body);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        prop_assert!(decode(&out).is_err() || !body.is_empty());
    }
}

/// A state blob as written before credentials kept `rp.name` (format
/// version 1, no credential key 11), assembled byte by byte: it still
/// loads, with no RP name.
#[test]
fn a_blob_without_rp_names_still_loads() {
    let mut body = vec![0xA2, 0x01, 0xA1, 0x01, 0x58, 0x20];
    body.extend([7u8; 32]);
    body.extend([0x02, 0xAA, 0x01, 0x81, 0xA6]);
    body.extend([0x01, 0x42, 0x01, 0x01, 0x02, 0x58, 0x20]);
    body.extend([4u8; 32]);
    body.extend([0x03, 0x69]);
    body.extend(b"a.example");
    body.extend([0x04, 0x41, 0x05, 0x07, 0x00, 0x08, 0x01]);
    body.extend([0x02, 0x01, 0x03, 0x05, 0x05, 0x00, 0x06, 0x08, 0x07, 0x04]);
    body.extend([0x08, 0x80, 0x09, 0xF4, 0x0A, 0xF4, 0x0B, 0x40]);
    let mut blob = b"TAPFIDO\x01".to_vec();
    blob.extend(u32::try_from(body.len()).unwrap().to_be_bytes());
    blob.extend(&body);
    let sum = Sha256::digest(&blob);
    blob.extend(sum);
    let state = decode(&blob).unwrap();
    assert_eq!(state.identity().master_key, [7; 32]);
    let p = state.persistent();
    assert_eq!(p.sign_count, 5);
    assert_eq!(p.credentials.len(), 1);
    let c = &p.credentials[0];
    assert_eq!(c.id, [1, 1]);
    assert_eq!(c.rp_id, "a.example");
    assert_eq!(c.rp_name, None);
    assert_eq!(c.user_id, [5]);
    assert_eq!(c.cred_protect, 1);
    assert!(!p.enterprise_attestation, "no key 12: disabled");
    // Written again, the blob is the same bytes (nothing new is added).
    assert_eq!(encode(state.identity(), p), blob);

    // Enabling enterprise attestation adds `0C F5` (12: true) and no more.
    let mut enabled = p.clone();
    enabled.enterprise_attestation = true;
    let bytes = encode(state.identity(), &enabled);
    assert_eq!(bytes.len(), blob.len() + 2);
    let back = decode(&bytes).unwrap();
    assert!(back.persistent().enterprise_attestation);
    assert_eq!(back.persistent(), &enabled);
}

/// Hand-edited states with a recomputed checksum (reliability.md §8.1 item 9): each field
/// out of range, or a PIN flag without the PIN hash, is refused with the field named.
#[test]
fn edited_fields_out_of_range_are_refused_with_the_field_named() {
    type Edit = fn(&mut Identity, &mut Persistent);
    let cases: &[(&str, Edit)] = &[
        ("persistent.minPinLength", |_, p| p.min_pin_length = 0),
        ("persistent.minPinLength", |_, p| p.min_pin_length = 3),
        ("persistent.minPinLength", |_, p| p.min_pin_length = 200),
        ("persistent.pinCodePoints", |_, p| p.pin_code_points = 2),
        ("persistent.pinCodePoints", |_, p| p.pin_code_points = 64),
        ("persistent.pinHash", |_, p| p.pin_hash = None),
        ("persistent.pinHash", |_, p| {
            p.pin_hash = None;
            p.pin_code_points = 0;
            p.force_pin_change = true;
        }),
        ("persistent.largeBlob", |_, p| {
            p.large_blob = vec![0; 65_537]
        }),
        ("persistent.minPinLengthRPIDs", |_, p| {
            p.min_pin_length_rpids = vec![String::new()];
        }),
        ("credential.credProtect", |_, p| {
            p.credentials[0].cred_protect = 9;
        }),
        ("credential.credProtect", |_, p| {
            p.credentials[0].cred_protect = 0;
        }),
        ("credential.id", |_, p| p.credentials[0].id = Vec::new()),
        ("credential.id", |_, p| {
            let twin = p.credentials[0].clone();
            p.credentials.push(twin);
        }),
        ("credential.rpId", |_, p| {
            p.credentials[0].rp_id = String::new()
        }),
        ("credential.userId", |_, p| {
            p.credentials[0].user_id = vec![0; 65]
        }),
        ("credential.userName", |_, p| {
            p.credentials[0].user_name = Some("x".repeat(256));
        }),
        ("credential.credBlob", |_, p| {
            p.credentials[0].cred_blob = Some(vec![0; 1025]);
        }),
        ("credential.created", |_, p| p.next_created = 1),
        ("identity.attestationKey", |i, _| {
            i.attestation_key = Some([0; 32]);
        }),
        ("identity.attestationKey", |i, _| {
            i.attestation_key = Some([0xFF; 32]);
        }),
    ];
    for (field, edit) in cases {
        let (mut i, mut p) = sample();
        edit(&mut i, &mut p);
        match decode(&encode(&i, &p)) {
            Err(StateError::Range { field: got, .. }) => assert_eq!(got, *field),
            other => panic!("edit of {field}: {other:?}"),
        }
    }
    // The no-PIN state itself is fine, and the message names the field.
    let (i, mut p) = sample();
    p.pin_hash = None;
    p.pin_code_points = 0;
    p.pin_retries = 8;
    assert!(decode(&encode(&i, &p)).is_ok());
    p.credentials[0].cred_protect = 9;
    let message = decode(&encode(&i, &p)).unwrap_err().to_string();
    assert!(message.contains("credential.credProtect"), "{message}");
}

/// The secrets of the state are wiped when dropped (zeroize's `ZeroizeOnDrop`), and wiping
/// clears every secret field; a decoded CBOR tree wipes its byte strings too.
#[test]
fn state_secrets_are_wiped() {
    use zeroize::{Zeroize, ZeroizeOnDrop};
    fn wiped_on_drop<T: ZeroizeOnDrop>() {}
    wiped_on_drop::<Identity>();
    wiped_on_drop::<Persistent>();
    wiped_on_drop::<ResidentCredential>();

    let (mut i, mut p) = sample();
    i.zeroize();
    assert_eq!(i.master_key, [0; 32]);
    assert_eq!(i.attestation_key, None);
    p.zeroize();
    assert_eq!(p.pin_hash, None);
    assert!(p.credentials.is_empty());

    let (i, p) = sample();
    // The body sits between the 12-byte header and the 32-byte checksum.
    let blob = encode(&i, &p);
    let mut tree = crate::cbor::decode(&blob[12..blob.len() - 32]).unwrap();
    tree.zeroize();
    let crate::cbor::Value::Map(pairs) = &tree else {
        panic!("{tree:?}")
    };
    let crate::cbor::Value::Map(identity) = &pairs[0].1 else {
        panic!()
    };
    assert!(matches!(&identity[0].1, crate::cbor::Value::Bytes(b) if b.is_empty()));
}
