//! The PIN policy (CTAP 2.1 §6.5.1, setPIN §6.5.5.5 steps 7-10, changePIN
//! §6.5.5.6 steps 10-14).
//!
//! ```text
//!  paddedNewPin (decrypted newPinEnc), exactly 64 bytes:
//!  ┌──────────── newPin: UTF-8, 1..=63 bytes ───────────┬─ 00 … 00 ─┐
//!  └────────────────────────────────────────────────────┴───────────┘
//!  ≠ 64 bytes                          → CTAP1_ERR_INVALID_PARAMETER
//!  no trailing 00 (64-byte PIN)        → CTAP2_ERR_PIN_POLICY_VIOLATION
//!  not UTF-8, or a 00 inside the PIN   → CTAP2_ERR_PIN_POLICY_VIOLATION
//!  fewer code points than the minimum  → CTAP2_ERR_PIN_POLICY_VIOLATION
//!  more code points than maxPINLength  → CTAP2_ERR_PIN_POLICY_VIOLATION
//!  complexity policy enforced, broken  → CTAP2_ERR_PIN_POLICY_VIOLATION
//!  stored: LEFT(SHA-256(newPin), 16), the length in code points, and
//!          whether the PIN meets the complexity rules
//! ```

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::CtapError;
use crate::pin::complexity::ComplexityRules;

/// Length of the padded PIN block inside newPinEnc.
pub const PADDED_PIN_LEN: usize = 64;
/// Longest PIN in bytes (§6.5.1 "Maximum PIN Length: 63 bytes").
pub const MAX_PIN_BYTES: usize = 63;
/// Length of the stored PIN hash, `LEFT(SHA-256(pin), 16)`.
pub const PIN_HASH_LEN: usize = 16;
/// Default minimum PIN length in code points (§6.5.1).
pub const DEFAULT_MIN_PIN_LENGTH: u8 = 4;
/// The largest `maxPINLength` (CTAP 2.3 §6.4: code points, default 63).
pub const MAX_PIN_CODE_POINTS: u8 = 63;

/// What a new PIN is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinRules {
    /// Current minimum length in code points (getInfo `minPINLength`).
    pub min_code_points: u8,
    /// `maxPINLength` in code points.
    pub max_code_points: u8,
    /// The complexity rules of the profile, if it has a policy.
    pub complexity: Option<ComplexityRules>,
    /// Whether the complexity policy is enforced now.
    pub enforce_complexity: bool,
}

impl PinRules {
    /// Length rules only: `min..=63` code points, no complexity policy.
    pub fn length(min_code_points: u8) -> Self {
        PinRules {
            min_code_points,
            max_code_points: MAX_PIN_CODE_POINTS,
            complexity: None,
            enforce_complexity: false,
        }
    }
}

/// A PIN that passed the policy: only its hash and length are kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NewPin {
    /// `LEFT(SHA-256(newPin), 16)`, the CurrentStoredPIN.
    pub hash: [u8; PIN_HASH_LEN],
    /// PINCodePointLength.
    pub code_points: u8,
    /// Whether the PIN meets the profile's complexity rules (true when the
    /// profile has none).
    pub meets_complexity: bool,
}

impl fmt::Debug for NewPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPin")
            .field("code_points", &self.code_points)
            .finish_non_exhaustive()
    }
}

/// `LEFT(SHA-256(pin), 16)`.
pub fn pin_hash(pin: &[u8]) -> [u8; PIN_HASH_LEN] {
    let digest = Sha256::digest(pin);
    let mut out = [0u8; PIN_HASH_LEN];
    out.copy_from_slice(&digest[..PIN_HASH_LEN]);
    out
}

/// Checks a decrypted paddedNewPin against the policy: the current
/// minimum and maximum length (code points) and, when enforced, the
/// complexity rules.
pub fn check_new_pin(padded: &[u8], rules: &PinRules) -> Result<NewPin, CtapError> {
    if padded.len() != PADDED_PIN_LEN {
        return Err(CtapError::InvalidParameter);
    }
    let len = padded
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last + 1);
    let pin = &padded[..len];
    if pin.len() > MAX_PIN_BYTES || pin.contains(&0) {
        return Err(CtapError::PinPolicyViolation);
    }
    let text = std::str::from_utf8(pin).map_err(|_| CtapError::PinPolicyViolation)?;
    let code_points = text.chars().count();
    if code_points < usize::from(rules.min_code_points.max(1))
        || code_points > usize::from(rules.max_code_points)
    {
        return Err(CtapError::PinPolicyViolation);
    }
    let meets_complexity = rules.complexity.is_none_or(|c| c.accepts(text));
    if rules.enforce_complexity && !meets_complexity {
        return Err(CtapError::PinPolicyViolation);
    }
    Ok(NewPin {
        hash: pin_hash(pin),
        meets_complexity,
        // At most 63 bytes, so at most 63 code points.
        code_points: u8::try_from(code_points).map_err(|_| CtapError::PinPolicyViolation)?,
    })
}
