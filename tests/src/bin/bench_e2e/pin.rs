//! Sign-in with a PIN through pcscd (issue 4 item 9): what a platform sends for one
//! user-verified assertion on a tapped card, with PIN/UV auth protocol 2 (CTAP 2.1
//! §6.5.7), with the host client's platform side (`host::pin_protocol`,
//! not the card's code):
//!
//! ```text
//!  SELECT FIDO AID                                       00 A4 04 00 08 A0..01 00
//!  clientPin getKeyAgreement      {1: 2, 2: 2}          → {1: card COSE key}
//!    platform: ephemeral P-256 key, Z = ECDH(x), shared = HKDF(Z, "CTAP2 HMAC key")
//!              || HKDF(Z, "CTAP2 AES key")  (salt 32 × 00)
//!  clientPin getPinUvAuthTokenUsingPinWithPermissions
//!        {1: 2, 2: 9, 3: platform COSE key, 6: enc(LEFT16(SHA-256(PIN))),
//!         9: ga, 10: rpId}                             → {2: enc(pinUvAuthToken)}
//!  getAssertion {1: rpId, 2: clientDataHash, 3: allowList, 6: HMAC(token, cdh), 7: 2}
//!        → authData with UP and UV set
//!  enc(x) = IV(16, random) || AES-256-CBC(aesKey, IV, x)
//! ```
//!
//! Timed per iteration: the whole sequence (the platform's own crypto included) and the
//! APDU round trips alone; the floor is as many SELECTs to the minimal responder as the
//! sequence took APDUs, timed the same way in the same run.

use std::time::{Duration, Instant};

use ciborium::Value;
use e2e::apdu::{self, Framing, SW_OK};
use e2e::{ctap, Conn, FIDO_AID};
use host::pin_protocol::{self, KeyAgreement};
use rand_core::OsRng;
use sha2::{Digest, Sha256};

use super::{ratio, register_for_bench, row, stats, timed, Pool, Registered, Round, Run};

/// The steps of a sign-in, in order.
const STEPS: [&str; 4] = [
    "SELECT",
    "getKeyAgreement",
    "getPinToken (0x09)",
    "getAssertion (UV)",
];

const CLIENT_PIN: u8 = 0x06;
const PROTOCOL: i64 = 2;
const PIN: &str = "271828";
const RP: &str = "pin.bench.example.com";
/// getPinUvAuthTokenUsingPinWithPermissions permission `ga`.
const PERMISSION_GA: i64 = 0x02;

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn encode(cmd: u8, map: Vec<(Value, Value)>) -> Vec<u8> {
    let mut out = vec![cmd];
    ciborium::into_writer(&Value::Map(map), &mut out).unwrap();
    out
}

/// The same CBOR value in the other crate's type (ciborium here, the applet's codec in
/// the host client), through its encoding.
fn to_host(value: &Value) -> applet::cbor::Value {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).unwrap();
    applet::cbor::decode(&bytes).unwrap()
}

fn from_host(value: &applet::cbor::Value) -> Value {
    ciborium::from_reader(applet::cbor::encode(value).as_slice()).unwrap()
}

/// Transmit time and APDU count of the CTAP calls of one sequence.
#[derive(Default)]
struct Wire {
    time: Duration,
    apdus: usize,
    /// Round-trip time of each step (SELECT, getKeyAgreement, getPinToken, getAssertion).
    steps: Vec<Duration>,
}

impl Wire {
    /// One CTAP2 command over NFCCTAP_MSG; an empty success (setPIN) is an empty map.
    fn call(&mut self, conn: &Conn, request: &[u8]) -> Value {
        let start = Instant::now();
        let ex = apdu::send(conn, 0x80, 0x10, 0x00, 0x00, request, Framing::default());
        let elapsed = start.elapsed();
        self.time += elapsed;
        self.steps.push(elapsed);
        self.apdus += ex.commands;
        assert_eq!(ex.sw, SW_OK, "NFCCTAP_MSG status word");
        match ex.data.split_first() {
            Some((0x00, [])) => Value::Map(Vec::new()),
            Some((0x00, cbor)) => ciborium::from_reader(cbor).unwrap(),
            other => panic!("CTAP status {other:02x?}"),
        }
    }

    fn key_agreement(&mut self, conn: &Conn) -> KeyAgreement {
        let resp = self.call(
            conn,
            &encode(CLIENT_PIN, vec![(int(1), int(PROTOCOL)), (int(2), int(2))]),
        );
        pin_protocol::key_agreement(&to_host(ctap::field(&resp, 1).unwrap()), &mut OsRng).unwrap()
    }
}

fn set_pin(conn: &Conn) {
    let mut wire = Wire::default();
    let agreement = wire.key_agreement(conn);
    let mut padded = PIN.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = agreement.shared.encrypt(&padded, &mut OsRng).unwrap();
    let param = agreement.shared.authenticate(&new_pin_enc);
    let _ = wire.call(
        conn,
        &encode(
            CLIENT_PIN,
            vec![
                (int(1), int(PROTOCOL)),
                (int(2), int(3)),
                (int(3), from_host(&agreement.platform_key)),
                (int(4), Value::Bytes(param)),
                (int(5), Value::Bytes(new_pin_enc)),
            ],
        ),
    );
}

/// One sign-in: SELECT, getKeyAgreement, getPinUvAuthTokenUsingPinWithPermissions,
/// getAssertion with pinUvAuthParam. Returns (transmit time, APDUs).
fn sign_in(conn: &Conn, selected: &[u8], cred_id: &[u8], cdh: &[u8; 32]) -> Wire {
    let mut wire = Wire::default();
    let elapsed = timed(conn, &e2e::select(&FIDO_AID), selected);
    wire.time += elapsed;
    wire.steps.push(elapsed);
    wire.apdus += 1;
    let agreement = wire.key_agreement(conn);
    let pin_hash = Sha256::digest(PIN.as_bytes());
    let pin_hash_enc = agreement
        .shared
        .encrypt(&pin_hash[..16], &mut OsRng)
        .unwrap();
    let resp = wire.call(
        conn,
        &encode(
            CLIENT_PIN,
            vec![
                (int(1), int(PROTOCOL)),
                (int(2), int(9)),
                (int(3), from_host(&agreement.platform_key)),
                (int(6), Value::Bytes(pin_hash_enc)),
                (int(9), int(PERMISSION_GA)),
                (int(10), Value::Text(RP.to_owned())),
            ],
        ),
    );
    let token = agreement
        .shared
        .decrypt(ctap::field(&resp, 2).unwrap().as_bytes().unwrap())
        .unwrap();
    assert_eq!(token.len(), 32, "pinUvAuthToken length");
    let mut request = ctap::get_assertion_request(RP, cdh, cred_id);
    // Append pinUvAuthParam (6) and pinUvAuthProtocol (7) to the request map.
    let mut map: Value = ciborium::from_reader(&request[1..]).unwrap();
    if let Value::Map(entries) = &mut map {
        entries.push((
            int(6),
            Value::Bytes(pin_protocol::authenticate(&token, cdh)),
        ));
        entries.push((int(7), int(PROTOCOL)));
    }
    request.truncate(1);
    ciborium::into_writer(&map, &mut request).unwrap();
    let resp = wire.call(conn, &request);
    let auth_data = ctap::field(&resp, 2).unwrap().as_bytes().unwrap();
    assert_eq!(auth_data[32] & 0x05, 0x05, "UP and UV flags in authData");
    wire
}

/// The benchmark; appends its Markdown to `out`.
pub(crate) fn sign_in_with_pin(run: &Run<'_>, pool: &mut Pool, out: &mut Vec<String>) {
    let (card, tap, floor, select) = (run.card, run.tap, run.floor, run.select);
    let mut scratch = Vec::new();
    let out = run.report(out, &mut scratch);
    macro_rules! say {
        ($($t:tt)*) => { out.push(format!($($t)*)) };
    }
    let cdh = ctap::sha256(b"pin bench client data");
    let Some(Registered { selected, made, .. }) = register_for_bench(
        card,
        tap,
        "Sign-in with PIN (SELECT, getKeyAgreement, getPinToken, getAssertion)",
        RP,
        &cdh,
        out,
    ) else {
        return;
    };
    let cred_id = ctap::credential_id(&made).unwrap();
    set_pin(tap);
    let apdus = sign_in(tap, &selected, &cred_id, &cdh).apdus;
    let iterations = run.iterations();
    let (mut t_all, mut t_wire, mut t_floor) = (Vec::new(), Vec::new(), Vec::new());
    let mut t_steps: [Vec<Duration>; 4] = Default::default();
    for _ in 0..iterations {
        let start = Instant::now();
        let wire = sign_in(tap, &selected, &cred_id, &cdh);
        t_all.push(start.elapsed());
        t_wire.push(wire.time);
        for (samples, step) in t_steps.iter_mut().zip(&wire.steps) {
            samples.push(*step);
        }
        assert_eq!(wire.apdus, apdus, "APDUs per sign-in");
        let start = Instant::now();
        for _ in 0..apdus {
            let _ = timed(floor, select, &[0x90, 0x00]);
        }
        t_floor.push(start.elapsed());
    }
    pool.note_ratio("pin", run, &t_wire, &t_floor);
    pool.add("pin whole", t_all);
    pool.add("pin wire", t_wire);
    pool.add("pin floor", t_floor);
    for (name, samples) in STEPS.iter().zip(t_steps) {
        pool.add(name, samples);
    }
    if run.round == Round::Early {
        return;
    }
    let (s_all, s_wire, s_floor) = (
        stats(pool.take("pin whole")),
        stats(pool.take("pin wire")),
        stats(pool.take("pin floor")),
    );
    say!(
        "PIN/UV auth protocol 2, ES256 credential in a one-entry allowList, token with the \
         `ga` permission bound to the RP; {apdus} APDUs per sign-in; {} iterations pooled \
         over {} rounds (tapfido on slot 0, then on slot 1, and so on); the floor is {apdus} \
         SELECTs to the floor card, timed the same way. \"whole\" includes the platform's \
         ECDH, HKDF, AES and HMAC; \"on the wire\" is the sum of the APDU round trips.",
        usize::from(run.args.rounds) * iterations,
        run.args.rounds
    );
    out.push(String::new());
    say!("| sequence | median µs | p90 µs | p99 µs | max µs |");
    say!("|---|---|---|---|---|");
    out.push(row(&format!("floor, {apdus} APDUs"), &s_floor));
    out.push(row("tapfido sign-in with PIN, whole", &s_all));
    out.push(row("tapfido sign-in with PIN, on the wire", &s_wire));
    for name in STEPS {
        out.push(row(&format!("… of which {name}"), &stats(pool.take(name))));
    }
    out.push(String::new());
    say!(
        "sign-in with PIN / floor: median {:.2}× whole, {:.2}× on the wire (target ≤ 2×, \
         platform crypto excluded); p90 {:.2}× whole; each round's own median ratio on the \
         wire, tapfido's slot first: {}",
        ratio(s_all.median, s_floor.median),
        ratio(s_wire.median, s_floor.median),
        ratio(s_all.p90, s_floor.p90),
        pool.notes("pin")
    );
}
