//! What the `tapfido` subcommands do, as library functions returning typed
//! reports (each `Serialize` for `--json` and `Display` where a table reads
//! better). The CLI opens a [`CardSession`] with [`open`] and calls one.
//!
//! | subcommand                      | function                      |
//! |---------------------------------|-------------------------------|
//! | `readers`                       | [`readers`]                   |
//! | `wait [--reader R]`             | [`wait`]                      |
//! | `info [--reader R]`             | [`info`]                      |
//! | `pin retries|set|change`        | [`pin_retries`], [`pin_set`], [`pin_change`] |
//! | `register --rp --user [--rk] [--uv] [--hmac-secret] [--hmac-secret-mc] [--third-party-payment] [--policy]` | [`register::register`] |
//! | `login --rp [--credential] [--policy]` | [`login::login`]        |
//! | `creds list|delete`             | [`creds::list`], [`creds::delete`] |
//! | `reset`                         | [`reset`]                     |
//! | `verify`                        | [`verify::verify_registration_files`], [`verify::verify_assertion_files`] |

pub mod creds;
pub mod login;
pub mod records;
pub mod register;
pub mod verify;

use std::time::Duration;

use serde::Serialize;

use host::info::Info;
use host::pcsc::{self, PcscTransport, ReaderInfo, ReaderSelector};
use host::session::{CardSession, FidoVersion};
use host::transport::Transport;
use host::{HostError, PinRetries};
use relying_party::registration::VerifiedRegistration;
use relying_party::{RpError, VerifiedAssertion};

/// Connect to the card in the chosen reader and SELECT the FIDO applet.
pub fn open(selector: &ReaderSelector) -> Result<CardSession<PcscTransport>, HostError> {
    let mut session = CardSession::new(PcscTransport::open(selector)?);
    session.select()?;
    Ok(session)
}

/// `tapfido readers`.
pub fn readers() -> Result<Vec<ReaderInfo>, HostError> {
    pcsc::list_readers()
}

/// `tapfido wait`: blocks until a card is in the reader.
pub fn wait(selector: &ReaderSelector, timeout: Option<Duration>) -> Result<ReaderInfo, HostError> {
    pcsc::wait_for_card(selector, timeout)
}

/// `tapfido info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfoReport {
    /// Reader or transport.
    pub transport: String,
    /// ATR.
    #[serde(with = "relying_party::hex_bytes")]
    pub atr: Vec<u8>,
    /// What the ATR says.
    pub atr_info: host::atr::AtrInfo,
    /// SELECT answer.
    pub select: Option<FidoVersion>,
    /// getInfo.
    pub info: Info,
}

/// `tapfido info`: getInfo, decoded.
pub fn info<T: Transport>(s: &mut CardSession<T>) -> Result<InfoReport, HostError> {
    if s.version().is_none() {
        s.select()?;
    }
    Ok(InfoReport {
        transport: s.transport().describe(),
        atr: s.atr(),
        atr_info: s.atr_info().clone(),
        select: s.version(),
        info: s.get_info()?,
    })
}

/// `tapfido pin retries`.
pub fn pin_retries<T: Transport>(s: &mut CardSession<T>) -> Result<PinRetries, HostError> {
    s.pin_retries()
}

/// `tapfido pin set`.
pub fn pin_set<T: Transport>(s: &mut CardSession<T>, pin: &str) -> Result<PinRetries, HostError> {
    s.set_pin(pin)?;
    s.pin_retries()
}

/// `tapfido pin change`.
pub fn pin_change<T: Transport>(
    s: &mut CardSession<T>,
    current: &str,
    new: &str,
) -> Result<PinRetries, HostError> {
    s.change_pin(current, new)?;
    s.pin_retries()
}

/// `tapfido reset`: the card must have been tapped less than 10 s ago.
pub fn reset<T: Transport>(s: &mut CardSession<T>) -> Result<(), HostError> {
    s.reset()
}

/// The relying party's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification<V> {
    /// Every rule passed.
    Passed {
        /// What was verified.
        result: V,
    },
    /// A rule failed.
    Failed {
        /// Which rule.
        error: RpError,
    },
}

impl<V> Verification<V> {
    /// From a verifier result.
    pub fn from_result(r: Result<V, RpError>) -> Self {
        match r {
            Ok(result) => Self::Passed { result },
            Err(error) => Self::Failed { error },
        }
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        matches!(self, Self::Passed { .. })
    }

    /// The verified value.
    pub fn value(&self) -> Option<&V> {
        match self {
            Self::Passed { result } => Some(result),
            Self::Failed { .. } => None,
        }
    }
}

/// A verified registration, or the rule it broke.
pub type RegistrationVerification = Verification<VerifiedRegistration>;
/// A verified assertion, or the rule it broke.
pub type AssertionVerification = Verification<VerifiedAssertion>;

pub(crate) fn random_challenge(rng: &mut dyn host::session::HostRng) -> Vec<u8> {
    let mut c = vec![0u8; 32];
    rng.fill_bytes(&mut c);
    c
}

pub(crate) fn pin_token_for<T: Transport>(
    s: &mut CardSession<T>,
    info: &Info,
    pin: Option<&str>,
    permissions: u8,
    rp_id: &str,
    uv: bool,
) -> Result<Option<host::PinToken>, HostError> {
    match (pin, info.option("clientPin")) {
        (Some(pin), Some(true)) => {
            let with_perms = info.option("pinUvAuthToken") == Some(true);
            Ok(Some(s.pin_token(
                pin,
                permissions,
                Some(rp_id),
                with_perms,
            )?))
        }
        (Some(_), _) => Err(HostError::Unsupported(
            "a PIN: none is set on the card (tapfido pin set)",
        )),
        (None, _) if uv => Err(HostError::PinRequired),
        (None, _) => Ok(None),
    }
}

impl std::fmt::Display for InfoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.info;
        writeln!(f, "{}", self.transport)?;
        writeln!(
            f,
            "  ATR        {}{}",
            hex::encode_upper(&self.atr),
            self.atr_info
                .historical_text
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        )?;
        writeln!(
            f,
            "  length     extended {}, chaining {} (ATR card capabilities)",
            if self.atr_info.extended_length {
                "advertised"
            } else {
                "not advertised"
            },
            if self.atr_info.chaining {
                "advertised"
            } else {
                "not advertised"
            }
        )?;
        if let Some(v) = self.select {
            writeln!(f, "  SELECT     {v}")?;
        }
        writeln!(f, "  versions   {}", i.versions.join(" "))?;
        writeln!(
            f,
            "  AAGUID     {}",
            relying_party::policy::format_aaguid(&i.aaguid)
        )?;
        writeln!(f, "  extensions {}", i.extensions.join(" "))?;
        let options: Vec<String> = i.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(f, "  options    {}", options.join(" "))?;
        let algs: Vec<String> = i.algorithms.iter().map(i64::to_string).collect();
        writeln!(f, "  algorithms {}", algs.join(" "))?;
        let protos: Vec<String> = i.pin_uv_auth_protocols.iter().map(u64::to_string).collect();
        writeln!(f, "  PIN/UV     protocols {}", protos.join(" "))?;
        if let Some(n) = i.max_msg_size {
            writeln!(f, "  maxMsgSize {n}")?;
        }
        if let Some(n) = i.remaining_discoverable_credentials {
            writeln!(f, "  room for   {n} discoverable credentials")?;
        }
        write_ctap23(f, &i.ctap23)
    }
}

/// The CTAP 2.2 / 2.3 getInfo members, one line each, by name.
fn write_ctap23(
    f: &mut std::fmt::Formatter<'_>,
    c: &host::info_ctap23::Ctap23Info,
) -> std::fmt::Result {
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    if !c.attestation_formats.is_empty() {
        writeln!(
            f,
            "  attestationFormats {}",
            c.attestation_formats.join(" ")
        )?;
    }
    if !c.transports_for_reset.is_empty() {
        writeln!(
            f,
            "  transportsForReset {}",
            c.transports_for_reset.join(" ")
        )?;
    }
    if let Some(on) = c.long_touch_for_reset {
        writeln!(f, "  longTouchForReset {on}")?;
    }
    if let Some(on) = c.pin_complexity_policy {
        writeln!(f, "  pinComplexityPolicy {on}")?;
    }
    if let Some(url) = &c.pin_complexity_policy_url {
        writeln!(f, "  pinComplexityPolicyURL {url}")?;
    }
    if let Some(n) = c.max_pin_length {
        writeln!(f, "  maxPINLength {n}")?;
    }
    if let Some(cmds) = &c.authenticator_config_commands {
        writeln!(f, "  authenticatorConfigCommands {}", list(cmds))?;
    }
    if !c.vendor_prototype_config_commands.is_empty() {
        writeln!(
            f,
            "  vendorPrototypeConfigCommands {}",
            list(&c.vendor_prototype_config_commands)
        )?;
    }
    if let Some(n) = c.uv_count_since_last_pin_entry {
        writeln!(f, "  uvCountSinceLastPinEntry {n}")?;
    }
    if let Some(n) = c.enc_identifier_len {
        writeln!(f, "  encIdentifier ({n} bytes, under the persistent token)")?;
    }
    if let Some(n) = c.enc_cred_store_state_len {
        writeln!(
            f,
            "  encCredStoreState ({n} bytes, under the persistent token)"
        )?;
    }
    Ok(())
}

/// A fingerprint of an hmac-secret output for reports: the first 8 bytes of
/// its SHA-256, in hex (the output itself is a secret and never shown).
pub fn fingerprint(output: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(output)[..8])
}

/// `tapfido readers` as a table.
pub fn format_readers(readers: &[ReaderInfo]) -> String {
    if readers.is_empty() {
        return "no PC/SC readers\n".to_owned();
    }
    let mut out = String::new();
    for r in readers {
        out.push_str(&format!(
            "{:>2}  {:<32} {}\n",
            r.index,
            r.name,
            if r.card_present {
                format!("card, ATR {}", hex::encode_upper(&r.atr))
            } else {
                "no card".to_owned()
            }
        ));
    }
    out
}
