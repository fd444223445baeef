//! PIN and pinUvAuthToken handling (CTAP 2.1 §6.5).
//!
//! - [`protocol`]: PIN/UV auth protocols one and two (key agreement, KDF,
//!   encryption, MACs), pure cryptography.
//! - [`policy`]: what a new PIN must look like, and its stored hash;
//!   [`complexity`]: the optional PIN complexity policy (CTAP 2.3).
//! - [`token`]: the pinUvAuthTokens, their permissions, RP binding and
//!   lifetime.
//! - [`store`]: the persistent PIN data the logic reads and writes.
//! - [`machine`]: the ClientPIN state machine (retries, the three-mismatch
//!   block, token issue).
//! - [`uv`]: checking a pinUvAuthParam in makeCredential / getAssertion.

pub mod complexity;
pub mod machine;
pub mod persistent;
pub mod policy;
pub mod protocol;
pub mod store;
pub mod token;
pub mod uv;

pub use machine::{NewPinRequest, PinState, TokenRequest};
pub use protocol::{CoseEcdhKey, PinUvAuthProtocol};
pub use store::{PinStore, MAX_PIN_RETRIES};
pub use token::{permission, TokenTimes};
