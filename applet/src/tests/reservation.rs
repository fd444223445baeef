//! Power-loss model of the reservations of `crate::state` (signature counter
//! blocks, one PIN attempt reserved in storage), reliability.md §8.1 items
//! 1, 3, 5 and 6.
//!
//! Seeded random sequences of counter draws, PIN attempts (right and wrong,
//! in the order `pin::machine` makes the calls), unrelated writes, failing
//! writes, clean releases and restarts. The process may lose power after any
//! write and at the moment a PIN is compared; at each such point the test
//! restarts a card from what storage holds and checks:
//! - the next counter it hands out is above every counter handed out before;
//! - it reports no more PIN retries than the live count, counting an attempt
//!   being compared as failed (a wrong attempt is never given back);
//! - between operations, it loses at most one retry (the reserved attempt).

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::env::{Env, TestEnv};
use crate::error::CtapError;
use crate::pin::store::{PinStore, MAX_PIN_RETRIES};
use crate::state::{decode, CardState, Identity, Persistent, SIGN_COUNT_BLOCK};

/// What the client knows.
struct Model {
    /// Highest counter handed out.
    max_sent: u32,
    /// Retries the card reports.
    retries: u8,
}

struct Run {
    env: TestEnv,
    state: CardState,
    model: Model,
    rng: ChaCha20Rng,
    /// Crash points checked.
    crashes: usize,
    /// Whether writes fail at random.
    failures: bool,
}

fn stored_of(env: &TestEnv) -> CardState {
    decode(env.storage.bytes.as_ref().unwrap()).unwrap()
}

impl Run {
    fn new(seed: u64) -> Self {
        let mut env = TestEnv::seeded(seed);
        let identity = Identity {
            master_key: [1; 32],
            attestation_key: None,
        };
        let mut p = Persistent::fresh(4);
        p.pin_hash = Some([0x11; 16]);
        p.pin_code_points = 4;
        let state = CardState::new(identity, p);
        state.store_initial(&mut env).unwrap();
        Run {
            env,
            state,
            model: Model {
                max_sent: 0,
                retries: MAX_PIN_RETRIES,
            },
            rng: ChaCha20Rng::seed_from_u64(seed),
            crashes: 0,
            failures: true,
        }
    }

    /// Power lost now: a card restarted from storage. `max_retries` is the
    /// most it may report.
    fn crash_here(&mut self, max_retries: u8) {
        self.crashes += 1;
        let mut env = TestEnv::seeded(7);
        env.storage.bytes = self.env.storage.bytes.clone();
        let mut restarted = CardState::load(&mut env).unwrap().unwrap();
        let retries = restarted.pin_retries();
        assert!(
            retries <= max_retries,
            "restarted with {retries} retries, at most {max_retries} allowed"
        );
        let next = restarted.next_sign_count(&mut env).unwrap();
        assert!(
            next > self.model.max_sent || self.model.max_sent == u32::MAX,
            "restarted counter {next} after {} was sent",
            self.model.max_sent
        );
    }

    /// Between operations: memory matches the model, and a crash costs at
    /// most the reserved attempt.
    fn quiescent(&mut self) {
        assert_eq!(self.state.pin_retries(), self.model.retries);
        let stored = stored_of(&self.env);
        assert_eq!(stored, self.state, "memory differs from storage");
        let v = stored.persistent().pin_retries;
        assert!(
            v + 1 >= self.model.retries,
            "storage holds {v} retries, live {}: a crash would cost more than one",
            self.model.retries
        );
        self.crash_here(self.model.retries);
    }

    /// Each write of the next call fails with probability 1/8.
    fn maybe_fail(&mut self) -> bool {
        let fail = self.failures && self.rng.next_u32().is_multiple_of(8);
        self.env.storage.fail_after = fail.then_some(0);
        fail
    }

    fn counter(&mut self) {
        let writes = self.env.storage.writes;
        let fail = self.maybe_fail();
        match self.state.next_sign_count(&mut self.env) {
            Ok(count) => {
                assert!(count > self.model.max_sent);
                self.model.max_sent = count;
                // Durable when handed out.
                assert!(stored_of(&self.env).persistent().sign_count >= count);
                assert!(self.env.storage.writes - writes <= 1);
            }
            Err(e) => {
                assert!(fail);
                assert_eq!(e, CtapError::Other);
            }
        }
        self.env.storage.fail_after = None;
    }

    /// A card server starting to serve: counters reserved ahead. At most one
    /// write, none while a reservation is left; the counter handed out next
    /// needs no write.
    fn reserve(&mut self) {
        let writes = self.env.storage.writes;
        let left = self.state.sign_count() < stored_of(&self.env).persistent().sign_count;
        let fail = self.maybe_fail();
        let r = self.state.reserve_sign_counts(&mut self.env);
        self.env.storage.fail_after = None;
        assert_eq!(r.is_err(), fail && !left);
        if left {
            assert_eq!(self.env.storage.writes, writes, "a reservation was left");
        }
        if r.is_ok() && self.state.sign_count() < u32::MAX {
            assert!(stored_of(&self.env).persistent().sign_count > self.state.sign_count());
        }
    }

    /// A PIN attempt the way `pin::machine` makes it.
    fn attempt(&mut self, right: bool) {
        if self.state.pin_retries() == 0 {
            return;
        }
        let before = self.model.retries;
        let writes = self.env.storage.writes;
        let steady = before == MAX_PIN_RETRIES
            && stored_of(&self.env).persistent().pin_retries == MAX_PIN_RETRIES - 1;
        let fail = self.maybe_fail();
        if self.state.reserve_pin_attempt(&mut self.env).is_err() {
            assert!(fail);
            self.env.storage.fail_after = None;
            return;
        }
        // The PIN is compared now: the attempt must already count.
        self.crash_here(before - 1);
        if right {
            self.state.pin_match();
            match self.state.flush_pin_retries(&mut self.env) {
                Ok(()) => self.model.retries = MAX_PIN_RETRIES,
                Err(_) => self.model.retries = self.state.pin_retries(),
            }
        } else {
            self.state.pin_mismatch();
            self.model.retries = before - 1;
            self.crash_here(before - 1);
        }
        self.env.storage.fail_after = None;
        if right && steady && !fail {
            // The steady state: a right PIN writes nothing.
            assert_eq!(self.env.storage.writes, writes);
        }
    }

    /// A write of something else (a credential): carries the reservations.
    fn other_write(&mut self) {
        let fail = self.maybe_fail();
        let n = self.rng.next_u64();
        let r = self.state.update(&mut self.env, |p| {
            p.next_created = n;
            Ok(())
        });
        assert_eq!(r.is_err(), fail);
        self.env.storage.fail_after = None;
    }

    fn restart(&mut self, clean: bool) {
        if clean {
            self.state.release(&mut self.env).unwrap();
        }
        self.state = CardState::load(&mut self.env).unwrap().unwrap();
        let retries = self.state.pin_retries();
        assert!(retries <= self.model.retries);
        if clean {
            assert_eq!(retries, self.model.retries, "a clean stop kept its retries");
        }
        self.model.retries = retries;
    }

    fn step(&mut self) {
        match self.rng.next_u32() % 16 {
            0..=5 => self.counter(),
            6..=8 => self.attempt(true),
            9..=10 => {
                let right = !self.rng.next_u32().is_multiple_of(3);
                self.attempt(right);
            }
            11 => self.attempt(false),
            12 => self.other_write(),
            13 => {
                self.restart(true);
                self.reserve();
            }
            14 => self.restart(false),
            _ => {
                // A write of nothing new stores nothing.
                let writes = self.env.storage.writes;
                let _ = self.state.update(&mut self.env, |_| Ok(()));
                assert_eq!(self.env.storage.writes, writes);
            }
        }
        self.quiescent();
    }
}

#[test]
fn a_crash_at_any_write_never_repeats_a_counter_nor_gives_back_a_retry() {
    let mut crashes = 0;
    for seed in 0..40 {
        let mut run = Run::new(seed);
        for _ in 0..400 {
            run.step();
        }
        crashes += run.crashes;
    }
    assert!(crashes > 10_000, "{crashes} crash points");
}

#[test]
fn counters_cost_one_write_per_block_and_a_restart_continues_above_the_ceiling() {
    let mut run = Run::new(99);
    run.failures = false;
    let writes = run.env.storage.writes;
    let n = 3 * SIGN_COUNT_BLOCK;
    for expect in 1..=n {
        assert_eq!(run.state.next_sign_count(&mut run.env), Ok(expect));
    }
    assert_eq!(run.env.storage.writes - writes, 3);
    let ceiling = stored_of(&run.env).persistent().sign_count;
    assert_eq!(ceiling, n);
    run.restart(false);
    assert_eq!(run.state.next_sign_count(&mut run.env), Ok(n + 1));
}

#[test]
fn a_card_that_reserves_ahead_signs_its_first_counters_without_a_write() {
    let mut run = Run::new(17);
    run.failures = false;
    for _ in 0..10 {
        run.counter();
    }
    run.restart(false);
    // Just loaded: the next counter is above the stored ceiling, so it would write.
    let before = run.state.sign_count();
    assert_eq!(stored_of(&run.env).persistent().sign_count, before);
    let writes = run.env.storage.writes;
    run.reserve();
    assert_eq!(run.env.storage.writes, writes + 1);
    assert_eq!(
        stored_of(&run.env).persistent().sign_count,
        before + SIGN_COUNT_BLOCK
    );
    // Reserving again while counters are left stores nothing.
    run.reserve();
    assert_eq!(run.env.storage.writes, writes + 1);
    for _ in 0..SIGN_COUNT_BLOCK {
        run.counter();
    }
    assert_eq!(run.env.storage.writes, writes + 1, "the block was reserved");
    assert_eq!(run.model.max_sent, before + SIGN_COUNT_BLOCK);
    // The next one starts a new block, and a crash after any of this goes on above.
    run.counter();
    assert_eq!(run.env.storage.writes, writes + 2);
    run.quiescent();
}

#[test]
fn a_right_pin_writes_nothing_once_an_attempt_is_reserved() {
    let mut run = Run::new(5);
    run.failures = false;
    // First attempt after start: storage 8 = live 8, the attempt is reserved.
    run.attempt(true);
    assert_eq!(stored_of(&run.env).persistent().pin_retries, 7);
    let writes = run.env.storage.writes;
    for _ in 0..100 {
        run.attempt(true);
    }
    assert_eq!(run.env.storage.writes, writes);
    assert_eq!(run.state.pin_retries(), 8);
    // A wrong PIN spends the reserved attempt: nothing to write either.
    run.attempt(false);
    assert_eq!(run.env.storage.writes, writes);
    assert_eq!(run.state.pin_retries(), 7);
    // The next attempt reserves again (7 → 6), and a right PIN stores 8
    // with one attempt reserved (7).
    run.attempt(true);
    assert_eq!(run.env.storage.writes, writes + 2);
    assert_eq!(stored_of(&run.env).persistent().pin_retries, 7);
    assert_eq!(run.state.pin_retries(), 8);
    // A process killed now restarts with 7 (the reserved attempt is spent);
    // one stopped cleanly keeps 8.
    run.restart(false);
    assert_eq!(run.state.pin_retries(), 7);
    run.attempt(true);
    run.restart(true);
    assert_eq!(run.state.pin_retries(), 8);
    let _ = run.env.rng();
}

#[test]
fn the_revision_moves_with_what_storage_holds_and_only_then() {
    let mut run = Run::new(23);
    run.failures = false;
    let start = run.state.revision();
    // The first counter raises the ceiling: a stored change.
    run.counter();
    let raised = run.state.revision();
    assert_ne!(raised, start);
    // Counters within the reservation change nothing stored.
    for _ in 1..SIGN_COUNT_BLOCK {
        run.counter();
    }
    assert_eq!(run.state.revision(), raised);
    // An update that changes nothing is no change either; one that does is.
    let _ = run.state.update(&mut run.env, |_| Ok(()));
    assert_eq!(run.state.revision(), raised);
    run.other_write();
    assert_ne!(run.state.revision(), raised);
    // A failed write leaves memory as it was, revision included.
    let before = run.state.revision();
    run.env.storage.fail_after = Some(0);
    assert!(run
        .state
        .update(&mut run.env, |p| {
            p.next_created += 1;
            Ok(())
        })
        .is_err());
    run.env.storage.fail_after = None;
    assert_eq!(run.state.revision(), before);
}
