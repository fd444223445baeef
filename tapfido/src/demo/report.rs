//! The demo's report: one line per step, printable or JSON.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use relying_party::PolicyReport;

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

/// Milliseconds with one decimal, for people (display only).
fn millis(micros: u64) -> String {
    format!("{}.{} ms", micros / 1000, (micros % 1000) / 100)
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tapfido demo: tap to authenticate with an NFC FIDO2 card"
        )?;
        writeln!(f, "  path  {}", self.transport)?;
        writeln!(f, "  RP    {}", self.rp_id)?;
        writeln!(f)?;
        let width = self
            .steps
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "   #  {:<width$}  RESULT  APDUS       TIME  DETAIL",
            "STEP"
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            let (mark, text) = match &step.result {
                StepResult::Pass { detail } => ("ok", detail.as_str()),
                StepResult::Fail { error } => ("FAIL", error.as_str()),
                StepResult::Skipped { reason } => ("skip", reason.as_str()),
            };
            writeln!(
                f,
                "  {:>2}  {:<width$}  {mark:<6}  {:>5}  {:>9}  {text}",
                i + 1,
                step.name,
                step.apdus,
                millis(step.micros),
            )?;
        }
        writeln!(f)?;
        for (label, report) in [
            (" on registration", &self.registration_policy),
            (" on sign-in", &self.assertion_policy),
        ] {
            if let Some(report) = report {
                report.write_to(f, "", label)?;
            }
        }
        let passed = self
            .steps
            .iter()
            .filter(|s| matches!(s.result, StepResult::Pass { .. }))
            .count();
        let total: u64 = self.steps.iter().map(|s| s.micros).sum();
        writeln!(
            f,
            "{}: {passed} of {} steps passed, {} APDUs, {}",
            if self.passed { "PASS" } else { "FAIL" },
            self.steps.len(),
            self.total_apdus(),
            millis(total)
        )
    }
}
