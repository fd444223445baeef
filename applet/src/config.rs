//! The card profile: what authenticatorGetInfo reports and the limits the
//! applet enforces (CTAP 2.1 §6.4 authenticatorGetInfo).
//!
//! A profile file (`profiles/*.toml`) carries a `[fido]` table
//! that deserializes into [`Config`]; every key is optional and falls back to
//! [`Config::default`], which *is* the default profile. The `pocketkey`
//! profile reproduces the public getInfo of the ACS PocketKey NFC card.
//!
//! ```toml
//! [fido]
//! aaguid = "973446ca-e21c-9a9b-99f5-9b985a67af0f"
//! versions = ["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"]
//! max_msg_size = 2048
//! algorithms = [-7]
//! ```
//!
//! `options` and `extensions` are what the profile *claims*; getInfo lists
//! only the ones the applet implements (see `ctap::get_info`), so a profile
//! never advertises a feature the code does not have.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

pub use crate::keys::{EDDSA, ES256};

/// The getInfo options (CTAP 2.1 §6.4, key 0x04) the applet knows, by their
/// wire names. Profiles name options as text (TOML keys); the code asks for
/// them by variant, so a misspelt option is a compile error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardOption {
    /// `plat`: a platform authenticator.
    Plat,
    /// `rk`: discoverable credentials.
    Rk,
    /// `up`: user presence.
    Up,
    /// `clientPin`: PIN support (true once a PIN is set).
    ClientPin,
    /// `pinUvAuthToken`: getPinUvAuthTokenUsingPinWithPermissions.
    PinUvAuthToken,
    /// `authnrCfg`: authenticatorConfig.
    AuthnrCfg,
    /// `setMinPINLength`: authenticatorConfig setMinPINLength.
    SetMinPinLength,
    /// `credMgmt`: authenticatorCredentialManagement.
    CredMgmt,
    /// `credentialMgmtPreview`: the 2.1_PRE credential management command.
    CredentialMgmtPreview,
    /// `largeBlobs`: authenticatorLargeBlobs.
    LargeBlobs,
    /// `makeCredUvNotRqd`: makeCredential without UV for non-discoverable credentials.
    MakeCredUvNotRqd,
    /// `alwaysUv`: UV on every makeCredential / getAssertion.
    AlwaysUv,
    /// `perCredMgmtRO`: persistent read-only credential management token (CTAP 2.3).
    PerCredMgmtRo,
    /// `ep`: enterprise attestation.
    Ep,
}

impl CardOption {
    /// Every option, in getInfo's usual order.
    pub const ALL: [CardOption; 14] = [
        CardOption::Plat,
        CardOption::Rk,
        CardOption::Up,
        CardOption::ClientPin,
        CardOption::PinUvAuthToken,
        CardOption::AuthnrCfg,
        CardOption::SetMinPinLength,
        CardOption::CredMgmt,
        CardOption::CredentialMgmtPreview,
        CardOption::LargeBlobs,
        CardOption::MakeCredUvNotRqd,
        CardOption::AlwaysUv,
        CardOption::PerCredMgmtRo,
        CardOption::Ep,
    ];

    /// The option's name on the wire and in profiles.
    pub const fn name(self) -> &'static str {
        match self {
            CardOption::Plat => "plat",
            CardOption::Rk => "rk",
            CardOption::Up => "up",
            CardOption::ClientPin => "clientPin",
            CardOption::PinUvAuthToken => "pinUvAuthToken",
            CardOption::AuthnrCfg => "authnrCfg",
            CardOption::SetMinPinLength => "setMinPINLength",
            CardOption::CredMgmt => "credMgmt",
            CardOption::CredentialMgmtPreview => "credentialMgmtPreview",
            CardOption::LargeBlobs => "largeBlobs",
            CardOption::MakeCredUvNotRqd => "makeCredUvNotRqd",
            CardOption::AlwaysUv => "alwaysUv",
            CardOption::PerCredMgmtRo => "perCredMgmtRO",
            CardOption::Ep => "ep",
        }
    }

    /// The option with wire name `name`, if the applet knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// An authenticator AAGUID (16 bytes), written in TOML as a UUID string.
#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Aaguid(pub [u8; 16]);

impl Aaguid {
    /// Parse `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hyphens optional).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
        if hex.len() != 32 {
            return Err(ConfigError::Aaguid(text.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| ConfigError::Aaguid(text.to_owned()))?;
            let byte =
                u8::from_str_radix(s, 16).map_err(|_| ConfigError::Aaguid(text.to_owned()))?;
            if let Some(slot) = out.get_mut(i) {
                *slot = byte;
            }
        }
        Ok(Aaguid(out))
    }
}

impl TryFrom<String> for Aaguid {
    type Error = ConfigError;
    fn try_from(s: String) -> Result<Self, ConfigError> {
        Aaguid::parse(&s)
    }
}

impl fmt::Debug for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A profile that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The AAGUID is not 32 hex digits.
    #[error("aaguid {0:?} is not a UUID")]
    Aaguid(String),
    /// A limit is out of the range the applet supports.
    #[error("{0}")]
    Limit(String),
}

/// Whether a profile has a PIN complexity policy (`pin::complexity`), and
/// its state from the factory: `"none"` (getInfo 0x1B not sent,
/// setMinPINLength refuses to turn one on), `"off"` (0x1B false until
/// setMinPINLength turns it on), `"on"` (enforced from the factory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinComplexityPolicy {
    /// No policy.
    #[default]
    None,
    /// A policy, off until turned on.
    Off,
    /// A policy, on.
    On,
}

impl PinComplexityPolicy {
    /// `None` without a policy, else whether it is on from the factory.
    pub fn factory(self) -> Option<bool> {
        match self {
            PinComplexityPolicy::None => None,
            PinComplexityPolicy::Off => Some(false),
            PinComplexityPolicy::On => Some(true),
        }
    }
}

/// The `[fido]` table of a card profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// getInfo 0x03 `aaguid`; also in attested credential data and the batch
    /// certificate's id-fido-gen-ce-aaguid extension.
    pub aaguid: Aaguid,
    /// getInfo 0x01 `versions`.
    pub versions: Vec<String>,
    /// getInfo 0x02 `extensions` claimed by the profile (filtered by what is
    /// implemented).
    pub extensions: Vec<String>,
    /// getInfo 0x04 `options` claimed by the profile with their static value
    /// (`clientPin` and `alwaysUv` are replaced by the card's state).
    pub options: BTreeMap<String, bool>,
    /// getInfo 0x05 `maxMsgSize`: longest CTAP request (command byte + CBOR)
    /// accepted; longer → `CTAP1_ERR_INVALID_LENGTH`.
    pub max_msg_size: usize,
    /// getInfo 0x06 `pinUvAuthProtocols`, in order of preference.
    pub pin_uv_auth_protocols: Vec<u8>,
    /// getInfo 0x07 `maxCredentialCountInList`.
    pub max_credential_count_in_list: usize,
    /// getInfo 0x08 `maxCredentialIdLength`.
    pub max_credential_id_length: usize,
    /// getInfo 0x09 `transports`.
    pub transports: Vec<String>,
    /// getInfo 0x0A `algorithms`: COSE identifiers, [`ES256`] and/or [`EDDSA`],
    /// in order of preference.
    pub algorithms: Vec<i64>,
    /// getInfo 0x0B `maxSerializedLargeBlobArray` (0: no largeBlobs).
    pub max_serialized_large_blob_array: usize,
    /// getInfo 0x0D `minPINLength` (code points) of a fresh card.
    pub min_pin_length: u8,
    /// getInfo 0x0E `firmwareVersion`.
    pub firmware_version: u64,
    /// getInfo 0x0F `maxCredBlobLength`.
    pub max_cred_blob_length: usize,
    /// getInfo 0x10 `maxRPIDsForSetMinPINLength`.
    pub max_rpids_for_set_min_pin_length: usize,
    /// Whether U2F (CTAP1) is enabled: SELECT answers `U2F_V2` and the U2F
    /// instructions work; otherwise SELECT answers `FIDO_2_0`.
    pub u2f: bool,
    /// Capacity of the discoverable-credential store (getInfo 0x14
    /// `remainingDiscoverableCredentials` counts down from it).
    pub max_resident_credentials: usize,
    /// Longest user `name`/`displayName` and RP `id`/`name` stored with a
    /// discoverable credential, in bytes; longer strings are truncated at a
    /// UTF-8 boundary (CTAP 2.1 §6.1.2: authenticators may truncate to 64).
    pub max_stored_string_length: usize,
    /// NFC user presence: the tap that powered the card counts as the
    /// presence gesture for this many seconds after power-up (CTAP 2.1
    /// §11.3 allows up to two minutes); afterwards the card asks for a touch.
    pub presence_window_secs: u64,
    /// authenticatorReset is allowed only this long after power-up (10 s).
    pub reset_window_secs: u64,
    /// A pinUvAuthToken not used within this many seconds of its issue
    /// expires (CTAP 2.1 §6.5.2.1 initialUsageTimeLimit; OpenSK uses 19.8 s
    /// on NFC).
    pub token_initial_usage_secs: u64,
    /// A pinUvAuthToken never lives longer than this many seconds (CTAP 2.1
    /// §6.5.2.1 maxUsageTimePeriod; the specification suggests 10 minutes).
    pub token_max_lifetime_secs: u64,
    /// getInfo 0x16 `attestationFormats` (CTAP 2.2 §6.4): the formats
    /// makeCredential honours in `attestationFormatsPreference`, `packed`
    /// and/or `none`, most preferred first. Empty: the key is not sent (a
    /// platform then assumes `["packed"]`) and the card behaves as before.
    pub attestation_formats: Vec<String>,
    /// getInfo 0x1A `transportsForReset` (CTAP 2.2 §6.4): the transports on
    /// which authenticatorReset works. Empty: the key is not sent.
    pub transports_for_reset: Vec<String>,
    /// getInfo 0x1D `maxPINLength` (CTAP 2.3 §6.4), in code points,
    /// `min_pin_length..=63`; also enforced by setPIN/changePIN. 0: the key
    /// is not sent and 63 applies.
    pub max_pin_length: u8,
    /// getInfo 0x1B `pinComplexityPolicy` (CTAP 2.3 §6.4): whether the card
    /// has a PIN complexity policy and its state from the factory.
    pub pin_complexity_policy: PinComplexityPolicy,
    /// getInfo 0x1C `pinComplexityPolicyURL`: where the policy is described
    /// (sent as a byte string). Empty: not sent.
    pub pin_complexity_policy_url: String,
    /// The rules of the PIN complexity policy (`[fido.pin_complexity]`).
    pub pin_complexity: crate::pin::complexity::ComplexityRules,
    /// Whether getInfo sends 0x1F `authenticatorConfigCommands` (CTAP 2.3
    /// §6.4): the authenticatorConfig subcommands the card supports,
    /// computed from what is implemented and enabled, never configured.
    pub authenticator_config_commands: bool,
    /// RP IDs that get vendor-facilitated enterprise attestation
    /// (makeCredential `enterpriseAttestation: 1`, CTAP 2.1 §7.1); any other
    /// RP gets the batch attestation. Empty: none (the real card's list is
    /// not public).
    pub enterprise_attestation_rp_ids: Vec<String>,
}

impl Config {
    /// The `pocketkey` profile: the public getInfo of the ACS PocketKey NFC
    /// card (FIDO MDS "ACS FIDO Authenticator Card").
    pub fn pocketkey() -> Self {
        let mut options = BTreeMap::new();
        // The options of the card's MDS authenticatorGetInfo, in its order
        // (getInfo sorts them canonically); no alwaysUv (the card has no
        // toggleAlwaysUv).
        for (name, value) in [
            ("plat", false),
            ("rk", true),
            ("up", true),
            ("clientPin", false),
            ("pinUvAuthToken", true),
            ("credMgmt", true),
            ("credentialMgmtPreview", true),
            ("authnrCfg", true),
            ("setMinPINLength", true),
            ("makeCredUvNotRqd", true),
            ("ep", false),
        ] {
            options.insert(name.to_owned(), value);
        }
        Config {
            aaguid: Aaguid([
                0x97, 0x34, 0x46, 0xca, 0xe2, 0x1c, 0x9a, 0x9b, 0x99, 0xf5, 0x9b, 0x98, 0x5a, 0x67,
                0xaf, 0x0f,
            ]),
            versions: strings(&["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"]),
            extensions: strings(&["credBlob", "credProtect", "hmac-secret", "minPinLength"]),
            options,
            max_msg_size: 2048,
            // The MDS entry lists [1, 2]: platforms pick the first (CTAP 2.3
            // §6.5.5.4), so protocol one, as with the real card.
            pin_uv_auth_protocols: vec![1, 2],
            max_credential_count_in_list: 6,
            max_credential_id_length: 104,
            transports: strings(&["nfc"]),
            algorithms: vec![ES256],
            max_serialized_large_blob_array: 0,
            min_pin_length: 4,
            firmware_version: 10000,
            max_cred_blob_length: 64,
            max_rpids_for_set_min_pin_length: 3,
            u2f: true,
            max_resident_credentials: 50,
            max_stored_string_length: 64,
            presence_window_secs: 120,
            reset_window_secs: 10,
            token_initial_usage_secs: crate::pin::TokenTimes::DEFAULT_INITIAL_USAGE_SECS,
            token_max_lifetime_secs: crate::pin::TokenTimes::DEFAULT_MAX_LIFETIME_SECS,
            enterprise_attestation_rp_ids: Vec::new(),
            attestation_formats: Vec::new(),
            transports_for_reset: Vec::new(),
            max_pin_length: 0,
            pin_complexity_policy: PinComplexityPolicy::None,
            pin_complexity_policy_url: String::new(),
            pin_complexity: crate::pin::complexity::ComplexityRules::default(),
            authenticator_config_commands: false,
        }
    }

    /// Validate limits the applet relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let limit = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::Limit(what.to_owned()))
            }
        };
        limit(
            (1024..=65_535).contains(&self.max_msg_size),
            "max_msg_size must be within 1024..=65535",
        )?;
        limit(
            self.max_credential_id_length >= crate::credential::CREDENTIAL_ID_LEN,
            "max_credential_id_length is shorter than the credential ID format",
        )?;
        limit(
            (1..=64).contains(&self.max_credential_count_in_list),
            "max_credential_count_in_list must be within 1..=64",
        )?;
        limit(
            !self.algorithms.is_empty()
                && self.algorithms.iter().all(|a| *a == ES256 || *a == EDDSA),
            "algorithms must be a non-empty subset of [-7, -8]",
        )?;
        limit(
            self.max_resident_credentials <= 10_000,
            "max_resident_credentials must be at most 10000",
        )?;
        limit(
            (32..=255).contains(&self.max_stored_string_length),
            "max_stored_string_length must be within 32..=255",
        )?;
        limit(
            self.max_cred_blob_length <= 1024,
            "max_cred_blob_length must be at most 1024",
        )?;
        limit(
            (1..=self.token_max_lifetime_secs).contains(&self.token_initial_usage_secs),
            "token_initial_usage_secs must be within 1..=token_max_lifetime_secs",
        )?;
        limit(
            !self.options.get("largeBlobs").copied().unwrap_or(false)
                || (1024..=65_536).contains(&self.max_serialized_large_blob_array),
            "max_serialized_large_blob_array must be within 1024..=65536 with largeBlobs",
        )?;
        limit(
            (4..=63).contains(&self.min_pin_length),
            "min_pin_length must be within 4..=63",
        )?;
        limit(
            self.pin_uv_auth_protocols
                .iter()
                .all(|p| *p == 1 || *p == 2),
            "pin_uv_auth_protocols must be a subset of [1, 2]",
        )?;
        self.validate_ctap23()
    }

    /// The CTAP 2.2/2.3 keys (see `crate::versions` for what a claimed
    /// version requires).
    fn validate_ctap23(&self) -> Result<(), ConfigError> {
        let limit = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::Limit(what.to_owned()))
            }
        };
        limit(
            self.attestation_formats
                .iter()
                .all(|f| f == "packed" || f == "none"),
            "attestation_formats must be a subset of [\"packed\", \"none\"]",
        )?;
        limit(
            (self.min_pin_length..=crate::pin::policy::MAX_PIN_CODE_POINTS)
                .contains(&self.max_pin_code_points()),
            "max_pin_length must be 0 (not sent) or within min_pin_length..=63",
        )?;
        limit(
            self.pin_complexity_policy_url.is_empty()
                || self.pin_complexity_policy != PinComplexityPolicy::None,
            "pin_complexity_policy_url needs pin_complexity_policy \"off\" or \"on\"",
        )?;
        crate::versions::check(self).map_err(ConfigError::Limit)
    }

    /// The longest PIN accepted, in code points (getInfo `maxPINLength`).
    pub fn max_pin_code_points(&self) -> u8 {
        if self.max_pin_length == 0 {
            crate::pin::policy::MAX_PIN_CODE_POINTS
        } else {
            self.max_pin_length
        }
    }

    /// Whether `alg` (a COSE identifier) is enabled.
    pub fn supports_algorithm(&self, alg: i64) -> bool {
        self.algorithms.contains(&alg)
    }

    /// The NFC presence window as a duration.
    pub fn presence_window(&self) -> Duration {
        Duration::from_secs(self.presence_window_secs)
    }

    /// pinUvAuthToken lifetimes.
    pub fn token_times(&self) -> crate::pin::TokenTimes {
        crate::pin::TokenTimes {
            initial_usage_window: Duration::from_secs(self.token_initial_usage_secs),
            max_lifetime: Duration::from_secs(self.token_max_lifetime_secs),
        }
    }

    /// Whether the profile claims `option` (with any value).
    pub fn claims_option(&self, option: CardOption) -> bool {
        self.options.contains_key(option.name())
    }

    /// The value the profile gives `option`; `false` when it does not claim it.
    pub fn option_value(&self, option: CardOption) -> bool {
        self.options.get(option.name()).copied().unwrap_or(false)
    }

    /// Whether the profile claims extension `name`.
    pub fn claims_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e == name)
    }
}

impl Default for Config {
    /// The default profile: a superset of `pocketkey` (EdDSA as well as ES256,
    /// larger messages and credential store, largeBlobKey) that is also a
    /// CTAP 2.3 authenticator (`FIDO_2_3`: hmac-secret-mc, thirdPartyPayment,
    /// pinComplexityPolicy, the persistent read-only credential-management
    /// token and the CTAP 2.2/2.3 getInfo keys), with its own AAGUID.
    fn default() -> Self {
        let mut c = Config::pocketkey();
        c.aaguid = Aaguid([
            0xd7, 0xaf, 0x8b, 0x7f, 0x4e, 0xb3, 0x4a, 0x35, 0xa8, 0x88, 0xcb, 0x11, 0x13, 0xa0,
            0x54, 0xd2,
        ]);
        c.versions = strings(&["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE", "FIDO_2_3"]);
        c.extensions = strings(&[
            "credBlob",
            "credProtect",
            "hmac-secret",
            "hmac-secret-mc",
            "largeBlobKey",
            "minPinLength",
            "pinComplexityPolicy",
            "thirdPartyPayment",
        ]);
        c.options.insert("largeBlobs".to_owned(), true);
        // toggleAlwaysUv works on the default profile (off until toggled).
        c.options.insert("alwaysUv".to_owned(), false);
        c.pin_uv_auth_protocols = vec![2, 1];
        c.options.insert("perCredMgmtRO".to_owned(), true);
        c.attestation_formats = strings(&["packed", "none"]);
        c.transports_for_reset = strings(&["nfc"]);
        c.max_pin_length = crate::pin::policy::MAX_PIN_CODE_POINTS;
        c.pin_complexity_policy = PinComplexityPolicy::Off;
        c.authenticator_config_commands = true;
        // A reserved test name (RFC 6761 `.test`) for vendor-facilitated
        // enterprise attestation.
        c.enterprise_attestation_rp_ids = strings(&["ep.tapfido.test"]);
        c.max_msg_size = 7609;
        c.algorithms = vec![ES256, EDDSA];
        c.max_serialized_large_blob_array = 4096;
        c.firmware_version = 1;
        c.max_resident_credentials = 100;
        c
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
