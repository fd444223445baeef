//! PIN retries, the three-mismatch block and persistence (reliability.md
//! §8.1 items 1-3, §8.2 items 15-21, 25), both protocols.

use super::pin_card::{Card, PROTOCOLS};
use crate::error::CtapError;
use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};

const PIN: &str = "1234";
const WRONG: &str = "9999";

fn card_with_pin(seed: u64, protocol: PinUvAuthProtocol) -> Card {
    let mut card = Card::new(seed);
    card.set_pin(protocol, PIN).unwrap();
    card
}

#[test]
fn fresh_card_has_8_retries_and_no_block() {
    let card = Card::new(1);
    assert_eq!(card.retries(), 8);
    assert!(!card.pin.power_cycle_required());
    assert_eq!(card.state.persistent().pin_hash, None);
}

#[test]
fn fresh_card_token_requests_answer_pin_not_set_without_a_decrement() {
    for protocol in PROTOCOLS {
        let mut card = Card::new(2);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinNotSet));
        assert_eq!(card.retries(), 8);
    }
}

#[test]
fn three_mismatches_block_until_a_power_cycle_and_eight_block_for_good() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(3, protocol);
        // #1, #2: PIN_INVALID with 7, 6 left.
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.retries(), 7);
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.retries(), 6);
        // #3: PIN_AUTH_BLOCKED with 5 left.
        assert_eq!(
            card.pin_token(protocol, WRONG),
            Err(CtapError::PinAuthBlocked)
        );
        assert_eq!(card.retries(), 5);
        assert!(card.pin.power_cycle_required());
        // Further attempts, even the correct PIN, are blocked without a decrement.
        assert_eq!(
            card.pin_token(protocol, WRONG),
            Err(CtapError::PinAuthBlocked)
        );
        assert_eq!(
            card.pin_token(protocol, PIN),
            Err(CtapError::PinAuthBlocked)
        );
        assert_eq!(
            card.change_pin(protocol, PIN, "5678"),
            Err(CtapError::PinAuthBlocked)
        );
        assert_eq!(card.retries(), 5);

        // A power cycle clears the block; the correct PIN restores 8.
        card.power_cycle();
        assert!(!card.pin.power_cycle_required());
        assert!(card.pin_token(protocol, PIN).is_ok());
        assert_eq!(card.retries(), 8);
        assert_eq!(card.pin.consecutive_mismatches(), 0);

        // 3 + 3 + 2 mismatches with power cycles between them: PIN_BLOCKED at 0.
        for _ in 0..2 {
            for _ in 0..3 {
                assert!(card.pin_token(protocol, WRONG).is_err());
            }
            assert_eq!(
                card.pin_token(protocol, PIN),
                Err(CtapError::PinAuthBlocked)
            );
            card.power_cycle();
        }
        assert_eq!(card.retries(), 2);
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.retries(), 1);
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinBlocked));
        assert_eq!(card.retries(), 0);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinBlocked));
        assert_eq!(
            card.change_pin(protocol, PIN, "5678"),
            Err(CtapError::PinBlocked)
        );

        // Across a power cycle and a restart from storage: still blocked.
        card.power_cycle();
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinBlocked));
        card.reload();
        assert_eq!(card.retries(), 0);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinBlocked));
    }
}

#[test]
fn a_correct_pin_clears_the_consecutive_counter() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(4, protocol);
        for _ in 0..2 {
            assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        }
        assert!(card.pin_token(protocol, PIN).is_ok());
        assert_eq!(card.retries(), 8);
        // Two more mismatches are PIN_INVALID again, not PIN_AUTH_BLOCKED.
        for left in [7, 6] {
            assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
            assert_eq!(card.retries(), left);
        }
    }
}

#[test]
fn retries_survive_a_restart_and_the_block_does_not() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(5, protocol);
        for _ in 0..3 {
            assert!(card.pin_token(protocol, WRONG).is_err());
        }
        assert_eq!(card.retries(), 5);
        card.reload();
        assert_eq!(card.retries(), 5);
        assert!(!card.pin.power_cycle_required());
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.retries(), 4);
    }
}

#[test]
fn a_failed_decrement_write_fails_the_attempt_without_comparing() {
    for protocol in PROTOCOLS {
        for pin in [PIN, WRONG] {
            let mut card = card_with_pin(6, protocol);
            // A new PIN is stored with one attempt reserved; a restart spends
            // it, so the next attempt must store its decrement first.
            card.reload();
            assert_eq!(card.retries(), 7);
            let writes = card.env.storage.writes;
            card.env.storage.fail_after = Some(0);
            // No PIN_INVALID oracle and no token: the storage error only.
            assert_eq!(card.pin_token(protocol, pin), Err(CtapError::Other));
            assert_eq!(card.retries(), 7);
            assert_eq!(card.env.storage.writes, writes);
            assert_eq!(card.pin.consecutive_mismatches(), 0);
            assert!(!card.pin.tokens().is_in_use(card.env.clock));
            card.env.storage.fail_after = None;
            card.reload();
            assert_eq!(card.retries(), 7);
        }
    }
}

#[test]
fn a_failed_restore_write_issues_no_token_and_keeps_the_decrement() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(7, protocol);
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.retries(), 7);
        // The right PIN: the attempt is reserved (7 → 6 stored), then the
        // restore (8, stored as 7 with one attempt reserved) fails.
        card.env.storage.fail_after = Some(1);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::Other));
        assert!(!card.pin.tokens().is_in_use(card.env.clock));
        assert_eq!(card.retries(), 6);
        card.env.storage.fail_after = None;
        card.reload();
        assert_eq!(card.retries(), 6);
    }
}

#[test]
fn a_mismatch_regenerates_the_key_agreement_key() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(8, protocol);
        let before = card.pin.key_agreement(protocol);
        let stale = card.platform(protocol);
        assert_eq!(
            card.token_with(&stale, WRONG, None),
            Err(CtapError::PinInvalid)
        );
        assert_ne!(card.pin.key_agreement(protocol), before);
        // The old shared secret no longer works, even with the correct PIN.
        assert_eq!(
            card.token_with(&stale, PIN, None),
            Err(CtapError::PinInvalid)
        );
        assert_eq!(card.retries(), 6);
        // A new key agreement does.
        assert!(card.pin_token(protocol, PIN).is_ok());
        assert_eq!(card.retries(), 8);
    }
}

#[test]
fn a_bad_platform_key_consumes_no_retry() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(9, protocol);
        let mut point = card.platform(protocol).public;
        point.y[0] ^= 0x80;
        let zero = CoseEcdhKey {
            x: [0; 32],
            y: [0; 32],
        };
        for key in [point, zero] {
            assert_eq!(
                card.token_raw(protocol, &key, &[0; 32], None),
                Err(CtapError::InvalidParameter)
            );
        }
        assert_eq!(card.retries(), 8);
        assert_eq!(card.pin.consecutive_mismatches(), 0);
    }
}

#[test]
fn a_pin_hash_enc_of_the_wrong_length_is_a_mismatch() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(10, protocol);
        let platform = card.platform(protocol);
        for len in [0, 15, 17, 48] {
            let enc = card.token_raw(protocol, &platform.public, &vec![0; len], None);
            assert!(enc.is_err());
        }
        assert!(card.retries() < 8);
    }
}

#[test]
fn change_pin_counts_mismatches_and_a_bad_mac_does_not() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(11, protocol);
        assert_eq!(
            card.change_pin(protocol, WRONG, "5678"),
            Err(CtapError::PinInvalid)
        );
        assert_eq!(card.retries(), 7);
        // A changePIN whose pinUvAuthParam is wrong fails before the decrement.
        let platform = card.platform(protocol);
        let new_enc = platform.encrypt([1; 16], &super::pin_card::padded(b"5678"));
        let hash_enc = platform.encrypt([2; 16], &super::pin_card::pin_hash16(PIN.as_bytes()));
        let mut param = platform.authenticate(&[new_enc.as_slice(), &hash_enc].concat());
        param[0] ^= 1;
        let rules =
            crate::pin::policy::PinRules::length(crate::pin::PinStore::min_pin_length(&card.state));
        let result = card.pin.change_pin(
            &mut card.env,
            &mut card.state,
            crate::pin::NewPinRequest {
                protocol,
                key_agreement: Some(&platform.public),
                pin_uv_auth_param: &param,
                new_pin_enc: &new_enc,
                rules,
            },
            &hash_enc,
        );
        assert_eq!(result, Err(CtapError::PinAuthInvalid));
        assert_eq!(card.retries(), 7);
        // The right one changes the PIN and restores 8.
        card.change_pin(protocol, PIN, "5678").unwrap();
        assert_eq!(card.retries(), 8);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinInvalid));
        assert!(card.pin_token(protocol, "5678").is_ok());
        card.reload();
        assert!(card.pin_token(protocol, "5678").is_ok());
    }
}

#[test]
fn pin_blocked_takes_precedence_over_the_three_mismatch_block() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(12, protocol);
        for _ in 0..2 {
            assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        }
        card.power_cycle();
        for _ in 0..3 {
            assert!(card.pin_token(protocol, WRONG).is_err());
        }
        assert_eq!(card.retries(), 3);
        card.power_cycle();
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinInvalid));
        // The third consecutive mismatch is also the last retry.
        assert_eq!(card.pin_token(protocol, WRONG), Err(CtapError::PinBlocked));
        assert_eq!(card.retries(), 0);
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinBlocked));
    }
}
