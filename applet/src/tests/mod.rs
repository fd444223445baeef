//! Unit tests (deterministic, seeded environment).

mod cbor;
mod config;
mod credential;
mod state;
mod pin_protocol;
mod pin_card;
mod pin_client;
mod pin_retries;
mod pin_tokens;
mod client_pin;
mod pin_applet;
mod pin_uv_flows;
