//! The card as `tapfido card` assembles it (bridge, FIDO applet with its state file, the
//! control API's summary and event log), one APDU at a time through
//! `VirtualCard::transmit`: what the card process does per APDU, without the transport.
//! Next to it, the same applet in a bridge without the control API's observers, and the
//! whole card again holding 100 discoverable credentials (of 10 other RPs): a sign-in
//! costs the same whatever the card holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use reader_bridge::bridge::Bridge;
use tapfido::control::PresenceSwitch;
use tapfido::serve::{
    build_fido, load_or_create_ca, load_profile, prepare_cards, profile_config, CardPlan,
    ServeConfig,
};
use testkit::client;
use vsmartcard::VirtualCard;

const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];

/// A short case-4 APDU.
fn apdu(cla: u8, ins: u8, p1: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![cla, ins, p1, 0x00, u8::try_from(data.len()).unwrap()];
    out.extend_from_slice(data);
    out.push(0x00);
    out
}

/// NFCCTAP_MSG carrying CTAP command `cmd` with CBOR `params`.
fn ctap(cmd: u8, params: &ciborium::Value) -> Vec<u8> {
    let mut request = vec![cmd];
    request.extend_from_slice(&client::ser(params));
    apdu(0x80, 0x10, 0x00, &request)
}

/// The response data of `command`, with its `61 XX` pages fetched by GET RESPONSE.
fn call(card: &mut dyn VirtualCard, command: &[u8]) -> Vec<u8> {
    let mut response = card.transmit(command);
    let mut data = Vec::new();
    loop {
        let (body, sw) = response.split_at(response.len() - 2);
        data.extend_from_slice(body);
        match sw {
            [0x90, 0x00] => return data,
            [0x61, more] => response = card.transmit(&[0x00, 0xC0, 0x00, 0x00, *more]),
            _ => panic!("{command:02X?} → {sw:02X?}"),
        }
    }
}

fn plan(dir: &Path, slot: u16) -> CardPlan {
    CardPlan {
        slot,
        vpcd: "127.0.0.1:35963".to_owned(),
        state: dir.join(format!("card{slot}.state")),
    }
}

/// Powers `card` on, selects the FIDO applet, registers a credential (and `resident`
/// discoverable ones for other RPs) and measures SELECT, getAssertion with the first in a
/// one-entry allowList, and both (a tap).
fn measure(c: &mut Criterion, name: &str, card: &mut dyn VirtualCard, resident: usize) {
    card.power_on();
    let select = apdu(0x00, 0xA4, 0x04, &FIDO_AID);
    call(card, &select);
    let rp = "bench.example.com";
    let cdh = client::sha256(b"bench client data");
    let mc = client::mc_request(rp, b"bench-user", &cdh, &[-7], false);
    let made = call(card, &ctap(0x01, &mc));
    assert_eq!(made[0], 0x00, "makeCredential status");
    let made: ciborium::Value = ciborium::from_reader(&made[1..]).unwrap();
    let auth_data = client::as_bytes(client::get(&made, 2).unwrap());
    let id = client::parse_auth_data(&auth_data).credential_id.unwrap();
    let ga = ctap(0x02, &client::ga_request(rp, &cdh, &[&id]));
    assert_eq!(call(card, &ga)[0], 0x00, "getAssertion status");
    for i in 0..resident {
        let rp = format!("rp{}.example.com", i % 10);
        let user = format!("user-{i}");
        let mc = client::mc_request(&rp, user.as_bytes(), &cdh, &[-7], true);
        assert_eq!(call(card, &ctap(0x01, &mc))[0], 0x00, "makeCredential rk");
    }

    c.bench_function(&format!("{name}/select"), |b| {
        b.iter(|| card.transmit(&select))
    });
    c.bench_function(&format!("{name}/get_assertion"), |b| {
        b.iter(|| card.transmit(&ga));
    });
    c.bench_function(&format!("{name}/tap"), |b| {
        b.iter(|| {
            card.transmit(&select);
            card.transmit(&ga)
        });
    });
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        cards: vec![plan(dir.path(), 0)],
        profile: "default".to_owned(),
        state_dir: dir.path().to_owned(),
        attestation_ca: None,
        aaguid: None,
        control: None,
        echo: false,
        trace: false,
        listen: false,
    };
    let ready = prepare_cards(&config, None).unwrap().remove(0);
    measure(c, "card", &mut *ready.card.lock().unwrap(), 0);

    let profile = load_profile("default").unwrap();
    let fido = build_fido(
        &plan(dir.path(), 1),
        &profile_config(&profile).unwrap(),
        &load_or_create_ca(dir.path(), None).unwrap(),
        PresenceSwitch::default(),
    )
    .unwrap();
    let mut bare = Bridge::new(profile.atr.clone(), vec![Box::new(fido)]);
    measure(c, "bridge", &mut bare, 0);

    let mut config = config;
    config.cards = vec![plan(dir.path(), 2)];
    let full = prepare_cards(&config, None).unwrap().remove(0);
    measure(c, "card_100_resident", &mut *full.card.lock().unwrap(), 100);
}

criterion_group!(benches, bench);
criterion_main!(benches);
