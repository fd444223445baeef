//! What a profile must have for the versions and features it claims
//! (CTAP 2.3 §6.4 `versions`, `extensions`, `options`).
//!
//! ```text
//!  "FIDO_2_2" listed                 never: CTAP 2.3 §6.4 says it was never
//!                                    defined and MUST NOT appear
//!  "FIDO_2_3" listed                 "FIDO_2_1" listed too (a 2.3
//!                                    authenticator is a 2.1 authenticator),
//!                                    options pinUvAuthToken = true and
//!                                    clientPin claimed (CTAP 2.1 §6.5.5.7),
//!                                    credMgmt = true when rk = true (§6.8)
//!  extension hmac-secret-mc          extension hmac-secret (CTAP 2.2 §12.7)
//!  extension pinComplexityPolicy     pin_complexity_policy "off"/"on" (0x1B)
//!  option perCredMgmtRO = true       credMgmt and pinUvAuthToken = true
//! ```
//! `Config::validate` refuses a profile that breaks a rule, with the rule
//! as the message. "FIDO_2_1" alone is not held to the option rules, so
//! that the profiles that switch 2.1 features off keep loading as before. The behaviour side (a listed feature really works) is
//! checked for every builtin profile by the applet's tests.

use crate::config::Config;

/// The CTAP 2.3 version string.
pub const FIDO_2_3: &str = "FIDO_2_3";
/// The CTAP 2.1 version string.
pub const FIDO_2_1: &str = "FIDO_2_1";
/// Never sent (CTAP 2.3 §6.4).
pub const FIDO_2_2: &str = "FIDO_2_2";

/// Check `config` against the rules above.
pub fn check(config: &Config) -> Result<(), String> {
    let has_version = |v: &str| config.versions.iter().any(|x| x == v);
    let option_true = |o: &str| config.options.get(o).copied().unwrap_or(false);
    if has_version(FIDO_2_2) {
        return Err("versions must not list FIDO_2_2 (CTAP 2.3 §6.4: never defined)".to_owned());
    }
    if has_version(FIDO_2_3) && !has_version(FIDO_2_1) {
        return Err("versions: FIDO_2_3 needs FIDO_2_1 as well".to_owned());
    }
    if has_version(FIDO_2_3) {
        if !option_true("pinUvAuthToken") || !config.claims_option("clientPin") {
            return Err(
                "versions: FIDO_2_3 needs options pinUvAuthToken = true and clientPin".to_owned(),
            );
        }
        if option_true("rk") && !option_true("credMgmt") {
            return Err("versions: FIDO_2_3 with rk needs credMgmt = true".to_owned());
        }
    }
    if config.claims_extension("hmac-secret-mc") && !config.claims_extension("hmac-secret") {
        return Err("extension hmac-secret-mc needs hmac-secret".to_owned());
    }
    if config.claims_extension("pinComplexityPolicy")
        && config.pin_complexity_policy.factory().is_none()
    {
        return Err("extension pinComplexityPolicy needs pin_complexity_policy".to_owned());
    }
    if option_true("perCredMgmtRO") && !(option_true("credMgmt") && option_true("pinUvAuthToken")) {
        return Err("option perCredMgmtRO needs credMgmt and pinUvAuthToken".to_owned());
    }
    Ok(())
}
