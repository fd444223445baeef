//! credMgmt requests and checks shared by the credential-management tests
//! (CTAP 2.1 §6.8), built with ciborium on the `client` module.

use ciborium::Value as C;

use super::pin::Token;
use super::*;

/// authenticatorCredentialManagement and its FIDO_2_1_PRE command byte.
pub const CM_CMD: u8 = 0x0A;
pub const CM_PRE: u8 = 0x41;

pub const NOT_ALLOWED: u8 = 0x30;

pub fn register(card: &mut Card, rp: &str, user: &[u8], alg: i64, rk: bool) -> Registered {
    let aaguid = card.config.aaguid.0;
    let resp = card
        .ctap(MC, Some(mc_request(rp, user, &cdh(1), &[alg], rk)))
        .ok();
    check_registration(&resp, rp, &cdh(1), &aaguid)
}

/// Raw public key bytes of a registered key: SEC1 point or Ed25519 bytes.
pub fn key_bytes(k: &PublicKey) -> Vec<u8> {
    match k {
        PublicKey::Es256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
        PublicKey::EdDsa(k) => k.to_bytes().to_vec(),
    }
}

/// The same from a COSE_Key in a credMgmt response.
pub fn cose_key_bytes(cose: &C) -> Vec<u8> {
    match as_int(get(cose, 3).unwrap()) {
        -7 => {
            let mut out = vec![4u8];
            out.extend(as_bytes(get(cose, -2).unwrap()));
            out.extend(as_bytes(get(cose, -3).unwrap()));
            out
        }
        -8 => as_bytes(get(cose, -2).unwrap()),
        other => panic!("unexpected alg {other}"),
    }
}

/// A credMgmt request; `token` signs `subCommand || subCommandParams`.
pub fn cm_request(sub: u8, params: Option<C>, token: Option<&Token>) -> C {
    let mut m = vec![(int(1), int(i64::from(sub)))];
    if let Some(t) = token {
        let mut msg = vec![sub];
        if let Some(p) = &params {
            msg.extend(ser(p));
        }
        m.push((int(3), int(i64::from(t.protocol))));
        m.push((int(4), bytes(&t.param(&msg))));
    }
    if let Some(p) = params {
        m.push((int(2), p));
    }
    cmap(m)
}

pub fn cm(card: &mut Card, sub: u8, params: Option<C>, token: Option<&Token>) -> Reply {
    card.ctap(CM_CMD, Some(cm_request(sub, params, token)))
}

pub fn rp_params(rp: &str) -> C {
    cmap(vec![(int(1), bytes(&sha256(rp.as_bytes())))])
}

pub fn cred_params(id: &[u8]) -> C {
    cmap(vec![(
        int(2),
        cmap(vec![
            (text("id"), bytes(id)),
            (text("type"), text("public-key")),
        ]),
    )])
}

pub fn user(id: &[u8], name: Option<&str>, display: Option<&str>) -> C {
    let mut m = vec![(text("id"), bytes(id))];
    if let Some(n) = name {
        m.push((text("name"), text(n)));
    }
    if let Some(d) = display {
        m.push((text("displayName"), text(d)));
    }
    cmap(m)
}

/// An error reply that left the stored state untouched.
pub fn refused(card: &mut Card, cmd: u8, request: C, status: u8) {
    let before = card.storage();
    let r = card.ctap(cmd, Some(request));
    assert_eq!(r.status, status, "expected {status:#04x}");
    assert!(r.body.is_none());
    assert_eq!(card.storage(), before, "an error changed the stored state");
}

/// Each `(subCommand, subCommandParams)` signed with `token` is refused
/// with `status` and changes nothing.
pub fn refused_with(card: &mut Card, token: &Token, cases: Vec<(u8, Option<C>)>, status: u8) {
    for (sub, params) in cases {
        refused(card, CM_CMD, cm_request(sub, params, Some(token)), status);
    }
}

/// Every RP (id, hash) through enumerateRPs, checking totals.
pub fn enumerate_rps(card: &mut Card, cmd: u8, t: &Token) -> Vec<(String, Vec<u8>)> {
    enumerate_rp_entries(card, cmd, t)
        .iter()
        .map(|entry| {
            let rp = get(entry, 3).unwrap();
            let C::Text(id) = get_text(rp, "id").unwrap() else {
                panic!("rp.id is not text: {rp:?}")
            };
            (id.clone(), as_bytes(get(entry, 4).unwrap()))
        })
        .collect()
}

/// Every enumerateRPs response map, checking totals.
pub fn enumerate_rp_entries(card: &mut Card, cmd: u8, t: &Token) -> Vec<C> {
    let first = card.ctap(cmd, Some(cm_request(2, None, Some(t)))).ok();
    let total = usize::try_from(as_int(get(&first, 5).unwrap())).unwrap();
    let mut out = vec![first];
    while out.len() < total {
        let entry = card.ctap(cmd, Some(cm_request(3, None, None))).ok();
        assert!(get(&entry, 5).is_none(), "totalRPs only in Begin");
        out.push(entry);
    }
    // Exactly `total`, then the iterator is exhausted.
    assert_eq!(
        card.ctap(cmd, Some(cm_request(3, None, None))).status,
        NOT_ALLOWED
    );
    out
}

/// The distinct credential IDs of enumerateCredentials responses.
pub fn credential_ids(entries: &[C]) -> std::collections::BTreeSet<Vec<u8>> {
    entries
        .iter()
        .map(|e| as_bytes(get_text(get(e, 7).unwrap(), "id").unwrap()))
        .collect()
}

/// Every credential of `rp` through enumerateCredentials.
pub fn enumerate_creds(card: &mut Card, cmd: u8, rp: &str, t: &Token) -> Vec<C> {
    let first = card
        .ctap(cmd, Some(cm_request(4, Some(rp_params(rp)), Some(t))))
        .ok();
    let total = usize::try_from(as_int(get(&first, 9).unwrap())).unwrap();
    let mut out = vec![first];
    while out.len() < total {
        let next = card.ctap(cmd, Some(cm_request(5, None, None))).ok();
        assert!(get(&next, 9).is_none(), "totalCredentials only in Begin");
        out.push(next);
    }
    assert_eq!(
        card.ctap(cmd, Some(cm_request(5, None, None))).status,
        NOT_ALLOWED
    );
    out
}
