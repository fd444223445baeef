//! The PIN complexity policy (CTAP 2.3 §6.4 `pinComplexityPolicy`, §6.11.4
//! setMinPINLength `pinComplexityPolicy`, §12 pinComplexityPolicy
//! extension).
//!
//! CTAP leaves the rules to the authenticator; the profile chooses them
//! (`[fido.pin_complexity]`) and publishes where they are described
//! (getInfo 0x1C `pinComplexityPolicyURL`). tapfido's rules, each off when
//! set to 0 / false:
//!
//! ```text
//!  min_distinct = 2          at least this many different code points ("1111" fails)
//!  reject_sequences = true   not one run of consecutive code points, up or down
//!                            ("1234", "9876", "abcd" fail; "1235" passes)
//! ```
//!
//! While the policy is enforced, setPIN and changePIN refuse a PIN that
//! breaks a rule with `CTAP2_ERR_PIN_POLICY_VIOLATION`, after the length
//! checks. Whether the current PIN met the rules is kept with it, so that
//! turning the policy on forces a PIN change only when needed.

use serde::Deserialize;

/// The rules of the policy (the profile's `[fido.pin_complexity]` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplexityRules {
    /// Fewest distinct code points (0 or 1: no rule).
    pub min_distinct: u8,
    /// Refuse a PIN that is one run of consecutive code points (step +1 or
    /// −1 throughout).
    pub reject_sequences: bool,
}

impl Default for ComplexityRules {
    fn default() -> Self {
        ComplexityRules {
            min_distinct: 2,
            reject_sequences: true,
        }
    }
}

impl ComplexityRules {
    /// Whether `pin` (already checked to be UTF-8 of the allowed length)
    /// meets every rule.
    pub fn accepts(&self, pin: &str) -> bool {
        let chars: Vec<char> = pin.chars().collect();
        let mut distinct = chars.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < usize::from(self.min_distinct) {
            return false;
        }
        if self.reject_sequences && chars.len() > 1 {
            let steps: Vec<i64> = chars
                .windows(2)
                .map(|w| match w {
                    [a, b] => i64::from(u32::from(*b)) - i64::from(u32::from(*a)),
                    _ => 0,
                })
                .collect();
            if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::ComplexityRules;

    #[test]
    fn default_rules() {
        let r = ComplexityRules::default();
        for bad in ["1111", "1234", "9876", "abcd", "zyxw", "aa"] {
            assert!(!r.accepts(bad), "{bad} accepted");
        }
        for good in ["1235", "1243", "2580", "abce", "correct horse", "pïn1"] {
            assert!(r.accepts(good), "{good} refused");
        }
    }

    #[test]
    fn rules_switch_off() {
        let r = ComplexityRules {
            min_distinct: 0,
            reject_sequences: false,
        };
        assert!(r.accepts("1111"));
        assert!(r.accepts("1234"));
    }
}
