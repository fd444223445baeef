//! `tapfido verify`: the offline relying party on files, as a server would
//! receive them from a browser (attestationObject / authenticatorData,
//! clientDataJSON, signature), with an optional policy.

use std::path::Path;

use serde::Serialize;

use super::{AssertionVerification, RegistrationVerification, Verification};
use relying_party::store::CredentialRecord;
use relying_party::{verify_assertion, verify_registration, Expectations, Policy, PolicyReport};

/// The result of `tapfido verify`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport<V> {
    /// The verdict.
    pub verification: V,
    /// The policy's verdict.
    pub policy: Option<PolicyReport>,
}

impl<V: Serialize> VerifyReport<V> {
    /// Whether everything passed.
    pub fn passed(&self) -> bool
    where
        V: Passed,
    {
        self.verification.ok() && self.policy.as_ref().is_none_or(|p| p.passed)
    }
}

/// A verdict that passed or not.
pub trait Passed {
    /// True when it passed.
    fn ok(&self) -> bool;
}

impl<T> Passed for Verification<T> {
    fn ok(&self) -> bool {
        self.passed()
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct FileError {
    /// The file.
    pub path: String,
    /// The OS error.
    pub source: std::io::Error,
}

fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|source| FileError {
        path: path.display().to_string(),
        source,
    })
}

/// Verify a registration and evaluate `policy` on it (its trust anchors
/// are the ones the attestation chain must reach).
pub fn check_registration(
    attestation_object: &[u8],
    client_data_json: &[u8],
    expect: &Expectations,
    policy: Option<&Policy>,
) -> VerifyReport<RegistrationVerification> {
    let anchors = policy.map(|p| p.trust_anchors.clone()).unwrap_or_default();
    let verification = Verification::from_result(verify_registration(
        attestation_object,
        client_data_json,
        expect,
        &anchors,
    ));
    let policy = match (policy, verification.value()) {
        (Some(p), Some(reg)) => Some(p.evaluate_registration(reg)),
        _ => None,
    };
    VerifyReport {
        verification,
        policy,
    }
}

/// Verify an assertion against the stored `record` and evaluate `policy`.
pub fn check_assertion(
    authenticator_data: &[u8],
    client_data_json: &[u8],
    signature: &[u8],
    record: &CredentialRecord,
    expect: &Expectations,
    policy: Option<&Policy>,
) -> VerifyReport<AssertionVerification> {
    let verification = match record.stored() {
        Ok(stored) => Verification::from_result(verify_assertion(
            authenticator_data,
            client_data_json,
            signature,
            expect,
            &stored,
        )),
        Err(_) => Verification::Failed {
            error: relying_party::RpError::MalformedCoseKey("stored record"),
        },
    };
    let policy = match (policy, verification.value()) {
        (Some(p), Some(a)) => Some(p.evaluate_assertion(a)),
        _ => None,
    };
    VerifyReport {
        verification,
        policy,
    }
}

/// Verify a registration from files.
pub fn verify_registration_files(
    attestation_object: &Path,
    client_data_json: &Path,
    expect: &Expectations,
    policy: Option<&Policy>,
) -> Result<VerifyReport<RegistrationVerification>, FileError> {
    let ao = read(attestation_object)?;
    let cdj = read(client_data_json)?;
    Ok(check_registration(&ao, &cdj, expect, policy))
}

/// Verify an assertion from files against a stored record.
pub fn verify_assertion_files(
    authenticator_data: &Path,
    client_data_json: &Path,
    signature: &Path,
    record: &CredentialRecord,
    expect: &Expectations,
    policy: Option<&Policy>,
) -> Result<VerifyReport<AssertionVerification>, FileError> {
    let ad = read(authenticator_data)?;
    let cdj = read(client_data_json)?;
    let sig = read(signature)?;
    Ok(check_assertion(&ad, &cdj, &sig, record, expect, policy))
}

pub(crate) fn write_policy(f: &mut std::fmt::Formatter<'_>, p: &PolicyReport) -> std::fmt::Result {
    p.write_to(f, "  ", "")
}

/// Why `tapfido verify FILE.json` could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyInputError {
    /// The file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The JSON is not a PublicKeyCredential.
    #[error(transparent)]
    Json(#[from] relying_party::json::JsonError),
    /// An assertion of a credential with no stored record.
    #[error("no stored record of credential {0}")]
    UnknownCredential(String),
}

/// The result of verifying a `PublicKeyCredential` JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JsonVerifyReport {
    /// A registration.
    Registration {
        /// The verdicts.
        report: VerifyReport<RegistrationVerification>,
        /// What to store when it passed.
        record: Option<CredentialRecord>,
    },
    /// An assertion.
    Assertion {
        /// The verdicts.
        report: VerifyReport<AssertionVerification>,
        /// The record with its new counter, when it passed.
        updated_record: Option<CredentialRecord>,
    },
}

impl JsonVerifyReport {
    /// Whether everything passed.
    pub fn passed(&self) -> bool {
        match self {
            Self::Registration { report, .. } => report.passed(),
            Self::Assertion { report, .. } => report.passed(),
        }
    }
}

/// `tapfido verify FILE.json`: a registration or an assertion as a browser
/// serializes it; assertions are checked against `records`.
pub fn verify_json(
    path: &Path,
    expect: &Expectations,
    policy: Option<&Policy>,
    records: &[CredentialRecord],
) -> Result<JsonVerifyReport, VerifyInputError> {
    use relying_party::json::{parse_credential_json, CredentialJsonKind};
    let bytes = read(path)?;
    match parse_credential_json(&bytes)? {
        CredentialJsonKind::Registration {
            attestation_object,
            client_data_json,
        } => {
            let report = check_registration(&attestation_object, &client_data_json, expect, policy);
            let record = report
                .verification
                .value()
                .map(|reg| CredentialRecord::of_registration(&expect.rp_id, reg, ""));
            Ok(JsonVerifyReport::Registration { report, record })
        }
        CredentialJsonKind::Assertion {
            credential_id,
            authenticator_data,
            client_data_json,
            signature,
            ..
        } => {
            let id = hex::encode(&credential_id);
            let record = records
                .iter()
                .find(|r| r.rp_id == expect.rp_id && r.credential_id == id)
                .ok_or(VerifyInputError::UnknownCredential(id))?;
            let report = check_assertion(
                &authenticator_data,
                &client_data_json,
                &signature,
                record,
                expect,
                policy,
            );
            let updated_record = report.verification.value().map(|a| CredentialRecord {
                sign_count: a.sign_count,
                ..record.clone()
            });
            Ok(JsonVerifyReport::Assertion {
                report,
                updated_record,
            })
        }
    }
}

impl std::fmt::Display for JsonVerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, failure, policy) = match self {
            Self::Registration { report, .. } => (
                "registration",
                match &report.verification {
                    Verification::Passed { result } => {
                        writeln!(
                            f,
                            "registration verified: {} {}, {}, credential {}, UV {}",
                            result.fmt,
                            result.attestation_type,
                            result.trust,
                            hex::encode(&result.credential_id),
                            result.user_verified
                        )?;
                        None
                    }
                    Verification::Failed { error } => Some(error),
                },
                &report.policy,
            ),
            Self::Assertion { report, .. } => (
                "assertion",
                match &report.verification {
                    Verification::Passed { result } => {
                        writeln!(
                            f,
                            "assertion verified: signature valid, counter {}, UV {}",
                            result.sign_count, result.user_verified
                        )?;
                        None
                    }
                    Verification::Failed { error } => Some(error),
                },
                &report.policy,
            ),
        };
        if let Some(error) = failure {
            writeln!(f, "{kind} FAILED [{}]: {error}", error.rule_name())?;
        }
        if let Some(p) = policy {
            write_policy(f, p)?;
        }
        writeln!(f, "{}", if self.passed() { "PASS" } else { "FAIL" })
    }
}
