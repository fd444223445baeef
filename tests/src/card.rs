//! One `tapfido card` process on a vpcd slot, with a temporary state directory and its own
//! control port; killed on drop (and the slot seen empty before the slot lock is released).
//!
//! ```text
//!  Card::start ─ lock pcscd (shared) ─ ensure pcscd ─ lock a slot ─ wait slot empty
//!             ─ spawn `tapfido card --vpcd 127.0.0.1:35963 --slot N --control 127.0.0.1:0 --state DIR/state`
//!             ─ read the bound control address from the card's log ─ SCardGetStatusChange until
//!               the card is present
//! ```

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::control;
use crate::lock::{self, Lock};
use crate::reader::{Conn, Reader};

/// How long a card may take to appear or disappear (pcscd polls vpcd every 400 ms).
pub const CARD_TIMEOUT: Duration = Duration::from_secs(15);

/// Which pcscd lock a card holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PcscdLock {
    /// A shared lock, taken by the card (the usual case).
    #[default]
    Shared,
    /// The caller holds the exclusive lock (the pcscd restart test).
    HeldByCaller,
}

/// How to start a card.
#[derive(Debug, Clone, Default)]
pub struct CardOptions {
    /// `--profile NAME`; `None` = the default profile.
    pub profile: Option<String>,
    /// A vpcd slot; `None` = any free slot.
    pub slot: Option<u8>,
    /// Print every APDU in the card's log (`--trace`).
    pub trace: bool,
    /// Install the test echo applet (`--echo`).
    pub echo: bool,
    /// The pcscd lock to take.
    pub pcscd_lock: PcscdLock,
    /// More arguments for `tapfido card`.
    pub extra_args: Vec<String>,
}

impl CardOptions {
    /// Options for profile `name`.
    #[must_use]
    pub fn profile(name: &str) -> Self {
        Self {
            profile: Some(name.to_owned()),
            ..Self::default()
        }
    }

    /// Default options with the test echo applet installed (`--echo`).
    #[must_use]
    pub fn echo() -> Self {
        Self {
            echo: true,
            ..Self::default()
        }
    }
}

/// A running `tapfido card`.
#[derive(Debug)]
pub struct Card {
    child: Option<Child>,
    reader: Reader,
    control: SocketAddr,
    dir: tempfile::TempDir,
    tapfido: PathBuf,
    options: CardOptions,
    restarts: u32,
    _slot_lock: Lock,
    _pcscd_lock: Option<Lock>,
}

impl Card {
    /// Starts a card and waits until pcscd sees it. Panics (with the card's log) when it
    /// does not come up.
    #[must_use]
    pub fn start(stack: &crate::prereq::Stack, options: CardOptions) -> Self {
        let pcscd_lock = match options.pcscd_lock {
            PcscdLock::Shared => Some(lock::pcscd(false)),
            PcscdLock::HeldByCaller => None,
        };
        crate::pcscd::ensure().unwrap_or_else(|e| panic!("{e}"));
        let (slot, slot_lock) = match options.slot {
            Some(n) => (n, lock::slot(n)),
            None => lock::any_slot(u8::try_from(std::process::id() % 2).unwrap_or(0)),
        };
        let reader = Reader::slot(slot);
        if let Err(e) = reader.wait(false, CARD_TIMEOUT) {
            panic!(
                "{} is busy: another virtual card is connected to vpcd port {} ({e})",
                reader.name,
                reader.vpcd_port()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("tapfido-e2e-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        // Replaced by the address the card binds (port 0: the kernel picks a free one, so
        // two cards never race for a port the harness chose and released).
        let control: SocketAddr = ([127, 0, 0, 1], 0).into();
        let mut card = Self {
            child: None,
            reader,
            control,
            dir,
            tapfido: stack.tapfido.clone(),
            options,
            restarts: 0,
            _slot_lock: slot_lock,
            _pcscd_lock: pcscd_lock,
        };
        card.spawn();
        card
    }

    /// The state path given to `--state` (kept across [`Card::restart`]).
    #[must_use]
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("card-{}.log", self.restarts))
    }

    fn spawn(&mut self) {
        let log_path = self.log_path();
        let log = File::create(&log_path).unwrap_or_else(|e| panic!("create log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("dup log: {e}"));
        let mut cmd = Command::new(&self.tapfido);
        cmd.arg("card")
            .arg("--vpcd")
            .arg("127.0.0.1:35963")
            .arg("--slot")
            .arg(self.reader.slot.to_string())
            .arg("--control")
            .arg("127.0.0.1:0")
            .arg("--state")
            .arg(self.state_path());
        if let Some(profile) = &self.options.profile {
            cmd.arg("--profile").arg(profile);
        }
        if self.options.trace {
            cmd.arg("--trace");
        }
        if self.options.echo {
            cmd.arg("--echo");
        }
        cmd.args(&self.options.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.tapfido.display()));
        self.child = Some(child);
        match self.wait_control_address(&log_path) {
            Ok(addr) => self.control = addr,
            Err(e) => {
                let log = self.log();
                panic!("{e}\n--- card log ---\n{log}");
            }
        }
        if let Err(e) = self.reader.wait(true, CARD_TIMEOUT) {
            let log = self.log();
            panic!("{e}\n--- card log ---\n{log}");
        }
    }

    /// The control API address the card announces once it listens (its cards are loaded
    /// by then); fails when the card exits first or stays silent for [`CARD_TIMEOUT`].
    fn wait_control_address(&mut self, log_path: &Path) -> Result<SocketAddr, String> {
        const MARK: &str = "control API on http://";
        let deadline = std::time::Instant::now() + CARD_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(log_path).unwrap_or_default();
            if let Some(rest) = text.split(MARK).nth(1) {
                let addr = rest.split('/').next().unwrap_or_default();
                return addr
                    .parse()
                    .map_err(|e| format!("control address {addr:?} in the card log: {e}"));
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("tapfido card exited before listening ({status})"));
                }
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("tapfido card not listening after {CARD_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The reader the card sits in.
    #[must_use]
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// `http://127.0.0.1:PORT` of the card's control API.
    #[must_use]
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control)
    }

    /// The control API's address.
    #[must_use]
    pub fn control_addr(&self) -> SocketAddr {
        self.control
    }

    /// Connects to the card through pcscd.
    #[must_use]
    pub fn connect(&self) -> Conn {
        self.reader.connect().unwrap_or_else(|e| {
            let log = self.log();
            panic!("{e}\n--- card log ---\n{log}")
        })
    }

    /// `GET /usb{N}/power/on|off` for this card's slot: the card enters or leaves the
    /// reader (its connection to vpcd opens or closes).
    pub fn power(&self, on: bool) {
        let path = format!(
            "/usb{}/power/{}",
            self.reader.slot,
            if on { "on" } else { "off" }
        );
        let _ = self.control(&path);
    }

    /// `GET path` on the control API; asserts `200`.
    #[must_use]
    pub fn control(&self, path: &str) -> control::Response {
        let resp = control::get(self.control, path)
            .unwrap_or_else(|e| panic!("GET {path} on {}: {e}", self.control));
        assert_eq!(resp.status, 200, "GET {path}: {}", resp.body);
        resp
    }

    /// The card's log so far (all of its runs).
    #[must_use]
    pub fn log(&self) -> String {
        let mut out = String::new();
        for n in 0..=self.restarts {
            let path = self.dir.path().join(format!("card-{n}.log"));
            if let Ok(text) = std::fs::read_to_string(path) {
                out.push_str(&text);
            }
        }
        out
    }

    /// Kills the card process (SIGKILL: nothing gets to flush) and waits until pcscd sees
    /// the slot empty.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Err(e) = self.reader.wait(false, CARD_TIMEOUT) {
            panic!("card killed but still present: {e}");
        }
    }

    /// Kills the card and starts it again with the same state and slot (the control API
    /// may come back on another port: ask [`Card::control_url`] again).
    pub fn restart(&mut self) {
        self.kill();
        self.restarts += 1;
        self.spawn();
    }

    /// The state directory's path (for tests that inspect the files).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            // Release the slot only once pcscd has seen it empty, so the next card there
            // is not mistaken for this one.
            let _ = self.reader.wait(false, CARD_TIMEOUT);
        }
        if std::env::var_os("TAPFIDO_E2E_KEEP").is_some() {
            let kept = std::mem::replace(
                &mut self.dir,
                tempfile::TempDir::new().unwrap_or_else(|e| panic!("temp dir: {e}")),
            );
            eprintln!("e2e: card files kept in {}", kept.keep().display());
        }
    }
}
