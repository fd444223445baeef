//! authenticatorSelection (0x0B), CTAP 2.1 §6.9.
//!
//! ```text
//!  request: 0B (no parameters)       response: 00 (empty)
//! ```
//!
//! The platform asks the user to pick an authenticator by touching it. On
//! NFC the card that is in the field has been picked: the command succeeds
//! once user presence is established. Without presence the applet answers
//! `UserPresenceNeeded` (`91 00` polling) when the client may wait, else
//! `CTAP2_ERR_USER_ACTION_TIMEOUT` (0x2F), exactly as for any other command
//! that needs presence: §6.9 keeps `CTAP2_ERR_OPERATION_DENIED` for a user
//! who explicitly declines, which a card without a button cannot observe.
//! It changes no state and uses no PIN.

use super::{Authenticator, Failure};
use crate::env::Env;

/// authenticatorSelection: succeeds once user presence is established.
pub fn handle(auth: &Authenticator, env: &dyn Env) -> Result<(), Failure> {
    auth.require_presence(env)
}
