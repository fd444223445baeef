//! Power events clear all transient state and reach every applet.

use super::{h, Harness, FIDO_2_0_OK, SELECT_ECHO, SELECT_FIDO};
use vsmartcard::VirtualCard;

#[test]
fn power_off_mid_chain_discards_it() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00"), ("10 EE 00 00 02 AA BB", "90 00")]);
    hn.bridge.power_off();
    hn.bridge.power_on();
    hn.run(&[
        ("00 EE 00 00 01 CC", "69 85"),
        (SELECT_ECHO, "90 00"),
        ("00 EE 00 00 01 CC", "CC 90 00"),
    ]);
}

#[test]
fn reset_mid_chain_discards_it() {
    let mut hn = Harness::new();
    hn.run(&[(SELECT_ECHO, "90 00"), ("10 EE 00 00 02 AA BB", "90 00")]);
    hn.bridge.reset();
    hn.run(&[(SELECT_ECHO, "90 00"), ("00 EE 00 00 01 CC", "CC 90 00")]);
}

#[test]
fn power_events_mid_paging_drop_the_response() {
    type Event = fn(&mut crate::bridge::Bridge);
    let events: [Event; 3] = [
        |b| {
            b.power_off();
            b.power_on();
        },
        |b| b.reset(),
        |b| {
            b.disconnected();
            b.power_on();
        },
    ];
    for event in events {
        let mut hn = Harness::new();
        hn.run(&[(SELECT_ECHO, "90 00")]);
        let r = hn.send(&h("00 E8 00 00 02 02 00 00"));
        assert_eq!(&r[256..], &h("61 00")[..]);
        event(&mut hn.bridge);
        hn.run(&[("00 C0 00 00 00", "69 85"), ("80 C0 00 00 00", "69 85")]);
    }
}

#[test]
fn power_off_drops_waiting_ctap_request_and_selection() {
    let mut hn = Harness::new();
    hn.run(&[
        (SELECT_FIDO, FIDO_2_0_OK),
        ("80 10 80 00 01 01 00", "02 91 00"),
    ]);
    hn.bridge.power_off();
    hn.bridge.power_on();
    hn.run(&[
        ("80 11 00 00", "69 85"),
        (SELECT_FIDO, FIDO_2_0_OK),
        ("80 11 00 00", "69 85"),
    ]);
}

#[test]
fn power_calls_reach_every_applet() {
    let mut hn = Harness::new();
    hn.bridge.power_on();
    assert_eq!((hn.log().power_on, hn.log().power_off), (1, 0));
    hn.bridge.power_off();
    assert_eq!((hn.log().power_on, hn.log().power_off), (1, 1));
    hn.bridge.reset();
    assert_eq!((hn.log().power_on, hn.log().power_off), (2, 2));
    hn.bridge.disconnected();
    assert_eq!((hn.log().power_on, hn.log().power_off), (2, 3));
    assert_eq!(hn.bridge.selected_aid(), None);
}

#[test]
fn transmit_and_atr_through_the_trait() {
    let mut hn = Harness::new();
    let card: &mut dyn VirtualCard = &mut hn.bridge;
    assert_eq!(card.atr(), h("3B 85 80 01 80 73 80 01 C0 B6"));
    card.power_on();
    assert_eq!(card.transmit(&h(SELECT_FIDO)), h(FIDO_2_0_OK));
}

#[test]
fn a_dropped_bridge_shuts_every_applet_down_once() {
    let mut hn = Harness::new();
    let log = std::sync::Arc::clone(&hn.log);
    hn.bridge.power_off();
    assert_eq!(
        log.lock().unwrap().shutdown,
        0,
        "a power-off is no shutdown"
    );
    drop(hn);
    assert_eq!(log.lock().unwrap().shutdown, 1);
}
