//! PIN and pinUvAuthToken handling (CTAP 2.1 §6.5).
//!
//! - [`protocol`]: PIN/UV auth protocols one and two (key agreement, KDF,
//!   encryption, MACs), pure cryptography.

pub mod protocol;
