//! authenticatorGetNextAssertion (0x08), CTAP 2.1 §6.3.
//!
//! ```text
//!  request:  08                      (no parameters)
//!  response: 00 { 0x01 credential, 0x02 authData, 0x03 signature, 0x04 user,
//!                 ?0x07 largeBlobKey }
//!  extensions: those of the getAssertion, processed for each credential
//!  errors:   NOT_ALLOWED  no getAssertion sequence pending (none yet, another
//!                         command came in between, power cycle, all returned,
//!                         or more than 30 s since the previous assertion)
//!            CTAP1_ERR_OTHER  storage failure (counter not persisted)
//! ```

use std::time::Duration;

use super::get_assertion::assertion;
use super::{Authenticator, Failure};
use crate::cbor::Value;
use crate::env::Env;
use crate::error::CtapError;

/// The getNextAssertion timer (CTAP 2.1 §6.3: 30 seconds).
pub const TIMER: Duration = Duration::from_secs(30);

/// Handle authenticatorGetNextAssertion.
pub fn handle(auth: &mut Authenticator, env: &mut dyn Env) -> Result<Value, Failure> {
    let Some(mut it) = auth.transient.assertions.take() else {
        return Err(CtapError::NotAllowed.into());
    };
    if env.now().saturating_sub(it.last_sent) > TIMER || it.remaining.is_empty() {
        return Err(CtapError::NotAllowed.into());
    }
    let total = it.remaining.len() + 1;
    // Skip credentials deleted since the getAssertion.
    while let Some(id) = (!it.remaining.is_empty()).then(|| it.remaining.remove(0)) {
        if auth.resident(&id).is_none() {
            continue;
        }
        let extensions = it.extensions.as_ref().and_then(|v| v.as_map().ok());
        let result = assertion(
            auth,
            env,
            &it.rp_id_hash,
            &it.client_data_hash,
            &id,
            it.flags,
            total,
            extensions,
        );
        match result {
            Ok(response) => {
                if !it.remaining.is_empty() {
                    it.last_sent = env.now();
                    auth.transient.assertions = Some(it);
                }
                return Ok(response);
            }
            Err(e) => {
                // Keep the sequence so the client may retry after a storage error.
                it.remaining.insert(0, id);
                auth.transient.assertions = Some(it);
                return Err(e);
            }
        }
    }
    Err(CtapError::NotAllowed.into())
}
