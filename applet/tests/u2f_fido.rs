//! U2F through the FIDO applet: the `process` hook, and a U2F registration
//! used by CTAP2 getAssertion with the AppID as RP ID (WebAuthn `appid`
//! extension, CTAP 2.1 §10). CBOR here is ciborium, not the applet's codec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::env::{Presence, TestEnv};
use applet::fido::FidoApplet;
use applet::iso::{Applet, Command, CtapOutcome, Status};
use ciborium::value::Value;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

const APPID: &str = "https://example.com/u2f/app-id.json";

fn card(config: Config) -> FidoApplet<TestEnv> {
    let ca = AttestationCa::generate_test_ca(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    let mut card = FidoApplet::new(TestEnv::seeded(2), config, Some(&ca)).unwrap();
    card.power_on();
    let mut reply = Vec::new();
    card.select(&mut reply).unwrap();
    card
}

fn u2f(card: &mut FidoApplet<TestEnv>, cla: u8, ins: u8, p1: u8, data: &[u8]) -> (Vec<u8>, u16) {
    let cmd = Command {
        cla,
        ins,
        p1,
        p2: 0,
        data,
        ne: 65_536,
        extended: true,
    };
    let mut reply = Vec::new();
    match card.process(&cmd, &mut reply) {
        Ok(()) => (reply, 0x9000),
        Err(status) => (reply, u16::from(status)),
    }
}

/// U2F REGISTER for `application`; returns (public key, key handle).
fn register(card: &mut FidoApplet<TestEnv>, application: &[u8; 32]) -> ([u8; 65], Vec<u8>) {
    let mut data = vec![0xC4; 32];
    data.extend_from_slice(application);
    let (resp, sw) = u2f(card, 0x00, 0x01, 0x00, &data);
    assert_eq!(sw, 0x9000);
    assert_eq!(resp[0], 0x05);
    let public: [u8; 65] = resp[1..66].try_into().unwrap();
    let kh_len = usize::from(resp[66]);
    (public, resp[67..67 + kh_len].to_vec())
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn get_assertion(
    card: &mut FidoApplet<TestEnv>,
    rp_id: &str,
    cdh: &[u8; 32],
    id: &[u8],
) -> Vec<u8> {
    let descriptor = Value::Map(vec![
        (text("id"), Value::Bytes(id.to_vec())),
        (text("type"), text("public-key")),
    ]);
    let request = Value::Map(vec![
        (Value::Integer(1.into()), text(rp_id)),
        (Value::Integer(2.into()), Value::Bytes(cdh.to_vec())),
        (Value::Integer(3.into()), Value::Array(vec![descriptor])),
    ]);
    let mut bytes = vec![0x02];
    ciborium::ser::into_writer(&request, &mut bytes).unwrap();
    let mut reply = Vec::new();
    assert_eq!(
        card.ctap(&bytes, false, &mut reply).unwrap(),
        CtapOutcome::Done
    );
    reply
}

fn map_get(map: &Value, key: i64) -> Option<&Value> {
    map.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_integer() == Some(key.into()))
        .map(|(_, v)| v)
}

#[test]
fn u2f_registration_signs_in_through_ctap2_with_the_appid() {
    let mut card = card(Config::pocketkey());
    let application: [u8; 32] = Sha256::digest(APPID.as_bytes()).into();
    let (public, key_handle) = register(&mut card, &application);

    let cdh: [u8; 32] = Sha256::digest(b"client data").into();
    let reply = get_assertion(&mut card, APPID, &cdh, &key_handle);
    assert_eq!(reply[0], 0x00, "CTAP2_OK");
    let response: Value = ciborium::de::from_reader(&reply[1..]).unwrap();
    let credential = map_get(&response, 1).unwrap();
    let id = credential
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("id"))
        .map(|(_, v)| v.as_bytes().unwrap().clone())
        .unwrap();
    assert_eq!(id, key_handle);
    let auth_data = map_get(&response, 2).unwrap().as_bytes().unwrap().clone();
    assert_eq!(
        &auth_data[..32],
        application.as_slice(),
        "rpIdHash = SHA-256(appid)"
    );
    assert_eq!(auth_data[32] & 0x01, 0x01, "UP");
    let counter = u32::from_be_bytes(auth_data[33..37].try_into().unwrap());
    assert_eq!(counter, 1);
    let signature = map_get(&response, 3).unwrap().as_bytes().unwrap().clone();
    let mut message = auth_data.clone();
    message.extend_from_slice(&cdh);
    VerifyingKey::from_sec1_bytes(&public)
        .unwrap()
        .verify(&message, &Signature::from_der(&signature).unwrap())
        .unwrap();

    // The counter is shared: a U2F AUTHENTICATE afterwards returns 2.
    let mut data = vec![0x11; 32];
    data.extend_from_slice(&application);
    data.push(u8::try_from(key_handle.len()).unwrap());
    data.extend_from_slice(&key_handle);
    let (resp, sw) = u2f(&mut card, 0x00, 0x02, 0x03, &data);
    assert_eq!(sw, 0x9000);
    assert_eq!(resp[1..5], 2u32.to_be_bytes());

    // Under another RP ID the key handle is not found.
    let reply = get_assertion(&mut card, "example.com", &cdh, &key_handle);
    assert_eq!(reply, vec![0x2E], "CTAP2_ERR_NO_CREDENTIALS");
}

#[test]
fn u2f_through_the_applet_hook() {
    let mut card = card(Config::pocketkey());
    assert_eq!(
        u2f(&mut card, 0x00, 0x03, 0x00, &[]),
        (b"U2F_V2".to_vec(), 0x9000)
    );
    assert_eq!(u2f(&mut card, 0x00, 0x03, 0x00, &[1]).1, 0x6700);
    assert_eq!(u2f(&mut card, 0x80, 0x03, 0x00, &[]).1, 0x6E00);
    assert_eq!(u2f(&mut card, 0x00, 0x04, 0x00, &[]).1, 0x6D00);
    assert_eq!(u2f(&mut card, 0x00, 0x01, 0x00, &[0; 3]).1, 0x6700);

    // Presence withheld: REGISTER and enforce-presence AUTHENTICATE → 6985.
    let application = [0x77; 32];
    let (_, key_handle) = register(&mut card, &application);
    let mut data = vec![0x11; 32];
    data.extend_from_slice(&application);
    data.push(u8::try_from(key_handle.len()).unwrap());
    data.extend_from_slice(&key_handle);
    card.env_mut().presence = Presence::Withheld;
    assert_eq!(u2f(&mut card, 0x00, 0x01, 0x00, &[0; 64]).1, 0x6985);
    assert_eq!(u2f(&mut card, 0x00, 0x02, 0x03, &data).1, 0x6985);
    assert_eq!(u2f(&mut card, 0x00, 0x02, 0x07, &data).1, 0x6985);
    let (resp, sw) = u2f(&mut card, 0x00, 0x02, 0x08, &data);
    assert_eq!(sw, 0x9000);
    assert_eq!(resp[0], 0x00, "presence not asserted");
    card.env_mut().presence = Presence::Touched;
    assert_eq!(u2f(&mut card, 0x00, 0x02, 0x03, &data).1, 0x9000);
}

#[test]
fn u2f_disabled_answers_instruction_not_supported() {
    let mut config = Config::pocketkey();
    config.u2f = false;
    let mut card = card(config);
    for ins in [0x01, 0x02, 0x03] {
        assert_eq!(
            u2f(&mut card, 0x00, ins, 0x00, &[]).1,
            u16::from(Status::InstructionNotSupportedOrInvalid)
        );
    }
}
