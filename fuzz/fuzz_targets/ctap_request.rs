//! One CTAP2 request (`command byte || CBOR`) to a fresh card: the first input byte picks
//! the command among those the applet implements, the rest is the body. The answer is
//! always a status byte (and a body only with CTAP2_OK); never a panic. The first byte's
//! top bit starts the card with a PIN set (SHA-256("1234") prefix, 8 retries), so that the
//! PIN-protected paths are reached too.
#![no_main]

use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use applet::iso::{Applet, CtapOutcome};
use applet::state::{encode, Identity, Persistent};
use libfuzzer_sys::fuzz_target;

/// makeCredential, getAssertion, getInfo, clientPIN, reset, getNextAssertion,
/// credentialManagement, selection, largeBlobs, config, the FIDO_2_1_PRE credMgmt, and
/// one unknown command.
const COMMANDS: [u8; 12] = [
    0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x41, 0x55,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let cmd = COMMANDS[usize::from(pick & 0x7F) % COMMANDS.len()];
    let mut env = TestEnv::seeded(7);
    if pick & 0x80 != 0 {
        let identity = Identity {
            master_key: [0x33; 32],
            attestation_key: None,
        };
        let mut persistent = Persistent::fresh(4);
        persistent.pin_hash = Some([
            0x03, 0xac, 0x67, 0x42, 0x16, 0xf3, 0xe1, 0x5c, 0x76, 0x1e, 0xe1, 0xa5, 0xe2, 0x55,
            0xf0, 0x67,
        ]);
        persistent.pin_code_points = 4;
        env.storage.bytes = Some(encode(&identity, &persistent));
    }
    let mut card = FidoApplet::new(env, Config::default(), None).unwrap();
    let mut request = vec![cmd];
    request.extend_from_slice(body);
    for may_wait in [false, true] {
        let mut reply = Vec::new();
        match card.ctap(&request, may_wait, &mut reply) {
            Ok(CtapOutcome::Done) => {
                assert!(!reply.is_empty(), "empty CTAP reply");
                if reply[0] != 0 {
                    assert_eq!(reply.len(), 1, "an error with a body");
                } else if reply.len() > 1 {
                    applet::cbor::decode(&reply[1..]).expect("response body is canonical CBOR");
                }
            }
            Ok(_) | Err(_) => {}
        }
    }
});
