//! In-process CTAP2 cost against the bare cryptography it cannot avoid.
//!
//! - `bare/p256_sign`: one ECDSA P-256 signature with a loaded key (what
//!   getAssertion needs), through `applet::crypto` (AWS-LC);
//! - `bare/p256_keygen_sign`: key generation (public key included) + one
//!   signature (what makeCredential needs: new credential key, attestation
//!   signature);
//! - `ctap/get_assertion`: a whole getAssertion (allowList, ES256) through
//!   `Applet::ctap`, including CBOR, credential-ID unwrap, loading the key
//!   from it and the counter;
//! - `ctap/make_credential`: a whole non-discoverable makeCredential with
//!   packed batch attestation.
//!
//! `scripts/bench-e2e.sh` puts these next to OpenSSL's sign and keygen + sign
//! on the same machine. Target: each `ctap/*` ≤ 1.5 × OpenSSL's counterpart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ciborium::Value as C;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::crypto::EcdsaKey;
use applet::env::{Env, TestEnv};
use applet::fido::FidoApplet;
use applet::iso::Applet;

fn ser(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn t(s: &str) -> C {
    C::Text(s.into())
}

fn i(n: i64) -> C {
    C::Integer(n.into())
}

fn mc_request() -> Vec<u8> {
    // Keys already in CTAP2 canonical order.
    let body = C::Map(vec![
        (i(1), C::Bytes(vec![1; 32])),
        (i(2), C::Map(vec![(t("id"), t("example.com"))])),
        (
            i(3),
            C::Map(vec![
                (t("id"), C::Bytes(b"user".to_vec())),
                (t("name"), t("jo")),
            ]),
        ),
        (
            i(4),
            C::Array(vec![C::Map(vec![
                (t("alg"), i(-7)),
                (t("type"), t("public-key")),
            ])]),
        ),
    ]);
    let mut req = vec![0x01];
    req.extend_from_slice(&ser(&body));
    req
}

fn ga_request(id: &[u8]) -> Vec<u8> {
    let body = C::Map(vec![
        (i(1), t("example.com")),
        (i(2), C::Bytes(vec![2; 32])),
        (
            i(3),
            C::Array(vec![C::Map(vec![
                (t("id"), C::Bytes(id.to_vec())),
                (t("type"), t("public-key")),
            ])]),
        ),
    ]);
    let mut req = vec![0x02];
    req.extend_from_slice(&ser(&body));
    req
}

fn credential_id(reply: &[u8]) -> Vec<u8> {
    let v: C = ciborium::from_reader(&reply[1..]).unwrap();
    let C::Map(m) = v else { panic!() };
    let ad = m
        .iter()
        .find(|(k, _)| *k == i(2))
        .and_then(|(_, v)| v.as_bytes())
        .unwrap();
    let len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
    ad[55..55 + len].to_vec()
}

fn card() -> FidoApplet<TestEnv> {
    let mut ca_env = TestEnv::seeded(99);
    let ca = AttestationCa::generate_test_ca(ca_env.rng()).unwrap();
    FidoApplet::new(TestEnv::seeded(1), Config::default(), Some(&ca)).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut env = TestEnv::seeded(5);
    let key = EcdsaKey::generate(env.rng());
    let message = [7u8; 69];
    c.bench_function("bare/p256_sign", |b| {
        b.iter(|| black_box(key.sign(black_box(&message))))
    });
    c.bench_function("bare/p256_keygen_sign", |b| {
        b.iter(|| {
            let k = EcdsaKey::generate(env.rng());
            black_box((k.public(), k.sign(black_box(&message))))
        })
    });

    let mut applet = card();
    let mc = mc_request();
    let mut reply = Vec::new();
    applet.ctap(&mc, false, &mut reply).unwrap();
    assert_eq!(reply[0], 0);
    let ga = ga_request(&credential_id(&reply));
    c.bench_function("ctap/get_assertion", |b| {
        b.iter(|| {
            reply.clear();
            applet.ctap(black_box(&ga), false, &mut reply).unwrap();
            assert_eq!(reply[0], 0);
        })
    });
    c.bench_function("ctap/make_credential", |b| {
        b.iter(|| {
            reply.clear();
            applet.ctap(black_box(&mc), false, &mut reply).unwrap();
            assert_eq!(reply[0], 0);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
