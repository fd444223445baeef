//! `tapfido demo`: the whole tap-to-authenticate flow on an embedded card.
//!
//! ```text
//!  in-process (no pcscd, or --in-process):
//!    CardSession ─▶ InProcess ─▶ card (FIDO applet, in-memory state)
//!  through PC/SC:
//!    CardSession ─▶ pcscd ─▶ vpcd ─▶ card served by this process
//! ```
//! Each step records its APDU count, its time and its result; the relying
//! party verifies attestation and assertion offline and evaluates a policy
//! (an embedded default modelled on Entra: attestation enforced against the
//! demo's CA, the card's AAGUID allowed, device-bound, UV required).

pub mod embedded;
mod flow;
mod report;
pub mod slot_lock;
pub mod vpcd;

use std::path::PathBuf;

use x509_cert::Certificate;

pub use flow::{run_flow, FlowParams};
pub use report::{DemoReport, DemoStep, StepResult};

use host::pcsc::{PcscTransport, ReaderSelector};
use host::{CardSession, HostError, InProcess};
use relying_party::policy::{Behavior, KeyRestrictions};
use relying_party::{Policy, PolicyError};
use vsmartcard::VirtualCard;

/// What `tapfido demo` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Run the card in this process even when pcscd is available.
    pub in_process: bool,
    /// Built-in card profile of the embedded card (`default`, `pocketkey`).
    pub profile: String,
    /// RP ID.
    pub rp_id: String,
    /// User name.
    pub user: String,
    /// PIN to set.
    pub pin: String,
    /// A policy TOML file instead of the embedded default.
    pub policy: Option<PathBuf>,
    /// Run the flow on the card already in this PC/SC reader (name or
    /// index) instead of an embedded card: a physical card, or one that
    /// `tapfido card` serves.
    pub reader: Option<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            in_process: false,
            profile: "default".to_owned(),
            rp_id: "login.tapfido.test".to_owned(),
            user: "alice@tapfido.test".to_owned(),
            pin: "123456".to_owned(),
            policy: None,
            reader: None,
        }
    }
}

/// Why the demo could not start (failures inside the flow are steps).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The embedded card could not be built.
    #[error("card: {0}")]
    Card(String),
    /// The policy file is unusable.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The reader or card could not be opened.
    #[error("host: {0}")]
    Host(#[from] HostError),
}

/// The embedded default policy: attestation enforced against `anchors`
/// (when any), the `aaguid` allowed (when known), device-bound credentials
/// only, UV required.
pub fn default_policy(anchors: Vec<Certificate>, aaguid: Option<[u8; 16]>) -> Policy {
    Policy {
        name: "tapfido demo (Entra-style)".to_owned(),
        enforce_attestation: !anchors.is_empty(),
        trust_anchors: anchors,
        device_bound_only: true,
        require_uv: true,
        key_restrictions: aaguid.map(|a| KeyRestrictions {
            behavior: Behavior::Allow,
            aaguids: vec![a],
        }),
    }
}

pub(crate) fn params(
    options: &DemoOptions,
    anchors: Vec<Certificate>,
    aaguid: Option<[u8; 16]>,
) -> Result<FlowParams, DemoError> {
    let policy = match &options.policy {
        Some(path) => Policy::load(path)?,
        None => default_policy(anchors.clone(), aaguid),
    };
    let anchors = if options.policy.is_some() {
        policy.trust_anchors.clone()
    } else {
        anchors
    };
    Ok(FlowParams {
        rp_id: options.rp_id.clone(),
        user: options.user.clone(),
        pin: options.pin.clone(),
        policy,
        anchors,
    })
}

/// Run the flow on `card` in this process, with `anchors` as the
/// attestation trust anchors and `aaguid` as the allowed model.
pub fn run_demo_with_card<C: VirtualCard>(
    card: C,
    anchors: Vec<Certificate>,
    aaguid: [u8; 16],
    options: &DemoOptions,
) -> Result<DemoReport, DemoError> {
    let params = params(options, anchors, Some(aaguid))?;
    let mut session = CardSession::new(InProcess::new(card));
    let transport = host::Transport::describe(session.transport());
    Ok(run_flow(&mut session, &params, transport))
}

/// Run the flow on the card in a PC/SC reader. Without `--policy`, the
/// default policy cannot know the card's CA or AAGUID: attestation and key
/// restrictions are then not enforced.
pub fn run_demo_pcsc(
    selector: &ReaderSelector,
    options: &DemoOptions,
) -> Result<DemoReport, DemoError> {
    let params = params(options, Vec::new(), None)?;
    let mut session = CardSession::new(PcscTransport::open(selector)?);
    let transport = host::Transport::describe(session.transport());
    Ok(run_flow(&mut session, &params, transport))
}

/// `tapfido demo`:
/// - `--reader R`: the card already in that reader;
/// - otherwise, with pcscd running and a free vpcd reader (and no
///   `--in-process`): the embedded card served on vpcd, driven through PC/SC
///   (the slot is locked as the end-to-end tests lock it, see [`slot_lock`]);
/// - otherwise: the embedded card in this process.
pub fn run_demo(options: &DemoOptions) -> Result<DemoReport, DemoError> {
    if let Some(reader) = &options.reader {
        return run_demo_pcsc(&ReaderSelector::parse(Some(reader)), options);
    }
    if !options.in_process {
        if let Some(lock) = vpcd::free_vpcd_slot() {
            let slot = lock.slot();
            let port = vpcd::VPCD_PORT.saturating_add(slot);
            // The lock is held until the card has left the reader.
            let report = vpcd::run_demo_vpcd(options, &format!("127.0.0.1:{port}"), slot);
            drop(lock);
            return report;
        }
    }
    let why = if options.in_process {
        "--in-process"
    } else {
        match host::pcsc::probe() {
            Ok(()) => "no free vpcd reader",
            Err(host::HostError::NoPcscLibrary) => "no PC/SC library",
            Err(_) => "no pcscd",
        }
    };
    let card = embedded::EmbeddedCard::build(&options.profile)?;
    let mut report = run_demo_with_card(card.card, card.anchors, card.aaguid, options)?;
    report.transport = format!(
        "card and reader in this process ({why}), {} profile",
        card.profile
    );
    Ok(report)
}
