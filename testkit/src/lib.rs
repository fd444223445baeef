//! Test kit shared by tapfido's test suites (dev-only, never shipped): an
//! independent model of the card frame and of a relying party's fixtures,
//! written apart from the crates under test.
//!
//! # Layout
//! - [`card`]: a minimal ISO 7816-4 card frame around the FIDO applet.
//! - [`client`]: an independent CTAP2 client that drives the applet in process: builds
//!   requests and checks responses with `ciborium`, `p256`, `ed25519-dalek`, `sha2` and
//!   `x509-cert` only, never the applet's own CBOR, key or state types.
//! - [`pin`]: the platform side of PIN/UV auth protocols one and two.
//! - [`rp`]: attestation fixtures (a test CA, certificates, signed
//!   registrations and assertions) and the WebAuthn §16 vectors ([`rp::vectors`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod card;
pub mod client;
pub mod pin;
pub mod rp;
