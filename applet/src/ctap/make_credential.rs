//! authenticatorMakeCredential (0x01), CTAP 2.1 §6.1.
//!
//! ```text
//!  request: 01 { 0x01 clientDataHash bstr, 0x02 rp {id tstr, ?name tstr},
//!                0x03 user {id bstr(≤64), ?name tstr, ?displayName tstr},
//!                0x04 pubKeyCredParams [{type tstr, alg int}+],
//!                ?0x05 excludeList [descriptor], ?0x06 extensions {tstr: any},
//!                ?0x07 options {rk, up, uv: bool}, ?0x08 pinUvAuthParam bstr,
//!                ?0x09 pinUvAuthProtocol uint, ?0x0A enterpriseAttestation uint,
//!                ?0x0B attestationFormatsPreference [tstr] (CTAP 2.2) }
//!  response: 00 { 0x01 fmt tstr, 0x02 authData bstr, 0x03 attStmt map,
//!                 ?0x04 epAtt true, ?0x05 largeBlobKey, ?0x06 unsignedExtensionOutputs }
//! ```
//! Status order: CBOR and parameter errors (INVALID_CBOR,
//! CBOR_UNEXPECTED_TYPE, MISSING_PARAMETER, INVALID_LENGTH) before anything
//! else; then pinUvAuthParam probe/protocol (PIN_INVALID, PIN_NOT_SET,
//! MISSING_PARAMETER, INVALID_PARAMETER), UNSUPPORTED_ALGORITHM, options
//! (INVALID_OPTION, UNSUPPORTED_OPTION), PUAT_REQUIRED, enterprise
//! attestation (INVALID_PARAMETER when not capable or not enabled, then
//! INVALID_OPTION for a value other than 1 or 2: step 9), PIN_AUTH_INVALID,
//! CREDENTIAL_EXCLUDED, then user presence (OPERATION_DENIED),
//! KEY_STORE_FULL, and storage failure (CTAP1_ERR_OTHER).

use super::extensions::{self, McExtensions};
use super::parse::{self, Options};
use super::{rp_id_hash, truncate_utf8, Authenticator, Failure};
use crate::authdata::{self, AttestedCredential, FLAG_UP, FLAG_UV};
use crate::cbor::{Map, Value};
use crate::config::CardOption;
use crate::credential::{CredFlags, Sealed};
use crate::env::Env;
use crate::error::CtapError;
use crate::keys::{Algorithm, PrivateKey};
use crate::pin::uv::{PinUvAuth, UvFor};
use crate::state::ResidentCredential;
use p256::elliptic_curve::zeroize::Zeroizing;

/// Longest user handle (WebAuthn §5.4.3: at most 64 bytes).
pub const MAX_USER_ID_LEN: usize = 64;

/// A parsed makeCredential request.
#[derive(Debug)]
pub struct Request<'a> {
    /// clientDataHash.
    pub client_data_hash: &'a [u8],
    /// rp.id.
    pub rp_id: &'a str,
    /// rp.name.
    pub rp_name: Option<&'a str>,
    /// user.id.
    pub user_id: &'a [u8],
    /// user.name.
    pub user_name: Option<&'a str>,
    /// user.displayName.
    pub user_display_name: Option<&'a str>,
    /// The first supported algorithm of pubKeyCredParams, if any.
    pub algorithm: Option<Algorithm>,
    /// excludeList credential IDs.
    pub exclude_list: Vec<&'a [u8]>,
    /// extensions.
    pub extensions: Option<Map<'a>>,
    /// options.
    pub options: Options,
    /// pinUvAuthParam / pinUvAuthProtocol.
    pub pin_uv_auth: PinUvAuth<'a>,
    /// enterpriseAttestation.
    pub enterprise_attestation: Option<u64>,
    /// attestationFormatsPreference.
    pub attestation_formats: Vec<&'a str>,
}

/// Parse and type-check every parameter.
pub fn parse<'a>(auth: &Authenticator, params: &'a Value) -> Result<Request<'a>, CtapError> {
    let m = parse::request(params)?;
    let client_data_hash = m.required(0x01)?.as_bytes()?;
    let rp = m.required(0x02)?.as_map()?;
    let rp_id = rp.required_text("id")?.as_text()?;
    let rp_name = parse::opt_text(&rp, "name")?;
    if rp_id.is_empty() {
        return Err(CtapError::MissingParameter);
    }
    let user = m.required(0x03)?.as_map()?;
    let user_id = user.required_text("id")?.as_bytes()?;
    if user_id.len() > MAX_USER_ID_LEN {
        return Err(CtapError::InvalidLength);
    }
    let user_name = parse::opt_text(&user, "name")?;
    let user_display_name = parse::opt_text(&user, "displayName")?;
    let mut algorithm = None;
    for entry in m.required(0x04)?.as_array()? {
        let p = entry.as_map()?;
        let ty = p.required_text("type")?.as_text()?;
        let alg = p.required_text("alg")?;
        let alg = match alg {
            Value::Unsigned(_) | Value::Negative(_) => alg.as_i64().ok(),
            _ => return Err(CtapError::CborUnexpectedType),
        };
        if ty != "public-key" || algorithm.is_some() {
            continue;
        }
        algorithm = alg
            .filter(|a| auth.config.supports_algorithm(*a))
            .and_then(Algorithm::from_cose);
    }
    let exclude_list = parse::descriptors(&m, 0x05)?;
    let extensions = m.get(0x06).map(Value::as_map).transpose()?;
    let options = parse::options(&m, 0x07)?;
    let pin_uv_auth = parse::pin_uv_auth(&m, 0x08, 0x09)?;
    let enterprise_attestation = m.get(0x0A).map(Value::as_u64).transpose()?;
    let mut attestation_formats = Vec::new();
    if let Some(v) = m.get(0x0B) {
        for f in v.as_array()? {
            attestation_formats.push(f.as_text()?);
        }
    }
    Ok(Request {
        client_data_hash,
        rp_id,
        rp_name,
        user_id,
        user_name,
        user_display_name,
        algorithm,
        exclude_list,
        extensions,
        options,
        pin_uv_auth,
        enterprise_attestation,
        attestation_formats,
    })
}

/// Handle authenticatorMakeCredential.
pub fn handle(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    params: &Value,
) -> Result<Value, Failure> {
    let req = parse(auth, params)?;
    // Steps 1-2: pinUvAuthParam probe and protocol.
    auth.pin_uv_preamble(env, req.pin_uv_auth)?;
    // Step 3: algorithm.
    let alg = req.algorithm.ok_or(CtapError::UnsupportedAlgorithm)?;
    // Step 5: options.
    let has_param = req.pin_uv_auth.param.is_some();
    if req.options.uv == Some(true) && !has_param {
        // No built-in user verification method.
        return Err(CtapError::InvalidOption.into());
    }
    let rk = req.options.rk.unwrap_or(false);
    // A profile without `rk` refuses the option; one with `rk = false`
    // refuses a discoverable credential.
    let rk_on = super::get_info::option_enabled(&auth.config, CardOption::Rk);
    if (req.options.rk.is_some() && !auth.config.claims_option(CardOption::Rk)) || (rk && !rk_on) {
        return Err(CtapError::UnsupportedOption.into());
    }
    if req.options.up == Some(false) {
        return Err(CtapError::InvalidOption.into());
    }
    // Step 6.2: alwaysUv on a card not protected by any UV (no PIN yet):
    // "If the clientPin option ID is present ... End the operation by
    // returning CTAP2_ERR_PUAT_REQUIRED" (else OPERATION_DENIED).
    if auth.state.persistent().always_uv && !auth.pin_is_set() {
        return Err(
            if super::get_info::option_enabled(&auth.config, CardOption::ClientPin) {
                CtapError::PuatRequired
            } else {
                CtapError::OperationDenied
            }
            .into(),
        );
    }
    // Steps 6.4-8: a card protected by a PIN needs a pinUvAuthParam unless
    // makeCredUvNotRqd allows a non-discoverable credential without it.
    if auth.pin_is_set() && !has_param {
        let uv_not_rqd =
            super::get_info::option_enabled(&auth.config, CardOption::MakeCredUvNotRqd);
        if rk || !uv_not_rqd || auth.state.persistent().always_uv {
            return Err(CtapError::PuatRequired.into());
        }
    }
    // Step 9 (CTAP 2.1 §6.1.2 step 9, §7.1): enterprise attestation.
    let enterprise = enterprise_requested(auth, &req)?;
    // Step 11: pinUvAuthParam.
    let uv = auth.verify_uv(
        env,
        req.pin_uv_auth,
        req.client_data_hash,
        req.rp_id,
        UvFor::MakeCredential,
    )?;
    let rp_hash = rp_id_hash(req.rp_id);
    // Step 12: excludeList (after user presence).
    for id in &req.exclude_list {
        let Some(sealed) = auth.id_key.unwrap(&rp_hash, id) else {
            continue;
        };
        if sealed.flags.discoverable && auth.resident(id).is_none() {
            continue; // deleted
        }
        if sealed.flags.cred_protect == 3 && !uv {
            continue; // treated as absent without UV (§12.1)
        }
        // Step 12.1.4.2: "Regardless of whether user presence is obtained
        // or the authenticator times out, terminate this procedure and
        // return CTAP2_ERR_CREDENTIAL_EXCLUDED." The tap (or its absence)
        // changes nothing, so there is nothing to wait for.
        return Err(CtapError::CredentialExcluded.into());
    }
    // Step 13: extensions.
    let ext = extensions::make_credential(auth, env, req.extensions, rk, req.rp_id)?;
    // Step 14: user presence.
    auth.require_presence(env)?;
    if has_param {
        crate::pin::uv::consume_after_user_presence(&mut auth.pin);
    }
    create(auth, env, &req, alg, rk, uv, rp_hash, ext, enterprise)
}

/// Whether this credential gets the enterprise attestation:
/// ```text
///  enterpriseAttestation absent                        → no
///  card not capable, or ep not enabled                 → INVALID_PARAMETER
///  1 vendor-facilitated: RP ID on the profile's list   → yes, else no
///  2 platform-managed                                  → yes
///  any other value                                     → INVALID_OPTION
/// ```
fn enterprise_requested(auth: &Authenticator, req: &Request<'_>) -> Result<bool, CtapError> {
    let Some(value) = req.enterprise_attestation else {
        return Ok(false);
    };
    if !auth.ep_capable() || !auth.state.persistent().enterprise_attestation {
        return Err(CtapError::InvalidParameter);
    }
    match value {
        1 => Ok(auth
            .config
            .enterprise_attestation_rp_ids
            .iter()
            .any(|rp| rp == req.rp_id)),
        2 => Ok(true),
        _ => Err(CtapError::InvalidOption),
    }
}

#[allow(clippy::too_many_arguments)]
fn create(
    auth: &mut Authenticator,
    env: &mut dyn Env,
    req: &Request<'_>,
    alg: Algorithm,
    rk: bool,
    uv: bool,
    rp_hash: [u8; 32],
    mut ext: McExtensions,
    enterprise: bool,
) -> Result<Value, Failure> {
    let key = PrivateKey::generate(alg, env.rng());
    let flags = CredFlags {
        cred_protect: ext.cred_protect,
        u2f: false,
        discoverable: rk,
        third_party_payment: ext.third_party_payment,
    };
    let sealed = Sealed { key, flags };
    let id = auth.id_key.wrap(env.rng(), &rp_hash, &sealed);
    // Outputs that need the key, computed before anything is stored.
    let secret = Zeroizing::new(sealed.key.to_bytes());
    ext.finish(env, &auth.state.identity().master_key, &secret, uv)?;
    let max_len = auth.config.max_stored_string_length;
    let max_rk = auth.config.max_resident_credentials;
    // One atomic write: the credential (if discoverable) and the counter. A
    // non-discoverable credential stores nothing but, at most, a new counter block.
    let sign_count = if !rk {
        auth.state.next_sign_count(env)?
    } else {
        auth.state
            .update_counted(env, |p| {
                p.credentials
                    .retain(|c| !(c.rp_id_hash == rp_hash && c.user_id == req.user_id));
                if p.credentials.len() >= max_rk {
                    return Err(CtapError::KeyStoreFull);
                }
                let created = p.next_created;
                p.next_created = p.next_created.saturating_add(1);
                p.credentials.push(ResidentCredential {
                    id: id.clone(),
                    rp_id_hash: rp_hash,
                    rp_id: truncate_utf8(req.rp_id, max_len),
                    rp_name: req.rp_name.map(|s| truncate_utf8(s, max_len)),
                    user_id: req.user_id.to_vec(),
                    user_name: req.user_name.map(|s| truncate_utf8(s, max_len)),
                    user_display_name: req.user_display_name.map(|s| truncate_utf8(s, max_len)),
                    created,
                    cred_protect: ext.cred_protect.max(1),
                    cred_blob: ext.cred_blob.clone(),
                    large_blob_key: ext.large_blob_key,
                });
                Ok(())
            })?
            .1
    };
    let public_key = sealed.key.public_cose();
    let attested = AttestedCredential {
        aaguid: &auth.config.aaguid.0,
        credential_id: &id,
        public_key: &public_key,
    };
    let mut flag_bits = FLAG_UP;
    if uv {
        flag_bits |= FLAG_UV;
    }
    let ext_map = extensions::outputs_map(&ext.outputs);
    let auth_data = authdata::build(
        &rp_hash,
        flag_bits,
        sign_count,
        Some(&attested),
        ext_map.as_ref(),
    );
    let (fmt, att_stmt, ep_att) = attest(auth, req, &sealed.key, &auth_data, enterprise)?;
    let mut response = vec![
        (Value::from(1u8), Value::from(fmt)),
        (Value::from(2u8), Value::from(auth_data)),
        (Value::from(3u8), att_stmt),
    ];
    // 0x04 epAtt: present (true) only when an enterprise attestation was
    // returned (CTAP 2.1 §6.1.2 response).
    if ep_att {
        response.push((Value::from(4u8), Value::from(true)));
    }
    if let Some(key) = ext.large_blob_key {
        response.push((Value::from(5u8), Value::from(key.to_vec())));
    }
    if !ext.unsigned.is_empty() {
        response.push((Value::from(6u8), Value::Map(ext.unsigned)));
    }
    Ok(Value::Map(response))
}

/// The attestation statement (WebAuthn §8.2 packed, §8.7 none):
///
/// ```text
///  packed, batch: { alg: -7, sig: ECDSA(batch, authData || cdh), x5c: [leaf, intermediates...] }
///  packed, enterprise: the same with the enterprise key and certificate
///  packed, self:  { alg: <credential alg>, sig: sign(credential key, authData || cdh) }
///  none:          {}
/// ```
/// The format is chosen by [`choose_format`].
fn attest(
    auth: &Authenticator,
    req: &Request<'_>,
    key: &PrivateKey,
    auth_data: &[u8],
    enterprise: bool,
) -> Result<(&'static str, Value, bool), CtapError> {
    let prefers_none =
        choose_format(&auth.config.attestation_formats, &req.attestation_formats) == "none";
    if prefers_none {
        return Ok(("none", Value::Map(Vec::new()), false));
    }
    let enterprise_attestation = auth
        .attestation
        .as_ref()
        .and_then(|batch| batch.enterprise())
        .filter(|_| enterprise);
    let attestation = enterprise_attestation.or(auth.attestation.as_ref());
    let mut message = Vec::with_capacity(auth_data.len() + req.client_data_hash.len());
    message.extend_from_slice(auth_data);
    message.extend_from_slice(req.client_data_hash);
    let stmt = match attestation {
        Some(batch) => {
            let sig = batch
                .sign(auth_data, req.client_data_hash)
                .map_err(|_| CtapError::Other)?;
            Value::Map(vec![
                (Value::from("alg"), Value::from(crate::config::ES256)),
                (Value::from("sig"), Value::from(sig)),
                (
                    Value::from("x5c"),
                    Value::Array(
                        batch
                            .chain()
                            .iter()
                            .map(|c| Value::from(c.clone()))
                            .collect(),
                    ),
                ),
            ])
        }
        None => Value::Map(vec![
            (Value::from("alg"), Value::from(key.algorithm().cose())),
            (
                Value::from("sig"),
                Value::from(key.sign(&message).ok_or(CtapError::Other)?),
            ),
        ]),
    };
    Ok(("packed", stmt, enterprise_attestation.is_some()))
}

/// The attestation format (CTAP 2.2 §6.1.2 attestationFormatsPreference):
/// the first format of the request's preference that the card supports,
/// else the card's first. `supported` is the profile's getInfo 0x16
/// `attestationFormats`; a profile that does not send it supports
/// `packed` then `none`.
pub fn choose_format(supported: &[String], preference: &[&str]) -> &'static str {
    let supports = |f: &str| {
        if supported.is_empty() {
            matches!(f, "packed" | "none")
        } else {
            supported.iter().any(|s| s == f)
        }
    };
    let first = supported.first().map_or("packed", String::as_str);
    let chosen = preference
        .iter()
        .copied()
        .find(|f| supports(f))
        .unwrap_or(first);
    if chosen == "none" {
        "none"
    } else {
        "packed"
    }
}
