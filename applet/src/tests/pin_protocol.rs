//! PIN/UV auth protocols one and two (CTAP 2.1 §6.5.6, §6.5.7) against an
//! independent platform-side model: its own ECDH (scalar multiplication),
//! its own HKDF built from HMAC (RFC 5869 §2.2/§2.3), its own CBC built from
//! the raw AES block cipher, and published test vectors.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use super::pin_client::{cbc_encrypt, hkdf32, hmac, Platform};
use crate::pin::protocol::{
    CoseEcdhKey, KeyAgreementKey, PinUvAuthProtocol, ProtocolError, SharedSecret,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

fn card_key(seed: u64) -> KeyAgreementKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    KeyAgreementKey::generate(&mut rng)
}

// ---- round trips -----------------------------------------------------------

fn round_trip(protocol: PinUvAuthProtocol) {
    let card = card_key(1);
    let platform = Platform::encapsulate(protocol, &card.public_key(), 2);
    let secret = card.decapsulate(protocol, &platform.public).unwrap();
    assert_eq!(secret.protocol(), protocol);
    assert_eq!(secret.kdf_output(), platform.key);

    // Platform → card: a padded PIN block.
    let mut padded = b"1234".to_vec();
    padded.resize(64, 0);
    let enc = platform.encrypt([0xA5; 16], &padded);
    assert_eq!(
        enc.len(),
        if protocol == PinUvAuthProtocol::One {
            64
        } else {
            80
        }
    );
    assert_eq!(secret.decrypt(&enc).unwrap(), padded);
    secret.verify(&enc, &platform.authenticate(&enc)).unwrap();

    // Card → platform: a 32-byte token.
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let token = [0x5Au8; 32];
    let enc_token = secret.encrypt(&mut rng, &token).unwrap();
    assert_eq!(platform.decrypt(&enc_token), token);
    assert_eq!(
        secret.authenticate(b"message"),
        platform.authenticate(b"message")
    );
}

#[test]
fn protocol_one_round_trip() {
    round_trip(PinUvAuthProtocol::One);
}

#[test]
fn protocol_two_round_trip() {
    round_trip(PinUvAuthProtocol::Two);
}

#[test]
fn protocol_two_uses_a_fresh_iv_each_time() {
    let card = card_key(4);
    let platform = Platform::encapsulate(PinUvAuthProtocol::Two, &card.public_key(), 5);
    let secret = card
        .decapsulate(PinUvAuthProtocol::Two, &platform.public)
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let a = secret.encrypt(&mut rng, &[0; 32]).unwrap();
    let b = secret.encrypt(&mut rng, &[0; 32]).unwrap();
    assert_eq!(a.len(), 48);
    assert_ne!(a[..16], b[..16]);
    assert_eq!(platform.decrypt(&a), [0; 32]);
    assert_eq!(platform.decrypt(&b), [0; 32]);
}

#[test]
fn protocol_one_encrypts_with_a_zero_iv() {
    let card = card_key(7);
    let platform = Platform::encapsulate(PinUvAuthProtocol::One, &card.public_key(), 8);
    let secret = card
        .decapsulate(PinUvAuthProtocol::One, &platform.public)
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let a = secret.encrypt(&mut rng, &[7; 16]).unwrap();
    let b = secret.encrypt(&mut rng, &[7; 16]).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, cbc_encrypt(&platform.key, &[0; 16], &[7; 16]));
}

#[test]
fn both_protocols_report_their_wire_values() {
    assert_eq!(PinUvAuthProtocol::from_wire(1), Ok(PinUvAuthProtocol::One));
    assert_eq!(PinUvAuthProtocol::from_wire(2), Ok(PinUvAuthProtocol::Two));
    for bad in [0, 3, 255, u64::MAX] {
        assert_eq!(
            PinUvAuthProtocol::from_wire(bad),
            Err(ProtocolError::UnsupportedProtocol)
        );
    }
    assert_eq!(PinUvAuthProtocol::One.wire(), 1);
    assert_eq!(PinUvAuthProtocol::Two.wire(), 2);
}

// ---- known answers -----------------------------------------------------------

/// NIST CAVS "KAS ECC CDH primitive" test vectors, P-256, COUNT = 0.
#[test]
fn p256_ecdh_matches_nist_cdh_vector() {
    let d_iut = arr32("7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534");
    let card = KeyAgreementKey::from_scalar(&d_iut).unwrap();
    let public = card.public_key();
    assert_eq!(
        public.x.to_vec(),
        h("ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230")
    );
    assert_eq!(
        public.y.to_vec(),
        h("28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141")
    );
    let peer = CoseEcdhKey::from_parts(
        2,
        Some(-25),
        1,
        &h("700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287"),
        &h("db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac"),
    )
    .unwrap();
    let z = h("46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b");

    let one = card.decapsulate(PinUvAuthProtocol::One, &peer).unwrap();
    assert_eq!(one.kdf_output(), Sha256::digest(&z).to_vec());

    let two = card.decapsulate(PinUvAuthProtocol::Two, &peer).unwrap();
    let mut expected = hkdf32(&[0; 32], &z, b"CTAP2 HMAC key");
    expected.extend(hkdf32(&[0; 32], &z, b"CTAP2 AES key"));
    assert_eq!(two.kdf_output(), expected);
}

/// RFC 4231 §4.3 (test case 2): key "Jefe".
#[test]
fn authenticate_matches_rfc4231_case_2() {
    let full = h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    let msg = b"what do ya want for nothing?";
    assert_eq!(PinUvAuthProtocol::Two.authenticate(b"Jefe", msg), full);
    assert_eq!(
        PinUvAuthProtocol::One.authenticate(b"Jefe", msg),
        full[..16]
    );
    PinUvAuthProtocol::Two.verify(b"Jefe", msg, &full).unwrap();
    PinUvAuthProtocol::One
        .verify(b"Jefe", msg, &full[..16])
        .unwrap();
    // Protocol one's MAC is exactly 16 bytes: the full HMAC does not verify.
    assert_eq!(
        PinUvAuthProtocol::One.verify(b"Jefe", msg, &full),
        Err(ProtocolError::MacMismatch)
    );
}

const SP800_38A_KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const SP800_38A_PT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                            30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

/// NIST SP 800-38A F.2.6 (CBC-AES256.Decrypt) through protocol two, whose
/// ciphertext is `IV || blocks`.
#[test]
fn protocol_two_decrypt_matches_sp800_38a_cbc_vector() {
    let secret = SharedSecret::from_keys(PinUvAuthProtocol::Two, [0; 32], arr32(SP800_38A_KEY));
    let mut ct = h("000102030405060708090a0b0c0d0e0f");
    ct.extend(h(
        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
         39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
    ));
    assert_eq!(secret.decrypt(&ct).unwrap(), h(SP800_38A_PT));
}

/// NIST SP 800-38A F.1.5 (ECB-AES256): with a zero IV the first CBC block
/// is the ECB block, so protocol one's first ciphertext block is known.
#[test]
fn protocol_one_encrypt_matches_sp800_38a_ecb_vector() {
    let key = arr32(SP800_38A_KEY);
    let secret = SharedSecret::from_keys(PinUvAuthProtocol::One, key, key);
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let ct = secret.encrypt(&mut rng, &h(SP800_38A_PT)).unwrap();
    assert_eq!(ct[..16], h("f3eed1bdb5d2a03c064b5a7e3db181f8"));
    assert_eq!(secret.decrypt(&ct).unwrap(), h(SP800_38A_PT));
}

// ---- rejections ----------------------------------------------------------------

#[test]
fn peer_key_fields_are_checked() {
    let card = card_key(10);
    let good = card_key(11).public_key();
    let (x, y) = (good.x, good.y);
    // Accepted: alg -25, legacy -7, or absent.
    for alg in [Some(-25), Some(-7), None] {
        let peer = CoseEcdhKey::from_parts(2, alg, 1, &x, &y).unwrap();
        card.decapsulate(PinUvAuthProtocol::Two, &peer).unwrap();
    }
    let bad = [
        CoseEcdhKey::from_parts(1, Some(-25), 1, &x, &y),
        CoseEcdhKey::from_parts(3, Some(-25), 1, &x, &y),
        CoseEcdhKey::from_parts(2, Some(-8), 1, &x, &y),
        CoseEcdhKey::from_parts(2, Some(-26), 1, &x, &y),
        CoseEcdhKey::from_parts(2, Some(-25), 2, &x, &y),
        CoseEcdhKey::from_parts(2, Some(-25), 1, &x[..31], &y),
        CoseEcdhKey::from_parts(2, Some(-25), 1, &x, &[y.as_slice(), &[0]].concat()),
        CoseEcdhKey::from_parts(2, Some(-25), 1, &[], &[]),
    ];
    for result in bad {
        assert_eq!(result, Err(ProtocolError::InvalidPeerKey));
    }
}

#[test]
fn point_not_on_the_curve_is_rejected() {
    let card = card_key(12);
    let mut point = card_key(13).public_key();
    point.y[31] ^= 1;
    for protocol in PinUvAuthProtocol::ALL {
        assert_eq!(
            card.decapsulate(protocol, &point).unwrap_err(),
            ProtocolError::InvalidPeerKey
        );
    }
    // (0, 0) is not on P-256 either.
    let zero = CoseEcdhKey::from_parts(2, Some(-25), 1, &[0; 32], &[0; 32]).unwrap();
    assert_eq!(
        card.decapsulate(PinUvAuthProtocol::One, &zero).unwrap_err(),
        ProtocolError::InvalidPeerKey
    );
    // x = p (out of range) with any y.
    let p = h("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    let out = CoseEcdhKey::from_parts(2, Some(-25), 1, &p, &[1; 32]).unwrap();
    assert_eq!(
        card.decapsulate(PinUvAuthProtocol::One, &out).unwrap_err(),
        ProtocolError::InvalidPeerKey
    );
}

#[test]
fn lengths_that_are_not_whole_blocks_are_rejected() {
    let one = SharedSecret::from_keys(PinUvAuthProtocol::One, [1; 32], [1; 32]);
    let two = SharedSecret::from_keys(PinUvAuthProtocol::Two, [1; 32], [2; 32]);
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    for s in [&one, &two] {
        assert_eq!(
            s.encrypt(&mut rng, &[0; 15]),
            Err(ProtocolError::InvalidLength)
        );
        assert_eq!(
            s.encrypt(&mut rng, &[0; 65]),
            Err(ProtocolError::InvalidLength)
        );
    }
    assert_eq!(one.decrypt(&[0; 63]), Err(ProtocolError::InvalidLength));
    assert_eq!(one.decrypt(&[0; 65]), Err(ProtocolError::InvalidLength));
    assert_eq!(two.decrypt(&[0; 15]), Err(ProtocolError::InvalidLength));
    assert_eq!(
        two.decrypt(&[0; 64 + 15]),
        Err(ProtocolError::InvalidLength)
    );
    // Protocol two: 64 bytes is an IV and three blocks, not a 64-byte PIN.
    assert_eq!(two.decrypt(&[0; 64]).unwrap().len(), 48);
    assert_eq!(two.decrypt(&[0; 16]).unwrap().len(), 0);
}

#[test]
fn verify_rejects_any_changed_or_truncated_mac() {
    for protocol in PinUvAuthProtocol::ALL {
        let secret = SharedSecret::from_keys(protocol, [3; 32], [4; 32]);
        let good = hmac(&[3; 32], b"msg")[..protocol.mac_len()].to_vec();
        secret.verify(b"msg", &good).unwrap();
        let last = good.len() - 1;
        for pos in [0, last] {
            let mut bad = good.clone();
            bad[pos] ^= 0x01;
            assert_eq!(secret.verify(b"msg", &bad), Err(ProtocolError::MacMismatch));
        }
        assert_eq!(
            secret.verify(b"msg", &good[..last]),
            Err(ProtocolError::MacMismatch)
        );
        assert_eq!(secret.verify(b"msg", &[]), Err(ProtocolError::MacMismatch));
        assert_eq!(
            secret.verify(b"msh", &good),
            Err(ProtocolError::MacMismatch)
        );
    }
}

#[test]
fn debug_output_does_not_show_key_material() {
    let secret = SharedSecret::from_keys(PinUvAuthProtocol::Two, [0xAB; 32], [0xCD; 32]);
    let text = format!("{secret:?} {:?}", card_key(15));
    assert!(!text.contains("171") && !text.contains("205"));
    assert!(text.contains("SharedSecret"));
}
