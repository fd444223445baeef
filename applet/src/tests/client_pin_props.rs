//! authenticatorClientPIN on arbitrary requests: it never panics, never
//! raises pinRetries, never answers success to a request whose crypto is
//! random, and never writes storage unless a PIN check ran.

use proptest::prelude::*;

use super::pin_card::Card;
use crate::cbor::Value;
use crate::config::Config;
use crate::ctap::client_pin::{client_pin, ClientPinContext};
use crate::pin::protocol::PinUvAuthProtocol;

fn key(k: i64) -> Value {
    Value::from(k)
}

/// A value of any type the decoder produces, small.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::Unsigned),
        any::<u64>().prop_map(Value::Negative),
        proptest::collection::vec(any::<u8>(), 0..100).prop_map(Value::Bytes),
        "[a-z.]{0,12}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(Value::Array(Vec::new())),
    ]
}

/// A COSE_Key-shaped map with arbitrary fields, or any value.
fn any_key_agreement() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            prop_oneof![Just(2i64), -3i64..4],
            prop_oneof![Just(-25i64), Just(-7i64), -30i64..3],
            prop_oneof![Just(1i64), -2i64..3],
            proptest::collection::vec(any::<u8>(), 0..34),
            proptest::collection::vec(any::<u8>(), 0..34),
        )
            .prop_map(|(kty, alg, crv, x, y)| {
                Value::Map(vec![
                    (key(1), Value::from(kty)),
                    (key(3), Value::from(alg)),
                    (key(-1), Value::from(crv)),
                    (key(-2), Value::Bytes(x)),
                    (key(-3), Value::Bytes(y)),
                ])
            }),
        any_value(),
    ]
}

fn any_request() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(prop_oneof![0u64..4, any::<u64>()].prop_map(Value::Unsigned)),
        prop_oneof![0u64..12, any::<u64>()].prop_map(Value::Unsigned),
        proptest::option::of(any_key_agreement()),
        proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            any_value()
        ]),
        proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..100).prop_map(Value::Bytes),
            any_value()
        ]),
        proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            any_value()
        ]),
        proptest::option::of(any_value()),
        proptest::option::of(any_value()),
    )
        .prop_map(|(protocol, sub, ka, param, new_pin, pin_hash, perms, rp)| {
            let mut pairs = Vec::new();
            let mut put = |k: i64, v: Option<Value>| {
                if let Some(v) = v {
                    pairs.push((key(k), v));
                }
            };
            put(1, protocol);
            put(2, Some(sub));
            put(3, ka);
            put(4, param);
            put(5, new_pin);
            put(6, pin_hash);
            put(9, perms);
            put(10, rp);
            Value::Map(pairs)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_requests_never_panic_or_raise_retries(
        requests in proptest::collection::vec(any_request(), 1..6),
        with_pin in any::<bool>(),
    ) {
        let mut card = Card::new(90);
        if with_pin {
            card.set_pin(PinUvAuthProtocol::Two, "1234").unwrap();
        }
        let config = Config::default();
        for request in &requests {
            let before = card.retries();
            let pin_before = card.state.persistent().pin_hash;
            let writes = card.env.storage.writes;
            let result = client_pin(
                ClientPinContext {
                    env: &mut card.env,
                    config: &config,
                    store: &mut card.state,
                    pin: &mut card.pin,
                },
                request,
            );
            prop_assert!(card.retries() <= before);
            let sub = request.as_map().ok().and_then(|m| m.get(2)).and_then(|v| v.as_u64().ok());
            if matches!(sub, Some(3..=5) | Some(9)) {
                // Random key agreement and ciphertexts never succeed.
                prop_assert!(result.is_err());
                prop_assert_eq!(card.state.persistent().pin_hash, pin_before);
            }
            if !with_pin {
                // No PIN: nothing to check, so nothing is ever written.
                prop_assert_eq!(card.env.storage.writes, writes);
            }
        }
    }
}
