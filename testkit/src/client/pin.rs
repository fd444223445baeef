//! authenticatorClientPIN token requests (CTAP 2.1 §6.5.5) and the
//! hmac-secret extension input (§12.5) over the shared platform model of
//! PIN/UV auth protocols one and two (`testkit::pin`), CBOR with ciborium.
//! Nothing here uses the applet's own PIN, key or CBOR code.
//!
//! ```text
//!  protocol one: key = SHA-256(Z); encrypt = AES-256-CBC(key, IV = 0);
//!                authenticate = LEFT(HMAC-SHA-256(key, m), 16)
//!  protocol two: HMAC key = HKDF(salt 32×00, Z, "CTAP2 HMAC key"),
//!                AES key  = HKDF(salt 32×00, Z, "CTAP2 AES key");
//!                encrypt = IV || AES-256-CBC(AES key, IV, m);
//!                authenticate = HMAC-SHA-256(HMAC key, m)
//! ```

use crate::pin::Shared;
use ciborium::Value as C;
use p256::SecretKey;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::{as_bytes, bytes, cmap, get, int, ser, text, Card, Reply};

/// authenticatorClientPIN.
pub const CLIENT_PIN: u8 = 0x06;
/// authenticatorReset.
pub const RESET: u8 = 0x07;
/// authenticatorConfig.
pub const CONFIG: u8 = 0x0D;

/// Token permissions (CTAP 2.1 §6.5.5.7).
pub const PERM_MC: u8 = 0x01;
pub const PERM_GA: u8 = 0x02;
pub const PERM_CM: u8 = 0x04;
pub const PERM_LBW: u8 = 0x10;
pub const PERM_ACFG: u8 = 0x20;

// Not every suite that includes this module uses both.
#[allow(unused_imports)]
pub use crate::pin::{authenticate, hmac};

/// One key agreement with the card: the platform key and the shared
/// secret, for protocol 1 or 2.
#[derive(Debug)]
pub struct Session {
    pub protocol: u8,
    /// The platform's COSE_Key (sent as keyAgreement).
    pub platform_key: C,
    shared: Shared,
    rng: ChaCha20Rng,
}

impl Session {
    /// getKeyAgreement (0x02), then ECDH with a seeded platform key.
    pub fn new(card: &mut Card, protocol: u8, seed: u64) -> Self {
        let resp = card
            .ctap(
                CLIENT_PIN,
                Some(cmap(vec![(int(1), int(protocol.into())), (int(2), int(2))])),
            )
            .ok();
        Self::with_card_key(get(&resp, 1).unwrap(), protocol, seed)
    }

    /// ECDH with a given card COSE_Key and the protocol's KDF.
    pub fn with_card_key(cose: &C, protocol: u8, seed: u64) -> Self {
        let x = as_bytes(get(cose, -2).unwrap());
        let y = as_bytes(get(cose, -3).unwrap());
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let secret = SecretKey::random(&mut rng);
        let shared = Shared::agree(protocol, &secret, &x, &y);
        let platform_key = cmap(vec![
            (int(1), int(2)),
            (int(3), int(-25)),
            (int(-1), int(1)),
            (int(-2), bytes(&shared.x)),
            (int(-3), bytes(&shared.y)),
        ]);
        Session {
            protocol,
            platform_key,
            shared,
            rng,
        }
    }

    pub fn encrypt(&mut self, pt: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; 16];
        if self.protocol != 1 {
            self.rng.fill_bytes(&mut iv);
        }
        self.shared.encrypt(iv, pt)
    }

    pub fn decrypt(&self, ct: &[u8]) -> Vec<u8> {
        self.shared.decrypt(ct)
    }

    pub fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        self.shared.authenticate(msg)
    }

    /// The hmac-secret getAssertion input for `salts`, with the protocol
    /// field present unless `omit_protocol` (protocol one is the default).
    pub fn hmac_secret_input(&mut self, salts: &[u8], omit_protocol: bool) -> C {
        let salt_enc = self.encrypt(salts);
        let salt_auth = self.authenticate(&salt_enc);
        let mut m = vec![
            (int(1), self.platform_key.clone()),
            (int(2), bytes(&salt_enc)),
            (int(3), bytes(&salt_auth)),
        ];
        if !omit_protocol {
            m.push((int(4), int(self.protocol.into())));
        }
        cmap(m)
    }
}

/// setPIN (0x03) with `pin`.
pub fn set_pin(card: &mut Card, protocol: u8, pin: &str) {
    let mut s = Session::new(card, protocol, 0x5e7);
    let mut padded = pin.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = s.encrypt(&padded);
    let param = s.authenticate(&new_pin_enc);
    card.ctap(
        CLIENT_PIN,
        Some(cmap(vec![
            (int(1), int(protocol.into())),
            (int(2), int(3)),
            (int(3), s.platform_key.clone()),
            (int(4), bytes(&param)),
            (int(5), bytes(&new_pin_enc)),
        ])),
    )
    .ok();
}

/// A pinUvAuthToken as the platform holds it.
#[derive(Clone, Debug)]
pub struct Token {
    pub protocol: u8,
    pub value: Vec<u8>,
}

impl Token {
    /// pinUvAuthParam over `msg` (the clientDataHash for makeCredential
    /// and getAssertion).
    pub fn param(&self, msg: &[u8]) -> Vec<u8> {
        authenticate(self.protocol, &self.value, msg)
    }
}

/// The changePIN (0x04) request of session `s`, from `old` to `new` (PIN/UV auth
/// protocol two): `{1: 2, 2: 4, 3: platform key, 4: pinUvAuthParam, 5: newPinEnc,
/// 6: pinHashEnc}`.
pub fn change_pin_request(s: &mut Session, old: &str, new: &str) -> C {
    let mut padded = new.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = s.encrypt(&padded);
    let pin_hash_enc = s.encrypt(&Sha256::digest(old.as_bytes())[..16]);
    let param = s.authenticate(&[new_pin_enc.as_slice(), &pin_hash_enc].concat());
    cmap(vec![
        (int(1), int(2)),
        (int(2), int(4)),
        (int(3), s.platform_key.clone()),
        (int(4), bytes(&param)),
        (int(5), bytes(&new_pin_enc)),
        (int(6), bytes(&pin_hash_enc)),
    ])
}

/// changePIN (0x04) from `old` to `new`; the CTAP status.
pub fn change_pin_status(card: &mut Card, old: &str, new: &str) -> u8 {
    let mut s = Session::new(card, 2, 0xc4);
    let request = change_pin_request(&mut s, old, new);
    card.ctap(CLIENT_PIN, Some(request)).status
}

/// The getPinUvAuthTokenUsingPinWithPermissions (0x09) request of session `s`:
/// `{1: protocol, 2: 9, 3: platform key, 6: enc(LEFT16(SHA-256(pin))), 9: perms, ?10: rpId}`.
pub fn token_request(s: &mut Session, pin: &str, perms: u8, rp: Option<&str>) -> C {
    let pin_hash = &Sha256::digest(pin.as_bytes())[..16];
    let pin_hash_enc = s.encrypt(pin_hash);
    let mut m = vec![
        (int(1), int(s.protocol.into())),
        (int(2), int(9)),
        (int(3), s.platform_key.clone()),
        (int(6), bytes(&pin_hash_enc)),
        (int(9), int(perms.into())),
    ];
    if let Some(rp) = rp {
        m.push((int(10), text(rp)));
    }
    cmap(m)
}

/// getPinUvAuthTokenUsingPinWithPermissions (0x09): the token.
pub fn token(card: &mut Card, protocol: u8, pin: &str, perms: u8, rp: Option<&str>) -> Token {
    let mut s = Session::new(card, protocol, 0x70c);
    let request = token_request(&mut s, pin, perms, rp);
    let resp = card.ctap(CLIENT_PIN, Some(request)).ok();
    let value = s.decrypt(&as_bytes(get(&resp, 2).unwrap()));
    assert_eq!(value.len(), 32);
    Token { protocol, value }
}

/// An authenticatorConfig request: pinUvAuthParam over
/// `32×FF || 0D || subCommand || subCommandParams` (CTAP 2.1 §6.11).
pub fn config(card: &mut Card, sub: u8, params: Option<C>, token: Option<&Token>) -> Reply {
    let mut m = vec![(int(1), int(sub.into()))];
    if let Some(t) = token {
        let mut msg = vec![0xff; 32];
        msg.extend_from_slice(&[CONFIG, sub]);
        if let Some(p) = &params {
            msg.extend(ser(p));
        }
        m.push((int(3), int(t.protocol.into())));
        m.push((int(4), bytes(&t.param(&msg))));
    }
    if let Some(p) = params {
        m.push((int(2), p));
    }
    card.ctap(CONFIG, Some(cmap(m)))
}

/// authenticatorConfig setMinPINLength (0x03) with minPinLengthRPIDs.
pub fn set_min_pin_length(card: &mut Card, pin: &str, len: u8, rp_ids: &[&str]) {
    let tok = token(card, 2, pin, PERM_ACFG, None);
    let params = cmap(vec![
        (int(1), int(len.into())),
        (int(2), C::Array(rp_ids.iter().map(|r| text(r)).collect())),
    ]);
    let reply = config(card, 0x03, Some(params), Some(&tok));
    assert_eq!(reply.status, 0, "setMinPINLength");
}
