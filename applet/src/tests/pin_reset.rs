//! authenticatorReset at the state level (CTAP 2.1 §6.6; reliability.md
//! §8.4): what is wiped, what is kept, and the time window.

use std::time::Duration;

use super::pin_card::Card;
use crate::config::Config;
use crate::ctap::reset::{reset, reset_allowed, ResetContext};
use crate::error::CtapError;
use crate::pin::protocol::PinUvAuthProtocol;
use crate::state::{CardState, Identity, Persistent};

#[test]
fn reset_keeps_the_attestation_key_and_wipes_everything_else() {
    let config = Config::default();
    let mut card = Card::new(80);
    card.state = CardState::new(
        Identity {
            master_key: [0x11; 32],
            attestation_key: Some([0x77; 32]),
        },
        Persistent::fresh(config.min_pin_length),
    );
    card.state.store_initial(&mut card.env).unwrap();
    card.set_pin(PinUvAuthProtocol::Two, "123456").unwrap();
    card.state
        .update(&mut card.env, |p| {
            p.min_pin_length = 6;
            p.always_uv = true;
            p.sign_count = 41;
            p.min_pin_length_rpids = vec!["rp.example".into()];
            Ok(())
        })
        .unwrap();
    let token = card.pin_token(PinUvAuthProtocol::Two, "123456").unwrap();
    assert_eq!(token.len(), 32);

    card.env.advance(Duration::from_secs(3));
    reset(ResetContext {
        env: &mut card.env,
        config: &config,
        state: &mut card.state,
        pin: &mut card.pin,
        powered_at: Duration::ZERO,
    })
    .unwrap();

    assert_eq!(card.state.identity().attestation_key, Some([0x77; 32]));
    assert_ne!(card.state.identity().master_key, [0x11; 32]);
    assert_eq!(
        card.state.persistent(),
        &Persistent::fresh(config.min_pin_length)
    );
    assert!(!card.pin.tokens().is_in_use(card.env.clock));
    // What storage holds is the same.
    card.reload();
    assert_eq!(card.state.identity().attestation_key, Some([0x77; 32]));
    assert_eq!(
        card.state.persistent(),
        &Persistent::fresh(config.min_pin_length)
    );
    assert_eq!(
        card.pin_token(PinUvAuthProtocol::Two, "123456"),
        Err(CtapError::PinNotSet)
    );
}

#[test]
fn the_reset_window_is_10_seconds_from_power_up() {
    let config = Config::default();
    let up = Duration::from_secs(100);
    assert_eq!(reset_allowed(&config, up, up), Ok(()));
    assert_eq!(
        reset_allowed(&config, up + Duration::from_secs(10), up),
        Ok(())
    );
    assert_eq!(
        reset_allowed(&config, up + Duration::from_millis(10_001), up),
        Err(CtapError::NotAllowed)
    );
    let mut card = Card::new(81);
    card.set_pin(PinUvAuthProtocol::One, "1234").unwrap();
    card.env.advance(Duration::from_secs(11));
    let result = reset(ResetContext {
        env: &mut card.env,
        config: &config,
        state: &mut card.state,
        pin: &mut card.pin,
        powered_at: Duration::ZERO,
    });
    assert_eq!(result, Err(CtapError::NotAllowed));
    assert!(card.state.persistent().pin_hash.is_some());
}
