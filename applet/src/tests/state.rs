use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::env::{Env, TestEnv};
use crate::error::CtapError;
use crate::state::{
    decode, encode, CardState, Identity, Persistent, ResidentCredential, StateError,
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
    assert_eq!(state.next_sign_count(&mut env).unwrap(), 42);
    // Storage holds the new value.
    let stored = decode(env.storage.bytes.as_ref().unwrap()).unwrap();
    assert_eq!(stored.persistent().sign_count, 42);
    // A failing write: error, memory and storage unchanged.
    env.storage.fail_after = Some(0);
    let before = state.clone();
    let stored_before = env.storage.bytes.clone();
    assert_eq!(state.next_sign_count(&mut env), Err(CtapError::Other));
    assert_eq!(state, before);
    assert_eq!(env.storage.bytes, stored_before);
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
