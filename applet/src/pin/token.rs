//! The pinUvAuthToken and its state (CTAP 2.1 §6.5.2.1 "pinUvAuthToken
//! state", §6.5.5.7 permissions).
//!
//! One random 32-byte token per PIN/UV auth protocol
//! (`resetPinUvAuthToken()` renews both), and one shared usage state:
//!
//! ```text
//!  in use ── permissions (mc 01, ga 02, cm 04, be 08, lbw 10, acfg 20;
//!             pcmr 40 issues the persistent token instead, `pin::persistent`)
//!         ── permissions RP ID (None until bound)
//!         ── userVerified flag (true at issue, consumed by one MC/GA)
//!         ── issued at t0, used yet?
//!
//!  expires: not used by t0 + initial usage window  (NFC: 19 s by default)
//!           or       at t0 + maximum lifetime      (10 min)
//! ```
//!
//! The token is renewed at power-up, by every successful PIN check that
//! issues a token, by changePIN and by authenticatorReset. There is no
//! built-in user verification, so the userPresent flag of §6.5.2.1 is never
//! set and is not modelled: user presence always comes from the tap.

use std::fmt;
use std::time::Duration;

use p256::elliptic_curve::zeroize::Zeroize;
use subtle::ConstantTimeEq;

use crate::env::CardRng;
use crate::pin::protocol::PinUvAuthProtocol;

/// Token length in bytes (CTAP 2.1 §6.5.2: 32 bytes for both protocols).
pub const TOKEN_LEN: usize = 32;

/// pinUvAuthToken permission bits (CTAP 2.1 §6.5.5.7 table).
pub mod permission {
    /// `mc`: authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// `ga`: authenticatorGetAssertion.
    pub const GET_ASSERTION: u8 = 0x02;
    /// `cm`: authenticatorCredentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x04;
    /// `be`: authenticatorBioEnrollment (never granted: no built-in UV).
    pub const BIO_ENROLLMENT: u8 = 0x08;
    /// `lbw`: authenticatorLargeBlobs write.
    pub const LARGE_BLOB_WRITE: u8 = 0x10;
    /// `acfg`: authenticatorConfig.
    pub const AUTHENTICATOR_CONFIG: u8 = 0x20;
    /// `pcmr`: persistent credential management, read only (CTAP 2.2/2.3
    /// §6.5.5.7). Granted only where getInfo lists `perCredMgmtRO: true`,
    /// and only alone.
    pub const PER_CRED_MGMT_RO: u8 = 0x40;
    /// The default permissions of getPinToken (0x05): `mc | ga`.
    pub const DEFAULT: u8 = MAKE_CREDENTIAL | GET_ASSERTION;
    /// Permissions that need a permissions RP ID when requested
    /// (CTAP 2.1 §6.5.5.7.2, rpId parameter).
    pub const NEED_RP_ID: u8 = MAKE_CREDENTIAL | GET_ASSERTION;
}

/// How long a token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenTimes {
    /// A token not used within this window after issue expires (CTAP 2.1
    /// §6.5.2.1 initialUsageTimeLimit; OpenSK uses 19.8 s on NFC).
    pub initial_usage_window: Duration,
    /// A token never lives longer than this (CTAP 2.1 §6.5.2.1
    /// maxUsageTimePeriod; the specification suggests 10 minutes).
    pub max_lifetime: Duration,
}

impl TokenTimes {
    /// Default initial usage window in seconds (CTAP 2.1 §6.5.2.1 suggests
    /// 19 s for NFC/USB tokens; a profile may change it).
    pub const DEFAULT_INITIAL_USAGE_SECS: u64 = 19;
    /// Default maximum token lifetime in seconds (the specification suggests
    /// 10 minutes).
    pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 600;
}

impl Default for TokenTimes {
    /// The lifetimes of the default profile.
    fn default() -> Self {
        Self {
            initial_usage_window: Duration::from_secs(Self::DEFAULT_INITIAL_USAGE_SECS),
            max_lifetime: Duration::from_secs(Self::DEFAULT_MAX_LIFETIME_SECS),
        }
    }
}

/// Usage state of the token while it is in use.
#[derive(Clone, PartialEq, Eq)]
struct InUse {
    permissions: u8,
    rp_id: Option<String>,
    user_verified: bool,
    issued_at: Duration,
    used: bool,
}

/// The pinUvAuthTokens of both protocols and their shared usage state.
pub struct TokenState {
    /// Index 0: protocol one; 1: protocol two.
    values: [[u8; TOKEN_LEN]; 2],
    in_use: Option<InUse>,
    times: TokenTimes,
}

impl fmt::Debug for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenState")
            .field("in_use", &self.in_use.is_some())
            .field("permissions", &self.in_use.as_ref().map(|t| t.permissions))
            .field("times", &self.times)
            .finish_non_exhaustive()
    }
}

impl Drop for TokenState {
    fn drop(&mut self) {
        self.values.zeroize();
    }
}

fn index(protocol: PinUvAuthProtocol) -> usize {
    match protocol {
        PinUvAuthProtocol::One => 0,
        PinUvAuthProtocol::Two => 1,
    }
}

impl TokenState {
    /// Fresh random tokens, not in use (power-up, CTAP 2.1 §6.5.5.1).
    pub fn new(rng: &mut dyn CardRng, times: TokenTimes) -> Self {
        let mut state = Self {
            values: [[0; TOKEN_LEN]; 2],
            in_use: None,
            times,
        };
        state.reset(rng);
        state
    }

    /// `resetPinUvAuthToken()` for both protocols and
    /// `stopUsingPinUvAuthToken()`: every earlier token becomes useless.
    pub fn reset(&mut self, rng: &mut dyn CardRng) {
        for value in &mut self.values {
            rng.fill_bytes(value);
        }
        self.in_use = None;
    }

    /// `beginUsingPinUvAuthToken(userIsPresent: false)` with the given
    /// permissions and optional permissions RP ID.
    pub fn begin_using(&mut self, now: Duration, permissions: u8, rp_id: Option<String>) {
        self.in_use = Some(InUse {
            permissions,
            rp_id,
            user_verified: true,
            issued_at: now,
            used: false,
        });
    }

    /// The token value of `protocol` (to be encrypted for the platform).
    pub fn value(&self, protocol: PinUvAuthProtocol) -> &[u8; TOKEN_LEN] {
        &self.values[index(protocol)]
    }

    /// `pinUvAuthTokenUsageTimerObserver()`: stop using an expired token.
    pub fn observe(&mut self, now: Duration) {
        let expired = match &self.in_use {
            Some(t) => {
                let age = now.saturating_sub(t.issued_at);
                age >= self.times.max_lifetime
                    || (!t.used && age >= self.times.initial_usage_window)
            }
            None => false,
        };
        if expired {
            self.in_use = None;
        }
    }

    /// Whether a token is in use (issued and not expired) at `now`.
    pub fn is_in_use(&mut self, now: Duration) -> bool {
        self.observe(now);
        self.in_use.is_some()
    }

    /// `verify(pinUvAuthToken, message, signature)` for `protocol`, in
    /// constant time; fails when no token is in use (§6.5.6 verify: "If the
    /// key parameter value is the current pinUvAuthToken and it is not in
    /// use, then return error").
    pub fn verify(
        &mut self,
        now: Duration,
        protocol: PinUvAuthProtocol,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        self.observe(now);
        self.in_use.is_some()
            && protocol
                .verify(&self.values[index(protocol)], message, signature)
                .is_ok()
    }

    /// Record that the token in use authorized a command (all its checks
    /// passed): its initial usage window no longer applies.
    pub fn mark_used(&mut self) {
        if let Some(t) = self.in_use.as_mut() {
            t.used = true;
        }
    }

    /// Whether the token in use has every bit of `permission`.
    pub fn has_permission(&mut self, now: Duration, permission: u8) -> bool {
        self.observe(now);
        self.in_use
            .as_ref()
            .is_some_and(|t| permission != 0 && t.permissions & permission == permission)
    }

    /// The permissions RP ID of the token in use, if any.
    pub fn rp_id(&mut self, now: Duration) -> Option<&str> {
        self.observe(now);
        self.in_use.as_ref().and_then(|t| t.rp_id.as_deref())
    }

    /// Checks the permissions RP ID against `rp_id` (constant time over the
    /// bytes); a token without one is bound to `rp_id` when `bind` is set.
    /// Returns false when the token is bound to another RP.
    pub fn check_or_bind_rp_id(&mut self, now: Duration, rp_id: &str, bind: bool) -> bool {
        self.observe(now);
        let Some(t) = self.in_use.as_mut() else {
            return false;
        };
        match &t.rp_id {
            Some(bound) => {
                bound.len() == rp_id.len() && bool::from(bound.as_bytes().ct_eq(rp_id.as_bytes()))
            }
            None => {
                if bind {
                    t.rp_id = Some(rp_id.to_owned());
                }
                true
            }
        }
    }

    /// `getUserVerifiedFlagValue()`.
    pub fn user_verified(&mut self, now: Duration) -> bool {
        self.observe(now);
        self.in_use.as_ref().is_some_and(|t| t.user_verified)
    }

    /// `clearUserPresentFlag()`, `clearUserVerifiedFlag()` and
    /// `clearPinUvAuthTokenPermissionsExceptLbw()` (CTAP 2.1 §6.1.2 step 14,
    /// §6.2.2 step 9): once an MC or GA collected user presence, the token
    /// cannot verify another one. No-op when no token is in use.
    pub fn consume_after_user_presence(&mut self) {
        if let Some(t) = self.in_use.as_mut() {
            t.user_verified = false;
            t.permissions &= permission::LARGE_BLOB_WRITE;
        }
    }

    /// `stopUsingPinUvAuthToken()`.
    pub fn stop_using(&mut self) {
        self.in_use = None;
    }
}
