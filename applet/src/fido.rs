//! The FIDO applet: CTAP2 and U2F behind the FIDO AID (CTAP 2.1 §11.3 NFC
//! binding; U2F NFC protocol).
//!
//! ```text
//!  SELECT 00 A4 04 00 08 A0 00 00 06 47 2F 00 01 [Le]
//!     → "U2F_V2" 90 00   (U2F enabled in the profile)
//!     → "FIDO_2_0" 90 00 (U2F disabled)
//!  NFCCTAP_MSG 80 10 P1 00 Lc <cmd || CBOR> Le   → Applet::ctap
//!     → <status || CBOR> 90 00
//!  U2F 00 01|02|03 ...                           → Applet::process
//!     CLA ≠ 00 → 6E 00; unknown INS or U2F off → 6D 00
//! ```
//!
//! User presence over NFC: [`Presence::Touched`](crate::env::Presence) is
//! presence, `Field` is presence within the profile's window after
//! power-up, `Withheld` is no presence. Without presence a CTAP command
//! changes nothing and answers [`CtapOutcome::UserPresenceNeeded`] when the
//! client may wait (`91 00` polling), else `CTAP2_ERR_USER_ACTION_TIMEOUT`.

use std::fmt;

use crate::attestation::{AttestationCa, AttestationError, BatchAttestation};
use crate::config::{Config, ConfigError};
use crate::ctap::{Authenticator, Failure};
use crate::env::Env;
use crate::error::CtapError;
use crate::iso::{Applet, Command, CtapOutcome, Status};
use crate::state::{CardState, Identity, Persistent, StateError};

/// The FIDO AID (CTAP 2.1 §11.3.1; U2F NFC §2).
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];
/// SELECT answer with U2F enabled.
pub const VERSION_U2F: &[u8] = b"U2F_V2";
/// SELECT answer with only CTAP2.
pub const VERSION_FIDO2: &[u8] = b"FIDO_2_0";

/// Why the card cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The profile is not usable.
    #[error("card profile: {0}")]
    Config(#[from] ConfigError),
    /// The stored state is corrupt, of an unknown version, or unreadable.
    /// The card refuses to start rather than reset silently.
    #[error("card state: {0}")]
    State(#[from] StateError),
    /// The attestation CA could not certify the batch key.
    #[error("attestation: {0}")]
    Attestation(#[from] AttestationError),
    /// Writing the state when loading or starting the card failed.
    #[error("card state: writing failed ({0})")]
    Store(CtapError),
}

/// The FIDO2 + U2F applet over an environment `E`.
pub struct FidoApplet<E: Env> {
    env: E,
    auth: Authenticator,
}

impl<E: Env> fmt::Debug for FidoApplet<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FidoApplet")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl<E: Env> FidoApplet<E> {
    /// Load the card from `env.storage()`.
    ///
    /// - nothing stored: a fresh card — new master key, and, when `ca` is
    ///   given, a new batch attestation key certified by it; stored at once.
    /// - stored state: loaded; a corrupt/truncated/unknown-version blob is
    ///   an error (never a silent reset).
    /// - `ca` absent: self attestation.
    pub fn new(mut env: E, config: Config, ca: Option<&AttestationCa>) -> Result<Self, LoadError> {
        config.validate()?;
        let aaguid = config.aaguid.0;
        let (state, attestation) = match CardState::load(&mut env)? {
            Some(mut state) => {
                let attestation = match (state.identity().attestation_key, ca) {
                    (Some(key), Some(ca)) => {
                        Some(BatchAttestation::from_key_bytes(ca, &aaguid, &key)?)
                    }
                    (None, Some(ca)) => {
                        let batch = BatchAttestation::generate(ca, &aaguid, env.rng())?;
                        let identity = Identity {
                            attestation_key: Some(*batch.key_bytes()),
                            ..state.identity().clone()
                        };
                        let persistent = state.persistent().clone();
                        state
                            .replace(&mut env, identity, persistent)
                            .map_err(LoadError::Store)?;
                        Some(batch)
                    }
                    (_, None) => None,
                };
                (state, attestation)
            }
            None => {
                let mut master_key = [0u8; 32];
                env.rng().fill_bytes(&mut master_key);
                let batch = ca
                    .map(|ca| BatchAttestation::generate(ca, &aaguid, env.rng()))
                    .transpose()?;
                let identity = Identity {
                    master_key,
                    attestation_key: batch.as_ref().map(|b| *b.key_bytes()),
                };
                let state = CardState::new(identity, Persistent::fresh(config.min_pin_length));
                state.store_initial(&mut env).map_err(LoadError::Store)?;
                (state, batch)
            }
        };
        let auth = Authenticator::new(&mut env, config, state, attestation);
        Ok(FidoApplet { env, auth })
    }

    /// Reserve signature counters ahead, before serving: the card's first
    /// makeCredential or getAssertion then answers without a write
    /// ([`CardState::reserve_sign_counts`]). Nothing is stored when a
    /// reservation is left; a storage failure changes nothing and is returned.
    pub fn reserve_ahead(&mut self) -> Result<(), CtapError> {
        self.auth.state.reserve_sign_counts(&mut self.env)
    }

    /// The environment (tests move the clock and presence through it).
    pub fn env(&self) -> &E {
        &self.env
    }

    /// The environment, mutably.
    pub fn env_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// The authenticator (state, profile, keys).
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// Environment and authenticator together, for command modules that
    /// need both (U2F).
    pub fn parts(&mut self) -> (&mut E, &mut Authenticator) {
        (&mut self.env, &mut self.auth)
    }

    /// Consume the applet, returning the environment (restart tests).
    pub fn into_env(self) -> E {
        self.env
    }

    /// Whether U2F works now: the profile has it and alwaysUv is off (CTAP
    /// 2.1 §7.2.4: alwaysUv on a card without built-in UV disables CTAP1,
    /// so SELECT answers "FIDO_2_0" and REGISTER / AUTHENTICATE `69 86`).
    fn u2f_enabled(&self) -> bool {
        self.auth.config.u2f && !self.auth.state.persistent().always_uv
    }

    /// U2F (CTAP1) instruction hook: REGISTER 01, AUTHENTICATE 02, VERSION 03.
    fn u2f(&mut self, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), Status> {
        let user_present = self.auth.user_present(&self.env);
        let auth = &mut self.auth;
        let ctx = crate::u2f::U2f {
            env: &mut self.env,
            state: &mut auth.state,
            id_key: &auth.id_key,
            attestation: auth.attestation.as_ref(),
            user_present,
        };
        crate::u2f::process(ctx, cmd, reply).map_err(Status::from)
    }
}

impl<E: Env> Applet for FidoApplet<E> {
    fn aid(&self) -> &[u8] {
        &FIDO_AID
    }

    fn select(&mut self, reply: &mut Vec<u8>) -> Result<(), Status> {
        self.auth.transient.assertions = None;
        reply.extend_from_slice(if self.u2f_enabled() {
            VERSION_U2F
        } else {
            VERSION_FIDO2
        });
        Ok(())
    }

    fn deselect(&mut self) {
        self.auth.transient.assertions = None;
    }

    fn process(&mut self, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), Status> {
        if cmd.cla != 0x00 {
            return Err(Status::ClassNotSupported);
        }
        match cmd.ins {
            // CTAP 2.1 §7.2.4: with alwaysUv on, U2F_REGISTER and
            // U2F_AUTHENTICATE fail with SW_COMMAND_NOT_ALLOWED (69 86).
            // (iso7816 names 69 86 "command not allowed, no current EF").
            0x01 | 0x02 if self.auth.config.u2f && !self.u2f_enabled() => {
                Err(Status::CommandNotAllowedNoEf)
            }
            0x01..=0x03 if self.auth.config.u2f => self.u2f(cmd, reply),
            _ => Err(Status::InstructionNotSupportedOrInvalid),
        }
    }

    fn ctap(
        &mut self,
        request: &[u8],
        may_wait: bool,
        reply: &mut Vec<u8>,
    ) -> Result<CtapOutcome, Status> {
        match self.auth.process(&mut self.env, request) {
            Ok(bytes) => {
                reply.extend_from_slice(&bytes);
                Ok(CtapOutcome::Done)
            }
            Err(Failure::Ctap(e)) => {
                reply.push(e.code());
                Ok(CtapOutcome::Done)
            }
            Err(Failure::PresenceNeeded) if may_wait => Ok(CtapOutcome::UserPresenceNeeded),
            Err(Failure::PresenceNeeded) => {
                reply.push(presence_denied(request).code());
                Ok(CtapOutcome::Done)
            }
        }
    }

    fn end_session(&mut self) {
        self.auth.transient.assertions = None;
    }

    fn power_on(&mut self) {
        self.auth.transient = crate::state::Transient::power_up(self.env.now());
    }

    fn power_off(&mut self) {
        self.auth.transient = crate::state::Transient::power_up(self.env.now());
        self.auth.pin.power_cycle(&mut self.env);
    }

    fn shutdown(&mut self) {
        // An unused reserved PIN attempt goes back to storage; a crash would
        // have cost it (crate::state module docs).
        if let Err(e) = self.auth.state.release(&mut self.env) {
            tracing::warn!(%e, "storing the PIN retries at shutdown failed");
        }
    }
}

/// What a client that cannot wait for the tap gets when presence is missing.
///
/// makeCredential and getAssertion: CTAP2_ERR_OPERATION_DENIED (CTAP 2.1 and
/// 2.3 §6.1.2 steps 1.2 and 14, §6.2.2 steps 1.2 and 9: "If the user declines
/// permission, or the operation times out, then end the operation by
/// returning CTAP2_ERR_OPERATION_DENIED"). authenticatorReset and
/// authenticatorSelection keep CTAP2_ERR_USER_ACTION_TIMEOUT (§6.6, §6.9).
fn presence_denied(request: &[u8]) -> CtapError {
    match request.first() {
        Some(&crate::ctap::MAKE_CREDENTIAL) | Some(&crate::ctap::GET_ASSERTION) => {
            CtapError::OperationDenied
        }
        _ => CtapError::UserActionTimeout,
    }
}
