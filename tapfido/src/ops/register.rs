//! `tapfido register --rp ID --user NAME [--rk] [--uv] [--hmac-secret] [--enterprise 1|2]
//! [--policy FILE]`: makeCredential, then the offline relying party and the policy.
//!
//! `--enterprise` asks for enterprise attestation (CTAP 2.1 §7.1: 1
//! vendor-facilitated, 2 platform-managed); a card that lists `ep: false`
//! gets authenticatorConfig enableEnterpriseAttestation first (reported).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{pin_token_for, random_challenge, RegistrationVerification, Verification};
use host::client_pin::permissions;
use host::session::CardSession;
use host::transport::Transport;
use host::{HostError, MakeCredentialRequest};
use relying_party::policy::format_aaguid;
use relying_party::store::CredentialRecord;
use relying_party::{make_client_data, Ceremony, Expectations, Policy, PolicyReport};

/// What to register.
#[derive(Debug, Clone, Default)]
pub struct RegisterOptions {
    /// RP ID.
    pub rp_id: String,
    /// User name (also the display name; the user handle is derived from it).
    pub user: String,
    /// Discoverable credential (`--rk`).
    pub resident_key: bool,
    /// Require user verification (`--uv`): needs the PIN.
    pub uv: bool,
    /// Ask for hmac-secret (`--hmac-secret`).
    pub hmac_secret: bool,
    /// Ask for enterprise attestation (`--enterprise 1|2`).
    pub enterprise: Option<u8>,
    /// The PIN, when the card has one.
    pub pin: Option<String>,
    /// Policy to evaluate (`--policy FILE`); its trust anchors are used.
    pub policy: Option<Policy>,
}

/// The result of `tapfido register`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterReport {
    /// RP ID.
    pub rp_id: String,
    /// User.
    pub user: String,
    /// Attestation format.
    pub fmt: String,
    /// `enterpriseAttestation` asked for (1 or 2).
    pub enterprise_requested: Option<u8>,
    /// Whether the card had to enable enterprise attestation first.
    pub enterprise_enabled_now: bool,
    /// `epAtt`: the card returned an enterprise attestation.
    pub enterprise_attestation: bool,
    /// What to keep for `tapfido login` (when verification passed).
    pub record: Option<CredentialRecord>,
    /// The relying party's verdict.
    pub verification: RegistrationVerification,
    /// The policy's verdict.
    pub policy: Option<PolicyReport>,
    /// APDUs exchanged.
    pub apdus: usize,
}

impl RegisterReport {
    /// Verification and policy both passed.
    pub fn passed(&self) -> bool {
        self.verification.passed() && self.policy.as_ref().is_none_or(|p| p.passed)
    }
}

impl std::fmt::Display for RegisterReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "registered {} at {} ({} attestation, {} APDUs)",
            self.user, self.rp_id, self.fmt, self.apdus
        )?;
        if self.enterprise_enabled_now {
            writeln!(
                f,
                "  enabled enterprise attestation on the card (authenticatorConfig 0x01; a reset clears it)"
            )?;
        }
        if let Some(kind) = self.enterprise_requested {
            let kind = match kind {
                1 => "vendor-facilitated",
                2 => "platform-managed",
                _ => "unknown",
            };
            writeln!(
                f,
                "  enterprise attestation ({kind}): {}",
                if self.enterprise_attestation {
                    "returned (epAtt)"
                } else {
                    "not returned (RP ID not on the card's list): batch attestation"
                }
            )?;
        }
        match &self.verification {
            Verification::Passed { result } => {
                writeln!(
                    f,
                    "  verified: {}, {}, AAGUID {}, credential {}, UV {}, device-bound {}",
                    result.attestation_type,
                    result.trust,
                    format_aaguid(&result.aaguid),
                    hex::encode(&result.credential_id),
                    result.user_verified,
                    !result.backup_eligible
                )?;
                if let Some(subject) = &result.attestation_subject {
                    writeln!(f, "  attestation certificate: {subject}")?;
                }
            }
            Verification::Failed { error } => writeln!(f, "  verification FAILED: {error}")?,
        }
        if let Some(p) = &self.policy {
            super::verify::write_policy(f, p)?;
        }
        Ok(())
    }
}

/// Register a credential and verify it.
pub fn register<T: Transport>(
    s: &mut CardSession<T>,
    o: &RegisterOptions,
) -> Result<RegisterReport, HostError> {
    let before = s.apdu_count();
    if s.version().is_none() {
        s.select()?;
    }
    let info = s.get_info()?;
    if o.hmac_secret && !info.has_extension("hmac-secret") {
        return Err(HostError::Unsupported("the hmac-secret extension"));
    }
    if o.resident_key && info.option("rk") != Some(true) {
        return Err(HostError::Unsupported("discoverable credentials"));
    }
    let mut enterprise_enabled_now = false;
    if o.enterprise.is_some() {
        match info.option("ep") {
            None => {
                return Err(HostError::Unsupported(
                    "enterprise attestation (no ep in getInfo)",
                ))
            }
            Some(true) => {}
            Some(false) => {
                let acfg = match (o.pin.as_deref(), info.option("clientPin")) {
                    (Some(pin), Some(true)) => {
                        Some(s.pin_token(pin, permissions::ACFG, None, true)?)
                    }
                    (None, Some(true)) => return Err(HostError::PinRequired),
                    _ => None,
                };
                s.enable_enterprise_attestation(acfg.as_ref())?;
                enterprise_enabled_now = true;
            }
        }
    }
    let token = pin_token_for(s, &info, o.pin.as_deref(), permissions::MC, &o.rp_id, o.uv)?;
    let challenge = random_challenge(s.rng());
    let origin = format!("https://{}", o.rp_id);
    let cdj = make_client_data(Ceremony::Create, &challenge, &origin);
    let mut req = MakeCredentialRequest::new(
        Sha256::digest(&cdj).into(),
        &o.rp_id,
        &Sha256::digest(o.user.as_bytes())[..16],
        &o.user,
    );
    req.resident_key = o.resident_key;
    req.hmac_secret = o.hmac_secret;
    req.enterprise_attestation = o.enterprise;
    let resp = s.make_credential(&req, token.as_ref())?;
    let expect = Expectations {
        rp_id: o.rp_id.clone(),
        origin,
        challenge,
        require_uv: o.uv,
    };
    let super::verify::VerifyReport {
        verification,
        policy,
    } = super::verify::check_registration(
        &resp.attestation_object(),
        &cdj,
        &expect,
        o.policy.as_ref(),
    );
    let record = verification
        .value()
        .map(|reg| CredentialRecord::of_registration(&o.rp_id, reg, &o.user));
    Ok(RegisterReport {
        rp_id: o.rp_id.clone(),
        user: o.user.clone(),
        fmt: resp.fmt,
        enterprise_requested: o.enterprise,
        enterprise_enabled_now,
        enterprise_attestation: resp.ep_att,
        record,
        verification,
        policy,
        apdus: s.apdu_count() - before,
    })
}
