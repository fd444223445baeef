//! The second stage of `tapfido run`, inside the private namespace: set up
//! the world, run CMD in it, tear it down.
//!
//! ```text
//!  1. refuse to run outside a private mount namespace
//!  2. run directory (temp), state directory (--state-dir or <run>/state)
//!  3. tmpfs on /run/pcscd; reader.conf.d + driver copies in it; pcscd's
//!     USB driver directories hidden (no real reader joins the world)
//!  4. port lock → free port block → reader.conf → pcscd --foreground -c DIR
//!  5. readers listed (ports bound) → port lock released
//!  6. cards served (in-process) + control API → every card present
//!     (SCardGetStatusChange) → --pin / --fixture
//!  7. CMD with TAPFIDO_* in its environment; signals passed on; --timeout
//!  8. cards leave, pcscd stopped (SIGTERM, SIGKILL after 5 s), run dir removed
//! ```

use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};
use rustix::process::Signal;
use tokio::sync::oneshot;

use super::fixture::{self, Fixture};
use super::namespace::{self, PCSCD_DIR};
use super::signals::{self, Catcher};
use super::vpcd_config::{self, VpcdPlan, SLOTS_PER_ENTRY, VPCD_DRIVER};
use super::{RunArgs, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_TIMEOUT};
use crate::serve::{self, CardPlan, ServeConfig, TraceSink};

/// How long pcscd may take to list its readers.
const PCSCD_START: Duration = Duration::from_secs(15);
/// How long the cards may take to be present in their readers.
const CARDS_PRESENT: Duration = Duration::from_secs(20);
/// How long pcscd may take to stop after SIGTERM.
const PCSCD_STOP: Duration = Duration::from_secs(5);
/// Attempts with a new port block when pcscd could not bind one.
const PORT_ATTEMPTS: usize = 3;
const POLL: Duration = Duration::from_millis(20);

/// Run the second stage: the exit status to end with, or why setup failed.
pub fn run(args: RunArgs) -> Result<u8, String> {
    if namespace::in_private_mount_ns() == Some(false) {
        return Err(
            "--in-namespace outside a private mount namespace: refusing to touch /run/pcscd".into(),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let _guard = runtime.enter();
    // From here on, SIGINT / SIGTERM no longer kill this process half-way
    // through its setup: they are checked between steps.
    let mut catcher = Catcher::install().map_err(|e| format!("cannot watch for signals: {e}"))?;
    let run_dir = tempfile::Builder::new()
        .prefix("tapfido-run-")
        .tempdir()
        .map_err(|e| format!("cannot create a run directory: {e}"))?;
    let mut world = World {
        run_dir: run_dir.path().to_path_buf(),
        pcscd: None,
        cards: None,
    };
    let outcome = world.run(&args, &runtime, &mut catcher);
    world.teardown(&runtime);
    // A directory with mounts below it must not be removed recursively.
    if namespace::has_mounts_under(run_dir.path()) {
        eprintln!(
            "tapfido run: {} still has mounts; left in place",
            run_dir.path().display()
        );
        let _ = run_dir.keep();
    } else {
        drop(run_dir);
    }
    outcome
}

/// What was started, to stop.
struct World {
    run_dir: PathBuf,
    pcscd: Option<Child>,
    cards: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl World {
    fn run(
        &mut self,
        args: &RunArgs,
        runtime: &tokio::runtime::Runtime,
        catcher: &mut Catcher,
    ) -> Result<u8, String> {
        let interrupted = |catcher: &mut Catcher| match catcher.pending() {
            Some(sig) => Err(format!("interrupted by {sig:?} during setup")),
            None => Ok(()),
        };
        let fixture = match &args.fixture {
            Some(path) => Fixture::load(path, args.cards)?,
            None => Fixture::default(),
        };
        let pin = args.pin.clone().or(fixture.pin.clone());
        let state_dir = match &args.state_dir {
            Some(dir) => dir.clone(),
            None => self.run_dir.join("state"),
        };
        for tool in [VPCD_DRIVER] {
            if !Path::new(tool).exists() {
                return Err(format!(
                    "{tool} is missing: install vsmartcard-vpcd (Debian: apt-get install \
                     vsmartcard-vpcd)"
                ));
            }
        }
        let pcscd_bin = find_pcscd().ok_or(
            "pcscd was not found (PATH, /usr/sbin): install pcscd (Debian: apt-get install pcscd)",
        )?;

        namespace::make_private_run(&self.run_dir.join("old-run"))
            .map_err(|e| format!("cannot make a private /run/pcscd: {e}"))?;
        let private = Path::new(PCSCD_DIR).join("tapfido");
        let conf_dir = private.join("reader.conf.d");
        let driver_dir = private.join("drivers");
        for dir in [&conf_dir, &driver_dir] {
            fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        // Every entry loads its own copy of the driver (see vpcd_config);
        // then pcscd's USB driver directories are hidden, so a reader
        // plugged into the machine (a real security key) never shows up in
        // this world.
        let entries = args.cards.div_ceil(SLOTS_PER_ENTRY);
        for k in 0..entries {
            let copy = vpcd_config::driver_copy(&driver_dir, k);
            fs::copy(VPCD_DRIVER, &copy)
                .map_err(|e| format!("copy the vpcd driver to {}: {e}", copy.display()))?;
        }
        namespace::hide_usb_drivers().map_err(|e| format!("hide pcscd's USB drivers: {e}"))?;
        interrupted(catcher)?;

        let (plan, pcscd) = self.start_pcscd(args.cards, &pcscd_bin, &conf_dir, &driver_dir)?;
        self.pcscd = Some(pcscd);
        interrupted(catcher)?;

        let readers: Vec<String> = plan.cards.iter().map(|(name, _)| name.clone()).collect();
        let config = ServeConfig {
            cards: plan
                .cards
                .iter()
                .enumerate()
                .map(|(i, (_, port))| {
                    let slot = u16::try_from(i).unwrap_or(u16::MAX);
                    CardPlan {
                        slot,
                        vpcd: format!("127.0.0.1:{port}"),
                        state: state_dir
                            .join(format!("slot{slot}"))
                            .join(crate::storage::STATE_FILE_NAME),
                    }
                })
                .collect(),
            profile: args.profile.clone(),
            state_dir: state_dir.clone(),
            attestation_ca: None,
            aaguid: None,
            control: Some(args.control),
            echo: false,
            trace: false,
        };
        let trace = match &args.trace {
            Some(path) => Some(TraceSink::writer(
                File::create(path).map_err(|e| format!("--trace {}: {e}", path.display()))?,
            )),
            None => None,
        };
        let ready = serve::prepare_cards(&config, trace).map_err(|e| e.to_string())?;
        let listener = runtime
            .block_on(crate::control::bind(args.control))
            .map_err(|e| e.to_string())?;
        let control = listener
            .local_addr()
            .map_err(|e| format!("control API address: {e}"))?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let served = runtime.spawn(async move {
            let stop = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = serve::serve_cards(ready, Some(listener), stop).await {
                eprintln!("tapfido run: the cards stopped: {e}");
            }
        });
        self.cards = Some((stop_tx, served));

        wait_cards_present(&readers, CARDS_PRESENT, catcher)?;
        let records = fixture::apply(&readers, pin.as_deref(), &fixture.credentials)?;
        let credentials = state_dir.join("credentials.json");
        if !fixture.credentials.is_empty() {
            crate::ops::records::save(&credentials, &records).map_err(|e| e.to_string())?;
        }
        interrupted(catcher)?;

        let env = Environment {
            control,
            readers: &readers,
            state_dir: &state_dir,
            credentials: (!fixture.credentials.is_empty()).then_some(credentials.as_path()),
        };
        runtime.block_on(run_command(&args.command, &env, args.timeout, catcher))
    }

    /// Pick free ports, write reader.conf, start pcscd and wait until it
    /// lists every reader; another port block when pcscd could not use one.
    fn start_pcscd(
        &mut self,
        cards: u16,
        pcscd_bin: &Path,
        conf_dir: &Path,
        driver_dir: &Path,
    ) -> Result<(VpcdPlan, Child), String> {
        let ports = cards.div_ceil(SLOTS_PER_ENTRY) * SLOTS_PER_ENTRY;
        let mut last_error = String::new();
        for attempt in 1..=PORT_ATTEMPTS {
            let lock = super::ports::lock()
                .map_err(|e| format!("port lock {}: {e}", super::ports::LOCK_FILE))?;
            let first = super::ports::pick(ports).map_err(|e| e.to_string())?;
            let own = vpcd_config::driver_copy(driver_dir, 0);
            let plan = vpcd_config::plan(cards, first, &own, driver_dir)?;
            write_conf(&plan, conf_dir)?;
            let log_path = self.run_dir.join(format!("pcscd-{attempt}.log"));
            let mut child = spawn_pcscd(pcscd_bin, conf_dir, &log_path)?;
            let names: Vec<&str> = plan.cards.iter().map(|(n, _)| n.as_str()).collect();
            match wait_readers(&names, &mut child, PCSCD_START) {
                Ok(()) => {
                    drop(lock);
                    return Ok((plan, child));
                }
                Err(e) => {
                    stop_child(&mut child, PCSCD_STOP);
                    last_error = format!("{e}; pcscd's log:\n{}", tail(&log_path, 2000));
                    tracing::warn!(attempt, "pcscd did not come up: {last_error}");
                }
            }
        }
        Err(format!(
            "pcscd did not list its readers after {PORT_ATTEMPTS} attempts: {last_error}"
        ))
    }

    /// Cards out of their readers, pcscd stopped; every step tolerant of
    /// what did not start.
    fn teardown(&mut self, runtime: &tokio::runtime::Runtime) {
        if let Some((stop, served)) = self.cards.take() {
            let _ = stop.send(());
            let _ = runtime.block_on(tokio::time::timeout(Duration::from_secs(5), served));
        }
        if let Some(mut pcscd) = self.pcscd.take() {
            stop_child(&mut pcscd, PCSCD_STOP);
        }
    }
}

/// pcscd in `PATH`, else in the sbin directories a non-root `PATH` lacks.
fn find_pcscd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("pcscd"))
        .find(|p| p.is_file())
}

/// reader.conf.d: one file per entry (the driver copies are made already).
fn write_conf(plan: &VpcdPlan, conf_dir: &Path) -> Result<(), String> {
    for old in fs::read_dir(conf_dir).map_err(|e| e.to_string())? {
        let _ = fs::remove_file(old.map_err(|e| e.to_string())?.path());
    }
    for (k, entry) in plan.entries.iter().enumerate() {
        let path = conf_dir.join(format!("vpcd-{k}"));
        fs::write(&path, entry.to_conf()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `pcscd --foreground -c DIR` in its own process group (a Ctrl-C meant for
/// CMD does not stop it under CMD's feet), its output to `log`. Started
/// through `setpriv --pdeathsig KILL` when available, so it cannot outlive
/// this process even if this process is killed outright.
fn spawn_pcscd(pcscd: &Path, conf_dir: &Path, log: &Path) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).is_file());
    let mut cmd = match setpriv {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(pcscd);
            c
        }
        None => Command::new(pcscd),
    };
    cmd.arg("--foreground")
        .arg("-c")
        .arg(conf_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    cmd.spawn()
        .map_err(|e| format!("cannot start {}: {e}", pcscd.display()))
}

/// Until pcscd answers and lists every one of `names`.
fn wait_readers(names: &[&str], pcscd: &mut Child, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        if let Ok(Some(status)) = pcscd.try_wait() {
            return Err(format!("pcscd exited ({status})"));
        }
        if let Ok(ctx) = Context::establish(Scope::User) {
            if let Ok(listed) = ctx.list_readers_owned() {
                seen = listed
                    .iter()
                    .map(|r| r.to_string_lossy().into_owned())
                    .collect();
                if names.iter().all(|n| seen.iter().any(|s| s == n)) {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "pcscd did not list {names:?} within {limit:?} (it lists {seen:?})"
            ));
        }
        std::thread::sleep(POLL);
    }
}

/// Block (in `SCardGetStatusChange`) until every reader holds a card.
fn wait_cards_present(
    readers: &[String],
    limit: Duration,
    catcher: &mut Catcher,
) -> Result<(), String> {
    let ctx = Context::establish(Scope::User).map_err(|e| format!("PC/SC: {e}"))?;
    let mut states: Vec<ReaderState> = readers
        .iter()
        .map(|r| {
            CString::new(r.as_str())
                .map(|name| ReaderState::new(name, State::UNAWARE))
                .map_err(|_| format!("reader name {r:?}"))
        })
        .collect::<Result<_, _>>()?;
    let deadline = Instant::now() + limit;
    loop {
        match ctx.get_status_change(Duration::from_millis(500), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(format!("SCardGetStatusChange: {e}")),
        }
        let missing: Vec<&str> = states
            .iter()
            .filter(|s| {
                let st = s.event_state();
                !st.contains(State::PRESENT) || st.contains(State::MUTE)
            })
            .map(|s| s.name().to_str().unwrap_or("?"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if let Some(sig) = catcher.pending() {
            return Err(format!(
                "interrupted by {sig:?} while waiting for the cards"
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("no card in {missing:?} after {limit:?}"));
        }
        for s in &mut states {
            s.sync_current_state();
        }
    }
}

/// What CMD finds in its environment.
struct Environment<'a> {
    control: SocketAddr,
    readers: &'a [String],
    state_dir: &'a Path,
    credentials: Option<&'a Path>,
}

/// Run CMD in the world; its exit status (see [`super`]).
async fn run_command(
    command: &[OsString],
    env: &Environment<'_>,
    timeout: Option<u64>,
    catcher: &mut Catcher,
) -> Result<u8, String> {
    let (program, rest) = command.split_first().ok_or("no command given")?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
        .env("TAPFIDO_CONTROL", env.control.to_string())
        .env("TAPFIDO_CONTROL_URL", format!("http://{}", env.control))
        .env("TAPFIDO_READERS", env.readers.join("\n"))
        .env("TAPFIDO_STATE_DIR", env.state_dir)
        .env_remove("PCSCLITE_CSOCK_NAME");
    match env.credentials {
        Some(path) => cmd.env("TAPFIDO_CREDENTIALS", path),
        None => cmd.env_remove("TAPFIDO_CREDENTIALS"),
    };
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let name = program.to_string_lossy();
            let code = if e.kind() == io::ErrorKind::NotFound {
                EXIT_NOT_FOUND
            } else {
                EXIT_CANNOT_EXECUTE
            };
            eprintln!("tapfido run: {name}: {e}");
            return Ok(code);
        }
    };
    let waited = signals::wait_with(&mut child, catcher, timeout.map(Duration::from_secs), true)
        .await
        .map_err(|e| format!("waiting for the command: {e}"))?;
    Ok(if waited.timed_out {
        EXIT_TIMEOUT
    } else {
        signals::exit_code(waited.status)
    })
}

/// SIGTERM, wait up to `grace`, then SIGKILL; always reaped.
fn stop_child(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    signals::send(child.id(), Signal::TERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(POLL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `max` bytes of a log file.
fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut out = String::new();
    let _ = f.read_to_string(&mut out);
    out
}
