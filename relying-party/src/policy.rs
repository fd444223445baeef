//! Passkey policies modelled on Entra ID's key restrictions and passkey
//! profiles, read from a small TOML file.
//!
//! ```toml
//! name = "Contoso security keys"
//! enforce_attestation = true           # Entra "Enforce attestation"
//! trust_anchors = ["roots/tapfido-root.pem"]  # PEM files, relative to this file
//! device_bound_only = true             # passkey profile: no synced passkeys (flag BE clear)
//! require_uv = true                    # UV on every registration and sign-in
//!
//! [key_restrictions]                   # Entra "Enforce key restrictions"
//! behavior = "allow"                   # "allow" or "block"
//! aaguids = ["973446ca-e21c-9a9b-99f5-9b985a67af0f"]
//! ```
//! [`Policy::evaluate_registration`] and [`Policy::evaluate_assertion`]
//! report every rule with its outcome and reason, not only the first failure.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use super::assertion::VerifiedAssertion;
use super::registration::{Trust, VerifiedRegistration};

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file or a trust anchor file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML does not describe a policy.
    #[error("policy TOML is invalid: {0}")]
    Toml(#[from] toml::de::Error),
    /// An AAGUID is not 32 hex digits (dashes allowed).
    #[error("AAGUID {0:?} is not 16 bytes of hex")]
    Aaguid(String),
    /// A trust anchor file holds no readable certificate.
    #[error("{0} holds no PEM certificate")]
    Anchor(PathBuf),
    /// `enforce_attestation` is set but no trust anchor is given.
    #[error("enforce_attestation needs at least one trust anchor")]
    NoAnchors,
}

/// Allow list or block list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Behavior {
    /// Only the listed AAGUIDs may register.
    Allow,
    /// The listed AAGUIDs may not register.
    Block,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRestrictionsFile {
    behavior: Behavior,
    #[serde(default)]
    aaguids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    enforce_attestation: bool,
    #[serde(default)]
    trust_anchors: Vec<PathBuf>,
    #[serde(default)]
    device_bound_only: bool,
    #[serde(default)]
    require_uv: bool,
    key_restrictions: Option<KeyRestrictionsFile>,
}

/// AAGUID allow or block list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRestrictions {
    /// Allow or block.
    pub behavior: Behavior,
    /// The listed AAGUIDs.
    pub aaguids: Vec<[u8; 16]>,
}

/// A loaded policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Display name.
    pub name: String,
    /// Registration needs an attestation chain to one of `trust_anchors`.
    pub enforce_attestation: bool,
    /// Trusted roots.
    pub trust_anchors: Vec<Certificate>,
    /// Credentials must not be backup eligible.
    pub device_bound_only: bool,
    /// UV needed on registration and sign-in.
    pub require_uv: bool,
    /// AAGUID allow or block list.
    pub key_restrictions: Option<KeyRestrictions>,
}

/// The rules a policy can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Attestation chain to a trust anchor.
    Attestation,
    /// AAGUID allow/block list.
    KeyRestrictions,
    /// Device-bound credentials only.
    DeviceBound,
    /// User verification.
    UserVerification,
}

/// One rule's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The rule is enforced and satisfied.
    Pass,
    /// The rule is enforced and violated.
    Fail,
    /// The policy does not enforce this rule.
    NotEnforced,
}

/// A rule, its outcome and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    /// Which rule.
    pub rule: Rule,
    /// Outcome.
    pub outcome: Outcome,
    /// Human-readable reason.
    pub reason: String,
}

/// The result of evaluating a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    /// Policy name.
    pub policy: String,
    /// True when no rule failed.
    pub passed: bool,
    /// Every rule, in a fixed order.
    pub rules: Vec<RuleResult>,
}

impl PolicyReport {
    fn new(policy: &str, rules: Vec<RuleResult>) -> Self {
        let passed = rules.iter().all(|r| r.outcome != Outcome::Fail);
        Self {
            policy: policy.to_owned(),
            passed,
            rules,
        }
    }

    /// The result for `rule`, if evaluated.
    pub fn rule(&self, rule: Rule) -> Option<&RuleResult> {
        self.rules.iter().find(|r| r.rule == rule)
    }

    /// The report for people: a verdict line `policy "NAME" on WHAT: PASS`,
    /// then one aligned line per rule, each line starting with `indent`.
    pub fn write_to(
        &self,
        f: &mut impl std::fmt::Write,
        indent: &str,
        what: &str,
    ) -> std::fmt::Result {
        writeln!(
            f,
            "{indent}policy {:?}{what}: {}",
            self.policy,
            if self.passed { "PASS" } else { "FAIL" }
        )?;
        for rule in &self.rules {
            writeln!(
                f,
                "{indent}  {:<18} {:<12} {}",
                rule.rule.name(),
                rule.outcome.name(),
                rule.reason
            )?;
        }
        Ok(())
    }
}

impl Rule {
    /// The rule's name as in JSON reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Attestation => "attestation",
            Self::KeyRestrictions => "key_restrictions",
            Self::DeviceBound => "device_bound",
            Self::UserVerification => "user_verification",
        }
    }
}

impl Outcome {
    /// The outcome's name as in JSON reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::NotEnforced => "not enforced",
        }
    }
}

impl std::fmt::Display for PolicyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f, "", "")
    }
}

/// Parse an AAGUID written as 32 hex digits, dashes allowed.
pub fn parse_aaguid(text: &str) -> Option<[u8; 16]> {
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    let bytes = hex::decode(digits).ok()?;
    <[u8; 16]>::try_from(bytes.as_slice()).ok()
}

/// Format an AAGUID in the usual 8-4-4-4-12 form.
pub fn format_aaguid(aaguid: &[u8]) -> String {
    let h = hex::encode(aaguid);
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn result(rule: Rule, outcome: Outcome, reason: impl Into<String>) -> RuleResult {
    RuleResult {
        rule,
        outcome,
        reason: reason.into(),
    }
}

impl Policy {
    /// Load a policy file; trust anchor paths are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base)
    }

    /// Parse policy TOML; `base` resolves relative trust anchor paths.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        let mut trust_anchors = Vec::new();
        for rel in &file.trust_anchors {
            let path = base.join(rel);
            let pem = std::fs::read(&path).map_err(|source| PolicyError::Io {
                path: path.clone(),
                source,
            })?;
            let certs =
                super::cert::certs_from_pem(&pem).map_err(|_| PolicyError::Anchor(path.clone()))?;
            if certs.is_empty() {
                return Err(PolicyError::Anchor(path));
            }
            trust_anchors.extend(certs);
        }
        if file.enforce_attestation && trust_anchors.is_empty() {
            return Err(PolicyError::NoAnchors);
        }
        let key_restrictions = match file.key_restrictions {
            Some(kr) => Some(KeyRestrictions {
                behavior: kr.behavior,
                aaguids: kr
                    .aaguids
                    .iter()
                    .map(|a| parse_aaguid(a).ok_or_else(|| PolicyError::Aaguid(a.clone())))
                    .collect::<Result<_, _>>()?,
            }),
            None => None,
        };
        Ok(Self {
            name: file.name,
            enforce_attestation: file.enforce_attestation,
            trust_anchors,
            device_bound_only: file.device_bound_only,
            require_uv: file.require_uv,
            key_restrictions,
        })
    }

    /// Evaluate every rule against a verified registration.
    ///
    /// The registration should have been verified with this policy's
    /// `trust_anchors` so that [`Trust::Anchored`] reflects them.
    pub fn evaluate_registration(&self, reg: &VerifiedRegistration) -> PolicyReport {
        let attestation = if !self.enforce_attestation {
            result(
                Rule::Attestation,
                Outcome::NotEnforced,
                "attestation not enforced",
            )
        } else {
            match &reg.trust {
                Trust::Anchored { anchor } => result(
                    Rule::Attestation,
                    Outcome::Pass,
                    format!("{} attestation chains to {anchor}", reg.fmt),
                ),
                Trust::Unanchored => result(
                    Rule::Attestation,
                    Outcome::Fail,
                    "attestation chain was not checked against the policy's trust anchors",
                ),
                Trust::NoChain => result(
                    Rule::Attestation,
                    Outcome::Fail,
                    format!("{} attestation carries no certificate chain", reg.fmt),
                ),
            }
        };
        let aaguid = format_aaguid(&reg.aaguid);
        let restrictions = match &self.key_restrictions {
            None => result(
                Rule::KeyRestrictions,
                Outcome::NotEnforced,
                "no AAGUID list",
            ),
            Some(kr) => {
                let listed = kr
                    .aaguids
                    .iter()
                    .any(|a| a.as_slice() == reg.aaguid.as_slice());
                match (kr.behavior, listed) {
                    (Behavior::Allow, true) => result(
                        Rule::KeyRestrictions,
                        Outcome::Pass,
                        format!("AAGUID {aaguid} is on the allow list"),
                    ),
                    (Behavior::Allow, false) => result(
                        Rule::KeyRestrictions,
                        Outcome::Fail,
                        format!("AAGUID {aaguid} is not on the allow list"),
                    ),
                    (Behavior::Block, true) => result(
                        Rule::KeyRestrictions,
                        Outcome::Fail,
                        format!("AAGUID {aaguid} is on the block list"),
                    ),
                    (Behavior::Block, false) => result(
                        Rule::KeyRestrictions,
                        Outcome::Pass,
                        format!("AAGUID {aaguid} is not on the block list"),
                    ),
                }
            }
        };
        let device_bound = if !self.device_bound_only {
            result(
                Rule::DeviceBound,
                Outcome::NotEnforced,
                "synced passkeys allowed",
            )
        } else if reg.backup_eligible {
            result(
                Rule::DeviceBound,
                Outcome::Fail,
                "credential is backup eligible (flag BE set): a synced passkey",
            )
        } else {
            result(
                Rule::DeviceBound,
                Outcome::Pass,
                "credential is device-bound (flag BE clear)",
            )
        };
        let uv = self.uv_rule(reg.user_verified);
        PolicyReport::new(
            &self.name,
            vec![attestation, restrictions, device_bound, uv],
        )
    }

    /// Evaluate the rules that apply to a sign-in.
    pub fn evaluate_assertion(&self, assertion: &VerifiedAssertion) -> PolicyReport {
        let device_bound = if !self.device_bound_only {
            result(
                Rule::DeviceBound,
                Outcome::NotEnforced,
                "synced passkeys allowed",
            )
        } else if assertion.backup_eligible {
            result(
                Rule::DeviceBound,
                Outcome::Fail,
                "credential is backup eligible (flag BE set)",
            )
        } else {
            result(
                Rule::DeviceBound,
                Outcome::Pass,
                "credential is device-bound (flag BE clear)",
            )
        };
        let uv = self.uv_rule(assertion.user_verified);
        PolicyReport::new(&self.name, vec![device_bound, uv])
    }

    fn uv_rule(&self, verified: bool) -> RuleResult {
        match (self.require_uv, verified) {
            (false, _) => result(
                Rule::UserVerification,
                Outcome::NotEnforced,
                "UV not required",
            ),
            (true, true) => result(
                Rule::UserVerification,
                Outcome::Pass,
                "user verified (flag UV set)",
            ),
            (true, false) => result(
                Rule::UserVerification,
                Outcome::Fail,
                "UV required but flag UV is clear",
            ),
        }
    }
}
