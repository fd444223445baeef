//! Unit tests (deterministic, seeded environment).

mod cbor;
mod pin_protocol;
