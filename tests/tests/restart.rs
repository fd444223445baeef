//! A killed card process restarted on its slot is usable within two seconds, whatever the
//! clients did with their handles to the dead card (vpcd-stack.md §5). The case that stalled
//! for 15 s and more: a client busy with the card when it dies closes its handle before
//! pcscd's next presence poll, and the new card process connects before that poll too.
//! pcscd then publishes the reader as empty, but its event thread still holds the old card
//! as present, so it never powers the new one (it polls GET ATR, powers it off, polls on).
//! The card now closes such a connection and comes back as a fresh insertion
//! (`vsmartcard::INSERTION_WINDOW`): two presence polls of 400 ms, 0.8 to 1.2 s after the
//! card process starts, are the floor that pcscd sets on that path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use e2e::{Card, CardOptions, FIDO_AID};

const ROUNDS: usize = 100;
/// Longest a restart may take until SELECT answers, process start included.
const USABLE_WITHIN: Duration = Duration::from_secs(2);

#[test]
fn restarts_are_usable_within_two_seconds_after_the_dead_handle_is_closed() {
    let stack = e2e::require_stack!();
    let mut card = Card::start(stack, CardOptions::default());
    let rounds = std::env::var("TAPFIDO_RESTART_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ROUNDS);
    let mut slow = Vec::new();
    for round in 0..rounds {
        let conn = card.connect();
        conn.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
        // A client busy with the card when it dies (an APDU in flight or not), which then
        // closes its handle to the dead card (pcsc's drop: SCardDisconnect with reset).
        let client = std::thread::spawn(move || {
            while conn.try_transmit(&e2e::select(&FIDO_AID)).is_ok() {}
            drop(conn);
        });
        std::thread::sleep(Duration::from_millis(u64::try_from(round % 4).unwrap()));
        card.kill();
        client.join().unwrap();
        let started = Instant::now();
        card.restart();
        let conn = card.connect();
        conn.expect(&e2e::select(&FIDO_AID), b"U2F_V2\x90\x00");
        let took = started.elapsed();
        if took > USABLE_WITHIN {
            slow.push(format!("round {round}: {took:?}"));
        }
        eprintln!("round {round}: {took:?}");
    }
    assert!(
        slow.is_empty(),
        "{} of {rounds} restarts were slow:\n{}",
        slow.len(),
        slow.join("\n")
    );
}
