//! Unit tests (deterministic, seeded environment).

mod cbor;
mod client_pin;
mod config;
mod credential;
mod pin_applet;
mod pin_card;
mod pin_client;
mod pin_protocol;
mod pin_retries;
mod pin_tokens;
mod pin_uv_flows;
mod state;
