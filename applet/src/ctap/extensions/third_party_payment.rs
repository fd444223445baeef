//! thirdPartyPayment (CTAP 2.2 §12.9 "Third Party Payment Authentication
//! Extension"): marks a credential as usable for Secure Payment
//! Confirmation by a party other than its RP, and reports the mark.
//!
//! ```text
//!  makeCredential input:  "thirdPartyPayment": true
//!    the credential is enabled for third-party payment: flag bit 4 sealed
//!    in its ID (`credential::CredFlags`), for discoverable and
//!    non-discoverable credentials alike; no authData output
//!  getAssertion input:    "thirdPartyPayment": true
//!  output (authData ED):  "thirdPartyPayment": bool (the credential's mark)
//!  credentialManagement:  enumerateCredentials response key 0x0C
//!                         thirdPartyPayment: bool
//! ```
//! `false` as input is accepted and does nothing (no mark at
//! makeCredential, no output at getAssertion); another type is
//! `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`. The makeCredential output side is
//! UNVERIFIED against the CTAP 2.2 text (only python-fido2's client, which
//! reads no makeCredential output, was at hand): the card sends none.

use crate::cbor::Value;
use crate::error::CtapError;

/// Extension identifier.
pub const NAME: &str = "thirdPartyPayment";

/// credentialManagement response key (enumerateCredentials).
pub const CRED_MGMT_KEY: u8 = 0x0C;

/// The input (a boolean) of either command.
pub fn input(v: &Value) -> Result<bool, CtapError> {
    v.as_bool()
}
