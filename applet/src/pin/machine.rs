//! The ClientPIN state machine (CTAP 2.1 §6.5.5): per-power-cycle state
//! (key agreement keys, the consecutive-mismatch counter, pinUvAuthTokens)
//! over the persistent PIN data of a [`PinStore`].
//!
//! ```text
//!  PIN check (changePIN, getPinToken, getPinUvAuthTokenUsingPinWithPermissions)
//!
//!   no PIN ─────────────────────────────────────────────▶ PIN_NOT_SET
//!   pinRetries = 0 ─────────────────────────────────────▶ PIN_BLOCKED
//!   3 mismatches since power-up ────────────────────────▶ PIN_AUTH_BLOCKED
//!   storage counts this attempt as spent (pinRetries − 1 stored, unless
//!     an attempt is already reserved) ── write fails ──▶ error, nothing compared
//!   compare LEFT(SHA-256(pin),16) in constant time
//!     mismatch: pinRetries − 1 (already stored), regenerate key agreement
//!               keys, mismatches += 1
//!               pinRetries = 0 ─────────────────────────▶ PIN_BLOCKED
//!               mismatches = 3 ─────────────────────────▶ PIN_AUTH_BLOCKED
//!               otherwise ──────────────────────────────▶ PIN_INVALID
//!     match:    pinRetries = 8, mismatches = 0; stored when storage lags by
//!               more than the reserved attempt (getPinToken), or with the
//!               new PIN (changePIN) ──────────────────▶ continue
//! ```
//!
//! In the steady state (pinRetries 8, one attempt reserved in storage) a
//! right PIN writes nothing (`crate::state` module docs).
//!
//! The three-mismatch block lives only in RAM: a power cycle clears it,
//! SELECT and end-of-session do not. pinRetries is persistent: 0 lasts until
//! authenticatorReset.

use std::fmt;

use p256::elliptic_curve::zeroize::Zeroizing;
use subtle::ConstantTimeEq;

use crate::env::Env;
use crate::error::CtapError;
use crate::pin::policy::{self, PinRules, PIN_HASH_LEN};
use crate::pin::protocol::{
    CoseEcdhKey, KeyAgreementKey, PinUvAuthProtocol, ProtocolError, SharedSecret,
};
use crate::pin::store::PinStore;
use crate::pin::token::{permission, TokenState, TokenTimes};

/// Consecutive mismatches after which a power cycle is needed (§6.5.5.7).
pub const MAX_CONSECUTIVE_MISMATCHES: u8 = 3;

/// A getPinToken (0x05) or getPinUvAuthTokenUsingPinWithPermissions (0x09)
/// request, decoded.
#[derive(Debug)]
pub struct TokenRequest<'a> {
    /// The selected protocol.
    pub protocol: PinUvAuthProtocol,
    /// The platform key agreement key; `None` when the platform sent a
    /// COSE_Key that is not a P-256 key agreement key (it fails at the
    /// decapsulate step, with `CTAP1_ERR_INVALID_PARAMETER`, after the
    /// checks the specification puts first).
    pub key_agreement: Option<&'a CoseEcdhKey>,
    /// `pinHashEnc`: encrypt(sharedSecret, LEFT(SHA-256(pin), 16)).
    pub pin_hash_enc: &'a [u8],
    /// `None` for getPinToken (default permissions `mc | ga`, no RP ID);
    /// `Some((permissions, rpId))` for subcommand 0x09.
    /// Bits beyond the defined ones are ignored (the value 0 is refused).
    pub permissions: Option<(u64, Option<String>)>,
    /// The permissions the card can grant (from its getInfo options:
    /// `cm` needs credMgmt, `lbw` largeBlobs, `acfg` authnrCfg; `be` never).
    pub grantable: u8,
}

/// The common part of setPIN (0x03) and changePIN (0x04), decoded.
#[derive(Debug)]
pub struct NewPinRequest<'a> {
    /// The selected protocol.
    pub protocol: PinUvAuthProtocol,
    /// The platform key agreement key; `None` when the platform sent a
    /// COSE_Key that is not a P-256 key agreement key (it fails at the
    /// decapsulate step, with `CTAP1_ERR_INVALID_PARAMETER`, after the
    /// checks the specification puts first).
    pub key_agreement: Option<&'a CoseEcdhKey>,
    /// `pinUvAuthParam`: authenticate(sharedSecret, newPinEnc [|| pinHashEnc]).
    pub pin_uv_auth_param: &'a [u8],
    /// `newPinEnc`: encrypt(sharedSecret, paddedNewPin).
    pub new_pin_enc: &'a [u8],
    /// The length and complexity rules the new PIN must meet.
    pub rules: PinRules,
}

/// Per-power-cycle ClientPIN state.
pub struct PinState {
    /// Index 0: protocol one; 1: protocol two.
    key_agreement: [KeyAgreementKey; 2],
    consecutive_mismatches: u8,
    tokens: TokenState,
}

impl fmt::Debug for PinState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinState")
            .field("consecutive_mismatches", &self.consecutive_mismatches)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn index(protocol: PinUvAuthProtocol) -> usize {
    match protocol {
        PinUvAuthProtocol::One => 0,
        PinUvAuthProtocol::Two => 1,
    }
}

/// Map a decapsulate failure (bad peer key) to its status (setPIN step 4 and
/// the equivalent steps of every subcommand).
fn decapsulate_error(_: ProtocolError) -> CtapError {
    CtapError::InvalidParameter
}

impl PinState {
    /// Power-up (`initialize()` of both protocols, CTAP 2.1 §6.5.4): new key
    /// agreement keys, new tokens not in use, no mismatches.
    pub fn new(env: &mut dyn Env, times: TokenTimes) -> Self {
        let rng = env.rng();
        Self {
            key_agreement: [
                KeyAgreementKey::generate(rng),
                KeyAgreementKey::generate(rng),
            ],
            consecutive_mismatches: 0,
            tokens: TokenState::new(rng, times),
        }
    }

    /// A power cycle (field loss then a new tap): everything per-power-cycle
    /// is renewed and the three-mismatch block is cleared.
    pub fn power_cycle(&mut self, env: &mut dyn Env) {
        self.regenerate(env);
        self.tokens.reset(env.rng());
        self.consecutive_mismatches = 0;
    }

    /// authenticatorReset: like a power cycle (the persistent PIN data is
    /// wiped by the caller).
    pub fn reset(&mut self, env: &mut dyn Env) {
        self.power_cycle(env);
    }

    /// `regenerate()` of both protocols: every shared secret derived so far
    /// stops working.
    fn regenerate(&mut self, env: &mut dyn Env) {
        let rng = env.rng();
        self.key_agreement = [
            KeyAgreementKey::generate(rng),
            KeyAgreementKey::generate(rng),
        ];
    }

    /// getPINRetries `powerCycleState`: true when three consecutive
    /// mismatches block PIN checks until a power cycle.
    pub fn power_cycle_required(&self) -> bool {
        self.consecutive_mismatches >= MAX_CONSECUTIVE_MISMATCHES
    }

    /// getKeyAgreement: `getPublicKey()` of `protocol`.
    pub fn key_agreement(&self, protocol: PinUvAuthProtocol) -> CoseEcdhKey {
        self.key_agreement[index(protocol)].public_key()
    }

    /// `decapsulate(keyAgreement)` with the card's key agreement key of
    /// `protocol`; an unusable key (`None`) or a point off the curve is
    /// `CTAP1_ERR_INVALID_PARAMETER`. Also what the hmac-secret extension
    /// uses for its `keyAgreement` (CTAP 2.1 §12.5).
    pub fn shared_secret(
        &self,
        protocol: PinUvAuthProtocol,
        peer: Option<&CoseEcdhKey>,
    ) -> Result<SharedSecret, CtapError> {
        self.decapsulate(protocol, peer)
    }

    /// `decapsulate(keyAgreement)`; a bad key is `CTAP1_ERR_INVALID_PARAMETER`.
    fn decapsulate(
        &self,
        protocol: PinUvAuthProtocol,
        peer: Option<&CoseEcdhKey>,
    ) -> Result<SharedSecret, CtapError> {
        let peer = peer.ok_or(CtapError::InvalidParameter)?;
        self.key_agreement[index(protocol)]
            .decapsulate(protocol, peer)
            .map_err(decapsulate_error)
    }

    /// The checks every PIN-verifying subcommand makes before touching
    /// pinRetries.
    fn precheck(&self, store: &dyn PinStore) -> Result<[u8; PIN_HASH_LEN], CtapError> {
        let stored = store.pin_hash().ok_or(CtapError::PinNotSet)?;
        if store.pin_retries() == 0 {
            return Err(CtapError::PinBlocked);
        }
        if self.power_cycle_required() {
            return Err(CtapError::PinAuthBlocked);
        }
        Ok(stored)
    }

    /// Decrement-then-compare (CTAP 2.1 §6.5.5.6 steps 6-8, §6.5.5.7.2 steps
    /// 8-10), see the module documentation.
    fn check_pin_hash(
        &mut self,
        env: &mut dyn Env,
        store: &mut dyn PinStore,
        stored: &[u8; PIN_HASH_LEN],
        secret: &SharedSecret,
        pin_hash_enc: &[u8],
    ) -> Result<(), CtapError> {
        // The attempt is durable as spent first: if that cannot be stored,
        // nothing is compared and no oracle or token comes out of it.
        store.reserve_pin_attempt(env)?;
        let matches = match secret.decrypt(pin_hash_enc).map(Zeroizing::new) {
            Ok(hash) => hash.len() == PIN_HASH_LEN && bool::from(hash.ct_eq(stored.as_slice())),
            Err(_) => false,
        };
        if !matches {
            store.pin_mismatch();
            self.regenerate(env);
            self.consecutive_mismatches = self.consecutive_mismatches.saturating_add(1);
            return Err(if store.pin_retries() == 0 {
                CtapError::PinBlocked
            } else if self.power_cycle_required() {
                CtapError::PinAuthBlocked
            } else {
                CtapError::PinInvalid
            });
        }
        self.consecutive_mismatches = 0;
        store.pin_match();
        Ok(())
    }

    /// setPIN (0x03, CTAP 2.1 §6.5.5.5 steps 3-12).
    pub fn set_pin(
        &mut self,
        env: &mut dyn Env,
        store: &mut dyn PinStore,
        request: NewPinRequest<'_>,
    ) -> Result<(), CtapError> {
        if store.pin_hash().is_some() {
            return Err(CtapError::PinAuthInvalid);
        }
        let secret = self.decapsulate(request.protocol, request.key_agreement)?;
        secret
            .verify(request.new_pin_enc, request.pin_uv_auth_param)
            .map_err(|_| CtapError::PinAuthInvalid)?;
        let padded = Zeroizing::new(
            secret
                .decrypt(request.new_pin_enc)
                .map_err(|_| CtapError::PinAuthInvalid)?,
        );
        let pin = policy::check_new_pin(&padded, &request.rules)?;
        store.persist_new_pin(env, &pin)?;
        self.tokens.reset(env.rng());
        Ok(())
    }

    /// changePIN (0x04, CTAP 2.1 §6.5.5.6 steps 3-19); `pin_hash_enc` is the
    /// encrypted hash of the current PIN.
    pub fn change_pin(
        &mut self,
        env: &mut dyn Env,
        store: &mut dyn PinStore,
        request: NewPinRequest<'_>,
        pin_hash_enc: &[u8],
    ) -> Result<(), CtapError> {
        let stored = self.precheck(store)?;
        let secret = self.decapsulate(request.protocol, request.key_agreement)?;
        let message = [request.new_pin_enc, pin_hash_enc].concat();
        secret
            .verify(&message, request.pin_uv_auth_param)
            .map_err(|_| CtapError::PinAuthInvalid)?;
        self.check_pin_hash(env, store, &stored, &secret, pin_hash_enc)?;
        let checked = secret
            .decrypt(request.new_pin_enc)
            .map(Zeroizing::new)
            .map_err(|_| CtapError::PinAuthInvalid)
            .and_then(|padded| policy::check_new_pin(&padded, &request.rules))
            .and_then(|pin| {
                if store.force_pin_change() && bool::from(pin.hash.ct_eq(&stored)) {
                    Err(CtapError::PinPolicyViolation)
                } else {
                    Ok(pin)
                }
            });
        let pin = match checked {
            Ok(pin) => pin,
            Err(e) => {
                // The current PIN was right: its restored retries are stored
                // as after getPinToken, then the new PIN is refused.
                store.flush_pin_retries(env)?;
                return Err(e);
            }
        };
        // Stores pinRetries = 8 with the new PIN, in one write.
        store.persist_new_pin(env, &pin)?;
        self.tokens.reset(env.rng());
        Ok(())
    }

    /// getPinToken (0x05, §6.5.5.7.1) and
    /// getPinUvAuthTokenUsingPinWithPermissions (0x09, §6.5.5.7.2): returns
    /// `pinUvAuthToken` encrypted for the platform.
    ///
    /// `pcmr` (CTAP 2.2/2.3 §6.5.5.7.2 step 4) must be requested alone and
    /// needs `perCredMgmtRO` (in `grantable`), else
    /// `CTAP2_ERR_UNAUTHORIZED_PERMISSION`; it issues a new persistent
    /// pinUvAuthToken (`pin::persistent`), stored before it leaves, and
    /// leaves the ordinary tokens alone.
    pub fn get_token(
        &mut self,
        env: &mut dyn Env,
        store: &mut dyn PinStore,
        request: TokenRequest<'_>,
    ) -> Result<Vec<u8>, CtapError> {
        let (permissions, rp_id, with_permissions) = match request.permissions {
            None => (permission::DEFAULT, None, false),
            Some((requested, rp_id)) => {
                if requested == 0 {
                    return Err(CtapError::InvalidParameter);
                }
                // CTAP 2.3 §6.5.5.7.2 step 4: "Undefined permissions ... are
                // ignored"; a permission the card does not support is
                // UNAUTHORIZED_PERMISSION, and so is `pcmr` together with
                // any other permission.
                let defined = u8::try_from(requested & u64::from(ALL_DEFINED)).unwrap_or(0);
                if defined & !request.grantable != 0 {
                    return Err(CtapError::UnauthorizedPermission);
                }
                if defined & permission::PER_CRED_MGMT_RO != 0
                    && defined != permission::PER_CRED_MGMT_RO
                {
                    return Err(CtapError::UnauthorizedPermission);
                }
                if defined & permission::NEED_RP_ID != 0 && rp_id.is_none() {
                    return Err(CtapError::MissingParameter);
                }
                (defined, rp_id, true)
            }
        };
        let stored = self.precheck(store)?;
        let secret = self.decapsulate(request.protocol, request.key_agreement)?;
        self.check_pin_hash(env, store, &stored, &secret, request.pin_hash_enc)?;
        store.flush_pin_retries(env)?;
        if store.force_pin_change() {
            return Err(if with_permissions {
                CtapError::PinPolicyViolation
            } else {
                CtapError::PinInvalid
            });
        }
        if permissions == permission::PER_CRED_MGMT_RO {
            let token = crate::pin::persistent::issue(env, store)?;
            return secret
                .encrypt(env.rng(), token.as_slice())
                .map_err(|_| CtapError::Other);
        }
        self.tokens.reset(env.rng());
        self.tokens.begin_using(env.now(), permissions, rp_id);
        secret
            .encrypt(env.rng(), self.tokens.value(request.protocol))
            .map_err(|_| CtapError::Other)
    }

    /// The token state, for the pinUvAuthParam checks of other commands.
    pub fn tokens(&mut self) -> &mut TokenState {
        &mut self.tokens
    }

    /// Consecutive mismatches since power-up (tests and diagnostics).
    pub fn consecutive_mismatches(&self) -> u8 {
        self.consecutive_mismatches
    }
}

/// Every permission bit CTAP 2.3 defines (2.1's six and `pcmr`).
const ALL_DEFINED: u8 = permission::MAKE_CREDENTIAL
    | permission::GET_ASSERTION
    | permission::CREDENTIAL_MANAGEMENT
    | permission::BIO_ENROLLMENT
    | permission::LARGE_BLOB_WRITE
    | permission::AUTHENTICATOR_CONFIG
    | permission::PER_CRED_MGMT_RO;
