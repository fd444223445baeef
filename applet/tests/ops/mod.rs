//! Shared by the tearing and random-operation tests: cards loaded from stored
//! bytes, the operations they send (through the independent `client`), and
//! the decoded stored state they compare.
#![allow(dead_code)]

use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use applet::iso::{Applet, Command};
use applet::state::{decode, CardState};
use ciborium::Value as C;

use testkit::client::cred::*;
use testkit::client::pin::*;
use testkit::client::*;

pub const PIN: &str = "1234";
pub const NEW_PIN: &str = "98765";
pub const WRONG_PIN: &str = "0000";
pub const RP: &str = "tearing.example";
pub const NEW_RP: &str = "new.example";
pub const APP: [u8; 32] = [0xA7; 32];
pub const LB: u8 = 0x0C;

pub const PIN_INVALID: u8 = 0x31;
pub const NO_CREDENTIALS: u8 = 0x2E;

/// What a command answered: `Ok(credential ID if one was created)`, or the
/// CTAP status byte / ISO status word of the error.
pub type Outcome = Result<Option<Vec<u8>>, u16>;

/// A card of the default profile loaded from `bytes` (a restart of the
/// process that wrote them), its randomness fixed by `seed`.
pub fn load(bytes: &[u8], seed: u64) -> Card {
    let mut env = TestEnv::seeded(seed);
    env.storage.bytes = Some(bytes.to_vec());
    let config = Config::default();
    let applet = FidoApplet::new(env, config.clone(), None).expect("stored state loads");
    Card {
        applet: Some(applet),
        config,
        ca: None,
    }
}

/// The decoded stored state.
pub fn stored(bytes: &[u8]) -> CardState {
    decode(bytes).expect("stored state decodes")
}

/// The bytes storage holds now.
pub fn bytes_now(card: &mut Card) -> Vec<u8> {
    card.storage().0.expect("card has stored state")
}

pub fn status(reply: Reply) -> Outcome {
    match reply.status {
        0 => Ok(None),
        s => Err(u16::from(s)),
    }
}

/// getPinRetries (ClientPIN 0x01): writes nothing.
pub fn pin_retries(card: &mut Card) -> i128 {
    let r = card
        .ctap(
            CLIENT_PIN,
            Some(cmap(vec![(int(1), int(2)), (int(2), int(1))])),
        )
        .ok();
    as_int(get(&r, 3).unwrap())
}

/// changePIN (ClientPIN 0x04) from `old` to `new`; `arm` runs just before
/// the command is sent.
pub fn change_pin(
    card: &mut Card,
    old: &str,
    new: &str,
    arm: &mut dyn FnMut(&mut Card),
) -> Outcome {
    let mut s = Session::new(card, 2, 0xc4a);
    let request = change_pin_request(&mut s, old, new);
    arm(card);
    status(card.ctap(CLIENT_PIN, Some(request)))
}

/// setPIN (ClientPIN 0x03).
pub fn set_pin_armed(card: &mut Card, pin: &str, arm: &mut dyn FnMut(&mut Card)) -> Outcome {
    let mut s = Session::new(card, 2, 0x5e7);
    let mut padded = pin.as_bytes().to_vec();
    padded.resize(64, 0);
    let new_pin_enc = s.encrypt(&padded);
    let param = s.authenticate(&new_pin_enc);
    arm(card);
    status(card.ctap(
        CLIENT_PIN,
        Some(cmap(vec![
            (int(1), int(2)),
            (int(2), int(3)),
            (int(3), s.platform_key.clone()),
            (int(4), bytes(&param)),
            (int(5), bytes(&new_pin_enc)),
        ])),
    ))
}

/// getPinUvAuthTokenUsingPinWithPermissions (ClientPIN 0x09) with `pin`;
/// the token on success.
pub fn token_armed(
    card: &mut Card,
    pin: &str,
    perms: u8,
    rp: Option<&str>,
    arm: &mut dyn FnMut(&mut Card),
) -> Result<Token, u16> {
    let mut s = Session::new(card, 2, 0x70c);
    let request = token_request(&mut s, pin, perms, rp);
    arm(card);
    let r = card.ctap(CLIENT_PIN, Some(request));
    if r.status != 0 {
        return Err(u16::from(r.status));
    }
    let value = s.decrypt(&as_bytes(get(&r.ok(), 2).unwrap()));
    Ok(Token { protocol: 2, value })
}

/// makeCredential, with a pinUvAuthParam when `token` is given; the new
/// credential ID (its registration fully verified).
pub fn make_credential(
    card: &mut Card,
    rp: &str,
    user: &[u8],
    rk: bool,
    token: Option<&Token>,
) -> Result<Registered, u16> {
    let d = cdh(0x4d);
    let mut req = mc_request(rp, user, &d, &[-7], rk);
    if let Some(t) = token {
        req = with(req, vec![(int(8), bytes(&t.param(&d))), (int(9), int(2))]);
    }
    let aaguid = card.config.aaguid.0;
    let r = card.ctap(MC, Some(req));
    if r.status != 0 {
        return Err(u16::from(r.status));
    }
    Ok(check_registration(&r.ok(), rp, &d, &aaguid))
}

/// getAssertion for `rp` (allowList `allow`, or discovery when empty); the
/// verified counter and the number of credentials, or the error.
pub fn get_assertion(card: &mut Card, rp: &str, allow: &[&Registered]) -> Result<(u32, i128), u16> {
    let d = cdh(0x6a);
    let ids: Vec<&[u8]> = allow.iter().map(|c| c.id.as_slice()).collect();
    let r = card.ctap(GA, Some(ga_request(rp, &d, &ids)));
    if r.status != 0 {
        return Err(u16::from(r.status));
    }
    let resp = r.ok();
    let id = as_bytes(get_text(get(&resp, 1).unwrap(), "id").unwrap());
    let count = get(&resp, 5).map_or(1, as_int);
    let ad_bytes = as_bytes(get(&resp, 2).unwrap());
    let ad = parse_auth_data(&ad_bytes);
    assert_eq!(ad.rp_id_hash, sha256(rp.as_bytes()));
    if let Some(cred) = allow.iter().find(|c| c.id == id) {
        check_assertion(&resp, rp, &d, cred);
    }
    Ok((ad.sign_count, count))
}

/// The IDs of the discoverable credentials of `rp` (getAssertion +
/// getNextAssertion), or empty.
pub fn discoverable(card: &mut Card, rp: &str) -> Vec<Vec<u8>> {
    let r = card.ctap(GA, Some(ga_request(rp, &cdh(0x6b), &[])));
    if r.status == NO_CREDENTIALS {
        return Vec::new();
    }
    let first = r.ok();
    let n = get(&first, 5).map_or(1, as_int);
    let id = |resp: &C| as_bytes(get_text(get(resp, 1).unwrap(), "id").unwrap());
    let mut out = vec![id(&first)];
    for _ in 1..n {
        out.push(id(&card.ctap(GNA, None).ok()));
    }
    out.sort();
    out
}

/// One ISO command to the applet's U2F instructions; data or status word.
pub fn u2f(card: &mut Card, ins: u8, p1: u8, data: &[u8]) -> Result<Vec<u8>, u16> {
    let cmd = Command {
        cla: 0x00,
        ins,
        p1,
        p2: 0x00,
        data,
        ne: 256,
        extended: false,
    };
    let mut reply = Vec::new();
    card.applet()
        .process(&cmd, &mut reply)
        .map(|()| reply)
        .map_err(u16::from)
}

/// U2F REGISTER for [`APP`]: (public key, key handle).
pub fn u2f_register(card: &mut Card) -> Result<(Vec<u8>, Vec<u8>), u16> {
    let data = [[0x11u8; 32].as_slice(), &APP].concat();
    let r = u2f(card, 0x01, 0x00, &data)?;
    assert_eq!(r[0], 0x05);
    let kh_len = usize::from(r[66]);
    Ok((r[1..66].to_vec(), r[67..67 + kh_len].to_vec()))
}

/// U2F AUTHENTICATE (enforce presence): the verified counter.
pub fn u2f_authenticate(card: &mut Card, public_key: &[u8], kh: &[u8]) -> Result<u32, u16> {
    use p256::ecdsa::signature::Verifier;
    let challenge = [0x22u8; 32];
    let kh_len = u8::try_from(kh.len()).unwrap();
    let data = [challenge.as_slice(), &APP, &[kh_len], kh].concat();
    let r = u2f(card, 0x02, 0x03, &data)?;
    let signed = [APP.as_slice(), &r[0..5], &challenge].concat();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&r[5..]).unwrap();
    key.verify(&signed, &sig).expect("U2F signature verifies");
    Ok(u32::from_be_bytes(r[1..5].try_into().unwrap()))
}

/// A largeBlobs set of the whole array in one fragment, signed with `token`.
pub fn large_blob_write(card: &mut Card, fill: u8, token: &Token) -> Outcome {
    let entry = cmap(vec![
        (int(1), bytes(&[fill; 40])),
        (int(2), bytes(&[fill; 12])),
        (int(3), int(40)),
    ]);
    let mut array = ser(&C::Array(vec![entry]));
    let hash = sha256(&array);
    array.extend_from_slice(&hash[..16]);
    let mut msg = vec![0xff; 32];
    msg.extend_from_slice(&[0x0c, 0x00]);
    msg.extend_from_slice(&0u32.to_le_bytes());
    msg.extend_from_slice(&sha256(&array));
    let req = cmap(vec![
        (int(2), bytes(&array)),
        (int(3), int(0)),
        (int(4), int(i64::try_from(array.len()).unwrap())),
        (int(5), bytes(&token.param(&msg))),
        (int(6), int(2)),
    ]);
    status(card.ctap(LB, Some(req)))
}

/// credMgmt deleteCredential (0x06).
pub fn cm_delete(card: &mut Card, id: &[u8], token: &Token) -> Outcome {
    status(cm(card, 0x06, Some(cred_params(id)), Some(token)))
}

/// credMgmt updateUserInformation (0x07).
pub fn cm_update(card: &mut Card, id: &[u8], user_id: &[u8], name: &str, token: &Token) -> Outcome {
    let params = cmap(vec![
        (
            int(2),
            cmap(vec![
                (text("id"), bytes(id)),
                (text("type"), text("public-key")),
            ]),
        ),
        (int(3), user(user_id, Some(name), Some(name))),
    ]);
    status(cm(card, 0x07, Some(params), Some(token)))
}
