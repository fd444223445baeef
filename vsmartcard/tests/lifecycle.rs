//! `serve` over time: reconnection, backoff, taps (remove / put back) and shutdown.
//!
//! Tests that depend on backoff run with tokio's clock paused: sleeps complete as soon as
//! every task waits, so delays are exact and no test waits on the wall clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{options, start, start_test_card, Event, FakeVpcd, TestCard, ATR};
use tokio::time::{timeout, Instant};
use vsmartcard::{Backoff, LinkState, Options};

#[tokio::test(start_paused = true)]
async fn reconnects_at_once_after_vpcd_drops_the_connection() {
    let vpcd = FakeVpcd::bind().await;
    let mut h = start_test_card(options(&vpcd.addr()));

    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    let dropped_at = Instant::now();
    drop(peer);

    let mut peer = vpcd.accept().await;
    // A link that carried messages is retried without a backoff delay.
    assert_eq!(Instant::now(), dropped_at);
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.events(), [Event::Disconnected]);
    assert_eq!(h.stats.connections(), 2);
    h.wait_state(LinkState::Connected).await;

    h.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn vpcd_absent_at_start_then_appearing() {
    // A port nobody listens on, until the fake vpcd binds it below.
    let addr = FakeVpcd::bind().await.addr();
    let mut options = Options::addr(addr.as_str());
    options.backoff = Backoff::default();
    let mut h = start_test_card(options);

    let mut delays = Vec::new();
    let mut seen_at = Vec::new();
    while delays.len() < 8 {
        h.link.changed().await.unwrap();
        let state = h.link.borrow_and_update().clone();
        if let LinkState::Retrying { delay } = state {
            delays.push(delay);
            seen_at.push(Instant::now());
        }
    }
    let ms = Duration::from_millis;
    assert_eq!(
        delays,
        [
            ms(50),
            ms(100),
            ms(200),
            ms(400),
            ms(800),
            ms(1600),
            ms(2000),
            ms(2000)
        ]
    );
    // Each attempt came only after the previous delay had passed (on the paused clock).
    for (i, pair) in seen_at.windows(2).enumerate() {
        assert!(pair[1] - pair[0] >= delays[i], "attempt {i}");
    }
    assert_eq!(h.stats.connections(), 0);

    let vpcd = FakeVpcd::bind_to(&addr).await;
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    assert_eq!(h.stats.connections(), 1);

    // vpcd goes away (pcscd stopping): the backoff starts again from its first delay.
    drop(vpcd);
    drop(peer);
    h.link
        .wait_for(|s| matches!(s, LinkState::Retrying { .. }))
        .await
        .unwrap();
    assert_eq!(
        *h.link.borrow(),
        LinkState::Retrying {
            delay: Duration::from_millis(50)
        }
    );
    assert_eq!(h.events(), [Event::Disconnected]);

    // pcscd back: the card reconnects.
    let vpcd = FakeVpcd::bind_to(&addr).await;
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);

    h.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn remove_closes_the_link_and_put_back_reconnects() {
    let vpcd = FakeVpcd::bind().await;
    let mut h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    peer.send(&[0x01]).await;
    assert_eq!(peer.get_atr().await, ATR);

    h.inserted.send(false).unwrap();
    peer.expect_closed().await;
    h.wait_state(LinkState::Removed).await;
    assert_eq!(h.events(), [Event::PowerOn, Event::Disconnected]);

    // Removed: no connection however long vpcd waits.
    assert!(timeout(Duration::from_secs(3600), vpcd.accept())
        .await
        .is_err());
    assert_eq!(h.stats.connections(), 1);
    assert_eq!(*h.link.borrow(), LinkState::Removed);

    h.inserted.send(true).unwrap();
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    h.wait_state(LinkState::Connected).await;
    assert_eq!(h.stats.connections(), 2);
    assert_eq!(h.events(), []);

    h.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn removed_at_start_connects_only_when_put_back() {
    let vpcd = FakeVpcd::bind().await;
    let card = Arc::new(Mutex::new(TestCard::default()));
    let mut h = start(card, options(&vpcd.addr()), false);
    h.wait_state(LinkState::Removed).await;
    assert!(timeout(Duration::from_secs(3600), vpcd.accept())
        .await
        .is_err());

    h.inserted.send(true).unwrap();
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    // Never connected before, so nothing to disconnect.
    assert_eq!(h.events(), []);

    h.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn removal_during_backoff_stops_retrying() {
    let addr = FakeVpcd::bind().await.addr();
    let mut h = start_test_card(options(&addr));
    h.link
        .wait_for(|s| matches!(s, LinkState::Retrying { .. }))
        .await
        .unwrap();

    h.inserted.send(false).unwrap();
    h.wait_state(LinkState::Removed).await;
    let vpcd = FakeVpcd::bind_to(&addr).await;
    assert!(timeout(Duration::from_secs(3600), vpcd.accept())
        .await
        .is_err());
    assert_eq!(h.events(), []);

    h.inserted.send(true).unwrap();
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);

    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_the_socket_and_disconnects_the_card() {
    let vpcd = FakeVpcd::bind().await;
    let h = start_test_card(options(&vpcd.addr()));
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);

    let card = Arc::clone(&h.card);
    h.shutdown().await.unwrap();
    peer.expect_closed().await;
    assert_eq!(card.lock().unwrap().events, [Event::Disconnected]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_vpcd_is_absent() {
    let addr = FakeVpcd::bind().await.addr();
    let mut h = start_test_card(options(&addr));
    h.link
        .wait_for(|s| matches!(s, LinkState::Retrying { .. }))
        .await
        .unwrap();
    let card = Arc::clone(&h.card);
    h.shutdown().await.unwrap();
    assert_eq!(card.lock().unwrap().events, []);
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_removed() {
    let vpcd = FakeVpcd::bind().await;
    let card = Arc::new(Mutex::new(TestCard::default()));
    let mut h = start(card, options(&vpcd.addr()), false);
    h.wait_state(LinkState::Removed).await;
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropped_tap_sender_keeps_the_card_inserted() {
    let vpcd = FakeVpcd::bind().await;
    let card = Arc::new(Mutex::new(TestCard::default()));
    let (tx, inserted) = tokio::sync::watch::channel(true);
    drop(tx);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(vsmartcard::serve(
        Arc::clone(&card),
        options(&vpcd.addr()),
        inserted,
        None,
        async move {
            let _ = stop_rx.await;
        },
    ));
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    drop(peer);
    let mut peer = vpcd.accept().await;
    assert_eq!(peer.get_atr().await, ATR);
    stop_tx.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        card.lock().unwrap().events,
        [Event::Disconnected, Event::Disconnected]
    );
}
