//! Where to find vpcd and how patiently to reconnect.
//!
//! vpcd listens on TCP port `35963 + N` for its slot `N` (`/etc/reader.conf.d/vpcd`,
//! `DEVICENAME /dev/null:0x8C7B`; 0x8C7B = 35963), on all interfaces. The card connects; the
//! slot's reader in PC/SC is `Virtual PCD 00 0N`.

use std::sync::Arc;
use std::time::Duration;

use crate::link::Stats;
use crate::Error;

/// vpcd's port for slot 0.
pub const DEFAULT_PORT: u16 = 35963;

/// Where vpcd runs by default.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// The `HOST:PORT` address of vpcd's slot `slot` on `host` (port `35963 + slot`). An IPv6
/// literal is bracketed: `slot_addr("::1", 1)` is `"[::1]:35964"`.
#[must_use]
pub fn slot_addr(host: &str, slot: u8) -> String {
    let port = u32::from(DEFAULT_PORT) + u32::from(slot);
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Checks that `addr` is `HOST:PORT` with a numeric 16-bit port and a non-empty host.
///
/// # Errors
/// [`Error::InvalidAddress`] otherwise.
pub fn check_addr(addr: &str) -> Result<(), Error> {
    let invalid = || Error::InvalidAddress(addr.to_owned());
    let (host, port) = addr.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || host == "[]" || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    // An IPv6 literal must be bracketed, or the port cannot be told apart from the address.
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(invalid());
    }
    Ok(())
}

/// Exponential backoff between connection attempts: `initial`, doubling, capped at `max`.
///
/// The count of consecutive failures starts again from zero once a connection has carried at
/// least one message from vpcd (a vpcd that accepts and closes at once does not reset it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure. Raised to 1 ms if zero.
    pub initial: Duration,
    /// Largest delay. Raised to `initial` if smaller.
    pub max: Duration,
}

impl Default for Backoff {
    /// 50 ms doubling to 2 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (1 = the first failure):
    /// `initial * 2^(failures - 1)`, capped at `max`. Zero failures means no delay.
    #[must_use]
    pub fn delay(&self, failures: u32) -> Duration {
        let initial = self.initial.max(Duration::from_millis(1));
        let max = self.max.max(initial);
        let Some(doublings) = failures.checked_sub(1) else {
            return Duration::ZERO;
        };
        // 2^31 already exceeds any sensible cap; stop doubling once past it.
        let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
        initial.checked_mul(factor).map_or(max, |d| d.min(max))
    }
}

/// How [`serve`](crate::serve) reaches vpcd.
#[derive(Debug, Clone)]
pub struct Options {
    /// vpcd's `HOST:PORT`; see [`slot_addr`]. Default: slot 0 on 127.0.0.1.
    pub addr: String,
    /// Reconnection backoff.
    pub backoff: Backoff,
    /// Counters shared with whoever reports status (clone the `Arc` before passing `Options`).
    pub stats: Arc<Stats>,
}

impl Default for Options {
    fn default() -> Self {
        Self::slot(DEFAULT_HOST, 0)
    }
}

impl Options {
    /// Options for vpcd slot `slot` on `host`, default backoff, fresh counters.
    #[must_use]
    pub fn slot(host: &str, slot: u8) -> Self {
        Self::addr(slot_addr(host, slot))
    }

    /// Options for vpcd at `addr` (`HOST:PORT`), default backoff, fresh counters.
    #[must_use]
    pub fn addr(addr: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            backoff: Backoff::default(),
            stats: Arc::new(Stats::default()),
        }
    }
}
