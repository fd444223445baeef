//! authenticatorGetAssertion (0x02), CTAP 2.1 §6.2.
//!
//! ```text
//!  request: 02 { 0x01 rpId tstr, 0x02 clientDataHash bstr, ?0x03 allowList [descriptor],
//!                ?0x04 extensions {tstr: any}, ?0x05 options {up, uv: bool},
//!                ?0x06 pinUvAuthParam bstr, ?0x07 pinUvAuthProtocol uint }
//!  response: 00 { 0x01 credential {id, type}, 0x02 authData bstr, 0x03 signature bstr,
//!                 ?0x04 user {id, ?name, ?displayName}, ?0x05 numberOfCredentials uint }
//! ```
//! - allowList present: the first listed credential that is ours for this
//!   RP is used; `user` is returned when it is a discoverable credential.
//! - no allowList: the RP's discoverable credentials, most recent first;
//!   `numberOfCredentials` when more than one, and getNextAssertion
//!   returns the others. `user` holds only `id`, plus `name` and
//!   `displayName` when UV was done and there are several (§6.2.2 step 12).
//! - credProtect: level 3 needs UV; level 2 needs UV to be discovered.
//! - `up: false`: a silent probe, UP flag clear, signature still made.
//! - The signature counter is incremented and persisted before the response.
//!
//! Status order: CBOR/parameter errors; pinUvAuthParam probe/protocol;
//! `rk` option → INVALID_OPTION; `uv: true` without pinUvAuthParam →
//! INVALID_OPTION; PUAT_REQUIRED (alwaysUv); PIN_AUTH_INVALID;
//! NO_CREDENTIALS; extension inputs (`extensions::check_get_assertion`);
//! user presence; storage failure (CTAP1_ERR_OTHER).

use super::extensions;
use super::parse::{self, Options};
use super::{descriptor, rp_id_hash, Authenticator, Failure};
use crate::authdata::{self, FLAG_UP, FLAG_UV};
use crate::cbor::{Map, Value};
use crate::config::CardOption;
use crate::env::Env;
use crate::error::CtapError;
use crate::pin::uv::{PinUvAuth, UvFor};
use crate::state::AssertionIterator;

/// A parsed getAssertion request.
#[derive(Debug)]
pub struct Request<'a> {
    /// rpId.
    pub rp_id: &'a str,
    /// clientDataHash.
    pub client_data_hash: &'a [u8],
    /// allowList credential IDs (`None` when absent or empty).
    pub allow_list: Option<Vec<&'a [u8]>>,
    /// extensions.
    pub extensions: Option<Map<'a>>,
    /// options.
    pub options: Options,
    /// pinUvAuthParam / pinUvAuthProtocol.
    pub pin_uv_auth: PinUvAuth<'a>,
}

/// Parse and type-check every parameter.
pub fn parse(params: &Value) -> Result<Request<'_>, CtapError> {
    let m = parse::request(params)?;
    let rp_id = m.required(0x01)?.as_text()?;
    let client_data_hash = m.required(0x02)?.as_bytes()?;
    if rp_id.is_empty() {
        return Err(CtapError::MissingParameter);
    }
    let allow = parse::descriptors(&m, 0x03)?;
    let allow_list = if m.get(0x03).is_some() && !allow.is_empty() {
        Some(allow)
    } else if m.get(0x03).is_some() {
        // A list with no public-key descriptors finds nothing.
        Some(Vec::new())
    } else {
        None
    };
    let extensions = m.get(0x04).map(Value::as_map).transpose()?;
    let options = parse::options(&m, 0x05)?;
    let pin_uv_auth = parse::pin_uv_auth(&m, 0x06, 0x07)?;
    Ok(Request {
        rp_id,
        client_data_hash,
        allow_list,
        extensions,
        options,
        pin_uv_auth,
    })
}

/// Handle authenticatorGetAssertion.
pub fn handle(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    params: &Value,
) -> Result<Value, Failure> {
    let req = parse(params)?;
    auth.pin_uv_preamble(env, req.pin_uv_auth)?;
    let has_param = req.pin_uv_auth.param.is_some();
    // CTAP 2.1/2.3 §6.2.2 step 4: "If the "rk" option is present then:
    // Return CTAP2_ERR_UNSUPPORTED_OPTION."
    if req.options.rk.is_some() {
        return Err(CtapError::UnsupportedOption.into());
    }
    if req.options.uv == Some(true) && !has_param {
        return Err(CtapError::InvalidOption.into());
    }
    let up = req.options.up.unwrap_or(true);
    // Step 5: alwaysUv with "up" true needs a pinUvAuthParam: PUAT_REQUIRED,
    // on a card with a PIN and (5.1.1) on one not yet protected by any UV.
    // A silent probe (up: false) is not affected.
    if auth.state.persistent().always_uv && up && !has_param {
        return Err(
            if super::get_info::option_enabled(&auth.config, CardOption::ClientPin) {
                CtapError::PuatRequired
            } else {
                CtapError::OperationDenied
            }
            .into(),
        );
    }
    let uv = auth.verify_uv(
        env,
        req.pin_uv_auth,
        req.client_data_hash,
        req.rp_id,
        UvFor::GetAssertion,
    )?;
    let rp_hash = rp_id_hash(req.rp_id);
    // Locate credentials (§6.2.2 step 7).
    let (ids, discovered): (Vec<Vec<u8>>, bool) = match &req.allow_list {
        Some(list) => {
            let found = list.iter().find(|id| usable(auth, &rp_hash, id, uv, true));
            (found.map(|id| id.to_vec()).into_iter().collect(), false)
        }
        None => {
            let mut creds: Vec<_> = auth
                .state
                .persistent()
                .credentials
                .iter()
                .filter(|c| c.rp_id_hash == rp_hash)
                .filter(|c| c.cred_protect < 2 || uv)
                .collect();
            creds.sort_by_key(|c| std::cmp::Reverse(c.created));
            (creds.into_iter().map(|c| c.id.clone()).collect(), true)
        }
    };
    let Some(first) = ids.first().cloned() else {
        return Err(CtapError::NoCredentials.into());
    };
    // Extension inputs (CTAP 2.1 §6.2.2: after locating credentials,
    // before user presence).
    extensions::check_get_assertion(auth, req.extensions, up)?;
    if up {
        auth.require_presence(env)?;
        if has_param {
            crate::pin::uv::consume_after_user_presence(&mut auth.pin);
        }
    }
    let mut flags = 0u8;
    if up {
        flags |= FLAG_UP;
    }
    if uv {
        flags |= FLAG_UV;
    }
    let total = ids.len();
    let mut response = assertion(
        auth,
        env,
        &rp_hash,
        req.client_data_hash,
        &first,
        flags,
        total,
        req.extensions,
    )?;
    if discovered && total > 1 {
        if let Value::Map(pairs) = &mut response {
            pairs.push((Value::from(5u8), Value::from(total)));
        }
        auth.transient.assertions = Some(AssertionIterator {
            rp_id_hash: rp_hash,
            client_data_hash: req.client_data_hash.to_vec(),
            remaining: ids.into_iter().skip(1).collect(),
            flags,
            last_sent: env.now(),
            extensions: req.extensions.map(|m| Value::Map(m.pairs().to_vec())),
        });
    }
    Ok(response)
}

/// Whether `id` is a live credential of ours for this RP, usable with/without UV.
fn usable(auth: &Authenticator, rp_hash: &[u8; 32], id: &[u8], uv: bool, listed: bool) -> bool {
    let Some(sealed) = auth.id_key.open(rp_hash, id) else {
        return false;
    };
    if sealed.flags.discoverable {
        match auth.resident(id) {
            None => return false,
            Some(c) if c.cred_protect == 3 && !uv => return false,
            Some(c) if c.cred_protect == 2 && !uv && !listed => return false,
            Some(_) => {}
        }
    }
    sealed.flags.cred_protect != 3 || uv
}

/// Sign one assertion with credential `id`: counter incremented and
/// persisted first, then authData and signature built.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assertion(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    rp_hash: &[u8; 32],
    client_data_hash: &[u8],
    id: &[u8],
    flags: u8,
    total: usize,
    extensions_in: Option<Map<'_>>,
) -> Result<Value, Failure> {
    let opened = auth
        .id_key
        .open(rp_hash, id)
        .ok_or(CtapError::NoCredentials)?;
    let uv = flags & FLAG_UV != 0;
    let credential = extensions::AssertedCredential {
        id,
        secret: opened.secret(),
        third_party_payment: opened.flags.third_party_payment,
    };
    let ext = extensions::get_assertion(auth, env, extensions_in, flags, credential)?;
    let user = auth.resident(id).map(|c| {
        let mut u = vec![(Value::from("id"), Value::from(c.user_id.clone()))];
        if uv && total > 1 {
            if let Some(n) = &c.user_name {
                u.push((Value::from("name"), Value::from(n.as_str())));
            }
            if let Some(n) = &c.user_display_name {
                u.push((Value::from("displayName"), Value::from(n.as_str())));
            }
        }
        Value::Map(u)
    });
    let sign_count = auth.state.next_sign_count(env)?;
    let ext_map = extensions::outputs_map(&ext.outputs);
    let auth_data = authdata::build(rp_hash, flags, sign_count, None, ext_map.as_ref());
    let mut message = Vec::with_capacity(auth_data.len() + client_data_hash.len());
    message.extend_from_slice(&auth_data);
    message.extend_from_slice(client_data_hash);
    let signature = opened.sign(&message).ok_or(CtapError::Other)?;
    let mut response = vec![
        (Value::from(1u8), descriptor(id)),
        (Value::from(2u8), Value::from(auth_data)),
        (Value::from(3u8), Value::from(signature)),
    ];
    if let Some(u) = user {
        response.push((Value::from(4u8), u));
    }
    if let Some(key) = ext.large_blob_key {
        response.push((Value::from(7u8), Value::from(key.to_vec())));
    }
    Ok(Value::Map(response))
}
