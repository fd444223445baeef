//! pcscd restarting under a running card: vpcd's listener goes away and comes back, the
//! card reconnects by itself and works. Holds the exclusive pcscd lock, so no other
//! end-to-end test runs meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::apdu::short;
use e2e::card::CARD_TIMEOUT;
use e2e::{lock, pcscd, Card, CardOptions, PcscdLock, ECHO_AID, INS_ECHO};

#[test]
fn card_reconnects_after_pcscd_restarts() {
    let stack = e2e::require_stack!();
    let _exclusive = lock::pcscd(true);
    let card = Card::start(
        stack,
        CardOptions {
            echo: true,
            pcscd_lock: PcscdLock::HeldByCaller,
            ..CardOptions::default()
        },
    );
    let conn = card.connect();
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    drop(conn);

    let old = pcscd::running_pid();
    if let Err(reason) = pcscd::restart() {
        if e2e::in_ci() {
            panic!("{reason}");
        }
        eprintln!("SKIPPED: {reason}");
        return;
    }
    assert_ne!(pcscd::running_pid(), old, "pcscd was not restarted");

    // A new pcscd: the card comes back without anything done to it.
    card.reader().wait(true, CARD_TIMEOUT).unwrap_or_else(|e| {
        panic!("{e}\n--- card log ---\n{}", card.log());
    });
    // The same card process, on a later vpcd connection (a connect that races pcscd's
    // start-up can be dropped and retried, so "later" rather than "second").
    let status = card.control("/").body;
    let connections = serde_json::from_str::<serde_json::Value>(&status)
        .ok()
        .and_then(|v| v["cards"][0]["connections"].as_u64())
        .unwrap_or_else(|| panic!("no connection count in status: {status}"));
    assert!(connections >= 2, "status: {status}");
    let conn = card.connect();
    conn.expect(&short(0x00, INS_ECHO, 0, 0, &[7], Some(256)), &[0x69, 0x85]);
    conn.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    conn.expect(
        &short(0x00, INS_ECHO, 0, 0, &[7, 8, 9], Some(256)),
        &[7, 8, 9, 0x90, 0x00],
    );
}
