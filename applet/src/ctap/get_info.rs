//! authenticatorGetInfo (0x04), CTAP 2.1 §6.4.
//!
//! ```text
//!  request:  04                      (no parameters)
//!  response: 00 { 0x01 versions, 0x02 extensions, 0x03 aaguid, 0x04 options,
//!                 0x05 maxMsgSize, 0x06 pinUvAuthProtocols,
//!                 0x07 maxCredentialCountInList, 0x08 maxCredentialIdLength,
//!                 0x09 transports, 0x0A algorithms, 0x0B maxSerializedLargeBlobArray,
//!                 0x0C forcePINChange, 0x0D minPINLength, 0x0E firmwareVersion,
//!                 0x0F maxCredBlobLength, 0x10 maxRPIDsForSetMinPINLength,
//!                 0x14 remainingDiscoverableCredentials,
//!                 0x16-0x1F: CTAP 2.2/2.3 members, see `get_info_ctap23` }
//!  errors:   none
//! ```
//! getInfo lists exactly what is implemented: the profile's claims of the
//! options the applet knows ([`CardOption`]) and of the extensions ([`Extension`]).
//! When a feature starts to work, add its variant or name there (and its
//! getInfo fields follow).
//!
//! An option the profile sets to `false` is listed as `false` and its
//! feature is off (CTAP 2.1 §6.4: `rk`, `largeBlobs`, `credMgmt`, ... are
//! "supported" only when `true`), except for the options whose `false`
//! means "supported, not set" ([`STATEFUL_OPTIONS`]). `alwaysUv` is listed,
//! with the card's current value, where the profile claims it and
//! authenticatorConfig works; a profile without it has no toggleAlwaysUv.
//! While alwaysUv is on, versions leaves out `U2F_V2` (CTAP 2.1 §7.2.4).

use super::extensions::{extension_enabled, Extension};
use super::Authenticator;
use crate::cbor::Value;
pub use crate::config::CardOption;
use crate::config::Config;
use crate::pin::PinStore;

/// Every [`CardOption`] is implemented: `ep` (enterprise attestation capable,
/// CTAP 2.1 §6.4) is listed where the profile claims it and the card has an
/// attestation CA (so an enterprise certificate), with the card's state:
/// authenticatorConfig enableEnterpriseAttestation turns it true. `clientPin` and
/// `pinUvAuthToken`: `ctap::client_pin`; `authnrCfg` and `setMinPINLength`:
/// `ctap::config`; `credMgmt` and `credentialMgmtPreview`:
/// `ctap::cred_mgmt`; `largeBlobs`: `ctap::large_blobs`; `makeCredUvNotRqd`:
/// `ctap::make_credential` (a PIN-protected card makes non-discoverable
/// credentials without a pinUvAuthParam); `alwaysUv`: toggleAlwaysUv in
/// `ctap::config`, enforced by makeCredential, getAssertion, largeBlobs,
/// authenticatorConfig and U2F. `plat` is a fact, not a feature: a profile
/// that lists it as `false` says the card is not a platform authenticator.
/// `ep` is listed from the card's state, never from the profile's value.
fn implemented(option: CardOption) -> bool {
    option != CardOption::Ep
}

/// Options whose `false` still means "supported" (CTAP 2.1 §6.4):
/// `clientPin` false = no PIN set yet, `alwaysUv` false = off. Their listed
/// value is the card's state.
pub const STATEFUL_OPTIONS: &[CardOption] = &[CardOption::ClientPin, CardOption::AlwaysUv];

/// Whether option `name`'s feature works: implemented, and claimed by the
/// profile as `true` (or with any value for a [`STATEFUL_OPTIONS`] entry).
/// `alwaysUv` needs the profile's claim (any value: the card's state is
/// what getInfo lists) and `authnrCfg` (toggleAlwaysUv is a config
/// subcommand).
pub fn option_enabled(config: &Config, option: CardOption) -> bool {
    if option == CardOption::AlwaysUv {
        return config.claims_option(CardOption::AlwaysUv)
            && option_enabled(config, CardOption::AuthnrCfg);
    }
    // The persistent token is read-only credential management by a token.
    if option == CardOption::PerCredMgmtRo
        && !(option_enabled(config, CardOption::CredMgmt)
            && option_enabled(config, CardOption::PinUvAuthToken))
    {
        return false;
    }
    implemented(option)
        && config
            .options
            .get(option.name())
            .is_some_and(|on| *on || STATEFUL_OPTIONS.contains(&option))
}

/// The names a profile claims that the applet does not know, as `option NAME` and
/// `extension NAME`: getInfo never lists them (a profile never advertises a feature the
/// code does not have), so whoever loads a profile can say so instead of dropping them
/// without a word.
pub fn unknown_claims(config: &Config) -> Vec<String> {
    let options = config
        .options
        .keys()
        .filter(|name| CardOption::from_name(name).is_none())
        .map(|name| format!("option {name}"));
    let extensions = config
        .extensions
        .iter()
        .filter(|name| Extension::from_name(name).is_none())
        .map(|name| format!("extension {name}"));
    options.chain(extensions).collect()
}

/// Build the getInfo response (`env`: the RNG for the IVs of the encrypted
/// CTAP 2.3 members).
pub fn handle(auth: &Authenticator, env: &mut dyn crate::env::Env) -> Value {
    let c = &auth.config;
    let mut m: Vec<(Value, Value)> = Vec::new();
    let mut put = |k: u8, v: Value| m.push((Value::from(k), v));
    // CTAP 2.1 §7.2.4: with alwaysUv on and no built-in UV (this card has
    // none), U2F is off and "U2F_V2" MUST NOT be in versions.
    let u2f_off = auth.state.persistent().always_uv;
    let versions: Vec<String> = crate::versions::listed(c)
        .into_iter()
        .filter(|v| !(u2f_off && v.as_str() == "U2F_V2"))
        .collect();
    put(0x01, text_array(&versions));
    let extensions: Vec<String> = c
        .extensions
        .iter()
        .filter(|e| Extension::from_name(e).is_some_and(|x| extension_enabled(c, x)))
        .cloned()
        .collect();
    if !extensions.is_empty() {
        put(0x02, text_array(&extensions));
    }
    put(0x03, Value::from(c.aaguid.0.to_vec()));
    let mut options = Vec::new();
    for (name, value) in &c.options {
        let Some(option) = CardOption::from_name(name) else {
            continue;
        };
        if matches!(option, CardOption::AlwaysUv | CardOption::Ep) {
            continue;
        }
        let value = match option {
            CardOption::ClientPin => auth.pin_is_set(),
            // CTAP 2.1 §6.4: with alwaysUv on, makeCredUvNotRqd is reported false.
            CardOption::MakeCredUvNotRqd => *value && !auth.state.persistent().always_uv,
            CardOption::PerCredMgmtRo => option_enabled(c, CardOption::PerCredMgmtRo),
            _ => *value,
        };
        options.push((Value::from(option.name()), Value::from(value)));
    }
    // `ep`: false = capable, not enabled; true once
    // enableEnterpriseAttestation ran (CTAP 2.1 §6.4, §6.11.1).
    if auth.ep_capable() {
        options.push((
            Value::from("ep"),
            Value::from(auth.state.persistent().enterprise_attestation),
        ));
    }
    if option_enabled(c, CardOption::AlwaysUv) {
        options.push((
            Value::from("alwaysUv"),
            Value::from(auth.state.persistent().always_uv),
        ));
    }
    put(0x04, Value::Map(options));
    put(0x05, Value::from(c.max_msg_size));
    let client_pin = option_enabled(c, CardOption::ClientPin);
    if client_pin {
        put(
            0x06,
            Value::Array(
                c.pin_uv_auth_protocols
                    .iter()
                    .map(|p| Value::from(*p))
                    .collect(),
            ),
        );
    }
    put(0x07, Value::from(c.max_credential_count_in_list));
    put(0x08, Value::from(c.max_credential_id_length));
    put(0x09, text_array(&c.transports));
    put(
        0x0A,
        Value::Array(
            c.algorithms
                .iter()
                .map(|a| {
                    Value::Map(vec![
                        (Value::from("alg"), Value::from(*a)),
                        (Value::from("type"), Value::from("public-key")),
                    ])
                })
                .collect(),
        ),
    );
    if option_enabled(c, CardOption::LargeBlobs) {
        put(0x0B, Value::from(c.max_serialized_large_blob_array));
    }
    if client_pin {
        put(0x0C, Value::from(auth.state.force_pin_change()));
        put(0x0D, Value::from(auth.state.min_pin_length()));
    }
    put(0x0E, Value::from(c.firmware_version));
    if extension_enabled(c, Extension::CredBlob) {
        put(0x0F, Value::from(c.max_cred_blob_length));
    }
    if option_enabled(c, CardOption::SetMinPinLength) {
        put(0x10, Value::from(c.max_rpids_for_set_min_pin_length));
    }
    if option_enabled(c, CardOption::Rk) {
        let used = auth.state.persistent().credentials.len();
        put(
            0x14,
            Value::from(c.max_resident_credentials.saturating_sub(used)),
        );
    }
    super::get_info_ctap23::put(auth, env, &mut m);
    Value::Map(m)
}

fn text_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}
