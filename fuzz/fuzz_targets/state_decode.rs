//! The state file (`applet::state::codec`): any bytes, and any body inside a valid header
//! and checksum, are refused or decoded; what decodes re-encodes to the same state, and a
//! card starts from it and answers (reliability §8.1 items 9 and 14). Never a panic.
#![no_main]

use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use applet::iso::Applet;
use applet::state::{decode, encode, FORMAT_VERSION, MAGIC};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn check(bytes: &[u8]) {
    let Ok(state) = decode(bytes) else {
        return;
    };
    let again = encode(state.identity(), state.persistent());
    assert_eq!(
        decode(&again).unwrap(),
        state,
        "decode→encode→decode changed the state"
    );
    let mut env = TestEnv::seeded(1);
    env.storage.bytes = Some(bytes.to_vec());
    let Ok(mut card) = FidoApplet::new(env, Config::default(), None) else {
        return;
    };
    // getInfo; getPinRetries; getAssertion by discovery for rp "a".
    let mut ga = vec![0x02, 0xA2, 0x01, 0x61, b'a', 0x02, 0x58, 0x20];
    ga.extend_from_slice(&[0x11; 32]);
    for request in [
        vec![0x04],
        vec![0x06, 0xA2, 0x01, 0x02, 0x02, 0x01],
        ga,
        vec![0x08],
    ] {
        let mut reply = Vec::new();
        let _ = card.ctap(&request, false, &mut reply);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // The same bytes as the body of a well-formed blob, to reach the CBOR fields.
    let mut blob = MAGIC.to_vec();
    blob.push(FORMAT_VERSION);
    blob.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    blob.extend_from_slice(data);
    let sum = Sha256::digest(&blob);
    blob.extend_from_slice(&sum);
    check(&blob);
});
