//! The tap-to-authenticate flow a person walks through, on any transport.
//!
//! ```text
//!  tap ─ read card info ─ set PIN ─ register (rk, hmac-secret, UV) ─ verify attestation
//!   ─ remove card ─ tap again ─ sign in with PIN ─ verify assertion ─ policy
//! ```

use std::time::Instant;

use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::report::{micros, DemoReport, DemoStep, StepResult};
use host::client_pin::permissions;
use host::{
    hmac_secret_output, CardSession, GetAssertionRequest, HostError, Info, MakeCredentialRequest,
    Transport,
};
use relying_party::{
    make_client_data, verify_assertion, verify_registration, Ceremony, Expectations, Policy,
    StoredCredential,
};

/// What the flow needs to know.
#[derive(Debug, Clone)]
pub struct FlowParams {
    /// RP ID.
    pub rp_id: String,
    /// User name.
    pub user: String,
    /// PIN to set (or to use, when the card already has one).
    pub pin: String,
    /// The policy to verify against.
    pub policy: Policy,
    /// Trust anchors for attestation.
    pub anchors: Vec<Certificate>,
}

struct Runner<'a, T: Transport> {
    session: &'a mut CardSession<T>,
    steps: Vec<DemoStep>,
    failed: bool,
}

impl<T: Transport> Runner<'_, T> {
    /// Run `f` as step `name`, unless an earlier step failed.
    fn step<R>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut CardSession<T>) -> Result<(R, String), String>,
    ) -> Option<R> {
        if self.failed {
            self.skip(name, "an earlier step failed");
            return None;
        }
        let before = self.session.apdu_count();
        let start = Instant::now();
        let outcome = f(self.session);
        let micros = micros(start.elapsed());
        let apdus = self.session.apdu_count() - before;
        let (value, result) = match outcome {
            Ok((v, detail)) => (Some(v), StepResult::Pass { detail }),
            Err(error) => {
                self.failed = true;
                (None, StepResult::Fail { error })
            }
        };
        self.steps.push(DemoStep {
            name: name.to_owned(),
            apdus,
            micros,
            result,
        });
        value
    }

    fn skip(&mut self, name: &str, reason: &str) {
        self.steps.push(DemoStep {
            name: name.to_owned(),
            apdus: 0,
            micros: 0,
            result: StepResult::Skipped {
                reason: reason.to_owned(),
            },
        });
    }
}

fn e(err: HostError) -> String {
    err.to_string()
}

fn challenge(label: &str, rp: &str) -> Vec<u8> {
    // The demo's RP is offline and deterministic: challenges are derived,
    // not random; a real RP draws them from its RNG.
    Sha256::digest(format!("tapfido demo {label} {rp}").as_bytes()).to_vec()
}

/// Walk the flow on an open session; `transport` names the path in the report.
pub fn run_flow<T: Transport>(
    session: &mut CardSession<T>,
    params: &FlowParams,
    transport: String,
) -> DemoReport {
    let rp = params.rp_id.clone();
    let origin = format!("https://{rp}");
    let mut r = Runner {
        session,
        steps: Vec::new(),
        failed: false,
    };

    r.step("tap", |s| {
        let v = s.select().map_err(e)?;
        Ok(((), format!("SELECT FIDO AID → {v}")))
    });
    let info: Option<Info> = r.step("read card info", |s| {
        let info = s.get_info().map_err(e)?;
        let detail = format!(
            "versions {}, AAGUID {}",
            info.versions.join(" "),
            relying_party::policy::format_aaguid(&info.aaguid)
        );
        Ok((info, detail))
    });
    let info = info.unwrap_or_default();
    let with_permissions = info.option("pinUvAuthToken") == Some(true);
    let pin_ok = match info.option("clientPin") {
        None if !r.failed => {
            r.skip("set PIN", "the card does not offer clientPin");
            false
        }
        None => {
            r.skip("set PIN", "an earlier step failed");
            false
        }
        Some(_) if !info.supports_protocol_two() => {
            r.skip("set PIN", "the card does not offer PIN/UV auth protocol 2");
            false
        }
        Some(true) => r
            .step("set PIN", |_| {
                Ok(((), "a PIN is already set; using it".to_owned()))
            })
            .is_some(),
        Some(false) => r
            .step("set PIN", |s| {
                s.set_pin(&params.pin).map_err(e)?;
                let left = s.pin_retries().map_err(e)?;
                Ok(((), format!("PIN set, {} retries", left.retries)))
            })
            .is_some(),
    };
    let rk = info.option("rk") == Some(true);
    let hmac = info.has_extension("hmac-secret");
    let cdj = make_client_data(Ceremony::Create, &challenge("register", &rp), &origin);
    let expect_reg = Expectations {
        rp_id: rp.clone(),
        origin: origin.clone(),
        challenge: challenge("register", &rp),
        require_uv: pin_ok,
    };
    let registered = if !rk && !r.failed {
        r.skip(
            "register",
            "the card does not offer discoverable credentials (option rk)",
        );
        None
    } else {
        r.step("register", |s| {
            let token = if pin_ok {
                Some(
                    s.pin_token(&params.pin, permissions::MC, Some(&rp), with_permissions)
                        .map_err(e)?,
                )
            } else {
                None
            };
            let mut req = MakeCredentialRequest::new(
                Sha256::digest(&cdj).into(),
                &rp,
                &Sha256::digest(params.user.as_bytes())[..16],
                &params.user,
            );
            req.rp_name = Some("tapfido demo".to_owned());
            req.resident_key = true;
            req.hmac_secret = hmac;
            let resp = s.make_credential(&req, token.as_ref()).map_err(e)?;
            let detail = format!(
                "{} attestation, discoverable, {}",
                resp.fmt,
                if hmac {
                    "hmac-secret requested"
                } else {
                    "hmac-secret skipped: not in the card's getInfo extensions"
                }
            );
            Ok((resp, detail))
        })
    };
    let verified = match registered {
        Some(resp) => r.step("verify attestation", |_| {
            let reg = verify_registration(
                &resp.attestation_object(),
                &cdj,
                &expect_reg,
                &params.anchors,
            )
            .map_err(|err| format!("relying party: {err}"))?;
            let detail = format!(
                "{} {}, {}, UV {}{}",
                reg.fmt,
                reg.attestation_type,
                reg.trust,
                reg.user_verified,
                match (hmac, reg.hmac_secret) {
                    (false, _) => String::new(),
                    (true, Some(b)) => format!(", hmac-secret {b}"),
                    (true, None) => ", hmac-secret not returned".to_owned(),
                }
            );
            Ok((reg, detail))
        }),
        None => {
            r.skip("verify attestation", "nothing was registered");
            None
        }
    };
    r.step("remove card", |s| {
        s.power_cycle().map_err(e)?;
        Ok(((), "card left the field (power off, power on)".to_owned()))
    });
    r.step("tap again", |s| {
        let v = s.select().map_err(e)?;
        Ok(((), format!("SELECT FIDO AID → {v}")))
    });
    let a_challenge = challenge("sign-in", &rp);
    let a_cdj = make_client_data(Ceremony::Get, &a_challenge, &origin);
    let assertion = match &verified {
        Some(_) => r.step("sign in with PIN", |s| {
            let token = if pin_ok {
                Some(
                    s.pin_token(&params.pin, permissions::GA, Some(&rp), with_permissions)
                        .map_err(e)?,
                )
            } else {
                None
            };
            let salt: [u8; 32] = Sha256::digest(b"tapfido demo salt").into();
            let req = GetAssertionRequest {
                rp_id: rp.clone(),
                client_data_hash: Sha256::digest(&a_cdj).into(),
                allow_list: Vec::new(),
                hmac_salts: hmac.then(|| salt.to_vec()),
                third_party_payment: false,
            };
            let (a, ka) = s.get_assertion(&req, token.as_ref()).map_err(e)?;
            let secret = match &ka {
                Some(ka) => hmac_secret_output(&a, ka).map_err(e)?,
                None => None,
            };
            let user = match &a.user {
                Some(u) => u
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("user handle {}", hex::encode(&u.id))),
                None => "(no user entity returned)".to_owned(),
            };
            let detail = format!(
                "discoverable credential for {user}{}",
                match &secret {
                    Some(out) => format!(", hmac-secret output {} bytes", out.len()),
                    None if hmac => ", no hmac-secret output".to_owned(),
                    None => ", hmac-secret skipped: not offered by the card".to_owned(),
                }
            );
            Ok((a, detail))
        }),
        None => {
            r.skip("sign in with PIN", "nothing was registered");
            None
        }
    };
    let expect_get = Expectations {
        rp_id: rp.clone(),
        origin,
        challenge: a_challenge,
        require_uv: pin_ok,
    };
    let checked = match (&assertion, &verified) {
        (Some(a), Some(reg)) => r.step("verify assertion", |_| {
            let stored = StoredCredential {
                credential_id: reg.credential_id.clone(),
                public_key: reg.public_key.clone(),
                sign_count: reg.sign_count,
            };
            if a.credential_id != reg.credential_id {
                return Err("the card signed with another credential".to_owned());
            }
            let ok = verify_assertion(&a.auth_data, &a_cdj, &a.signature, &expect_get, &stored)
                .map_err(|err| format!("relying party: {err}"))?;
            let detail = format!(
                "signature valid, counter {}, UV {}",
                ok.sign_count, ok.user_verified
            );
            Ok((ok, detail))
        }),
        _ => {
            r.skip("verify assertion", "no assertion");
            None
        }
    };
    let mut registration_policy = None;
    let mut assertion_policy = None;
    match (&verified, &checked) {
        (Some(reg), Some(a)) => {
            let reg_report = params.policy.evaluate_registration(reg);
            let a_report = params.policy.evaluate_assertion(a);
            r.step("policy", |_| {
                let failed: Vec<String> = reg_report
                    .rules
                    .iter()
                    .chain(a_report.rules.iter())
                    .filter(|x| x.outcome == relying_party::Outcome::Fail)
                    .map(|x| x.reason.clone())
                    .collect();
                if failed.is_empty() {
                    Ok((
                        (),
                        format!("policy {:?}: every rule passed", params.policy.name),
                    ))
                } else {
                    Err(format!(
                        "policy {:?}: {}",
                        params.policy.name,
                        failed.join("; ")
                    ))
                }
            });
            registration_policy = Some(reg_report);
            assertion_policy = Some(a_report);
        }
        _ => r.skip("policy", "nothing to evaluate"),
    }
    let passed = !r.failed;
    DemoReport {
        transport,
        rp_id: rp,
        steps: r.steps,
        registration_policy,
        assertion_policy,
        passed,
    }
}
