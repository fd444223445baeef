//! `serve` against an in-process fake vpcd: control codes, APDUs, length limits, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{
    echo_response, options, start, start_test_card, Event, FakeVpcd, TestCard, ATR, CMD_EMPTY,
    CMD_MAX, CMD_OVERSIZED, CMD_PANIC,
};
use vsmartcard::{Error, LinkState, Options, VirtualCard};

#[tokio::test]
async fn atr_and_power_events_reach_the_card() {
    let vpcd = FakeVpcd::bind().await;
    let mut h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    assert_eq!(peer.get_atr().await, ATR);
    peer.send(&[0x01]).await;
    peer.send(&[0x00]).await;
    peer.send(&[0x02]).await;
    // No reply to the control codes: the next frame is the ATR asked for now.
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.events(), [Event::PowerOn, Event::PowerOff, Event::Reset]);
    assert_eq!(h.stats.messages(), 5);
    assert_eq!(h.stats.apdus(), 0);
    h.wait_state(LinkState::Connected).await;

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn apdu_round_trip() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    let select = [0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00];
    assert_eq!(
        peer.transmit(&select).await,
        [0x00, 0x3F, 0x02, 0x00, 0x04, 0xA4, 0x00, 0x90, 0x00]
    );
    // Two bytes are already an APDU, not a control code.
    assert_eq!(
        peer.transmit(&[0x00, 0x01]).await,
        echo_response(&[0x00, 0x01])
    );
    assert_eq!(
        h.events(),
        [Event::Apdu(select.to_vec()), Event::Apdu(vec![0x00, 0x01])]
    );
    assert_eq!(h.stats.apdus(), 2);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn large_command_and_65535_byte_response_pass_whole() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    let mut command = vec![0x00, 0xDA, 0x00, 0x00, 0x00, 0xFF, 0xF8];
    command.extend((0..65_528u32).map(|i| u8::try_from(i % 251).unwrap()));
    assert_eq!(command.len(), 65_535);
    // The command reaches the card whole; its 65,537-byte echo cannot go back.
    assert_eq!(peer.transmit(&command).await, [0x6F, 0x00]);
    assert_eq!(h.events(), [Event::Apdu(command)]);

    let response = peer.transmit(&CMD_MAX).await;
    assert_eq!(response.len(), 65_535);
    assert!(response[..65_533].iter().all(|&b| b == 0xCD));
    assert_eq!(response[65_533..], [0x90, 0x00]);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_response_becomes_6f00_and_nothing_else() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    assert_eq!(peer.transmit(&CMD_OVERSIZED).await, [0x6F, 0x00]);
    // The very next frame answers the next command: no truncated frame was sent.
    let command = [0x00, 0xB0, 0x00, 0x00, 0x10];
    assert_eq!(peer.transmit(&command).await, echo_response(&command));
    assert_eq!(h.stats.connections(), 1);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_response_becomes_6f00() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    assert_eq!(peer.transmit(&CMD_EMPTY).await, [0x6F, 0x00]);
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.stats.connections(), 1);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn panicking_card_answers_6f00_and_keeps_serving() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    assert_eq!(peer.transmit(&CMD_PANIC).await, [0x6F, 0x00]);
    assert_eq!(peer.get_atr().await, ATR);
    assert!(!h.card.is_poisoned());

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn poisoned_card_mutex_is_recovered() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let card = Arc::clone(&h.card);
    std::thread::spawn(move || {
        let _guard = card.lock().unwrap();
        panic!("poison the card's mutex");
    })
    .join()
    .unwrap_err();
    assert!(h.card.is_poisoned());

    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(
        peer.transmit(&[0x00, 0x02]).await,
        echo_response(&[0x00, 0x02])
    );
    assert!(!h.card.is_poisoned());

    h.shutdown().await.unwrap();
}

/// vpcd forwards a client's one-byte `SCardTransmit` as a one-byte frame and waits for a reply
/// with no timeout: every one-byte frame that is not a control code (`00`, `01`, `02`, `04`)
/// is answered `67 00` at once, never reaches the card, and the link goes on.
#[tokio::test]
async fn every_one_byte_command_is_answered_6700_at_once() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    for byte in (0u8..=0xFF).filter(|b| ![0x00, 0x01, 0x02, 0x04].contains(b)) {
        let reply = tokio::time::timeout(Duration::from_secs(5), peer.transmit(&[byte]))
            .await
            .unwrap_or_else(|_| panic!("no answer to the one-byte command {byte:02X}"));
        assert_eq!(reply, [0x67, 0x00], "one-byte command {byte:02X}");
    }
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(
        peer.transmit(&[0x00, 0xB0]).await,
        echo_response(&[0x00, 0xB0])
    );
    assert_eq!(h.events(), [Event::Apdu(vec![0x00, 0xB0])]);
    assert_eq!(h.stats.messages(), 252 + 2);
    assert_eq!(h.stats.connections(), 1);
    assert_eq!(*h.link.borrow(), LinkState::Connected);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn zero_length_frame_closes_the_link_and_the_card_comes_back() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;

    peer.send_raw(&[0x00, 0x00]).await;
    peer.expect_closed().await;
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.events(), [Event::Disconnected]);
    assert_eq!(h.stats.connections(), 2);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_atr_closes_the_link_instead_of_replying_empty() {
    #[derive(Debug)]
    struct NoAtr;
    impl VirtualCard for NoAtr {
        fn atr(&self) -> Vec<u8> {
            Vec::new()
        }
        fn power_on(&mut self) {}
        fn power_off(&mut self) {}
        fn reset(&mut self) {}
        fn transmit(&mut self, _: &[u8]) -> Vec<u8> {
            vec![0x90, 0x00]
        }
    }
    let vpcd = FakeVpcd::bind().await;
    let h = start(Arc::new(Mutex::new(NoAtr)), options(&vpcd.addr()), true);
    let mut peer = vpcd.accept().await;
    peer.send(&[0x04]).await;
    peer.expect_closed().await;
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn serves_a_dyn_card() {
    let vpcd = FakeVpcd::bind().await;
    let card: Arc<Mutex<dyn VirtualCard>> = Arc::new(Mutex::new(TestCard::default()));
    let h = start(card, options(&vpcd.addr()), true);
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_address_is_refused_at_once() {
    let card = Arc::new(Mutex::new(TestCard::default()));
    let (_tx, inserted) = tokio::sync::watch::channel(true);
    let result = vsmartcard::serve(
        card,
        Options::addr("localhost"),
        inserted,
        None,
        std::future::pending(),
    )
    .await;
    assert!(
        matches!(result, Err(Error::InvalidAddress(ref a)) if a == "localhost"),
        "{result:?}"
    );
}

/// pcscd took a new connection for the card that was there before (a card process that died
/// and came back between two presence polls): it powers it off, or polls it again, without
/// powering it on, and never will. The card closes that connection (pcscd then sees the slot
/// empty) and connects again as a fresh insertion.
#[tokio::test]
async fn a_connection_pcscd_never_powers_is_made_again() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));

    // A power off before any power on.
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    peer.send(&[0x00]).await;
    peer.expect_closed().await;

    // A second GET ATR a poll later, still unpowered.
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    tokio::time::sleep(vsmartcard::INSERTION_WINDOW + Duration::from_millis(50)).await;
    peer.send(&[0x04]).await;
    peer.expect_closed().await;

    // A normal insertion (04 04 01 04 within milliseconds) stays, and so does an idle card
    // powered off later and polled unpowered.
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(peer.get_atr().await, ATR);
    peer.send(&[0x01]).await;
    assert_eq!(peer.get_atr().await, ATR);
    peer.send(&[0x00]).await;
    tokio::time::sleep(vsmartcard::INSERTION_WINDOW + Duration::from_millis(50)).await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(
        peer.transmit(&[0x00, 0xB0]).await,
        echo_response(&[0x00, 0xB0])
    );
    assert_eq!(h.stats.connections(), 3);
    h.shutdown().await.unwrap();
}

/// A connection vpcd never speaks on (not accepted: queued behind a socket vpcd still holds)
/// is made again after `FIRST_FRAME_TIMEOUT`.
#[tokio::test]
async fn a_silent_connection_is_made_again() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut silent = vpcd.accept().await;
    silent.expect_closed().await;
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.stats.connections(), 2);
    h.shutdown().await.unwrap();
}

/// The APDU path does not go through the async runtime: while the only thread of the
/// runtime that runs `serve` is blocked, vpcd's APDUs are still answered (by the link
/// thread), and the connection goes on once the runtime is free again.
#[test]
fn apdus_are_answered_while_the_runtime_is_blocked() {
    use std::io::{Read, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (block_tx, block_rx) = tokio::sync::oneshot::channel::<()>();
    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let card = Arc::new(Mutex::new(TestCard::default()));
    let served = Arc::clone(&card);
    let runtime = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (_inserted_tx, inserted) = tokio::sync::watch::channel(true);
            let serving = tokio::spawn(vsmartcard::serve(
                served,
                options(&addr),
                inserted,
                None,
                async move {
                    let _ = stop_rx.await;
                },
            ));
            let _ = block_rx.await;
            blocked_tx.send(()).unwrap();
            // Holds the runtime's only thread until the test lets go.
            release_rx.recv().unwrap();
            serving.await.unwrap()
        })
    });

    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut exchange = |payload: &[u8]| -> Vec<u8> {
        let mut frame = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        vpcd.write_all(&frame).unwrap();
        let mut header = [0u8; 2];
        vpcd.read_exact(&mut header)
            .unwrap_or_else(|e| panic!("no reply while the runtime is blocked: {e}"));
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(header))];
        vpcd.read_exact(&mut reply).unwrap();
        reply
    };
    assert_eq!(exchange(&[0x04]), ATR);
    block_tx.send(()).unwrap();
    blocked_rx.recv().unwrap();

    let command = [0x00, 0xB0, 0x00, 0x00, 0x02];
    assert_eq!(exchange(&command), echo_response(&command));
    assert_eq!(exchange(&[0x04]), ATR);

    release_tx.send(()).unwrap();
    stop_tx.send(()).unwrap();
    runtime.join().unwrap().unwrap();
    assert_eq!(
        card.lock().unwrap().events,
        [Event::Apdu(command.to_vec()), Event::Disconnected]
    );
}
