//! The PIN logic's view of the persistent state ([`PinStore`]).

use super::CardState;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::policy::{NewPin, PIN_HASH_LEN};
use crate::pin::store::{PinStore, MAX_PIN_RETRIES};

impl PinStore for CardState {
    fn pin_hash(&self) -> Option<[u8; PIN_HASH_LEN]> {
        self.persistent.pin_hash
    }

    fn pin_retries(&self) -> u8 {
        self.persistent.pin_retries
    }

    fn min_pin_length(&self) -> u8 {
        self.persistent.min_pin_length
    }

    fn force_pin_change(&self) -> bool {
        self.persistent.force_pin_change
    }

    fn persist_pin_retries(&mut self, env: &mut dyn Env, retries: u8) -> Result<(), CtapError> {
        self.update(env, |p| {
            p.pin_retries = retries;
            Ok(())
        })
    }

    fn persist_new_pin(&mut self, env: &mut dyn Env, pin: &NewPin) -> Result<(), CtapError> {
        self.update(env, |p| {
            p.pin_hash = Some(pin.hash);
            p.pin_code_points = pin.code_points;
            p.pin_retries = MAX_PIN_RETRIES;
            p.force_pin_change = false;
            p.pin_meets_complexity = pin.meets_complexity;
            p.persistent_token = None;
            Ok(())
        })
    }

    fn complexity_policy_on(&self) -> bool {
        self.persistent.pin_complexity_policy
    }

    fn persistent_token(&self) -> Option<[u8; 32]> {
        self.persistent.persistent_token.map(|t| t.0)
    }

    fn persist_persistent_token(
        &mut self,
        env: &mut dyn Env,
        token: [u8; 32],
    ) -> Result<(), CtapError> {
        self.update(env, |p| {
            p.persistent_token = Some(super::PersistentToken(token));
            Ok(())
        })
    }
}
