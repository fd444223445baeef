//! The embedded card of `tapfido demo`: the FIDO applet on a built-in
//! profile, in-memory state and a fresh test attestation CA, behind the
//! reader bridge's ISO 7816-4 layer ([`Bridge`]).
//!
//! ```text
//!  Bridge(profile ATR) ─▶ FidoApplet(profile [fido], CardEnv: the OS RNG,
//!                                     a monotonic clock, presence "in the field",
//!                                     in-memory storage)
//! ```
//! The same [`CardEnv`] as a served card, so every key, credential ID and
//! token comes from the operating system's RNG; the seeded `TestEnv` is for
//! tests only.

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::env::MemoryStorage;
use applet::fido::FidoApplet;
use rand_core::OsRng;
use x509_cert::Certificate;

use super::DemoError;
use crate::control::PresenceSwitch;
use crate::env::CardEnv;
use crate::profile::Profile;
use reader_bridge::bridge::Bridge;

/// A card ready to run, with what the relying party needs to trust it.
pub struct EmbeddedCard {
    /// The card.
    pub card: Bridge,
    /// The test CA certificate: the trust anchor.
    pub anchors: Vec<Certificate>,
    /// The profile's AAGUID.
    pub aaguid: [u8; 16],
    /// Profile name.
    pub profile: String,
}

impl std::fmt::Debug for EmbeddedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCard")
            .field("profile", &self.profile)
            .field("aaguid", &self.aaguid)
            .finish_non_exhaustive()
    }
}

/// The `[fido]` table of a profile as the applet's [`Config`].
pub fn fido_config(profile: &Profile) -> Result<Config, DemoError> {
    match &profile.fido {
        Some(table) => table
            .clone()
            .try_into::<Config>()
            .map_err(|e| DemoError::Card(format!("profile {} [fido]: {e}", profile.name))),
        None => Ok(Config::default()),
    }
}

impl EmbeddedCard {
    /// The card of built-in profile `profile` (`default`, `pocketkey`).
    ///
    /// The environment is a served card's ([`CardEnv`]) over in-memory
    /// storage: OS randomness, a monotonic clock (the demo takes seconds,
    /// well inside the tap's presence window) and the card in the field.
    pub fn build(profile: &str) -> Result<Self, DemoError> {
        let profile = Profile::builtin(profile).map_err(|e| DemoError::Card(e.to_string()))?;
        let config = fido_config(&profile)?;
        let ca = AttestationCa::generate_test_ca(&mut OsRng)
            .map_err(|e| DemoError::Card(e.to_string()))?;
        let anchor = relying_party::cert::parse_cert(ca.cert_der(), 0)
            .map_err(|e| DemoError::Card(e.to_string()))?;
        let aaguid = config.aaguid.0;
        let env = CardEnv::new(PresenceSwitch::default(), MemoryStorage::default());
        let applet =
            FidoApplet::new(env, config, Some(&ca)).map_err(|e| DemoError::Card(e.to_string()))?;
        Ok(Self {
            card: Bridge::new(profile.atr.clone(), vec![Box::new(applet)]),
            anchors: vec![anchor],
            aaguid,
            profile: profile.name,
        })
    }
}
