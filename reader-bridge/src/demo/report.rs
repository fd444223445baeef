//! The demo's report: one line per step, printable or JSON.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::rp::PolicyReport;

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepResult {
    /// Done; `detail` says what was seen.
    Pass {
        /// What the step established.
        detail: String,
    },
    /// Failed; `error` names the rule, status word or CTAP code.
    Fail {
        /// Why.
        error: String,
    },
    /// Not run; the card lacks a feature, or an earlier step failed.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// One step of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoStep {
    /// Step name ("tap", "set PIN", …).
    pub name: String,
    /// APDUs exchanged during the step.
    pub apdus: usize,
    /// Wall time of the step, in microseconds.
    pub micros: u64,
    /// Outcome.
    pub result: StepResult,
}

/// The whole demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// Which path the APDUs took.
    pub transport: String,
    /// Relying party ID used.
    pub rp_id: String,
    /// Every step in order.
    pub steps: Vec<DemoStep>,
    /// Policy evaluation of the registration, when reached.
    pub registration_policy: Option<PolicyReport>,
    /// Policy evaluation of the sign-in, when reached.
    pub assertion_policy: Option<PolicyReport>,
    /// True when no step failed.
    pub passed: bool,
}

impl DemoReport {
    /// Total APDUs.
    pub fn total_apdus(&self) -> usize {
        self.steps.iter().map(|s| s.apdus).sum()
    }

    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&DemoStep> {
        self.steps.iter().find(|s| s.name == name)
    }
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "tapfido demo via {} (RP {})", self.transport, self.rp_id)?;
        for (i, step) in self.steps.iter().enumerate() {
            let (mark, text) = match &step.result {
                StepResult::Pass { detail } => ("ok  ", detail.as_str()),
                StepResult::Fail { error } => ("FAIL", error.as_str()),
                StepResult::Skipped { reason } => ("skip", reason.as_str()),
            };
            writeln!(
                f,
                "{:>2}. [{mark}] {:<22} {:>3} APDUs {:>8.1} ms  {text}",
                i + 1,
                step.name,
                step.apdus,
                // Display only: microseconds to milliseconds.
                step.micros as f64 / 1000.0,
            )?;
        }
        for (label, report) in [
            ("registration", &self.registration_policy),
            ("sign-in", &self.assertion_policy),
        ] {
            if let Some(report) = report {
                writeln!(
                    f,
                    "policy {:?} on {label}: {}",
                    report.policy,
                    if report.passed { "PASS" } else { "FAIL" }
                )?;
                for rule in &report.rules {
                    writeln!(
                        f,
                        "    {:?}: {:?} — {}",
                        rule.rule, rule.outcome, rule.reason
                    )?;
                }
            }
        }
        writeln!(
            f,
            "{} ({} APDUs)",
            if self.passed { "PASS" } else { "FAIL" },
            self.total_apdus()
        )
    }
}
