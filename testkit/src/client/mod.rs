//! An independent CTAP2 test client: builds requests and checks responses
//! with `ciborium`, `p256`, `ed25519-dalek`, `sha2` and `x509-cert` only —
//! never the applet's own CBOR, key or state types. `pin` is the platform
//! side of the PIN/UV auth protocols, `cred` the credential-management
//! requests; the applet's integration tests use this one client.

pub mod cred;
pub mod pin;
pub mod status;

use std::io::Cursor;

use ciborium::Value as C;
use sha2::{Digest, Sha256};

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::env::{Presence, TestEnv};
use applet::fido::FidoApplet;
use applet::iso::{Applet, CtapOutcome};

pub const MC: u8 = 0x01;
pub const GA: u8 = 0x02;
pub const GET_INFO: u8 = 0x04;
pub const GNA: u8 = 0x08;

pub fn int(i: i64) -> C {
    C::Integer(i.into())
}
pub fn text(s: &str) -> C {
    C::Text(s.to_owned())
}
pub fn bytes(b: &[u8]) -> C {
    C::Bytes(b.to_vec())
}
/// An array of text strings.
pub fn texts(items: &[&str]) -> C {
    C::Array(items.iter().map(|s| text(s)).collect())
}

/// A clientDataHash of 32 equal bytes.
pub fn cdh(n: u8) -> [u8; 32] {
    [n; 32]
}

/// `req` (a map) with `extra` pairs added, keys in canonical order.
pub fn with(req: C, extra: Vec<(C, C)>) -> C {
    let C::Map(mut pairs) = req else {
        panic!("not a map: {req:?}")
    };
    pairs.extend(extra);
    cmap(pairs)
}

/// An extensions map (text keys).
pub fn ext(pairs: Vec<(&str, C)>) -> C {
    cmap(pairs.into_iter().map(|(k, v)| (text(k), v)).collect())
}

pub fn ser(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn major(b: &[u8]) -> u8 {
    b[0] >> 5
}

/// CTAP2 canonical key order, written independently: major type, then
/// length, then bytes (CTAP 2.1 §8).
pub fn ctap_key_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then_with(|| a.cmp(b))
}

/// A map with its keys put in CTAP2 canonical order.
pub fn cmap(pairs: Vec<(C, C)>) -> C {
    let mut pairs = pairs;
    pairs.sort_by(|a, b| ctap_key_cmp(&ser(&a.0), &ser(&b.0)));
    C::Map(pairs)
}

/// Check that `bytes` is CTAP2 canonical CBOR: ciborium re-encodes it
/// byte-for-byte (shortest heads, definite lengths) and every map's keys
/// are strictly increasing in canonical order.
pub fn assert_canonical(bytes: &[u8]) -> C {
    let v: C = ciborium::from_reader(bytes).expect("response body is CBOR");
    assert_eq!(ser(&v), bytes, "response not in shortest/definite form");
    fn walk(v: &C) {
        match v {
            C::Map(pairs) => {
                for w in pairs.windows(2) {
                    assert_eq!(
                        ctap_key_cmp(&ser(&w[0].0), &ser(&w[1].0)),
                        std::cmp::Ordering::Less,
                        "map keys not canonical: {:?} then {:?}",
                        w[0].0,
                        w[1].0
                    );
                }
                for (k, v) in pairs {
                    walk(k);
                    walk(v);
                }
            }
            C::Array(items) => items.iter().for_each(walk),
            C::Tag(..) | C::Float(_) => panic!("tag or float in a response"),
            _ => {}
        }
    }
    walk(&v);
    v
}

pub fn get(m: &C, key: i64) -> Option<&C> {
    let C::Map(pairs) = m else {
        panic!("not a map: {m:?}")
    };
    pairs.iter().find(|(k, _)| *k == int(key)).map(|(_, v)| v)
}

pub fn get_text<'a>(m: &'a C, key: &str) -> Option<&'a C> {
    let C::Map(pairs) = m else {
        panic!("not a map: {m:?}")
    };
    pairs.iter().find(|(k, _)| *k == text(key)).map(|(_, v)| v)
}

pub fn as_bytes(v: &C) -> Vec<u8> {
    match v {
        C::Bytes(b) => b.clone(),
        _ => panic!("not bytes: {v:?}"),
    }
}

pub fn as_int(v: &C) -> i128 {
    match v {
        C::Integer(i) => i128::from(*i),
        _ => panic!("not an integer: {v:?}"),
    }
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// A reply: status byte and decoded body.
#[derive(Debug)]
pub struct Reply {
    pub status: u8,
    pub body: Option<C>,
}

impl Reply {
    pub fn ok(self) -> C {
        assert_eq!(
            self.status, 0,
            "expected CTAP2_OK, got {:#04x}",
            self.status
        );
        self.body.unwrap_or(C::Null)
    }
}

/// A card under test with its environment.
#[derive(Debug)]
pub struct Card {
    pub applet: Option<FidoApplet<TestEnv>>,
    pub config: Config,
    pub ca: Option<AttestationCa>,
}

impl Card {
    pub fn new(seed: u64, config: Config, with_ca: bool) -> Self {
        let mut env = TestEnv::seeded(seed);
        let ca = with_ca.then(|| {
            let mut rng_env = TestEnv::seeded(seed ^ 0xca);
            AttestationCa::generate_test_ca(applet::env::Env::rng(&mut rng_env)).unwrap()
        });
        env.presence = Presence::Field;
        let applet = FidoApplet::new(env, config.clone(), ca.as_ref()).unwrap();
        Card {
            applet: Some(applet),
            config,
            ca,
        }
    }

    pub fn applet(&mut self) -> &mut FidoApplet<TestEnv> {
        self.applet.as_mut().unwrap()
    }

    pub fn env(&mut self) -> &mut TestEnv {
        self.applet().env_mut()
    }

    /// The stored state bytes and number of writes.
    pub fn storage(&mut self) -> (Option<Vec<u8>>, usize) {
        let s = &self.env().storage;
        (s.bytes.clone(), s.writes)
    }

    /// Send raw `command || body` and return status + parsed body.
    pub fn raw(&mut self, request: &[u8]) -> Reply {
        let mut reply = Vec::new();
        let outcome = self.applet().ctap(request, false, &mut reply).unwrap();
        assert_eq!(outcome, CtapOutcome::Done);
        assert!(!reply.is_empty());
        let status = reply[0];
        let body = if reply.len() > 1 {
            assert_eq!(status, 0, "an error carries no body");
            Some(assert_canonical(&reply[1..]))
        } else {
            None
        };
        Reply { status, body }
    }

    pub fn ctap(&mut self, cmd: u8, params: Option<C>) -> Reply {
        let mut req = vec![cmd];
        if let Some(p) = params {
            req.extend_from_slice(&ser(&p));
        }
        self.raw(&req)
    }

    /// Send with `may_wait` and return the outcome and reply bytes.
    pub fn ctap_may_wait(&mut self, cmd: u8, params: C) -> (CtapOutcome, Vec<u8>) {
        let mut req = vec![cmd];
        req.extend_from_slice(&ser(&params));
        let mut reply = Vec::new();
        let outcome = self.applet().ctap(&req, true, &mut reply).unwrap();
        (outcome, reply)
    }

    /// Drop the applet and load a new one from the same storage (a restart).
    pub fn restart(&mut self) {
        let env = self.applet.take().unwrap().into_env();
        self.applet = Some(FidoApplet::new(env, self.config.clone(), self.ca.as_ref()).unwrap());
    }

    pub fn power_cycle(&mut self) {
        self.applet().power_off();
        self.applet().power_on();
    }
}

/// A makeCredential request.
pub fn mc_request(rp: &str, user_id: &[u8], cdh: &[u8; 32], algs: &[i64], rk: bool) -> C {
    let params = algs
        .iter()
        .map(|a| {
            cmap(vec![
                (text("alg"), int(*a)),
                (text("type"), text("public-key")),
            ])
        })
        .collect();
    let mut m = vec![
        (int(1), bytes(cdh)),
        (
            int(2),
            cmap(vec![
                (text("id"), text(rp)),
                (text("name"), text("Example")),
            ]),
        ),
        (
            int(3),
            cmap(vec![
                (text("id"), bytes(user_id)),
                (text("name"), text("jo@example.com")),
                (text("displayName"), text("Jo")),
            ]),
        ),
        (int(4), C::Array(params)),
    ];
    if rk {
        m.push((int(7), cmap(vec![(text("rk"), C::Bool(true))])));
    }
    cmap(m)
}

/// A getAssertion request.
pub fn ga_request(rp: &str, cdh: &[u8; 32], allow: &[&[u8]]) -> C {
    let mut m = vec![(int(1), text(rp)), (int(2), bytes(cdh))];
    if !allow.is_empty() {
        m.push((
            int(3),
            C::Array(
                allow
                    .iter()
                    .map(|id| {
                        cmap(vec![
                            (text("id"), bytes(id)),
                            (text("type"), text("public-key")),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    cmap(m)
}

/// Public key of a new credential, from the COSE_Key in authData.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    pub fn verify(&self, message: &[u8], sig: &[u8]) {
        match self {
            PublicKey::Es256(k) => {
                use p256::ecdsa::signature::Verifier;
                let s = p256::ecdsa::Signature::from_der(sig).expect("DER signature");
                k.verify(message, &s).expect("ES256 signature verifies");
            }
            PublicKey::EdDsa(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig).expect("64-byte signature");
                k.verify_strict(message, &s)
                    .expect("EdDSA signature verifies");
            }
        }
    }
}

/// Parsed authenticator data.
#[derive(Debug)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub aaguid: Option<[u8; 16]>,
    pub credential_id: Option<Vec<u8>>,
    pub public_key: Option<PublicKey>,
    pub cose_alg: Option<i128>,
    pub extensions: Option<C>,
}

pub fn parse_auth_data(ad: &[u8]) -> AuthData {
    assert!(ad.len() >= 37);
    let flags = ad[32];
    let mut out = AuthData {
        rp_id_hash: ad[..32].try_into().unwrap(),
        flags,
        sign_count: u32::from_be_bytes(ad[33..37].try_into().unwrap()),
        aaguid: None,
        credential_id: None,
        public_key: None,
        cose_alg: None,
        extensions: None,
    };
    let mut rest = &ad[37..];
    if flags & 0x40 != 0 {
        out.aaguid = Some(rest[..16].try_into().unwrap());
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        out.credential_id = Some(rest[18..18 + len].to_vec());
        rest = &rest[18 + len..];
        let mut cur = Cursor::new(rest);
        let key: C = ciborium::from_reader(&mut cur).unwrap();
        let used = usize::try_from(cur.position()).unwrap();
        assert_canonical(&rest[..used]);
        rest = &rest[used..];
        let kty = as_int(get(&key, 1).unwrap());
        let alg = as_int(get(&key, 3).unwrap());
        out.cose_alg = Some(alg);
        out.public_key = Some(match (kty, alg) {
            (2, -7) => {
                assert_eq!(as_int(get(&key, -1).unwrap()), 1);
                let x = as_bytes(get(&key, -2).unwrap());
                let y = as_bytes(get(&key, -3).unwrap());
                let mut sec1 = vec![4u8];
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                PublicKey::Es256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap())
            }
            (1, -8) => {
                assert_eq!(as_int(get(&key, -1).unwrap()), 6);
                let x: [u8; 32] = as_bytes(get(&key, -2).unwrap()).try_into().unwrap();
                PublicKey::EdDsa(ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap())
            }
            other => panic!("unexpected COSE key {other:?}"),
        });
    }
    if flags & 0x80 != 0 {
        let mut cur = Cursor::new(rest);
        out.extensions = Some(ciborium::from_reader(&mut cur).unwrap());
        rest = &rest[usize::try_from(cur.position()).unwrap()..];
    }
    assert!(rest.is_empty(), "trailing bytes in authData");
    out
}

/// A registered credential as the client sees it.
#[derive(Clone, Debug)]
pub struct Registered {
    pub id: Vec<u8>,
    pub key: PublicKey,
    pub sign_count: u32,
}

/// Verify a makeCredential response fully and return the credential.
pub fn check_registration(resp: &C, rp: &str, cdh: &[u8; 32], aaguid: &[u8; 16]) -> Registered {
    let fmt = get(resp, 1).unwrap();
    let ad_bytes = as_bytes(get(resp, 2).unwrap());
    let stmt = get(resp, 3).unwrap();
    let ad = parse_auth_data(&ad_bytes);
    assert_eq!(ad.rp_id_hash, sha256(rp.as_bytes()));
    assert_eq!(ad.flags & 0x01, 0x01, "UP");
    assert_eq!(ad.flags & 0x40, 0x40, "AT");
    assert_eq!(&ad.aaguid.unwrap(), aaguid);
    let key = ad.public_key.clone().unwrap();
    let mut signed = ad_bytes.clone();
    signed.extend_from_slice(cdh);
    match fmt {
        C::Text(f) if f == "packed" => {
            let sig = as_bytes(get_text(stmt, "sig").unwrap());
            let alg = as_int(get_text(stmt, "alg").unwrap());
            match get_text(stmt, "x5c") {
                Some(C::Array(chain)) => {
                    assert_eq!(alg, -7);
                    let leaf = as_bytes(&chain[0]);
                    verify_with_certificate(&leaf, &signed, &sig);
                }
                None => {
                    assert_eq!(
                        Some(alg),
                        ad.cose_alg,
                        "self attestation uses the credential alg"
                    );
                    key.verify(&signed, &sig);
                }
                other => panic!("bad x5c {other:?}"),
            }
        }
        C::Text(f) if f == "none" => assert_eq!(stmt, &C::Map(vec![])),
        other => panic!("unexpected fmt {other:?}"),
    }
    Registered {
        id: ad.credential_id.unwrap(),
        key,
        sign_count: ad.sign_count,
    }
}

/// Verify an ECDSA P-256 signature with the key of a DER certificate.
pub fn verify_with_certificate(cert_der: &[u8], message: &[u8], sig: &[u8]) {
    use der::Decode;
    use p256::ecdsa::signature::Verifier;
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let spki = cert.tbs_certificate.subject_public_key_info;
    let key =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes()).unwrap();
    let s = p256::ecdsa::Signature::from_der(sig).unwrap();
    key.verify(message, &s)
        .expect("attestation signature verifies against x5c leaf");
}

/// Verify a getAssertion response against `cred` and return (authData, response).
pub fn check_assertion(resp: &C, rp: &str, cdh: &[u8; 32], cred: &Registered) -> AuthData {
    let ad_bytes = as_bytes(get(resp, 2).unwrap());
    let sig = as_bytes(get(resp, 3).unwrap());
    let ad = parse_auth_data(&ad_bytes);
    assert_eq!(ad.rp_id_hash, sha256(rp.as_bytes()));
    let mut signed = ad_bytes;
    signed.extend_from_slice(cdh);
    cred.key.verify(&signed, &sig);
    let desc = get(resp, 1).unwrap();
    assert_eq!(as_bytes(get_text(desc, "id").unwrap()), cred.id);
    assert_eq!(get_text(desc, "type"), Some(&text("public-key")));
    ad
}
