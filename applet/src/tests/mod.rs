//! Unit tests (deterministic, seeded environment).

mod cbor;
mod config;
mod credential;
mod pin_protocol;
