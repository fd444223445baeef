//! Wiring cards to vpcd: profile, applets, state, attestation CA, control API.
//!
//! ```text
//!  tapfido card ─▶ serve::run
//!                    ├─ per card: Bridge(profile ATR, FIDO applet [, echo])
//!                    │            └─ CardEnv (OsRng, Instant, touch switch, FileStorage)
//!                    │   wrapped in TracedCard (APDU count, --trace)
//!                    │   └─ vsmartcard::serve ══TCP══▶ vpcd slot N
//!                    └─ control::serve (loopback HTTP) ─▶ Switchboard
//!  Ctrl-C / SIGTERM ─▶ every vpcd connection closes (cards removed), exit 0
//! ```

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use vsmartcard::VirtualCard;

use crate::control::{self, ControlError};

/// One card to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardPlan {
    /// vpcd slot (`/usb{slot}` in the control API).
    pub slot: u16,
    /// vpcd address (`HOST:PORT`) for this slot.
    pub vpcd: String,
    /// The card's state file.
    pub state: PathBuf,
}

/// Everything `tapfido card` resolved from its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// The cards, one per vpcd slot.
    pub cards: Vec<CardPlan>,
    /// Profile name or TOML path.
    pub profile: String,
    /// Where the test attestation CA lives (`ca.pem`, `ca.key`).
    pub state_dir: PathBuf,
    /// A user-supplied attestation CA (certificate PEM, key PEM).
    pub attestation_ca: Option<(PathBuf, PathBuf)>,
    /// AAGUID override.
    pub aaguid: Option<[u8; 16]>,
    /// Control API address; `None` = no control API.
    pub control: Option<SocketAddr>,
    /// Install the test echo applet.
    pub echo: bool,
    /// Print every exchange to stdout.
    pub trace: bool,
}

/// Why serving stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The control API could not start.
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// A [`VirtualCard`] wrapper that counts command APDUs and, with `--trace`,
/// prints every exchange to stdout.
#[derive(Debug)]
pub struct TracedCard<C> {
    inner: C,
    slot: u16,
    apdus: Arc<AtomicU64>,
    trace: bool,
}

impl<C: VirtualCard> TracedCard<C> {
    /// Wrap `inner`; `apdus` is incremented for every command APDU.
    pub fn new(inner: C, slot: u16, apdus: Arc<AtomicU64>, trace: bool) -> Self {
        Self {
            inner,
            slot,
            apdus,
            trace,
        }
    }

    fn print(&self, line: &str) {
        if self.trace {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "[slot {}] {line}", self.slot);
            let _ = out.flush();
        }
    }
}

impl<C: VirtualCard> VirtualCard for TracedCard<C> {
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }

    fn power_on(&mut self) {
        tracing::debug!(slot = self.slot, "power on");
        self.print("power on");
        self.inner.power_on();
    }

    fn power_off(&mut self) {
        tracing::debug!(slot = self.slot, "power off");
        self.print("power off");
        self.inner.power_off();
    }

    fn reset(&mut self) {
        tracing::debug!(slot = self.slot, "reset");
        self.print("reset");
        self.inner.reset();
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        let response = self.inner.transmit(command);
        self.apdus.fetch_add(1, Ordering::Relaxed);
        if self.trace {
            self.print(&format!(
                "> {}\n[slot {}] < {}",
                hex::encode_upper(command),
                self.slot,
                hex::encode_upper(&response)
            ));
        }
        response
    }

    fn disconnected(&mut self) {
        tracing::debug!(slot = self.slot, "disconnected");
        self.print("removed");
        self.inner.disconnected();
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    result = tokio::signal::ctrl_c() => {
                        if result.is_err() {
                            let _ = term.recv().await;
                        }
                    }
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(%err, "cannot watch SIGTERM");
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Serve the configured cards until `shutdown` completes.
pub async fn run(
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    if let Some(addr) = config.control {
        let listener = control::bind(addr).await?;
        let board = Arc::new(control::Switchboard::default());
        control::serve(listener, board, shutdown).await;
    }
    Ok(())
}
