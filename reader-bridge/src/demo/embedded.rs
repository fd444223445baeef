//! The embedded card of `tapfido demo`: the FIDO applet with the default
//! profile, in-memory state and a fresh test attestation CA, behind the
//! reader bridge's ISO 7816-4 framing.

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use rand_core::{OsRng, RngCore};
use x509_cert::Certificate;

use super::DemoError;

/// A card ready to run, with what the relying party needs to trust it.
pub struct EmbeddedCard {
    /// The card.
    pub card: Box<dyn vsmartcard::VirtualCard>,
    /// The test CA certificate: the trust anchor.
    pub anchors: Vec<Certificate>,
    /// The profile's AAGUID.
    pub aaguid: [u8; 16],
}

impl std::fmt::Debug for EmbeddedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCard")
            .field("aaguid", &self.aaguid)
            .finish_non_exhaustive()
    }
}

/// The applet of the embedded card and what the relying party needs.
#[derive(Debug)]
pub struct EmbeddedApplet {
    /// The FIDO applet.
    pub applet: FidoApplet<TestEnv>,
    /// The test CA certificate.
    pub anchors: Vec<Certificate>,
    /// The profile's AAGUID.
    pub aaguid: [u8; 16],
}

/// The FIDO applet on the default profile with a fresh test CA; the
/// environment is in memory and seeded from the OS (its clock stands still,
/// so the tap's presence window never closes during the demo).
pub fn fido_applet() -> Result<EmbeddedApplet, DemoError> {
    let ca =
        AttestationCa::generate_test_ca(&mut OsRng).map_err(|e| DemoError::Card(e.to_string()))?;
    let anchor = crate::rp::cert::parse_cert(ca.cert_der(), 0)
        .map_err(|e| DemoError::Card(e.to_string()))?;
    let config = Config::default();
    let aaguid = config.aaguid.0;
    let applet = FidoApplet::new(TestEnv::seeded(OsRng.next_u64()), config, Some(&ca))
        .map_err(|e| DemoError::Card(e.to_string()))?;
    Ok(EmbeddedApplet {
        applet,
        anchors: vec![anchor],
        aaguid,
    })
}

impl EmbeddedCard {
    /// Build the card.
    pub fn build() -> Result<Self, DemoError> {
        let _parts = fido_applet()?;
        Err(DemoError::Card(
            "the reader bridge (ISO 7816-4 framing) is not in this build yet".to_owned(),
        ))
    }
}
