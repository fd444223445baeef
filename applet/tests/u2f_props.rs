//! Property tests: no U2F command and no PEM input makes the applet panic,
//! and every U2F failure is one of the documented status words.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::attestation::{AttestationCa, BatchAttestation};
use applet::credential::IdKey;
use applet::env::TestEnv;
use applet::iso::{Command, Status};
use applet::state::{CardState, Identity, Persistent};
use applet::u2f::{self, U2f};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const DOCUMENTED: [u16; 8] = [
    0x6700, 0x6985, 0x6A80, 0x6A86, 0x6D00, 0x6E00, 0x6581, 0x6F00,
];

fn fixture() -> (TestEnv, CardState, IdKey, BatchAttestation) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ca = AttestationCa::generate_test_ca(&mut rng).unwrap();
    let batch = BatchAttestation::generate(&ca, &[0; 16], &mut rng).unwrap();
    let mut env = TestEnv::seeded(2);
    let state = CardState::new(
        Identity {
            master_key: [3; 32],
            attestation_key: None,
        },
        Persistent::fresh(4),
    );
    state.store_initial(&mut env).unwrap();
    (env, state, IdKey::derive(&[3; 32]), batch)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_u2f_command_answers_a_documented_status(
        cla in prop_oneof![Just(0u8), any::<u8>()],
        ins in prop_oneof![1u8..=3, any::<u8>()],
        p1 in prop_oneof![Just(3u8), Just(7u8), Just(8u8), any::<u8>()],
        p2 in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..300),
        present in any::<bool>(),
    ) {
        let (mut env, mut state, id_key, batch) = fixture();
        let cmd = Command { cla, ins, p1, p2, data: &data, ne: 256, extended: false };
        let ctx = U2f {
            env: &mut env,
            state: &mut state,
            id_key: &id_key,
            attestation: Some(&batch),
            user_present: present,
        };
        let mut reply = Vec::new();
        match u2f::process(ctx, &cmd, &mut reply) {
            Ok(()) => prop_assert!(!reply.is_empty()),
            Err(e) => {
                prop_assert!(reply.is_empty());
                prop_assert!(DOCUMENTED.contains(&u16::from(Status::from(e))));
            }
        }
    }

    #[test]
    fn any_pem_text_is_rejected_or_accepted_without_panic(
        cert in "(-----BEGIN [A-Z ]{0,20}-----\n)?[A-Za-z0-9+/=\n]{0,200}(-----END [A-Z ]{0,20}-----\n)?",
        key in "(-----BEGIN [A-Z ]{0,20}-----\n)?[A-Za-z0-9+/=\n]{0,200}(-----END [A-Z ]{0,20}-----\n)?",
    ) {
        if let Err(e) = AttestationCa::from_pem(&cert, &key) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}
