//! The PIN logic's view of the persistent state ([`PinStore`]), with one
//! attempt reserved in storage (module docs of [`crate::state`]).

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
        self.live.pin_retries
    }

    fn min_pin_length(&self) -> u8 {
        self.persistent.min_pin_length
    }

    fn force_pin_change(&self) -> bool {
        self.persistent.force_pin_change
    }

    fn reserve_pin_attempt(&mut self, env: &mut dyn Env) -> Result<(), CtapError> {
        let live = self.live.pin_retries;
        if self.persistent.pin_retries < live {
            // Already durable: a crash from here on restarts with ≤ live - 1.
            return Ok(());
        }
        self.update(env, |p| {
            p.pin_retries = live.saturating_sub(1);
            Ok(())
        })
    }

    fn pin_mismatch(&mut self) {
        // The reserved attempt is spent: storage already holds live - 1 or less.
        self.live.pin_retries = self.live.pin_retries.saturating_sub(1);
        debug_assert!(self.persistent.pin_retries <= self.live.pin_retries);
    }

    fn pin_match(&mut self) {
        self.live.pin_retries = MAX_PIN_RETRIES;
    }

    fn flush_pin_retries(&mut self, env: &mut dyn Env) -> Result<(), CtapError> {
        let live = self.live.pin_retries;
        if self.persistent.pin_retries.saturating_add(1) >= live {
            // Nothing, or only the one reserved attempt, is ahead of storage.
            return Ok(());
        }
        // Restored with the one attempt still reserved.
        let stored = self.update(env, |p| {
            p.pin_retries = live - 1;
            Ok(())
        });
        if stored.is_err() {
            // Not restored: the card goes on with what storage holds.
            self.live.pin_retries = self.persistent.pin_retries;
        }
        stored
    }

    fn persist_new_pin(&mut self, env: &mut dyn Env, pin: &NewPin) -> Result<(), CtapError> {
        self.update(env, |p| {
            p.pin_hash = Some(pin.hash);
            p.pin_code_points = pin.code_points;
            // 8 with one attempt reserved: the first sign-in writes nothing.
            p.pin_retries = MAX_PIN_RETRIES - 1;
            p.force_pin_change = false;
            p.pin_meets_complexity = pin.meets_complexity;
            p.persistent_token = None;
            Ok(())
        })?;
        self.live.pin_retries = MAX_PIN_RETRIES;
        Ok(())
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
