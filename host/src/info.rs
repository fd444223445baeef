//! authenticatorGetInfo (CTAP 2.1 §6.4), decoded.
//!
//! ```text
//!  request  04
//!  response 00 { 1: versions, 2: extensions, 3: aaguid, 4: options, 5: maxMsgSize,
//!               6: pinUvAuthProtocols, 7: maxCredentialCountInList,
//!               8: maxCredentialIdLength, 9: transports, 10: algorithms,
//!               12: forcePINChange, 13: minPINLength, 14: firmwareVersion,
//!               15: maxCredBlobLength, 20: remainingDiscoverableCredentials,
//!               0x15-0x1F: CTAP 2.2/2.3 members, see `info_ctap23` }
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::fields::{self, get, int, opt_uint, text_list};
use super::session::CardSession;
use super::transport::Transport;
use super::HostError;
use applet::cbor::Value;

/// authenticatorGetInfo.
pub const CMD_GET_INFO: u8 = 0x04;

/// The decoded getInfo response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Info {
    /// Supported versions (`FIDO_2_0`, `FIDO_2_1`, `U2F_V2`, …).
    pub versions: Vec<String>,
    /// Supported extensions.
    pub extensions: Vec<String>,
    /// AAGUID.
    #[serde(serialize_with = "ser_aaguid")]
    pub aaguid: Vec<u8>,
    /// Options and their values.
    pub options: BTreeMap<String, bool>,
    /// Largest message the card accepts.
    pub max_msg_size: Option<u64>,
    /// PIN/UV auth protocols, preferred first.
    pub pin_uv_auth_protocols: Vec<u64>,
    /// Largest allow/exclude list.
    pub max_credential_count_in_list: Option<u64>,
    /// Largest credential ID.
    pub max_credential_id_length: Option<u64>,
    /// Transports (`nfc`, `usb`, …).
    pub transports: Vec<String>,
    /// COSE algorithms of `algorithms` (member 10).
    pub algorithms: Vec<i64>,
    /// The PIN must be changed before use.
    pub force_pin_change: Option<bool>,
    /// Minimum PIN length in code points.
    pub min_pin_length: Option<u64>,
    /// Firmware version.
    pub firmware_version: Option<u64>,
    /// Largest credBlob.
    pub max_cred_blob_length: Option<u64>,
    /// Room for more discoverable credentials.
    pub remaining_discoverable_credentials: Option<u64>,
    /// The CTAP 2.2 / 2.3 members (0x15-0x1F).
    #[serde(flatten)]
    pub ctap23: super::info_ctap23::Ctap23Info,
}

fn ser_aaguid<S: serde::Serializer>(a: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&relying_party::policy::format_aaguid(a))
}

impl Info {
    /// Decode from the response map.
    pub fn from_value(v: &Value) -> Result<Self, HostError> {
        let m = fields::map(v, "getInfo response is not a map")?;
        let options = match get(&m, 4) {
            Some(Value::Map(o)) => o
                .iter()
                .filter_map(|(k, v)| match (k, v) {
                    (Value::Text(k), Value::Bool(b)) => Some((k.clone(), *b)),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let protocols = match get(&m, 6) {
            Some(Value::Array(a)) => a.iter().filter_map(|x| opt_uint(Some(x))).collect(),
            _ => Vec::new(),
        };
        let algorithms = match get(&m, 10) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| match x {
                    Value::Map(p) => fields::get_text(p, "alg").and_then(int),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            versions: text_list(get(&m, 1)),
            extensions: text_list(get(&m, 2)),
            aaguid: fields::bytes(get(&m, 3), "getInfo aaguid")?,
            options,
            max_msg_size: opt_uint(get(&m, 5)),
            pin_uv_auth_protocols: protocols,
            max_credential_count_in_list: opt_uint(get(&m, 7)),
            max_credential_id_length: opt_uint(get(&m, 8)),
            transports: text_list(get(&m, 9)),
            algorithms,
            force_pin_change: match get(&m, 12) {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            },
            min_pin_length: opt_uint(get(&m, 13)),
            firmware_version: opt_uint(get(&m, 14)),
            max_cred_blob_length: opt_uint(get(&m, 15)),
            remaining_discoverable_credentials: opt_uint(get(&m, 20)),
            ctap23: super::info_ctap23::Ctap23Info::from_map(&m),
        })
    }

    /// An option's value; `None` when the card does not list it.
    pub fn option(&self, name: &str) -> Option<bool> {
        self.options.get(name).copied()
    }

    /// The card lists `ext` among its extensions.
    pub fn has_extension(&self, ext: &str) -> bool {
        self.extensions.iter().any(|e| e == ext)
    }

    /// The card lists `version`.
    pub fn has_version(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version)
    }

    /// The CTAP 2.2 / 2.3 features the card offers, by the names its
    /// getInfo uses (empty for a CTAP 2.1 card).
    pub fn ctap23_features(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.has_version("FIDO_2_3") {
            out.push("FIDO_2_3".to_owned());
        }
        for ext in ["hmac-secret-mc", "thirdPartyPayment", "pinComplexityPolicy"] {
            if self.has_extension(ext) {
                out.push(ext.to_owned());
            }
        }
        if self.option("perCredMgmtRO") == Some(true) {
            out.push("perCredMgmtRO".to_owned());
        }
        let c = &self.ctap23;
        let members = [
            ("attestationFormats", !c.attestation_formats.is_empty()),
            ("longTouchForReset", c.long_touch_for_reset.is_some()),
            ("transportsForReset", !c.transports_for_reset.is_empty()),
            (
                "pinComplexityPolicy(0x1B)",
                c.pin_complexity_policy.is_some(),
            ),
            ("maxPINLength", c.max_pin_length.is_some()),
            (
                "authenticatorConfigCommands",
                c.authenticator_config_commands.is_some(),
            ),
        ];
        out.extend(
            members
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| (*n).to_owned()),
        );
        out
    }

    /// PIN/UV auth protocol two is offered.
    pub fn supports_protocol_two(&self) -> bool {
        self.pin_uv_auth_protocols.contains(&2)
    }
}

impl<T: Transport> CardSession<T> {
    /// authenticatorGetInfo.
    pub fn get_info(&mut self) -> Result<Info, HostError> {
        let v = self
            .ctap(CMD_GET_INFO, None)?
            .ok_or(HostError::Malformed("getInfo returned no data"))?;
        Info::from_value(&v)
    }
}
