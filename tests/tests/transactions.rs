//! Two PC/SC clients on one card at once (reliability.md §8.5 item 60): tapfido's host client
//! runs every multi-APDU exchange (command chain, GET RESPONSE series) inside one PC/SC
//! transaction, so neither another tapfido client nor a client sending single APDUs in
//! between can join its chain blocks or take its GET RESPONSE data. A host session that ends
//! leaves the card as it is for the others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use e2e::{Card, CardOptions, ECHO_AID, INS_ECHO};
use host::pcsc::{PcscTransport, ReaderSelector};
use host::session::{CardSession, LengthMode};

const ROUNDS: usize = 100;

/// 700 bytes unique to `client` and `round`: three chain blocks of 240 in, three pages out.
fn payload(client: u8, round: usize) -> Vec<u8> {
    let round = u8::try_from(round % 251).unwrap();
    (0..700usize)
        .map(|i| client ^ round ^ u8::try_from(i % 256).unwrap())
        .collect()
}

type Session = CardSession<PcscTransport>;

/// One tapfido host session echoing its own payloads; returns the rounds that came back wrong,
/// and the session, kept open until every client is done.
fn tapfido_client(reader: String, client: u8, start: &Barrier) -> (Vec<String>, Session) {
    let transport = PcscTransport::open(&ReaderSelector::Name(reader)).unwrap();
    let mut session = CardSession::new(transport);
    session.set_length_mode(LengthMode::Chained(240));
    session.select_aid(&ECHO_AID).unwrap();
    start.wait();
    let mut wrong = Vec::new();
    for round in 0..ROUNDS {
        let data = payload(client, round);
        match session.command(0x00, INS_ECHO, 0x00, 0x00, &data) {
            Ok(back) if back == data => {}
            Ok(back) => wrong.push(format!(
                "client {client} round {round}: {} bytes of other data",
                back.len()
            )),
            Err(e) => wrong.push(format!("client {client} round {round}: {e}")),
        }
    }
    (wrong, session)
}

#[test]
fn interleaving_clients_never_mix_chains_or_get_response_data() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::echo());
    let reader = card.reader().name.clone();
    // A third client without transactions: single short echo APDUs as fast as it can, each
    // self-contained (it must not leave a half chain or a pending response on the card).
    let raw = card.connect();
    raw.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    let stop = Arc::new(AtomicBool::new(false));
    let raw_thread = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let echo = [0x00, INS_ECHO, 0x00, 0x00, 0x03, 0xAB, 0xCD, 0xEF, 0x00];
                raw.expect(&echo, &[0xAB, 0xCD, 0xEF, 0x90, 0x00]);
                sent += 1;
            }
            sent
        })
    };
    let start = Arc::new(Barrier::new(2));
    let clients: Vec<_> = [1u8, 2]
        .into_iter()
        .map(|client| {
            let reader = reader.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || tapfido_client(reader, client, &start))
        })
        .collect();
    let mut wrong = Vec::new();
    let mut sessions = Vec::new();
    for client in clients {
        let (mut w, session) = client.join().unwrap();
        wrong.append(&mut w);
        sessions.push(session);
    }
    stop.store(true, Ordering::Relaxed);
    let interleaved = raw_thread.join().unwrap();
    drop(sessions);
    assert!(
        wrong.is_empty(),
        "{} of {} exchanges mixed:\n{}",
        wrong.len(),
        2 * ROUNDS,
        wrong.join("\n")
    );
    assert!(interleaved > 0, "the single-APDU client never got a turn");
}

/// A tapfido host session that ends disconnects with `SCARD_LEAVE_CARD`: another client's
/// session on the card goes on (pcsc's own drop would reset the card, and that client's
/// next transmit would fail with `SCARD_W_RESET_CARD`, its applet no longer selected).
#[test]
fn an_ending_host_session_leaves_the_card_to_the_others() {
    let stack = e2e::require_stack!();
    let card = Card::start(stack, CardOptions::echo());
    let other = card.connect();
    other.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    let echo = [0x00, INS_ECHO, 0x00, 0x00, 0x02, 0x5A, 0xA5, 0x00];
    other.expect(&echo, &[0x5A, 0xA5, 0x90, 0x00]);

    for _ in 0..3 {
        let transport =
            PcscTransport::open(&ReaderSelector::Name(card.reader().name.clone())).unwrap();
        let mut session = CardSession::new(transport);
        session.select_aid(&ECHO_AID).unwrap();
        assert_eq!(
            session
                .command(0x00, INS_ECHO, 0x00, 0x00, &[1, 2, 3])
                .unwrap(),
            [1, 2, 3]
        );
        drop(session);
        match other.try_transmit(&echo) {
            Ok(reply) => assert_eq!(reply, [0x5A, 0xA5, 0x90, 0x00]),
            Err(e) => panic!("the other client's session did not survive: {e}"),
        }
    }
}
