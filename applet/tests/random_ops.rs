//! Long seeded random operation sequences (reliability §8.6 item 56, §8.1
//! items 1, 5, 6, 10): makeCredential, getAssertion, U2F, ClientPIN,
//! credMgmt, largeBlobs, reset and power events, with restarts from storage
//! and processes killed after any write, checked by the independent client:
//! the signature counter it receives strictly increases across everything,
//! a killed wrong-PIN attempt never gives a retry back, credentials it saw
//! created survive, and the state file stays bounded.
//!
//! `TAPFIDO_LONG_OPS=100000 cargo test -p tapfido-applet --release --test
//! random_ops` runs the long version (default: 300 operations);
//! `TAPFIDO_LONG_SEED` picks another seed for both tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;
mod ops;

use applet::config::Config;
use applet::state::CardState;
use client::pin::*;
use client::*;
use ops::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

const OTHER_PIN: &str = "98765";
/// The stored pinRetries after a correct PIN: 8, less the one attempt kept
/// reserved in storage.
const RESTORED: u8 = 7;
/// Discoverable credentials kept at most (the profile allows 50).
const MAX_RK: usize = 12;
/// Largest state file: header and checksum, identity, PIN fields, credentials
/// (each well under 512 bytes with this test's strings) and the largest
/// largeBlob array of the default profile.
const MAX_STATE: usize = 1024 + 512 * MAX_RK + 4096;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the client knows.
#[derive(Clone, Debug, Default)]
struct Model {
    pin: Option<&'static str>,
    /// Consecutive wrong PINs since the last power-up.
    mismatches: u8,
    rks: Vec<(String, Registered)>,
    plain: Vec<(String, Registered)>,
    u2f: Vec<(Vec<u8>, Vec<u8>)>,
    next_user: u32,
}

/// A sequence runner: the card, the model, the highest counter received.
struct Run {
    card: Card,
    model: Model,
    rng: ChaCha20Rng,
    /// Highest signature counter received in any response.
    max_counter: u32,
    /// Journal index when each counter was received: (index, counter).
    sent: Vec<(usize, u32)>,
    /// Wrong-PIN attempts: (journal index before, after, retries before).
    wrong_pins: Vec<(usize, usize, u8)>,
    restarts: u64,
    kills: u64,
}

impl Run {
    fn new(seed: u64) -> Self {
        let mut card = Card::new(seed, Config::default(), false);
        card.env().storage.journal = Some(Vec::new());
        Run {
            card,
            model: Model::default(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            max_counter: 0,
            sent: Vec::new(),
            wrong_pins: Vec::new(),
            restarts: 0,
            kills: 0,
        }
    }

    fn pick(&mut self, n: usize) -> usize {
        usize::try_from(self.rng.next_u32()).unwrap() % n
    }

    fn journal_len(&mut self) -> usize {
        self.card.env().storage.journal.as_ref().map_or(0, Vec::len)
    }

    /// A counter the client received: strictly above every earlier one.
    fn received(&mut self, counter: u32, what: &str) {
        assert!(
            counter > self.max_counter,
            "{what}: counter {counter} after {} was already received",
            self.max_counter
        );
        self.max_counter = counter;
        let at = self.journal_len();
        self.sent.push((at, counter));
    }

    fn token(&mut self, perms: u8, rp: Option<&str>) -> Token {
        let pin = self.model.pin.unwrap();
        self.model.mismatches = 0;
        token(&mut self.card, 2, pin, perms, rp)
    }

    fn power_cycle(&mut self) {
        self.card.power_cycle();
        self.model.mismatches = 0;
    }

    /// A restart of the card process from what storage holds.
    fn restart(&mut self) {
        let journal = self.card.env().storage.journal.take();
        self.card.restart();
        self.card.env().storage.journal = journal;
        self.model.mismatches = 0;
        self.restarts += 1;
    }

    fn make_credential(&mut self, rk: bool) {
        let n = self.pick(3);
        let rp = format!("rp{n}.example");
        let user = format!("user-{}", self.model.next_user);
        self.model.next_user += 1;
        let token = self.model.pin.map(|_| self.token(PERM_MC, Some(&rp)));
        let reg = make_credential(&mut self.card, &rp, user.as_bytes(), rk, token.as_ref())
            .unwrap_or_else(|s| panic!("makeCredential: {s:#x}"));
        self.received(reg.sign_count, "makeCredential");
        if rk {
            self.model.rks.push((rp, reg));
        } else {
            self.model.plain.push((rp, reg));
        }
    }

    fn get_assertion(&mut self) {
        let all: Vec<(String, Registered)> = self
            .model
            .rks
            .iter()
            .chain(&self.model.plain)
            .cloned()
            .collect();
        if all.is_empty() {
            return;
        }
        let (rp, cred) = &all[self.pick(all.len())];
        let (counter, _) = get_assertion(&mut self.card, rp, &[cred])
            .unwrap_or_else(|s| panic!("getAssertion: {s:#x}"));
        self.received(counter, "getAssertion");
    }

    fn discover(&mut self) {
        let n = self.pick(3);
        let rp = format!("rp{n}.example");
        let mut expect: Vec<Vec<u8>> = self
            .model
            .rks
            .iter()
            .filter(|(r, _)| *r == rp)
            .map(|(_, c)| c.id.clone())
            .collect();
        expect.sort();
        assert_eq!(
            discoverable(&mut self.card, &rp),
            expect,
            "discoverable of {rp}"
        );
    }

    fn u2f(&mut self) {
        if self.model.u2f.is_empty() || self.pick(4) == 0 {
            let reg = u2f_register(&mut self.card).unwrap();
            self.model.u2f.push(reg);
            return;
        }
        let i = self.pick(self.model.u2f.len());
        let (pk, kh) = self.model.u2f[i].clone();
        let counter = u2f_authenticate(&mut self.card, &pk, &kh).unwrap();
        self.received(counter, "U2F authenticate");
    }

    fn client_pin(&mut self) {
        let Some(pin) = self.model.pin else {
            set_pin_armed(&mut self.card, PIN, &mut |_| {}).unwrap();
            self.model.pin = Some(PIN);
            return;
        };
        let retries = u8::try_from(pin_retries(&mut self.card)).unwrap();
        match self.pick(3) {
            0 if retries > 3 => {
                if self.model.mismatches >= 2 {
                    self.power_cycle();
                }
                let before = self.journal_len();
                let r = token_armed(&mut self.card, WRONG_PIN, PERM_CM, None, &mut |_| {});
                assert_eq!(r.unwrap_err(), u16::from(PIN_INVALID));
                let after = self.journal_len();
                self.wrong_pins.push((before, after, retries));
                self.model.mismatches += 1;
                assert_eq!(pin_retries(&mut self.card), i128::from(retries) - 1);
            }
            1 => {
                let new = if pin == PIN { OTHER_PIN } else { PIN };
                change_pin(&mut self.card, pin, new, &mut |_| {}).unwrap();
                self.model.pin = Some(new);
                self.model.mismatches = 0;
            }
            _ => {
                self.token(PERM_CM, None);
                assert_eq!(pin_retries(&mut self.card), 8);
            }
        }
    }

    fn cred_mgmt(&mut self) {
        if self.model.pin.is_none() || self.model.rks.is_empty() {
            return;
        }
        let i = self.pick(self.model.rks.len());
        let t = self.token(PERM_CM, None);
        let id = self.model.rks[i].1.id.clone();
        if self.pick(2) == 0 || self.model.rks.len() >= MAX_RK {
            cm_delete(&mut self.card, &id, &t).unwrap();
            self.model.rks.remove(i);
        } else {
            let name = format!("renamed-{}", self.pick(1000));
            let user_id = format!("user-of-{}", hex::encode(&id[..4]));
            // updateUserInformation needs the credential's user.id; the
            // client does not keep it, so a mismatch is an accepted error.
            let _ = cm_update(&mut self.card, &id, user_id.as_bytes(), &name, &t);
        }
    }

    fn large_blob(&mut self) {
        if self.model.pin.is_none() {
            return;
        }
        let t = self.token(PERM_LBW, None);
        let fill = u8::try_from(self.pick(256)).unwrap();
        large_blob_write(&mut self.card, fill, &t).unwrap();
    }

    fn reset(&mut self) {
        self.power_cycle();
        assert_eq!(self.card.ctap(RESET, None).status, 0, "reset");
        self.model = Model {
            next_user: self.model.next_user,
            ..Model::default()
        };
        // A reset starts a new counter: every credential that saw the old
        // one is gone.
        self.max_counter = 0;
    }

    /// One random operation; `with_reset` lets authenticatorReset in.
    fn step(&mut self, with_reset: bool) {
        match self.pick(20) {
            0..=2 => {
                let rk = self.pick(2) == 0 && self.model.rks.len() < MAX_RK;
                self.make_credential(rk);
            }
            3..=7 => self.get_assertion(),
            8 => self.discover(),
            9..=10 => self.u2f(),
            11..=13 => self.client_pin(),
            14 => self.cred_mgmt(),
            15 => self.large_blob(),
            16 => self.power_cycle(),
            17 => self.restart(),
            18 if with_reset && self.pick(4) == 0 => self.reset(),
            _ => self.get_assertion(),
        }
        let (bytes, _) = self.card.storage();
        let len = bytes.map_or(0, |b| b.len());
        assert!(len <= MAX_STATE, "state file of {len} bytes");
    }

    /// Everything the client knows is still there.
    fn check_model(&mut self) {
        for n in 0..3 {
            let rp = format!("rp{n}.example");
            let mut expect: Vec<Vec<u8>> = self
                .model
                .rks
                .iter()
                .filter(|(r, _)| *r == rp)
                .map(|(_, c)| c.id.clone())
                .collect();
            expect.sort();
            assert_eq!(discoverable(&mut self.card, &rp), expect, "{rp}");
        }
        for (rp, cred) in self.model.plain.clone() {
            let (counter, _) = get_assertion(&mut self.card, &rp, &[&cred]).unwrap();
            self.received(counter, "final getAssertion");
        }
    }
}

/// Every state a process killed right after a write restarts from:
/// loadable, counter never below a value already sent, retries never above
/// the value before a wrong-PIN attempt, a reset all-or-nothing.
fn check_snapshots(run: &mut Run) {
    let journal = run.card.env().storage.journal.clone().unwrap();
    let states: Vec<CardState> = journal.iter().map(|b| stored(b)).collect();
    for (i, w) in states.windows(2).enumerate() {
        let (a, b) = (w[0].persistent(), w[1].persistent());
        if w[0].identity().master_key != w[1].identity().master_key {
            // A reset, in one write: nothing old is left.
            assert!(b.credentials.is_empty(), "write {}: half reset", i + 1);
            assert_eq!((b.pin_hash, b.pin_retries, b.sign_count), (None, 8, 0));
            assert!(b.large_blob.is_empty());
            continue;
        }
        assert!(
            b.sign_count >= a.sign_count,
            "write {}: counter went back",
            i + 1
        );
        // Up only through a correct PIN: back to 8, stored as 7 while one
        // attempt is reserved (applet::state module docs).
        assert!(
            b.pin_retries <= a.pin_retries || b.pin_retries >= RESTORED,
            "write {}: retries {} → {}",
            i + 1,
            a.pin_retries,
            b.pin_retries
        );
    }
    // Persist-then-respond: when a counter was received, storage already
    // held it (a kill right after the response restarts at least there).
    for &(at, counter) in &run.sent {
        let held = states[at - 1].persistent().sign_count;
        assert!(held >= counter, "counter {counter} sent, {held} stored");
    }
    for &(before, after, retries) in &run.wrong_pins {
        for s in &states[before..after] {
            assert!(
                s.persistent().pin_retries < retries,
                "a wrong PIN gave a retry back"
            );
        }
    }
    // Each of them loads, and the client sees the stored retries.
    for (i, bytes) in journal.iter().enumerate() {
        let mut card = load(bytes, 0x5a + u64::try_from(i).unwrap());
        assert_eq!(
            pin_retries(&mut card),
            i128::from(states[i].persistent().pin_retries)
        );
    }
}

#[test]
fn killed_after_any_write_restarts_in_a_consistent_state() {
    let mut run = Run::new(env_u64("TAPFIDO_LONG_SEED", 0x4b11));
    for n in 0..120 {
        if n == 60 {
            run.reset();
        }
        run.step(true);
    }
    run.check_model();
    assert!(!run.sent.is_empty());
    eprintln!(
        "{} writes, {} counters received, {} wrong PINs",
        run.journal_len(),
        run.sent.len(),
        run.wrong_pins.len()
    );
    check_snapshots(&mut run);
}

/// A process killed in the middle of a command: restart from a state written
/// by the command before its last write; the client got no answer.
fn kill_mid_command(run: &mut Run, before: &Model, max_counter: u32, journal_before: usize) {
    let journal = run.card.env().storage.journal.clone().unwrap();
    let written = journal.len() - journal_before;
    if written < 2 || journal_before == 0 {
        return;
    }
    let k = journal_before + run.pick(written - 1);
    // Between the state before the operation and the one restarted from, pinRetries
    // only went down, or back to 8 through a correct PIN, stored as 7 while one attempt
    // is reserved (the operation may hold several commands: a getPinToken, then the
    // command using the token).
    for w in journal[journal_before - 1..=k].windows(2) {
        let (a, b) = (stored(&w[0]), stored(&w[1]));
        let (a, b) = (a.persistent().pin_retries, b.persistent().pin_retries);
        assert!(
            b <= a || b >= RESTORED,
            "a killed command gave a PIN retry back: {a} → {b}"
        );
    }
    let retries = stored(&journal[k]).persistent().pin_retries;
    let mut card = load(&journal[k], run.rng.next_u64());
    card.env().storage.journal = Some(journal[..=k].to_vec());
    run.card = card;
    run.model = Model {
        next_user: run.model.next_user,
        ..before.clone()
    };
    run.model.mismatches = 0;
    run.max_counter = max_counter;
    run.kills += 1;
    assert_eq!(
        pin_retries(&mut run.card),
        i128::from(retries),
        "the restarted card reports other retries than it stored"
    );
}

#[test]
fn long_random_run_with_restarts_and_kills() {
    let ops = env_u64("TAPFIDO_LONG_OPS", 300);
    let seed = env_u64("TAPFIDO_LONG_SEED", 0x10_6e);
    let mut run = Run::new(seed);
    for n in 0..ops {
        let model = run.model.clone();
        let max_counter = run.max_counter;
        let journal_before = run.journal_len();
        run.step(false);
        if run.pick(25) == 0 {
            kill_mid_command(&mut run, &model, max_counter, journal_before);
        }
        if n % 200 == 199 {
            // Keep the journal short in long runs.
            let last = run.card.env().storage.journal.as_mut().unwrap().pop();
            run.card.env().storage.journal = Some(last.into_iter().collect());
        }
    }
    run.check_model();
    eprintln!(
        "{ops} operations, {} restarts, {} kills mid-command, counter {}",
        run.restarts, run.kills, run.max_counter
    );
    assert!(run.restarts > 0 && run.kills > 0);
}
