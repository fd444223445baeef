use crate::credential::{CredFlags, IdKey, Sealed, CREDENTIAL_ID_LEN};
use crate::env::{Env, TestEnv};
use crate::keys::{Algorithm, PrivateKey};

fn setup(alg: Algorithm) -> (TestEnv, IdKey, Sealed, Vec<u8>) {
    let mut env = TestEnv::seeded(7);
    let key = IdKey::derive(&[0x42; 32]);
    let sealed = Sealed {
        key: PrivateKey::generate(alg, env.rng()),
        flags: CredFlags {
            cred_protect: 2,
            u2f: false,
            discoverable: true,
            third_party_payment: false,
        },
    };
    let id = key.wrap(env.rng(), &[1; 32], &sealed);
    (env, key, sealed, id)
}

#[test]
fn wrap_unwrap_round_trip() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let (_, key, sealed, id) = setup(alg);
        assert_eq!(id.len(), CREDENTIAL_ID_LEN);
        assert!(id.len() <= 64);
        let back = key.unwrap(&[1; 32], &id).unwrap();
        assert_eq!(back.flags, sealed.flags);
        assert_eq!(back.key.to_bytes(), sealed.key.to_bytes());
        assert_eq!(back.key.algorithm(), alg);
    }
}

#[test]
fn every_bit_flip_is_rejected() {
    let (_, key, _, id) = setup(Algorithm::Es256);
    for bit in 0..id.len() * 8 {
        let mut t = id.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(key.unwrap(&[1; 32], &t).is_none(), "bit {bit}");
    }
}

#[test]
fn other_rp_lengths_and_other_master_key_are_rejected() {
    let (_, key, _, id) = setup(Algorithm::Es256);
    assert!(key.unwrap(&[2; 32], &id).is_none());
    assert!(key.unwrap(&[1; 32], &[]).is_none());
    assert!(key.unwrap(&[1; 32], &[0u8; 1024]).is_none());
    assert!(key.unwrap(&[1; 32], &id[..id.len() - 1]).is_none());
    let mut longer = id.clone();
    longer.push(0);
    assert!(key.unwrap(&[1; 32], &longer).is_none());
    assert!(IdKey::derive(&[0x43; 32]).unwrap(&[1; 32], &id).is_none());
}

#[test]
fn ids_are_distinct() {
    let mut env = TestEnv::seeded(9);
    let key = IdKey::derive(&[0x42; 32]);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        let sealed = Sealed {
            key: PrivateKey::generate(Algorithm::Es256, env.rng()),
            flags: CredFlags::default(),
        };
        assert!(seen.insert(key.wrap(env.rng(), &[1; 32], &sealed)));
    }
}

#[test]
fn opened_signs_like_the_full_key() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let (_, key, sealed, id) = setup(alg);
        let opened = key.open(&[1; 32], &id).unwrap();
        assert_eq!(opened.alg, alg);
        assert_eq!(opened.flags, sealed.flags);
        let msg = b"authData || clientDataHash";
        // ECDSA signatures carry a fresh nonce: both verify under the
        // credential's public key (an independent verifier).
        for sig in [opened.sign(msg).unwrap(), sealed.key.sign(msg).unwrap()] {
            verify(&sealed.key, msg, &sig);
        }
        assert!(key.open(&[2; 32], &id).is_none());
    }
}

fn verify(key: &PrivateKey, msg: &[u8], sig: &[u8]) {
    use p256::ecdsa::signature::Verifier;
    match key {
        PrivateKey::Es256(_) => {
            let public = key.public_sec1().unwrap();
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
            let sig = p256::ecdsa::Signature::from_der(sig).unwrap();
            vk.verify(msg, &sig).unwrap();
        }
        PrivateKey::EdDsa(_) => {
            let crate::cbor::Value::Map(m) = key.public_cose() else {
                panic!("COSE key is a map")
            };
            let x = m
                .iter()
                .find(|(k, _)| *k == crate::cbor::Value::from(-2i64))
                .and_then(|(_, v)| v.as_bytes().ok())
                .unwrap();
            let vk = ed25519_dalek::VerifyingKey::from_bytes(x.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_slice(sig).unwrap();
            vk.verify(msg, &sig).unwrap();
        }
    }
}
