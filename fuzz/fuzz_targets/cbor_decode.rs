//! The strict CTAP2 CBOR decoder (CTAP 2.1 §8): never a panic, and every accepted input
//! is canonical, so encoding what was decoded gives back exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = applet::cbor::decode(data) {
        assert_eq!(
            applet::cbor::encode(&value),
            data,
            "decode→encode is not the identity"
        );
    }
});
