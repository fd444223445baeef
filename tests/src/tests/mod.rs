//! Unit tests of the harness's own client model (no pcscd needed).

mod apdu;
