//! What an end-to-end test needs before it can run, checked once per process.
//!
//! Policy: when the environment variable `CI` is set (to anything but empty, `0` or
//! `false`), a missing prerequisite is a test failure; otherwise the test prints
//! `SKIPPED: <what to install>` and passes, so `cargo test` stays usable on a machine
//! without pcscd.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// vpcd's pcsc-lite driver, as installed by Debian's `vsmartcard-vpcd`.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// vpcd's reader configuration (`DEVICENAME /dev/null:0x8C7B`: vpcd listens).
pub const VPCD_CONF: &str = "/etc/reader.conf.d/vpcd";

/// What to install on Debian 12 when something is missing.
pub const INSTALL_HINT: &str = "apt-get install -y --no-install-recommends pcscd \
     libpcsclite-dev vsmartcard-vpcd pcsc-tools (or run scripts/test.sh as root)";

/// A usable stack: pcscd answering, the vpcd driver installed, `tapfido` built.
#[derive(Debug)]
pub struct Stack {
    /// The `tapfido` binary the cards run.
    pub tapfido: PathBuf,
}

/// `true` when the `CI` environment variable is set to a true-ish value.
#[must_use]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The stack, checked (and pcscd started, `tapfido` built) once per process.
///
/// # Errors
/// A sentence saying what is missing and how to install it.
pub fn stack() -> Result<&'static Stack, String> {
    static STACK: OnceLock<Result<Stack, String>> = OnceLock::new();
    STACK.get_or_init(check).as_ref().map_err(Clone::clone)
}

fn check() -> Result<Stack, String> {
    for path in [VPCD_DRIVER, VPCD_CONF] {
        if !Path::new(path).exists() {
            return Err(format!("{path} is missing: {INSTALL_HINT}"));
        }
    }
    crate::pcscd::ensure()?;
    let tapfido = crate::binary::tapfido()?;
    Ok(Stack { tapfido })
}

/// `true` when this process runs as root (read from `/proc/self/status`).
#[must_use]
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}
