//! Unit tests (deterministic, seeded environment).

mod cbor;
mod config;
mod credential;
mod state;
mod pin_protocol;
