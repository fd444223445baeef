//! PIN policy, pinUvAuthToken permissions, RP binding, lifetime and the
//! pinUvAuthParam check of MC/GA (reliability.md §8.2 items 21-24), both
//! protocols. Tokens are used the way a platform uses them: the platform's
//! own HMAC over clientDataHash (CTAP 2.1 §6.5.6/§6.5.7 authenticate).

use std::time::Duration;

use super::pin_card::{padded, Card, PROTOCOLS};
use super::pin_client::hmac;
use crate::error::CtapError;
use crate::pin::protocol::PinUvAuthProtocol;
use crate::pin::token::permission;
use crate::pin::uv::{
    consume_after_user_presence, verify_pin_uv_auth_param, zero_length_status, PinUvAuth, UvCheck,
    UvFor,
};

const PIN: &str = "1234";
const CDH: [u8; 32] = [0xCD; 32];
const ENABLED: [u8; 2] = [2, 1];

/// The platform's pinUvAuthParam: authenticate(token, clientDataHash).
fn param(protocol: PinUvAuthProtocol, token: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = hmac(token, message);
    if protocol == PinUvAuthProtocol::One {
        mac.truncate(16);
    }
    mac
}

fn uv(
    card: &mut Card,
    protocol: PinUvAuthProtocol,
    param: &[u8],
    rp_id: &str,
    command: UvFor,
) -> Result<(), CtapError> {
    verify_pin_uv_auth_param(
        &mut card.pin,
        &card.state,
        card.env.clock,
        UvCheck {
            auth: PinUvAuth {
                param: Some(param),
                protocol: Some(u64::from(protocol.wire())),
            },
            enabled_protocols: &ENABLED,
            client_data_hash: &CDH,
            rp_id,
            command,
        },
    )
}

fn card_with_pin(seed: u64, protocol: PinUvAuthProtocol) -> Card {
    let mut card = Card::new(seed);
    card.set_pin(protocol, PIN).unwrap();
    card
}

// ---- PIN policy ------------------------------------------------------------

#[test]
fn set_pin_policy() {
    for protocol in PROTOCOLS {
        let refused: [(&[u8], CtapError); 6] = [
            (&padded(b"123"), CtapError::PinPolicyViolation),
            (&padded("äää".as_bytes()), CtapError::PinPolicyViolation),
            (
                &padded(&[0xFF, 0xFE, 0x31, 0x32]),
                CtapError::PinPolicyViolation,
            ),
            (&padded(b"12\x0034"), CtapError::PinPolicyViolation),
            (&[b'7'; 64], CtapError::PinPolicyViolation),
            (&[b'7'; 48], CtapError::InvalidParameter),
        ];
        for (block, expected) in refused {
            let mut card = Card::new(20);
            assert_eq!(card.set_pin_block(protocol, block), Err(expected));
            assert_eq!(card.state.persistent().pin_hash, None);
            assert_eq!(card.env.storage.writes, 1, "only the initial write");
        }
        for pin in ["1234".to_owned(), "ääää".to_owned(), "7".repeat(63)] {
            let mut card = Card::new(21);
            card.set_pin(protocol, &pin).unwrap();
            assert_eq!(
                card.state.persistent().pin_code_points,
                u8::try_from(pin.chars().count()).unwrap()
            );
            assert!(card.pin_token(protocol, &pin).is_ok());
        }
    }
}

#[test]
fn set_pin_respects_a_raised_minimum() {
    let mut card = Card::new(22);
    card.state
        .update(&mut card.env, |p| {
            p.min_pin_length = 6;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        card.set_pin(PinUvAuthProtocol::Two, "12345"),
        Err(CtapError::PinPolicyViolation)
    );
    card.set_pin(PinUvAuthProtocol::Two, "123456").unwrap();
}

#[test]
fn set_pin_refuses_a_second_pin_and_a_bad_mac() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(23, protocol);
        let before = card.state.persistent().clone();
        assert_eq!(
            card.set_pin(protocol, "5678"),
            Err(CtapError::PinAuthInvalid)
        );
        assert_eq!(card.state.persistent(), &before);

        let mut card = Card::new(24);
        let platform = card.platform(protocol);
        let enc = platform.encrypt([3; 16], &padded(b"1234"));
        let mut mac = platform.authenticate(&enc);
        mac[0] ^= 1;
        assert_eq!(
            card.set_pin_raw(&platform, &enc, &mac),
            Err(CtapError::PinAuthInvalid)
        );
        assert_eq!(card.state.persistent().pin_hash, None);
    }
}

#[test]
fn set_pin_with_an_undecryptable_new_pin_enc_is_pin_auth_invalid() {
    for (protocol, len) in [(PinUvAuthProtocol::One, 63), (PinUvAuthProtocol::Two, 15)] {
        let mut card = Card::new(25);
        let platform = card.platform(protocol);
        let enc = vec![0x11; len];
        let mac = platform.authenticate(&enc);
        assert_eq!(
            card.set_pin_raw(&platform, &enc, &mac),
            Err(CtapError::PinAuthInvalid)
        );
    }
}

#[test]
fn force_pin_change_blocks_tokens_until_the_pin_changes() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(26, protocol);
        card.state
            .update(&mut card.env, |p| {
                p.force_pin_change = true;
                Ok(())
            })
            .unwrap();
        assert_eq!(card.pin_token(protocol, PIN), Err(CtapError::PinInvalid));
        assert_eq!(
            card.token_for(protocol, PIN, permission::GET_ASSERTION, Some("a.example")),
            Err(CtapError::PinPolicyViolation)
        );
        assert_eq!(card.retries(), 8);
        assert_eq!(
            card.change_pin(protocol, PIN, PIN),
            Err(CtapError::PinPolicyViolation)
        );
        card.change_pin(protocol, PIN, "5678").unwrap();
        assert!(!card.state.persistent().force_pin_change);
        assert!(card.pin_token(protocol, "5678").is_ok());
    }
}

// ---- permissions request checks (0x09) -----------------------------------

#[test]
fn permission_requests_are_checked_before_any_retry_is_used() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(27, protocol);
        let cases = [
            (0, Some("a.example"), CtapError::InvalidParameter),
            (
                permission::MAKE_CREDENTIAL,
                None,
                CtapError::MissingParameter,
            ),
            (permission::GET_ASSERTION, None, CtapError::MissingParameter),
            (
                permission::BIO_ENROLLMENT,
                None,
                CtapError::UnauthorizedPermission,
            ),
        ];
        for (permissions, rp_id, expected) in cases {
            assert_eq!(
                card.token_for(protocol, "0000", permissions, rp_id),
                Err(expected)
            );
        }
        assert_eq!(card.retries(), 8);
        // cm without an RP ID is fine.
        assert!(card
            .token_for(protocol, PIN, permission::CREDENTIAL_MANAGEMENT, None)
            .is_ok());
    }
}

// ---- tokens in MC / GA -------------------------------------------------------

#[test]
fn a_token_verifies_one_ceremony_for_its_rp() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(30, protocol);
        let token = card
            .token_for(protocol, PIN, permission::DEFAULT, Some("a.example"))
            .unwrap();
        assert_eq!(token.len(), 32);
        let p = param(protocol, &token, &CDH);
        // Bound to a.example: b.example is refused (and nothing is consumed).
        assert_eq!(
            uv(&mut card, protocol, &p, "b.example", UvFor::GetAssertion),
            Err(CtapError::PinAuthInvalid)
        );
        uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion).unwrap();
        consume_after_user_presence(&mut card.pin);
        assert_eq!(
            uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion),
            Err(CtapError::PinAuthInvalid)
        );
        assert_eq!(card.retries(), 8);
    }
}

#[test]
fn get_pin_token_binds_the_first_rp_it_is_used_for() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(31, protocol);
        let token = card.pin_token(protocol, PIN).unwrap();
        let p = param(protocol, &token, &CDH);
        uv(&mut card, protocol, &p, "a.example", UvFor::MakeCredential).unwrap();
        assert_eq!(card.pin.tokens().rp_id(card.env.clock), Some("a.example"));
        assert_eq!(
            uv(&mut card, protocol, &p, "b.example", UvFor::GetAssertion),
            Err(CtapError::PinAuthInvalid)
        );
        // Up to presence being collected, the same RP may verify again.
        uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion).unwrap();
    }
}

#[test]
fn a_token_without_the_permission_is_refused() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(32, protocol);
        let token = card
            .token_for(
                protocol,
                PIN,
                permission::MAKE_CREDENTIAL,
                Some("a.example"),
            )
            .unwrap();
        let p = param(protocol, &token, &CDH);
        assert_eq!(
            uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion),
            Err(CtapError::PinAuthInvalid)
        );
        assert!(!card
            .pin
            .tokens()
            .has_permission(card.env.clock, permission::CREDENTIAL_MANAGEMENT));
        uv(&mut card, protocol, &p, "a.example", UvFor::MakeCredential).unwrap();
    }
}

#[test]
fn tokens_expire_after_the_initial_window_unless_used_and_after_10_minutes() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(33, protocol);
        let token = card.pin_token(protocol, PIN).unwrap();
        let p = param(protocol, &token, &CDH);
        card.env.advance(Duration::from_secs(19));
        assert_eq!(
            uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion),
            Err(CtapError::PinAuthInvalid)
        );

        let token = card
            .token_for(
                protocol,
                PIN,
                permission::CREDENTIAL_MANAGEMENT | permission::GET_ASSERTION,
                Some("a.example"),
            )
            .unwrap();
        let p = param(protocol, &token, &CDH);
        card.env.advance(Duration::from_secs(18));
        uv(&mut card, protocol, &p, "a.example", UvFor::GetAssertion).unwrap();
        // Used in time: it lives on (for what presence did not consume) ...
        card.env.advance(Duration::from_secs(500));
        assert!(card.pin.tokens().is_in_use(card.env.clock));
        assert!(card.pin.tokens().verify(card.env.clock, protocol, &CDH, &p));
        // ... up to its maximum lifetime of 10 minutes.
        card.env.advance(Duration::from_secs(600 - 518));
        assert!(!card.pin.tokens().is_in_use(card.env.clock));
        assert!(!card.pin.tokens().verify(card.env.clock, protocol, &CDH, &p));
    }
}

#[test]
fn new_tokens_pin_changes_and_power_cycles_invalidate_earlier_tokens() {
    for protocol in PROTOCOLS {
        let mut card = card_with_pin(34, protocol);
        let first = card.pin_token(protocol, PIN).unwrap();
        let second = card.pin_token(protocol, PIN).unwrap();
        assert_ne!(first, second);
        let check = |card: &mut Card, token: &[u8]| {
            let p = param(protocol, token, &CDH);
            uv(card, protocol, &p, "a.example", UvFor::GetAssertion)
        };
        assert_eq!(check(&mut card, &first), Err(CtapError::PinAuthInvalid));
        card.change_pin(protocol, PIN, "5678").unwrap();
        assert_eq!(check(&mut card, &second), Err(CtapError::PinAuthInvalid));
        let third = card.pin_token(protocol, "5678").unwrap();
        card.power_cycle();
        assert_eq!(check(&mut card, &third), Err(CtapError::PinAuthInvalid));
        let fourth = card.pin_token(protocol, "5678").unwrap();
        card.reload();
        assert_eq!(check(&mut card, &fourth), Err(CtapError::PinAuthInvalid));
    }
}

#[test]
fn a_token_only_verifies_with_the_protocol_it_was_issued_for() {
    let mut card = card_with_pin(35, PinUvAuthProtocol::Two);
    let token = card.pin_token(PinUvAuthProtocol::Two, PIN).unwrap();
    let p = param(PinUvAuthProtocol::One, &token, &CDH);
    assert_eq!(
        uv(
            &mut card,
            PinUvAuthProtocol::One,
            &p,
            "a.example",
            UvFor::GetAssertion
        ),
        Err(CtapError::PinAuthInvalid)
    );
}

#[test]
fn pin_uv_auth_param_shapes() {
    let mut card = Card::new(36);
    let auth = |param: Option<&'static [u8]>, protocol: Option<u64>| PinUvAuth { param, protocol };
    let check = |card: &mut Card, auth: PinUvAuth<'_>| {
        verify_pin_uv_auth_param(
            &mut card.pin,
            &card.state,
            card.env.clock,
            UvCheck {
                auth,
                enabled_protocols: &ENABLED,
                client_data_hash: &CDH,
                rp_id: "a.example",
                command: UvFor::MakeCredential,
            },
        )
    };
    // No PIN: zero-length → PIN_NOT_SET, any param → PIN_NOT_SET.
    assert!(auth(Some(&[]), Some(2)).is_probe());
    assert_eq!(zero_length_status(&card.state), CtapError::PinNotSet);
    assert_eq!(
        check(&mut card, auth(Some(&[1; 32]), Some(2))),
        Err(CtapError::PinNotSet)
    );
    // Protocol missing or unsupported.
    assert_eq!(
        check(&mut card, auth(Some(&[1; 32]), None)),
        Err(CtapError::MissingParameter)
    );
    assert_eq!(
        check(&mut card, auth(Some(&[1; 32]), Some(3))),
        Err(CtapError::InvalidParameter)
    );
    card.set_pin(PinUvAuthProtocol::Two, PIN).unwrap();
    assert_eq!(zero_length_status(&card.state), CtapError::PinInvalid);
    assert_eq!(
        check(&mut card, auth(Some(&[]), Some(2))),
        Err(CtapError::PinInvalid)
    );
    // A wrong param with a PIN set: PIN_AUTH_INVALID, retries untouched.
    card.pin_token(PinUvAuthProtocol::Two, PIN).unwrap();
    assert_eq!(
        check(&mut card, auth(Some(&[1; 32]), Some(2))),
        Err(CtapError::PinAuthInvalid)
    );
    assert_eq!(
        check(&mut card, auth(Some(&[1; 16]), Some(1))),
        Err(CtapError::PinAuthInvalid)
    );
    assert_eq!(card.retries(), 8);
    // A protocol the profile disabled is unsupported.
    let only_two = verify_pin_uv_auth_param(
        &mut card.pin,
        &card.state,
        card.env.clock,
        UvCheck {
            auth: auth(Some(&[1; 16]), Some(1)),
            enabled_protocols: &[2],
            client_data_hash: &CDH,
            rp_id: "a.example",
            command: UvFor::GetAssertion,
        },
    );
    assert_eq!(only_two, Err(CtapError::InvalidParameter));
}
