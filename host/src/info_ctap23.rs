//! The CTAP 2.2 / 2.3 members of authenticatorGetInfo (CTAP 2.3 §6.4),
//! decoded by name.
//!
//! ```text
//!  0x15 vendorPrototypeConfigCommands [uint]   0x1A transportsForReset         [tstr]
//!  0x16 attestationFormats            [tstr]   0x1B pinComplexityPolicy        bool
//!  0x17 uvCountSinceLastPinEntry      uint     0x1C pinComplexityPolicyURL     bstr
//!  0x18 longTouchForReset             bool     0x1D maxPINLength               uint
//!  0x19 encIdentifier                 bstr     0x1E encCredStoreState          bstr
//!                                              0x1F authenticatorConfigCommands [uint]
//! ```
//! `encIdentifier` and `encCredStoreState` are encrypted under a persistent
//! pinUvAuthToken; only their lengths are kept (a fresh IV makes every
//! response differ).

use serde::Serialize;

use super::fields::{get, opt_uint, text_list};
use applet::cbor::Value;

/// The CTAP 2.2 / 2.3 getInfo members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Ctap23Info {
    /// 0x15 vendorPrototypeConfigCommands.
    pub vendor_prototype_config_commands: Vec<u64>,
    /// 0x16 attestationFormats (absent: the card only does `packed`).
    pub attestation_formats: Vec<String>,
    /// 0x17 uvCountSinceLastPinEntry.
    pub uv_count_since_last_pin_entry: Option<u64>,
    /// 0x18 longTouchForReset.
    pub long_touch_for_reset: Option<bool>,
    /// 0x19 encIdentifier: its length (present only with a persistent token).
    pub enc_identifier_len: Option<usize>,
    /// 0x1A transportsForReset.
    pub transports_for_reset: Vec<String>,
    /// 0x1B pinComplexityPolicy: `None` — no policy; else whether it is on.
    pub pin_complexity_policy: Option<bool>,
    /// 0x1C pinComplexityPolicyURL (a byte string, shown as text).
    pub pin_complexity_policy_url: Option<String>,
    /// 0x1D maxPINLength (absent: 63).
    pub max_pin_length: Option<u64>,
    /// 0x1E encCredStoreState: its length (present only with a persistent token).
    pub enc_cred_store_state_len: Option<usize>,
    /// 0x1F authenticatorConfigCommands (absent: not stated).
    pub authenticator_config_commands: Option<Vec<u64>>,
}

fn uints(v: Option<&Value>) -> Vec<u64> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| opt_uint(Some(x))).collect(),
        _ => Vec::new(),
    }
}

fn boolean(v: Option<&Value>) -> Option<bool> {
    match v {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn bytes_len(v: Option<&Value>) -> Option<usize> {
    match v {
        Some(Value::Bytes(b)) => Some(b.len()),
        _ => None,
    }
}

impl Ctap23Info {
    /// Decode the members from the getInfo response map.
    pub(crate) fn from_map(m: &[(Value, Value)]) -> Self {
        Ctap23Info {
            vendor_prototype_config_commands: uints(get(m, 0x15)),
            attestation_formats: text_list(get(m, 0x16)),
            uv_count_since_last_pin_entry: opt_uint(get(m, 0x17)),
            long_touch_for_reset: boolean(get(m, 0x18)),
            enc_identifier_len: bytes_len(get(m, 0x19)),
            transports_for_reset: text_list(get(m, 0x1A)),
            pin_complexity_policy: boolean(get(m, 0x1B)),
            pin_complexity_policy_url: match get(m, 0x1C) {
                Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            },
            max_pin_length: opt_uint(get(m, 0x1D)),
            enc_cred_store_state_len: bytes_len(get(m, 0x1E)),
            authenticator_config_commands: match get(m, 0x1F) {
                Some(v @ Value::Array(_)) => Some(uints(Some(v))),
                _ => None,
            },
        }
    }
}

/// `tapfido doctor`'s "ctap 2.3" row: the CTAP 2.2/2.3 features the card
/// offers. A card listing "FIDO_2_2" fails (CTAP 2.3 §6.4: never defined);
/// one with 2.2/2.3 features but no "FIDO_2_3" warns; otherwise it passes,
/// naming the features ("none" for a CTAP 2.1 card).
pub fn doctor_row(info: &super::info::Info) -> (super::doctor::CheckOutcome, String) {
    use super::doctor::CheckOutcome;
    if info.has_version("FIDO_2_2") {
        return (
            CheckOutcome::Fail,
            "lists FIDO_2_2, which CTAP 2.3 §6.4 says was never defined".to_owned(),
        );
    }
    let features = info.ctap23_features();
    if info.has_version("FIDO_2_3") {
        (CheckOutcome::Pass, features.join(" "))
    } else if features.is_empty() {
        (
            CheckOutcome::Pass,
            "none: a CTAP 2.1 (or older) card".to_owned(),
        )
    } else {
        (
            CheckOutcome::Warn,
            format!(
                "CTAP 2.2/2.3 features without FIDO_2_3: {}",
                features.join(" ")
            ),
        )
    }
}
