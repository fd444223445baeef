//! authenticatorClientPIN (0x06) at the CBOR level: requests written and
//! responses read with `ciborium`, an independent CBOR implementation, and
//! the platform crypto of `pin_client`.

use ciborium::value::{Integer, Value as CValue};
use p256::elliptic_curve::sec1::FromEncodedPoint;
use p256::{EncodedPoint, PublicKey};

use super::pin_card::{padded, pin_hash16, Card};
use super::pin_client::Platform;
use crate::cbor;
use crate::config::Config;
use crate::ctap::client_pin::{client_pin, ClientPinContext};
use crate::error::CtapError;
use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};

fn int(n: i64) -> CValue {
    CValue::Integer(Integer::from(n))
}

fn bytes(b: &[u8]) -> CValue {
    CValue::Bytes(b.to_vec())
}

fn map(pairs: Vec<(i64, CValue)>) -> CValue {
    CValue::Map(pairs.into_iter().map(|(k, v)| (int(k), v)).collect())
}

fn to_bytes(v: &CValue) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

/// Send a request map; the response as canonical bytes from the card's
/// encoder (empty for an empty CTAP2_OK).
fn send_raw(card: &mut Card, config: &Config, request: &CValue) -> Result<Vec<u8>, CtapError> {
    let value = cbor::decode(&to_bytes(request)).unwrap();
    let ctx = ClientPinContext {
        env: &mut card.env,
        config,
        store: &mut card.state,
        pin: &mut card.pin,
    };
    client_pin(ctx, &value).map(|out| out.map(|v| cbor::encode(&v)).unwrap_or_default())
}

fn send(card: &mut Card, request: &CValue) -> Result<Vec<(i64, CValue)>, CtapError> {
    let out = send_raw(card, &Config::default(), request)?;
    if out.is_empty() {
        return Ok(Vec::new());
    }
    let value: CValue = ciborium::from_reader(out.as_slice()).unwrap();
    Ok(value
        .into_map()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (i64::try_from(k.into_integer().unwrap()).unwrap(), v))
        .collect())
}

fn get(resp: &[(i64, CValue)], key: i64) -> &CValue {
    &resp.iter().find(|(k, _)| *k == key).unwrap().1
}

/// A COSE_Key map: kty (1), alg (3), crv (-1), x (-2) and, when given,
/// y (-3).
fn cose_key(kty: i64, alg: i64, crv: i64, x: &[u8], y: Option<&[u8]>) -> CValue {
    let mut pairs = vec![(1, int(kty)), (3, int(alg)), (-1, int(crv)), (-2, bytes(x))];
    if let Some(y) = y {
        pairs.push((-3, bytes(y)));
    }
    map(pairs)
}

/// The platform key as a P-256 ECDH COSE_Key (EC2, ECDH-ES+HKDF-256).
fn cose(key: &CoseEcdhKey) -> CValue {
    cose_key(2, -25, 1, &key.x, Some(&key.y))
}

/// getKeyAgreement through CBOR, checked with an independent P-256 parser.
fn key_agreement(card: &mut Card, protocol: PinUvAuthProtocol) -> CoseEcdhKey {
    let resp = send(
        card,
        &map(vec![(1, int(protocol.wire().into())), (2, int(2))]),
    )
    .unwrap();
    let key: Vec<(i64, CValue)> = get(&resp, 1)
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| (i64::try_from(k.as_integer().unwrap()).unwrap(), v.clone()))
        .collect();
    assert_eq!(get(&key, 1), &int(2));
    assert_eq!(get(&key, 3), &int(-25));
    assert_eq!(get(&key, -1), &int(1));
    let x = get(&key, -2).as_bytes().unwrap().clone();
    let y = get(&key, -3).as_bytes().unwrap().clone();
    let point =
        EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    assert!(bool::from(PublicKey::from_encoded_point(&point).is_some()));
    CoseEcdhKey {
        x: x.try_into().unwrap(),
        y: y.try_into().unwrap(),
    }
}

fn platform(card: &mut Card, protocol: PinUvAuthProtocol, seed: u64) -> Platform {
    let key = key_agreement(card, protocol);
    Platform::encapsulate(protocol, &key, seed)
}

fn set_pin_request(p: &Platform, pin: &str) -> CValue {
    let enc = p.encrypt([7; 16], &padded(pin.as_bytes()));
    map(vec![
        (1, int(p.protocol.wire().into())),
        (2, int(3)),
        (3, cose(&p.public)),
        (4, bytes(&p.authenticate(&enc))),
        (5, bytes(&enc)),
    ])
}

fn token_request(p: &Platform, pin: &str, extra: Vec<(i64, CValue)>) -> CValue {
    let sub = if extra.is_empty() { 5 } else { 9 };
    let mut pairs = vec![
        (1, int(p.protocol.wire().into())),
        (2, int(sub)),
        (3, cose(&p.public)),
        (6, bytes(&p.encrypt([8; 16], &pin_hash16(pin.as_bytes())))),
    ];
    pairs.extend(extra);
    map(pairs)
}

#[test]
fn get_pin_retries_on_a_fresh_card_is_exactly_8_and_no_power_cycle() {
    let mut card = Card::new(50);
    let out = send_raw(&mut card, &Config::default(), &map(vec![(2, int(1))])).unwrap();
    // {3: 8, 4: false}
    assert_eq!(out, hex::decode("a2030804f4").unwrap());
}

#[test]
fn full_flow_over_cbor_for_both_protocols() {
    for protocol in [PinUvAuthProtocol::One, PinUvAuthProtocol::Two] {
        let mut card = Card::new(51);
        let p = platform(&mut card, protocol, 1);
        assert_eq!(
            send(&mut card, &set_pin_request(&p, "1234")),
            Ok(Vec::new())
        );

        let p = platform(&mut card, protocol, 2);
        let resp = send(&mut card, &token_request(&p, "1234", vec![])).unwrap();
        let token = p.decrypt(get(&resp, 2).as_bytes().unwrap());
        assert_eq!(token.len(), 32);

        let p = platform(&mut card, protocol, 3);
        let extra = vec![(9, int(0x03)), (10, CValue::Text("example.com".into()))];
        let resp = send(&mut card, &token_request(&p, "1234", extra)).unwrap();
        let second = p.decrypt(get(&resp, 2).as_bytes().unwrap());
        assert_ne!(token, second);
        assert_eq!(card.pin.tokens().rp_id(card.env.clock), Some("example.com"));

        // changePIN, then the old PIN is wrong: retries 7, powerCycleState false.
        let p = platform(&mut card, protocol, 4);
        let new_enc = p.encrypt([9; 16], &padded(b"56789"));
        let hash_enc = p.encrypt([10; 16], &pin_hash16(b"1234"));
        let param = p.authenticate(&[new_enc.as_slice(), &hash_enc].concat());
        let change = map(vec![
            (1, int(protocol.wire().into())),
            (2, int(4)),
            (3, cose(&p.public)),
            (4, bytes(&param)),
            (5, bytes(&new_enc)),
            (6, bytes(&hash_enc)),
        ]);
        assert_eq!(send(&mut card, &change), Ok(Vec::new()));
        let p = platform(&mut card, protocol, 5);
        assert_eq!(
            send(&mut card, &token_request(&p, "1234", vec![])),
            Err(CtapError::PinInvalid)
        );
        let out = send_raw(&mut card, &Config::default(), &map(vec![(2, int(1))])).unwrap();
        assert_eq!(out, hex::decode("a2030704f4").unwrap());
    }
}

#[test]
fn power_cycle_state_is_reported_after_three_mismatches() {
    let mut card = Card::new(52);
    let p = platform(&mut card, PinUvAuthProtocol::Two, 1);
    send(&mut card, &set_pin_request(&p, "1234")).unwrap();
    for seed in 2..5 {
        let p = platform(&mut card, PinUvAuthProtocol::Two, seed);
        assert!(send(&mut card, &token_request(&p, "0000", vec![])).is_err());
    }
    let out = send_raw(&mut card, &Config::default(), &map(vec![(2, int(1))])).unwrap();
    // {3: 5, 4: true}
    assert_eq!(out, hex::decode("a2030504f5").unwrap());
}

#[test]
fn malformed_requests_get_the_right_status() {
    let mut card = Card::new(53);
    let p = platform(&mut card, PinUvAuthProtocol::Two, 1);
    let good_key = cose(&p.public);
    let text = |s: &str| CValue::Text(s.into());
    // A protocol-two request for subcommand `sub` with `rest`.
    let v2 = |sub: i64, rest: Vec<(i64, CValue)>| {
        let mut pairs = vec![(1, int(2)), (2, int(sub))];
        pairs.extend(rest);
        map(pairs)
    };
    let cases: Vec<(CValue, CtapError)> = vec![
        (CValue::Array(vec![]), CtapError::CborUnexpectedType),
        (map(vec![]), CtapError::MissingParameter),
        (map(vec![(2, text("x"))]), CtapError::CborUnexpectedType),
        (map(vec![(2, int(6))]), CtapError::InvalidSubcommand),
        (map(vec![(2, int(7))]), CtapError::InvalidSubcommand),
        (map(vec![(2, int(8))]), CtapError::InvalidSubcommand),
        (map(vec![(2, int(0x0B))]), CtapError::InvalidSubcommand),
        (map(vec![(2, int(2))]), CtapError::MissingParameter),
        (
            map(vec![(1, int(3)), (2, int(2))]),
            CtapError::InvalidParameter,
        ),
        (
            map(vec![(1, bytes(&[2])), (2, int(2))]),
            CtapError::CborUnexpectedType,
        ),
        (
            v2(3, vec![(3, good_key.clone()), (4, bytes(&[0; 32]))]),
            CtapError::MissingParameter,
        ),
        (
            v2(
                3,
                vec![
                    (3, bytes(&[0; 64])),
                    (4, bytes(&[0; 32])),
                    (5, bytes(&[0; 80])),
                ],
            ),
            CtapError::CborUnexpectedType,
        ),
        (
            v2(5, vec![(3, map(vec![(1, int(2))])), (6, bytes(&[0; 32]))]),
            // An unusable key fails at decapsulate, after the PIN checks.
            CtapError::PinNotSet,
        ),
        (
            v2(
                5,
                vec![(3, good_key.clone()), (6, bytes(&[0; 32])), (9, int(1))],
            ),
            CtapError::InvalidParameter,
        ),
        (
            v2(
                5,
                vec![
                    (3, good_key.clone()),
                    (6, bytes(&[0; 32])),
                    (10, text("a.example")),
                ],
            ),
            CtapError::InvalidParameter,
        ),
        (
            v2(9, vec![(3, good_key.clone()), (6, bytes(&[0; 32]))]),
            CtapError::MissingParameter,
        ),
        (
            v2(
                9,
                vec![
                    (3, good_key.clone()),
                    (6, bytes(&[0; 32])),
                    (9, int(3)),
                    (10, bytes(b"a.example")),
                ],
            ),
            CtapError::CborUnexpectedType,
        ),
        (
            v2(9, vec![(3, good_key), (6, bytes(&[0; 32])), (9, int(0))]),
            CtapError::InvalidParameter,
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(
            send(&mut card, &request),
            Err(expected),
            "{}",
            hex::encode(to_bytes(&request))
        );
    }
    assert_eq!(card.retries(), 8);
    assert_eq!(card.env.storage.writes, 1);
}

#[test]
fn bad_key_agreement_keys_are_invalid_parameter_and_cost_nothing() {
    let mut card = Card::new(54);
    let p = platform(&mut card, PinUvAuthProtocol::One, 1);
    send(&mut card, &set_pin_request(&p, "1234")).unwrap();
    let p = platform(&mut card, PinUvAuthProtocol::One, 2);
    let hash_enc = bytes(&p.encrypt([0; 16], &pin_hash16(b"1234")));
    let mut off_curve = p.public;
    off_curve.y[5] ^= 4;
    let (x, y) = (&p.public.x, Some(p.public.y.as_slice()));
    let keys = vec![
        cose(&off_curve),
        cose_key(1, -25, 1, x, y),
        cose_key(2, -25, 2, x, y),
        cose_key(2, -8, 1, x, y),
        cose_key(2, -25, 1, &x[1..], y),
        cose_key(2, -25, 1, x, None),
    ];
    // getPinToken (0x05) over protocol one with `key`.
    let get_pin_token = |key: &CValue| {
        map(vec![
            (1, int(1)),
            (2, int(5)),
            (3, key.clone()),
            (6, hash_enc.clone()),
        ])
    };
    for key in &keys {
        assert_eq!(
            send(&mut card, &get_pin_token(key)),
            Err(CtapError::InvalidParameter)
        );
    }
    assert_eq!(card.retries(), 8);
    // The PIN state is checked before the key (CTAP 2.1 §6.5.5.7.2 steps 5-6).
    for seed in 10..13 {
        let p = platform(&mut card, PinUvAuthProtocol::One, seed);
        assert!(send(&mut card, &token_request(&p, "0000", vec![])).is_err());
    }
    assert_eq!(
        send(&mut card, &get_pin_token(&keys[0])),
        Err(CtapError::PinAuthBlocked)
    );
}

#[test]
fn protocols_and_permissions_follow_the_profile() {
    let only_two = Config {
        pin_uv_auth_protocols: vec![2],
        ..Config::default()
    };
    let mut card = Card::new(55);
    assert_eq!(
        send_raw(&mut card, &only_two, &map(vec![(1, int(1)), (2, int(2))])),
        Err(CtapError::InvalidParameter)
    );
    assert!(send_raw(&mut card, &only_two, &map(vec![(1, int(2)), (2, int(2))])).is_ok());

    // pocketkey: authnrCfg on, no largeBlobs.
    let pocketkey = Config::pocketkey();
    let p = platform(&mut card, PinUvAuthProtocol::Two, 1);
    send(&mut card, &set_pin_request(&p, "1234")).unwrap();
    let p = platform(&mut card, PinUvAuthProtocol::Two, 2);
    let lbw = token_request(&p, "1234", vec![(9, int(0x10))]);
    assert_eq!(
        send_raw(&mut card, &pocketkey, &lbw),
        Err(CtapError::UnauthorizedPermission)
    );
    let p = platform(&mut card, PinUvAuthProtocol::Two, 3);
    let acfg = token_request(&p, "1234", vec![(9, int(0x20))]);
    assert!(send_raw(&mut card, &pocketkey, &acfg).is_ok());
    assert_eq!(card.retries(), 8);
}
