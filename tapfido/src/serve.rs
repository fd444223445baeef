//! Wiring cards to vpcd: profile, applets, state, attestation CA, control API.
//!
//! ```text
//!  tapfido card ─▶ serve::run
//!                    ├─ per card: Bridge(profile ATR, FIDO applet [, echo])
//!                    │            └─ CardEnv (OsRng, Instant, touch switch, FileStorage)
//!                    │   wrapped in TracedCard (power events, --trace)
//!                    │   └─ vsmartcard::serve ══TCP══▶ vpcd slot N
//!                    └─ control::serve (loopback HTTP) ─▶ Switchboard
//!  Ctrl-C / SIGTERM ─▶ every vpcd connection closes (cards removed), exit 0
//! ```

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use applet::attestation::AttestationCa;
use applet::config::{Aaguid, Config};
use applet::fido::{FidoApplet, LoadError};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use vsmartcard::{Backoff, Options, VirtualCard};

use crate::control::events::{EventKind, EventLog};
use crate::control::summary::WatchedFido;
use crate::control::{self, CardHandle, ControlError, PresenceSwitch, Switchboard};
use crate::env::CardEnv;
use crate::profile::Profile;
use crate::reversed;
use crate::storage::{CaFileError, FileStorage, OpenError};
use reader_bridge::bridge::{BoxedApplet, Bridge};
use reader_bridge::echo::EchoApplet;
use reader_bridge::fold::Folder;

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
    /// Reversed mode (`--listen`): each card listens on its `vpcd` address and
    /// vpcd (or a relay) connects to it.
    pub listen: bool,
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
    /// Reversed mode: a card's listening address could not be bound.
    #[error("slot {slot}: cannot listen on {addr}: {source}")]
    Listen {
        /// The card's slot.
        slot: u16,
        /// The address given to `--listen`.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A card's state file could not be opened (in use, permissions).
    #[error("slot {slot}: {source}")]
    StateFile {
        /// The card's slot.
        slot: u16,
        /// What went wrong.
        source: OpenError,
    },
    /// A card refused to start: corrupt, truncated or unknown-version state,
    /// or an unusable profile. The state file is left untouched.
    #[error(
        "slot {slot}: the card refuses to start ({source}); state file {path} left untouched \
         (move it away to start a fresh card)"
    )]
    Card {
        /// The card's slot.
        slot: u16,
        /// Its state file.
        path: PathBuf,
        /// Why.
        source: LoadError,
    },
    /// The profile could not be loaded.
    #[error("profile {name:?}: {reason}")]
    Profile {
        /// Name or path given.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// The attestation CA files could not be read or hold no usable CA.
    #[error(transparent)]
    CaFile(#[from] CaFileError),
    /// A serving task ended unexpectedly (a panic).
    #[error("a serving task failed: {0}")]
    Task(String),
}

/// A [`VirtualCard`] wrapper that logs power events and, with `--trace`,
/// prints every exchange to stdout:
///
/// ```text
/// [slot 0] power on
/// [slot 0] >> 80 10 80 00 01 04 00  NFCCTAP_MSG authenticatorGetInfo
/// [slot 0] << 00 a6 01 .. 90 00  (90 00 success, 183 data bytes)
/// ```
///
/// With an event log ([`TracedCard::with_events`]) it also folds the
/// frames into exchanges for the card panel's live log.
#[derive(Debug)]
pub struct TracedCard<C> {
    inner: C,
    slot: u16,
    trace: Option<TraceSink>,
    feed: Option<(Folder, EventLog)>,
}

/// Where `--trace` lines go: stdout (`tapfido card --trace`) or a file
/// shared by every card of the process (`tapfido run --trace FILE`).
#[derive(Clone)]
pub struct TraceSink(Arc<Mutex<Box<dyn Write + Send>>>);

impl TraceSink {
    /// Lines to standard output.
    pub fn stdout() -> Self {
        Self::writer(std::io::stdout())
    }

    /// Lines to any writer (a file, a buffer in tests).
    pub fn writer(out: impl Write + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Box::new(out))))
    }

    /// Write `text` line by line, each prefixed with `[slot N]`, and flush.
    pub fn write(&self, slot: u16, text: &str) {
        let mut out = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for line in text.lines() {
            let _ = writeln!(out, "[slot {slot}] {line}");
        }
        let _ = out.flush();
    }
}

impl std::fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceSink")
    }
}

impl<C: VirtualCard> TracedCard<C> {
    /// Wrap `inner`, the card on `slot`; `trace` prints to stdout.
    pub fn new(inner: C, slot: u16, trace: bool) -> Self {
        Self::with_sink(inner, slot, trace.then(TraceSink::stdout))
    }

    /// Wrap `inner`, the card on `slot`, tracing to `sink` when given.
    pub fn with_sink(inner: C, slot: u16, sink: Option<TraceSink>) -> Self {
        Self {
            inner,
            slot,
            trace: sink,
            feed: None,
        }
    }

    /// Also publish exchanges and power events to `events`.
    pub fn with_events(self, events: EventLog) -> Self {
        Self {
            feed: Some((Folder::new(), events)),
            ..self
        }
    }

    fn power_event(&mut self, what: &'static str) {
        if let Some((folder, events)) = &mut self.feed {
            if let Some(cut) = folder.flush() {
                events.publish(self.slot, EventKind::Exchange(cut));
            }
            events.publish(self.slot, EventKind::Power(what));
        }
    }

    fn print(&self, text: &str) {
        if let Some(sink) = &self.trace {
            sink.write(self.slot, text);
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
        self.power_event("power on");
        self.inner.power_on();
    }

    fn power_off(&mut self) {
        tracing::debug!(slot = self.slot, "power off");
        self.print("power off");
        self.power_event("power off");
        self.inner.power_off();
    }

    fn reset(&mut self) {
        tracing::debug!(slot = self.slot, "reset");
        self.print("reset");
        self.power_event("reset");
        self.inner.reset();
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        let response = self.inner.transmit(command);
        if self.trace.is_some() {
            self.print(&reader_bridge::trace::describe_exchange(command, &response));
        }
        if let Some((folder, events)) = &mut self.feed {
            for exchange in folder.push(command, &response) {
                events.publish(self.slot, EventKind::Exchange(exchange));
            }
        }
        response
    }

    fn disconnected(&mut self) {
        tracing::debug!(slot = self.slot, "disconnected");
        self.print("removed");
        self.power_event("removed from the reader");
        self.inner.disconnected();
    }
}

pub use crate::storage::{load_or_create_ca, CA_CERT_FILE, CA_KEY_FILE};

/// The FIDO applet of one card, ready to serve: its state file opened (and
/// locked), its state loaded, a block of signature counters reserved in it
/// (so the first sign-in does not wait for the file), its environment wired
/// to the card's presence switch.
pub fn build_fido(
    plan: &CardPlan,
    config: &Config,
    ca: &AttestationCa,
    presence: PresenceSwitch,
) -> Result<FidoApplet<CardEnv<FileStorage>>, ServeError> {
    let storage = FileStorage::open(&plan.state).map_err(|source| ServeError::StateFile {
        slot: plan.slot,
        source,
    })?;
    let card_error = |source| ServeError::Card {
        slot: plan.slot,
        path: plan.state.clone(),
        source,
    };
    let env = CardEnv::new(presence, storage);
    let mut applet = FidoApplet::new(env, config.clone(), Some(ca)).map_err(card_error)?;
    // Counters for the first sign-ins, stored now rather than on the first tap.
    applet
        .reserve_ahead()
        .map_err(|e| card_error(LoadError::Store(e)))?;
    Ok(applet)
}

/// The profile's `[fido]` configuration with the `--aaguid` override.
pub fn fido_config(base: Config, aaguid: Option<[u8; 16]>) -> Config {
    match aaguid {
        Some(bytes) => Config {
            aaguid: Aaguid(bytes),
            ..base
        },
        None => base,
    }
}

/// A future that completes on Ctrl-C (SIGINT) or SIGTERM.
///
/// The handlers are installed when this function is called (inside the
/// runtime), not when the future is first polled, so a signal that arrives
/// while the cards are still starting is not lost (nor fatal).
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT"),
            _ = terminate.recv() => tracing::info!("SIGTERM"),
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
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
    let handles: Vec<&CardHandle> = cards.iter().map(|c| c.handle.as_ref()).collect();
    let mut listeners = reversed::bind_listeners(&handles).await?;
    let holders = reversed::bind_held_ports(&handles).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let board = Arc::new(Switchboard::new(
        cards.iter().map(|c| Arc::clone(&c.handle)).collect(),
    ));
    let mut tasks: JoinSet<Result<(), ServeError>> = JoinSet::new();
    for (slot, holder) in holders.into_iter().enumerate() {
        let stop = stopped(stop_rx.clone());
        let atr = cards.first().map(|c| lock_atr(&c.card)).unwrap_or_default();
        let blank: Arc<Mutex<dyn VirtualCard>> = Arc::new(Mutex::new(Bridge::new(atr, vec![])));
        let (_, always) = watch::channel(true);
        tasks.spawn(async move {
            vsmartcard::serve_listening(blank, holder, Arc::default(), always, None, stop)
                .await
                .map_err(|source| ServeError::Vpcd {
                    slot: u16::try_from(slot).unwrap_or(u16::MAX),
                    source,
                })
        });
    }
    for ReadyCard { handle, card } in cards {
        let options = Options {
            addr: handle.vpcd.clone(),
            backoff: Backoff::default(),
            stats: Arc::clone(&handle.stats),
        };
        let slot = handle.slot;
        let inserted = handle.inserted.subscribe();
        let link = handle.link.clone();
        let mut link_changes = handle.link.subscribe();
        let watched = Arc::clone(&handle);
        let watch_stop = stopped(stop_rx.clone());
        tasks.spawn(async move {
            // The panel re-reads a card's status when its link changes.
            tokio::pin!(watch_stop);
            loop {
                tokio::select! {
                    () = &mut watch_stop => return Ok(()),
                    changed = link_changes.changed() => {
                        if changed.is_err() {
                            (&mut watch_stop).await;
                            return Ok(());
                        }
                        watched.events.publish(watched.slot, EventKind::Card);
                    }
                }
            }
        });
        let stop = stopped(stop_rx.clone());
        match listeners.remove(&slot) {
            Some(listener) => tasks.spawn(async move {
                let stats = Arc::clone(&options.stats);
                vsmartcard::serve_listening(card, listener, stats, inserted, Some(link), stop)
                    .await
                    .map_err(|source| ServeError::Vpcd { slot, source })
            }),
            None => tasks.spawn(async move {
                vsmartcard::serve(card, options, inserted, Some(link), stop)
                    .await
                    .map_err(|source| ServeError::Vpcd { slot, source })
            }),
        };
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

/// The ATR of a card (a poisoned lock still holds a usable card).
fn lock_atr(card: &Mutex<dyn VirtualCard>) -> Vec<u8> {
    match card.lock() {
        Ok(card) => card.atr(),
        Err(poisoned) => poisoned.into_inner().atr(),
    }
}

/// `--profile NAME|PATH`: a builtin profile by name, else a TOML file.
pub fn load_profile(name_or_path: &str) -> Result<Profile, ServeError> {
    let path = Path::new(name_or_path);
    let loaded = if Profile::names().contains(&name_or_path) || !path.exists() {
        Profile::builtin(name_or_path)
    } else {
        Profile::load(path)
    };
    loaded.map_err(|e| ServeError::Profile {
        name: name_or_path.to_owned(),
        reason: e.to_string(),
    })
}

/// The profile's `[fido]` table as the applet's [`Config`] (omitted keys
/// take the default profile's values).
pub fn profile_config(profile: &Profile) -> Result<Config, ServeError> {
    match &profile.fido {
        None => Ok(Config::default()),
        Some(table) => toml::Value::Table(table.clone())
            .try_into::<Config>()
            .map_err(|e| ServeError::Profile {
                name: profile.name.clone(),
                reason: format!("[fido]: {e}"),
            }),
    }
}

/// Serve the configured cards until `shutdown` completes.
///
/// Order: refuse a non-loopback control address; load the profile and the
/// attestation CA; open and load every card's state (any failure stops
/// here, before anything is served); bind the control API; serve.
pub async fn run(
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    if let Some(addr) = config.control {
        if !addr.ip().is_loopback() {
            return Err(ControlError::NotLoopback(addr).into());
        }
    }
    let cards = prepare_cards(&config, config.trace.then(TraceSink::stdout))?;
    let listener = match config.control {
        Some(addr) => Some(control::bind(addr).await?),
        None => None,
    };
    serve_cards(cards, listener, shutdown).await
}

/// Load the profile and the attestation CA, then open and load every
/// card's state: the cards of `config`, ready for [`serve_cards`]. Any
/// failure stops here, before anything is served. `trace` replaces
/// `config.trace` as the destination of the exchange log.
pub fn prepare_cards(
    config: &ServeConfig,
    trace: Option<TraceSink>,
) -> Result<Vec<ReadyCard>, ServeError> {
    let profile = load_profile(&config.profile)?;
    let fido = fido_config(profile_config(&profile)?, config.aaguid);
    for claim in applet::ctap::get_info::unknown_claims(&fido) {
        tracing::warn!(
            profile = %profile.name,
            "the profile claims {claim}, which tapfido does not implement: getInfo does not list it"
        );
    }
    let ca = load_or_create_ca(&config.state_dir, config.attestation_ca.as_ref())?;
    let mut cards = Vec::with_capacity(config.cards.len());
    let events = EventLog::new();
    for plan in &config.cards {
        let mut handle = CardHandle::new(plan.slot, plan.vpcd.clone(), profile.name.clone())
            .with_events(events.clone());
        if config.listen {
            handle = handle.listening();
        }
        let handle = Arc::new(handle);
        let applet = build_fido(plan, &fido, &ca, handle.presence.clone())?;
        let applet = WatchedFido::new(applet, Arc::clone(&handle), events.clone());
        let mut applets: Vec<BoxedApplet> = vec![Box::new(applet)];
        if config.echo {
            applets.push(Box::new(EchoApplet));
        }
        let bridge = Bridge::new(profile.atr.clone(), applets);
        let card: Arc<Mutex<dyn VirtualCard>> = Arc::new(Mutex::new(
            TracedCard::with_sink(bridge, plan.slot, trace.clone()).with_events(events.clone()),
        ));
        tracing::info!(
            slot = plan.slot,
            vpcd = %plan.vpcd,
            profile = %profile.name,
            state = %plan.state.display(),
            echo = config.echo,
            "card ready"
        );
        cards.push(ReadyCard { handle, card });
    }
    Ok(cards)
}
