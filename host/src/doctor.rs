//! `tapfido doctor`: the Entra ID / Windows readiness checks on any card.
//!
//! | check                 | passes when                                              |
//! |-----------------------|----------------------------------------------------------|
//! | select                | SELECT of the FIDO AID answers `U2F_V2` or `FIDO_2_0`     |
//! | atr                   | contactless ATR form `3B 8n 80 01 …` (PC/SC part 3)      |
//! | canonical CBOR        | getInfo passes the strict CTAP2 canonical decoder         |
//! | versions              | `FIDO_2_0` or `FIDO_2_1` listed                           |
//! | clientPin             | option `clientPin` present (Entra needs UV every sign-in) |
//! | discoverable creds    | option `rk` true                                          |
//! | hmac-secret           | extension listed (Windows sign-in)                        |
//! | AAGUID                | not all zero                                              |
//! | packed attestation    | makeCredential → `packed` with x5c, valid per WebAuthn §8.2 |
//! | response paging       | a response over 256 bytes to a short APDU comes with 61XX / GET RESPONSE |
//! | UV on sign-in         | getAssertion with a PIN token sets flag UV                |
//! | chaining 240 / 250    | a chained request is reassembled (CTAP answer, not ISO error) |
//! | extended length       | an extended APDU is accepted (only required when the ATR says so) |
//!
//! What it changes: the attestation check makes one non-discoverable
//! credential (nothing is stored on the card, its signature counter moves).

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::client_pin::permissions;
use super::get_assertion::GetAssertionRequest;
use super::info::Info;
use super::make_credential::MakeCredentialRequest;
use super::pcsc::{PcscTransport, ReaderSelector};
use super::session::{CardSession, LengthMode};
use super::status::CtapStatus;
use super::transport::Transport;
use super::HostError;
use relying_party::{self as rp, Expectations, Trust};

/// Options of `tapfido doctor`.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// The card's PIN, for the checks that need UV.
    pub pin: Option<String>,
    /// Trust anchors for the attestation chain.
    pub anchors: Vec<Certificate>,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Meets the requirement.
    Pass,
    /// Does not; `doctor` exits non-zero.
    Fail,
    /// Works, with a caveat.
    Warn,
    /// Not run (the reason says why).
    Skipped,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Check name.
    pub name: String,
    /// Outcome.
    pub outcome: CheckOutcome,
    /// Why.
    pub reason: String,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// Which reader or transport.
    pub transport: String,
    /// The card's ATR.
    #[serde(with = "relying_party::hex_bytes")]
    pub atr: Vec<u8>,
    /// Every check.
    pub checks: Vec<Check>,
    /// What the checks changed on the card.
    pub changes: Vec<String>,
    /// No check failed.
    pub passed: bool,
}

impl DoctorReport {
    /// The check called `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

impl std::fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "tapfido doctor: {} (ATR {})",
            self.transport,
            hex::encode_upper(&self.atr)
        )?;
        for c in &self.checks {
            let mark = match c.outcome {
                CheckOutcome::Pass => "pass",
                CheckOutcome::Fail => "FAIL",
                CheckOutcome::Warn => "warn",
                CheckOutcome::Skipped => "skip",
            };
            writeln!(f, "  [{mark}] {:<20} {}", c.name, c.reason)?;
        }
        for change in &self.changes {
            writeln!(f, "  changed: {change}")?;
        }
        writeln!(f, "{}", if self.passed { "PASS" } else { "FAIL" })
    }
}

struct Table(Vec<Check>);

impl Table {
    fn add(&mut self, name: &str, outcome: CheckOutcome, reason: impl Into<String>) {
        self.0.push(Check {
            name: name.to_owned(),
            outcome,
            reason: reason.into(),
        });
    }
}

const RP_ID: &str = "doctor.tapfido.test";

fn pass_if(ok: bool) -> CheckOutcome {
    if ok {
        CheckOutcome::Pass
    } else {
        CheckOutcome::Fail
    }
}

/// A getAssertion whose allow list holds only made-up IDs, long enough
/// (> 255 bytes) to need chaining or extended length; a card that
/// reassembled it answers `CTAP2_ERR_NO_CREDENTIALS`.
fn long_probe<T: Transport>(
    s: &mut CardSession<T>,
    mode: LengthMode,
) -> Result<CtapStatus, HostError> {
    let saved = s.length_mode();
    s.set_length_mode(mode);
    let req = GetAssertionRequest {
        rp_id: RP_ID.to_owned(),
        client_data_hash: Sha256::digest(b"tapfido doctor probe").into(),
        allow_list: (0u8..5).map(|i| vec![0xD0 ^ i; 64]).collect(),
        hmac_salts: None,
    };
    let result = s.get_assertion(&req, None);
    s.set_length_mode(saved);
    match result {
        Ok(_) => Ok(CtapStatus::Ok),
        Err(HostError::Ctap(status)) => Ok(status),
        Err(e) => Err(e),
    }
}

fn probe_reason(result: Result<CtapStatus, HostError>) -> (bool, String) {
    match result {
        Ok(CtapStatus::NoCredentials) | Ok(CtapStatus::Ok) => (
            true,
            "request reassembled (card answered CTAP2_ERR_NO_CREDENTIALS)".to_owned(),
        ),
        Ok(other) => (false, format!("card answered {other}")),
        Err(e) => (false, e.to_string()),
    }
}

/// Run every check on an open session.
pub fn doctor<T: Transport>(s: &mut CardSession<T>, options: &DoctorOptions) -> DoctorReport {
    let mut t = Table(Vec::new());
    let mut changes = Vec::new();
    let atr = s.atr();
    let transport = s.transport().describe();
    let finish = |t: Table, changes: Vec<String>| DoctorReport {
        passed: t.0.iter().all(|c| c.outcome != CheckOutcome::Fail),
        transport: transport.clone(),
        atr: atr.clone(),
        checks: t.0,
        changes,
    };

    match s.select() {
        Ok(v) => t.add(
            "select",
            CheckOutcome::Pass,
            format!("FIDO AID selected, {v}"),
        ),
        Err(e) => {
            t.add("select", CheckOutcome::Fail, e.to_string());
            return finish(t, changes);
        }
    }
    let contactless = atr.len() >= 4
        && atr[0] == 0x3B
        && atr[1] & 0xF0 == 0x80
        && atr[2] == 0x80
        && atr[3] == 0x01;
    let caps = s.atr_info().clone();
    t.add(
        "atr",
        if contactless {
            CheckOutcome::Pass
        } else {
            CheckOutcome::Warn
        },
        format!(
            "{}; extended length {}, chaining {}",
            if contactless {
                "contactless form 3B 8n 80 01"
            } else {
                "not the PC/SC contactless form"
            },
            if caps.extended_length {
                "advertised"
            } else {
                "not advertised"
            },
            if caps.chaining {
                "advertised"
            } else {
                "not advertised"
            },
        ),
    );
    let info: Info = match s.get_info() {
        Ok(info) => {
            t.add(
                "canonical CBOR",
                CheckOutcome::Pass,
                "getInfo passed the strict canonical decoder",
            );
            info
        }
        Err(HostError::Cbor(e)) => {
            t.add(
                "canonical CBOR",
                CheckOutcome::Fail,
                format!("getInfo: {e}"),
            );
            return finish(t, changes);
        }
        Err(e) => {
            t.add(
                "canonical CBOR",
                CheckOutcome::Fail,
                format!("getInfo failed: {e}"),
            );
            return finish(t, changes);
        }
    };
    let fido2 = info.has_version("FIDO_2_0") || info.has_version("FIDO_2_1");
    t.add("versions", pass_if(fido2), info.versions.join(" "));
    let pin_state = info.option("clientPin");
    t.add(
        "clientPin",
        pass_if(pin_state.is_some()),
        match pin_state {
            Some(true) => "PIN set",
            Some(false) => "offered, no PIN set yet",
            None => "not offered: no UV, Entra requires UV on every sign-in",
        },
    );
    t.add(
        "discoverable creds",
        pass_if(info.option("rk") == Some(true)),
        match info.option("rk") {
            Some(true) => "option rk true",
            Some(false) => "option rk false",
            None => "option rk not listed",
        },
    );
    t.add(
        "hmac-secret",
        pass_if(info.has_extension("hmac-secret")),
        if info.extensions.is_empty() {
            "no extensions listed in getInfo".to_owned()
        } else {
            format!("extensions: {}", info.extensions.join(" "))
        },
    );
    let aaguid_ok = info.aaguid.len() == 16 && info.aaguid.iter().any(|b| *b != 0);
    t.add(
        "AAGUID",
        pass_if(aaguid_ok),
        relying_party::policy::format_aaguid(&info.aaguid),
    );

    let with_perms = info.option("pinUvAuthToken") == Some(true);
    let needs_pin = pin_state == Some(true) && info.option("makeCredUvNotRqd") != Some(true);
    let token = |s: &mut CardSession<T>, perm: u8| -> Option<Result<super::PinToken, HostError>> {
        match (&options.pin, pin_state) {
            (Some(pin), Some(true)) => Some(s.pin_token(pin, perm, Some(RP_ID), with_perms)),
            _ => None,
        }
    };
    let challenge = Sha256::digest(b"tapfido doctor attestation").to_vec();
    let cdj = rp::make_client_data(
        rp::Ceremony::Create,
        &challenge,
        &format!("https://{RP_ID}"),
    );
    let mut credential = None;
    if needs_pin && options.pin.is_none() {
        t.add(
            "packed attestation",
            CheckOutcome::Skipped,
            "the card needs a PIN for makeCredential: pass --pin-file",
        );
        t.add(
            "response paging",
            CheckOutcome::Skipped,
            "no makeCredential",
        );
    } else {
        let tok = match token(s, permissions::MC) {
            Some(Ok(tok)) => Some(tok),
            Some(Err(e)) => {
                t.add(
                    "packed attestation",
                    CheckOutcome::Fail,
                    format!("PIN token: {e}"),
                );
                return finish(t, changes);
            }
            None => None,
        };
        let mut req = MakeCredentialRequest::new(
            Sha256::digest(&cdj).into(),
            RP_ID,
            b"tapfido-doctor",
            "doctor",
        );
        req.algorithms = vec![-7];
        let before = s.apdu_count();
        // Short APDUs, as libfido2 and Windows send them: a response over
        // 256 bytes must come back with 61 XX / GET RESPONSE.
        let saved = s.length_mode();
        s.set_length_mode(LengthMode::Chained(super::apdu::DEFAULT_CHAIN_BLOCK));
        let made = s.make_credential(&req, tok.as_ref());
        s.set_length_mode(saved);
        match made {
            Ok(resp) => {
                changes.push(
                    "made one non-discoverable credential for doctor.tapfido.test (nothing stored on the card; \
                     its signature counter moved)"
                        .to_owned(),
                );
                let apdus = s.apdu_count() - before;
                let ao = resp.attestation_object();
                let size = ao.len();
                let expect = Expectations {
                    rp_id: RP_ID.to_owned(),
                    origin: format!("https://{RP_ID}"),
                    challenge: challenge.clone(),
                    require_uv: false,
                };
                match rp::verify_registration(&ao, &cdj, &expect, &options.anchors) {
                    Ok(reg) => {
                        let (outcome, reason) = match (&reg.fmt[..], reg.x5c_len, &reg.trust) {
                            ("packed", n, Trust::Anchored { anchor }) if n > 0 => {
                                (CheckOutcome::Pass, format!("packed, x5c of {n}, chains to {anchor}"))
                            }
                            ("packed", n, Trust::Unanchored) if n > 0 => (
                                CheckOutcome::Warn,
                                format!("packed, x5c of {n}, valid; no trust anchor given to check the root"),
                            ),
                            (fmt, n, _) => (
                                CheckOutcome::Fail,
                                format!("{fmt} with x5c of {n}: Entra needs packed with a certificate chain"),
                            ),
                        };
                        t.add("packed attestation", outcome, reason);
                        credential = Some(reg);
                    }
                    Err(e) => t.add(
                        "packed attestation",
                        CheckOutcome::Fail,
                        format!("relying party: rule {}: {e}", e.rule_name()),
                    ),
                }
                if size > 256 {
                    t.add(
                        "response paging",
                        CheckOutcome::Pass,
                        format!("{size}-byte attestation read in {apdus} APDUs"),
                    );
                } else {
                    t.add(
                        "response paging",
                        CheckOutcome::Skipped,
                        "response fit one frame",
                    );
                }
            }
            Err(e) => {
                t.add(
                    "packed attestation",
                    CheckOutcome::Fail,
                    format!("makeCredential: {e}"),
                );
                t.add(
                    "response paging",
                    CheckOutcome::Skipped,
                    "no makeCredential",
                );
            }
        }
    }

    match (&credential, token(s, permissions::GA)) {
        (Some(reg), Some(Ok(tok))) => {
            let a_cdj =
                rp::make_client_data(rp::Ceremony::Get, &challenge, &format!("https://{RP_ID}"));
            let req = GetAssertionRequest {
                rp_id: RP_ID.to_owned(),
                client_data_hash: Sha256::digest(&a_cdj).into(),
                allow_list: vec![reg.credential_id.clone()],
                hmac_salts: None,
            };
            match s.get_assertion(&req, Some(&tok)) {
                Ok((a, _)) => {
                    let uv = rp::AuthData::parse(&a.auth_data)
                        .map(|d| d.user_verified())
                        .unwrap_or(false);
                    t.add(
                        "UV on sign-in",
                        pass_if(uv),
                        if uv {
                            "flag UV set with a PIN token"
                        } else {
                            "flag UV clear"
                        },
                    );
                }
                Err(e) => t.add("UV on sign-in", CheckOutcome::Fail, e.to_string()),
            }
        }
        (_, Some(Err(e))) => t.add(
            "UV on sign-in",
            CheckOutcome::Fail,
            format!("PIN token: {e}"),
        ),
        (None, _) => t.add(
            "UV on sign-in",
            CheckOutcome::Skipped,
            "no credential to sign with",
        ),
        (Some(_), None) => t.add(
            "UV on sign-in",
            CheckOutcome::Skipped,
            if pin_state == Some(true) {
                "pass --pin-file to check UV"
            } else {
                "no PIN set on the card"
            },
        ),
    }

    for block in [240usize, 250] {
        let (ok, reason) = probe_reason(long_probe(s, LengthMode::Chained(block)));
        t.add(&format!("chaining {block}"), pass_if(ok), reason);
    }
    let (ok, reason) = probe_reason(long_probe(s, LengthMode::Extended));
    let outcome = match (ok, caps.extended_length) {
        (true, _) => CheckOutcome::Pass,
        (false, true) => CheckOutcome::Fail,
        (false, false) => CheckOutcome::Warn,
    };
    t.add(
        "extended length",
        outcome,
        if caps.extended_length || ok {
            reason
        } else {
            format!("not advertised and not accepted: {reason}")
        },
    );
    finish(t, changes)
}

/// `tapfido doctor [--reader R]` on a PC/SC reader.
pub fn doctor_pcsc(
    selector: &ReaderSelector,
    options: &DoctorOptions,
) -> Result<DoctorReport, HostError> {
    let mut session = CardSession::new(PcscTransport::open(selector)?);
    Ok(doctor(&mut session, options))
}
