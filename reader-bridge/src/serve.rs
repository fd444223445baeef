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
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use vsmartcard::{Backoff, Options, VirtualCard};

use crate::control::{self, CardHandle, ControlError, Switchboard};

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
    /// A card's vpcd connection could not run (bad address).
    #[error("slot {slot}: {source}")]
    Vpcd {
        /// The card's slot.
        slot: u16,
        /// What went wrong.
        source: vsmartcard::Error,
    },
    /// A serving task ended unexpectedly (a panic).
    #[error("a serving task failed: {0}")]
    Task(String),
}

/// A [`VirtualCard`] wrapper that logs power events and, with `--trace`,
/// prints every exchange to stdout:
///
/// ```text
/// [slot 0] power on
/// [slot 0] > 00A4040008A0000006472F0001 ...
/// [slot 0] < 4649444F5F325F30 9000 ...
/// ```
#[derive(Debug)]
pub struct TracedCard<C> {
    inner: C,
    slot: u16,
    trace: bool,
}

impl<C: VirtualCard> TracedCard<C> {
    /// Wrap `inner`, the card on `slot`.
    pub fn new(inner: C, slot: u16, trace: bool) -> Self {
        Self { inner, slot, trace }
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

/// A card ready to be served: its switches and the card itself.
pub struct ReadyCard {
    /// The card's control handle (slot, vpcd address, switches, counters).
    pub handle: Arc<CardHandle>,
    /// The card, shared with its vpcd connection task.
    pub card: Arc<Mutex<dyn VirtualCard>>,
}

impl std::fmt::Debug for ReadyCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyCard")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// Serve `cards` (one vpcd connection each) and, when given, the control API
/// on `control`, until `shutdown` completes; then close every vpcd
/// connection (the cards leave their readers) and return.
pub async fn serve_cards(
    cards: Vec<ReadyCard>,
    control: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    for ready in &cards {
        vsmartcard::check_addr(&ready.handle.vpcd).map_err(|source| ServeError::Vpcd {
            slot: ready.handle.slot,
            source,
        })?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let board = Arc::new(Switchboard::new(
        cards.iter().map(|c| Arc::clone(&c.handle)).collect(),
    ));
    let mut tasks: JoinSet<Result<(), ServeError>> = JoinSet::new();
    for ReadyCard { handle, card } in cards {
        let options = Options {
            addr: handle.vpcd.clone(),
            backoff: Backoff::default(),
            stats: Arc::clone(&handle.stats),
        };
        let slot = handle.slot;
        let inserted = handle.inserted.subscribe();
        let link = handle.link.clone();
        let stop = stopped(stop_rx.clone());
        tasks.spawn(async move {
            vsmartcard::serve(card, options, inserted, Some(link), stop)
                .await
                .map_err(|source| ServeError::Vpcd { slot, source })
        });
    }
    if let Some(listener) = control {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!("control API on http://{addr}/");
        }
        let stop = stopped(stop_rx.clone());
        let board = Arc::clone(&board);
        tasks.spawn(async move {
            control::serve(listener, board, stop).await;
            Ok(())
        });
    }

    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        () = &mut shutdown => {
            tracing::info!("shutting down: removing the cards from their readers");
            Ok(())
        }
        Some(done) = tasks.join_next() => match done {
            Ok(Ok(())) => Err(ServeError::Task("a task stopped early".into())),
            Ok(Err(err)) => Err(err),
            Err(join) => Err(ServeError::Task(join.to_string())),
        },
    };
    let _ = stop_tx.send(true);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(%err, "while stopping"),
            Err(join) => tracing::warn!(%join, "while stopping"),
        }
    }
    let _ = std::io::stdout().lock().flush();
    outcome
}

/// Serve the configured cards until `shutdown` completes.
pub async fn run(
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let listener = match config.control {
        Some(addr) => Some(control::bind(addr).await?),
        None => None,
    };
    serve_cards(Vec::new(), listener, shutdown).await
}
