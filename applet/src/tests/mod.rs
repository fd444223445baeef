//! Unit tests (deterministic, seeded environment).

mod cbor;
mod client_pin;
mod client_pin_props;
mod config;
mod credential;
mod pin_applet;
mod pin_card;
mod pin_client;
mod pin_get_info;
mod pin_protocol;
mod pin_reset;
mod pin_retries;
mod pin_tokens;
mod pin_uv_flows;
mod reservation;
mod state;
