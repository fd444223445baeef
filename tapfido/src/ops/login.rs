//! `tapfido login --rp ID [--credential ID] [--policy FILE]`: getAssertion
//! (with getNextAssertion for every account of a discoverable login), then
//! the offline relying party when the credential's record is known.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{pin_token_for, random_challenge, AssertionVerification, Verification};
use host::client_pin::permissions;
use host::get_assertion::{
    hmac_secret_output, third_party_payment_output, GetAssertionRequest, UserEntity,
};
use host::session::CardSession;
use host::transport::Transport;
use host::HostError;
use relying_party::store::CredentialRecord;
use relying_party::{make_client_data, AuthData, Ceremony, Expectations, Policy, PolicyReport};

/// What to sign in to.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// RP ID.
    pub rp_id: String,
    /// Use this credential (`--credential ID`); none = discoverable.
    pub credential_id: Option<Vec<u8>>,
    /// Require user verification: needs the PIN.
    pub uv: bool,
    /// The PIN.
    pub pin: Option<String>,
    /// Evaluate hmac-secret with this 32-byte salt.
    pub hmac_salt: Option<[u8; 32]>,
    /// Ask for thirdPartyPayment (`--third-party-payment`, CTAP 2.2 §12.9).
    pub third_party_payment: bool,
    /// The stored records: the one matching the credential used is verified.
    pub records: Vec<CredentialRecord>,
    /// Policy to evaluate.
    pub policy: Option<Policy>,
}

/// The result of `tapfido login`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoginReport {
    /// RP ID.
    pub rp_id: String,
    /// Credential used.
    #[serde(with = "relying_party::hex_bytes")]
    pub credential_id: Vec<u8>,
    /// User of a discoverable credential.
    pub user: Option<UserEntity>,
    /// Other accounts the card holds for this RP (getNextAssertion).
    pub other_accounts: Vec<UserEntity>,
    /// Signature counter.
    pub sign_count: u32,
    /// Flag UV.
    pub user_verified: bool,
    /// Length of the hmac-secret output (the secret itself is not shown).
    pub hmac_secret_len: Option<usize>,
    /// A fingerprint of the hmac-secret output: the first 8 bytes of its
    /// SHA-256, to compare with `tapfido register --hmac-secret-mc`'s.
    pub hmac_secret_fingerprint: Option<String>,
    /// The credential's thirdPartyPayment mark, when asked for.
    pub third_party_payment: Option<bool>,
    /// The relying party's verdict, when a record of the credential exists.
    pub verification: Option<AssertionVerification>,
    /// The record with its new counter (store it back).
    pub updated_record: Option<CredentialRecord>,
    /// The policy's verdict.
    pub policy: Option<PolicyReport>,
    /// APDUs exchanged.
    pub apdus: usize,
}

impl LoginReport {
    /// Verification (when done) and policy both passed.
    pub fn passed(&self) -> bool {
        self.verification.as_ref().is_none_or(Verification::passed)
            && self.policy.as_ref().is_none_or(|p| p.passed)
    }
}

impl std::fmt::Display for LoginReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self
            .user
            .as_ref()
            .and_then(|u| u.name.clone())
            .unwrap_or_else(|| hex::encode(&self.credential_id));
        writeln!(
            f,
            "signed in to {} as {who} (counter {}, UV {}, {} APDUs)",
            self.rp_id, self.sign_count, self.user_verified, self.apdus
        )?;
        for other in &self.other_accounts {
            writeln!(
                f,
                "  another account: {}",
                other.name.clone().unwrap_or_else(|| hex::encode(&other.id))
            )?;
        }
        if let Some(n) = self.hmac_secret_len {
            writeln!(f, "  hmac-secret: {n}-byte output")?;
        }
        if let Some(fp) = &self.hmac_secret_fingerprint {
            writeln!(f, "  hmac-secret fingerprint: {fp}")?;
        }
        if let Some(on) = self.third_party_payment {
            writeln!(f, "  thirdPartyPayment: {on}")?;
        }
        match &self.verification {
            Some(Verification::Passed { .. }) => {
                writeln!(f, "  verified: signature, RP ID hash, flags, counter")?
            }
            Some(Verification::Failed { error }) => writeln!(f, "  verification FAILED: {error}")?,
            None => writeln!(f, "  not verified: no stored record of this credential")?,
        }
        if let Some(p) = &self.policy {
            super::verify::write_policy(f, p)?;
        }
        Ok(())
    }
}

/// Sign in and verify.
pub fn login<T: Transport>(
    s: &mut CardSession<T>,
    o: &LoginOptions,
) -> Result<LoginReport, HostError> {
    let before = s.apdu_count();
    if s.version().is_none() {
        s.select()?;
    }
    let info = s.get_info()?;
    let token = pin_token_for(s, &info, o.pin.as_deref(), permissions::GA, &o.rp_id, o.uv)?;
    let challenge = random_challenge(s.rng());
    let origin = format!("https://{}", o.rp_id);
    let cdj = make_client_data(Ceremony::Get, &challenge, &origin);
    let req = GetAssertionRequest {
        rp_id: o.rp_id.clone(),
        client_data_hash: Sha256::digest(&cdj).into(),
        allow_list: o.credential_id.iter().cloned().collect(),
        hmac_salts: o.hmac_salt.map(|s| s.to_vec()),
        third_party_payment: o.third_party_payment,
    };
    let (a, ka) = s.get_assertion(&req, token.as_ref())?;
    if o.third_party_payment && !info.has_extension("thirdPartyPayment") {
        return Err(HostError::Unsupported("the thirdPartyPayment extension"));
    }
    let output = match &ka {
        Some(ka) => hmac_secret_output(&a, ka)?.map(zeroize::Zeroizing::new),
        None => None,
    };
    let hmac_secret_len = output.as_ref().map(|out| out.len());
    let hmac_secret_fingerprint = output.as_deref().map(|out| super::fingerprint(out));
    let third_party_payment = if o.third_party_payment {
        third_party_payment_output(&a)?
    } else {
        None
    };
    let mut other_accounts = Vec::new();
    for _ in 1..a.number_of_credentials.unwrap_or(1) {
        if let Some(user) = s.get_next_assertion()?.user {
            other_accounts.push(user);
        }
    }
    let auth = AuthData::parse(&a.auth_data).map_err(|_| HostError::Malformed("authData"))?;
    let record = o
        .records
        .iter()
        .find(|r| r.rp_id == o.rp_id && r.credential_id == hex::encode(&a.credential_id));
    let expect = Expectations {
        rp_id: o.rp_id.clone(),
        origin,
        challenge,
        require_uv: o.uv,
    };
    let checked = record.map(|r| {
        super::verify::check_assertion(
            &a.auth_data,
            &cdj,
            &a.signature,
            r,
            &expect,
            o.policy.as_ref(),
        )
    });
    let updated_record = match (&checked, record) {
        (Some(report), Some(r)) => report.verification.value().map(|v| CredentialRecord {
            sign_count: v.sign_count,
            ..r.clone()
        }),
        _ => None,
    };
    let (verification, policy) = match checked {
        Some(report) => (Some(report.verification), report.policy),
        None => (None, None),
    };
    Ok(LoginReport {
        rp_id: o.rp_id.clone(),
        credential_id: a.credential_id,
        user: a.user,
        other_accounts,
        sign_count: auth.sign_count,
        user_verified: auth.user_verified(),
        hmac_secret_len,
        hmac_secret_fingerprint,
        third_party_payment,
        verification,
        updated_record,
        policy,
        apdus: s.apdu_count() - before,
    })
}
