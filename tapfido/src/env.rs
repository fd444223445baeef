//! The production [`Env`] of a served card.
//!
//! | need     | source                                              |
//! |----------|-----------------------------------------------------|
//! | RNG      | the operating system (`getrandom` via `OsRng`)      |
//! | clock    | monotonic [`Instant`] since the card was built      |
//! | presence | the control API's touch switch ([`PresenceSwitch`]) |
//! | storage  | the card's state file (`FileStorage`) or any [`Storage`] |

use std::fmt;
use std::time::{Duration, Instant};

use applet::env::{CardRng, Env, Presence, Storage};
use rand_core::OsRng;

use crate::control::PresenceSwitch;

/// OS randomness, a monotonic clock, presence from the control API and the
/// given storage.
pub struct CardEnv<S> {
    rng: OsRng,
    origin: Instant,
    presence: PresenceSwitch,
    storage: S,
}

impl<S> fmt::Debug for CardEnv<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardEnv")
            .field("origin", &self.origin)
            .field("presence", &self.presence.get())
            .finish_non_exhaustive()
    }
}

impl<S: Storage> CardEnv<S> {
    /// An environment whose clock starts now.
    pub fn new(presence: PresenceSwitch, storage: S) -> Self {
        Self {
            rng: OsRng,
            origin: Instant::now(),
            presence,
            storage,
        }
    }
}

impl<S: Storage> Env for CardEnv<S> {
    fn rng(&mut self) -> &mut dyn CardRng {
        &mut self.rng
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn presence(&self) -> Presence {
        self.presence.get()
    }

    fn storage(&mut self) -> &mut dyn Storage {
        &mut self.storage
    }
}
