//! What a claimed version needs (CTAP 2.3 §6.4 `versions`).
//!
//! ```text
//!  "FIDO_2_2" claimed                never listed: CTAP 2.3 §6.4 says it was
//!                                    never defined and MUST NOT appear; a
//!                                    profile claiming it is refused
//!  "FIDO_2_3" claimed                listed only when the card also is a 2.1
//!                                    authenticator: "FIDO_2_1" claimed,
//!                                    options pinUvAuthToken = true and
//!                                    clientPin claimed (CTAP 2.1 §6.5.5.7),
//!                                    credMgmt = true when rk = true (§6.8)
//! ```
//! Like options and extensions (`ctap::get_info`), a version whose
//! requirements a profile switches off is not listed: getInfo never claims
//! what the card does not do. Feature dependencies are handled the same
//! way: hmac-secret-mc needs hmac-secret, pinComplexityPolicy a policy,
//! perCredMgmtRO credMgmt and pinUvAuthToken (`ctap::get_info`).
//! The behaviour side (a listed feature really works) is checked for every
//! builtin profile by the applet's tests.

use crate::config::CardOption;
use crate::config::Config;

/// The CTAP 2.3 version string.
pub const FIDO_2_3: &str = "FIDO_2_3";
/// The CTAP 2.1 version string.
pub const FIDO_2_1: &str = "FIDO_2_1";
/// Never sent (CTAP 2.3 §6.4).
pub const FIDO_2_2: &str = "FIDO_2_2";

/// Refuse what can never be right: a claimed "FIDO_2_2".
pub fn check(config: &Config) -> Result<(), String> {
    if config.versions.iter().any(|v| v == FIDO_2_2) {
        return Err("versions must not list FIDO_2_2 (CTAP 2.3 §6.4: never defined)".to_owned());
    }
    Ok(())
}

/// Whether the card is a CTAP 2.1 authenticator in the sense FIDO_2_3
/// builds on.
fn is_ctap21(config: &Config) -> bool {
    let option_true = |o: CardOption| config.option_value(o);
    config.versions.iter().any(|v| v == FIDO_2_1)
        && option_true(CardOption::PinUvAuthToken)
        && config.claims_option(CardOption::ClientPin)
        && (!option_true(CardOption::Rk) || option_true(CardOption::CredMgmt))
}

/// The versions getInfo lists: the claimed ones whose requirements hold.
pub fn listed(config: &Config) -> Vec<String> {
    config
        .versions
        .iter()
        .filter(|v| v.as_str() != FIDO_2_2)
        .filter(|v| v.as_str() != FIDO_2_3 || is_ctap21(config))
        .cloned()
        .collect()
}
