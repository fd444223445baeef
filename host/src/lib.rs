//! The PC/SC host client: drive any FIDO card — the virtual one or a
//! physical card on a physical reader — as a platform would.
//!
//! # Layout
//! - [`transport`]: the [`Transport`] trait and the in-process transport;
//!   [`pcsc`]: readers, waiting for a tap, and the PC/SC transport.
//! - [`apdu`], [`atr`]: host-side ISO 7816-4 framing and ATR capabilities.
//! - [`session`]: [`CardSession`] — SELECT, CTAP2 over NFCCTAP_MSG with
//!   chaining / extended length / GET RESPONSE.
//! - One module per CTAP command: [`info`], [`make_credential`],
//!   [`get_assertion`], [`client_pin`] (with [`pin_protocol`], protocol two),
//!   [`cred_mgmt`]; and [`u2f`] for CTAP1.
//! - [`status`]: named ISO status words and CTAP status codes; [`HostError`].

pub mod apdu;
pub mod atr;
pub mod authenticator_config;
pub mod client_pin;
pub mod cred_mgmt;
pub mod doctor;
mod error;
pub(crate) mod fields;
pub mod get_assertion;
pub mod info;
pub mod make_credential;
pub mod pcsc;
pub mod pin_protocol;
pub mod session;
pub mod status;
pub mod transport;
pub mod u2f;

pub use client_pin::{permissions, PinRetries, PinToken};
pub use error::HostError;
pub use get_assertion::{hmac_secret_output, Assertion, GetAssertionRequest, UserEntity};
pub use info::Info;
pub use make_credential::{MakeCredentialRequest, MakeCredentialResponse};
pub use session::{CardSession, FidoVersion, LengthMode, FIDO_AID};
pub use status::{CtapStatus, StatusWord};
pub use transport::{InProcess, Transport};
