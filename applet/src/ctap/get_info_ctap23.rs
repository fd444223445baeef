//! The CTAP 2.2 / 2.3 members of authenticatorGetInfo (CTAP 2.3 §6.4).
//!
//! ```text
//!  0x16 attestationFormats            [tstr]  profile attestation_formats (non-empty)
//!  0x19 encIdentifier                 bstr    while a persistent pinUvAuthToken exists
//!  0x1A transportsForReset            [tstr]  profile transports_for_reset (non-empty)
//!  0x1B pinComplexityPolicy           bool    profile has a policy: enforced now?
//!  0x1C pinComplexityPolicyURL        bstr    profile pin_complexity_policy_url (non-empty)
//!  0x1D maxPINLength                  uint    profile max_pin_length (non-zero)
//!  0x1E encCredStoreState             bstr    while a persistent pinUvAuthToken exists
//!  0x1F authenticatorConfigCommands   [uint]  authenticator_config_commands = true
//!                                             and authnrCfg: every supported subcommand
//! ```
//! 0x19 and 0x1E are encrypted under the persistent token with a fresh IV
//! each time (`pin::persistent`), so two getInfo responses differ.

use super::extensions::pin_complexity_policy;
use super::get_info::option_enabled;
use super::Authenticator;
use crate::cbor::Value;
use crate::config::CardOption;
use crate::env::Env;
use crate::pin::persistent;
use crate::pin::PinStore;
use crate::state::codec::credentials_cbor;

/// Append the CTAP 2.2/2.3 members (keys 0x16-0x1F) to `m`.
pub(super) fn put(auth: &Authenticator, env: &mut dyn Env, m: &mut Vec<(Value, Value)>) {
    let c = &auth.config;
    let mut put = |k: u8, v: Value| m.push((Value::from(k), v));
    if !c.attestation_formats.is_empty() {
        put(0x16, text_array(&c.attestation_formats));
    }
    let token = auth
        .state
        .persistent_token()
        .filter(|_| option_enabled(c, CardOption::PerCredMgmtRo));
    let master_key = &auth.state.identity().master_key;
    if let Some(token) = token {
        let id = persistent::identifier(master_key);
        put(
            0x19,
            Value::from(persistent::encrypt_member(
                env,
                &token,
                persistent::INFO_ENC_IDENTIFIER,
                &id,
            )),
        );
    }
    if !c.transports_for_reset.is_empty() {
        put(0x1A, text_array(&c.transports_for_reset));
    }
    if let Some(on) = pin_complexity_policy::enforced(c, &auth.state) {
        put(0x1B, Value::from(on));
    }
    if !c.pin_complexity_policy_url.is_empty() {
        put(
            0x1C,
            Value::from(c.pin_complexity_policy_url.as_bytes().to_vec()),
        );
    }
    if c.max_pin_length != 0 {
        put(0x1D, Value::from(c.max_pin_length));
    }
    if let Some(token) = token {
        let credentials = credentials_cbor(&auth.state.persistent().credentials);
        let state = persistent::cred_store_state(master_key, &credentials);
        put(
            0x1E,
            Value::from(persistent::encrypt_member(
                env,
                &token,
                persistent::INFO_ENC_CRED_STORE_STATE,
                &state,
            )),
        );
    }
    if c.authenticator_config_commands && option_enabled(c, CardOption::AuthnrCfg) {
        put(
            0x1F,
            Value::Array(
                super::config::supported_subcommands(c, auth.ep_capable())
                    .into_iter()
                    .map(Value::from)
                    .collect(),
            ),
        );
    }
}

fn text_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}
