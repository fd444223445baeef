//! What the subcommands print: a report for people on stdout (or JSON with
//! `--json`), errors on stderr, and a spinner on stderr while a tap is
//! awaited.
//!
//! ```text
//!  stdout  report (Display) | one JSON document (serde)
//!  stderr  tapfido: <error naming its ISO status word / CTAP status code>
//!          ⠋ waiting for a card …   (only when stderr is a terminal)
//! ```

use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::CliError;

/// `--json`: one JSON document on stdout instead of the report for people.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputArgs {
    /// Print one JSON document on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Print `value` as pretty JSON when `json`, else `human` as it is.
pub fn emit<T: Serialize>(json: bool, value: &T, human: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let written = if json {
        let text = serde_json::to_string_pretty(value).map_err(CliError::Json)?;
        writeln!(out, "{text}")
    } else if human.is_empty() || human.ends_with('\n') {
        write!(out, "{human}")
    } else {
        writeln!(out, "{human}")
    };
    // A closed stdout (`| head`) is not worth an error.
    let _ = written.and_then(|()| out.flush());
    Ok(())
}

/// Print a value that has a [`std::fmt::Display`] report.
pub fn emit_report<T: Serialize + std::fmt::Display>(
    json: bool,
    value: &T,
) -> Result<(), CliError> {
    let human = if json {
        String::new()
    } else {
        value.to_string()
    };
    emit(json, value, &human)
}

/// The error as JSON for `--json` callers: the message, and the ISO status
/// word or CTAP status code when there is one.
#[derive(Debug, Serialize)]
pub struct JsonError {
    /// Always false.
    pub ok: bool,
    /// The whole message.
    pub error: String,
    /// `6A82`-style ISO status word, when the card answered one.
    pub status_word: Option<String>,
    /// `CTAP2_ERR_*` name, when the card answered one.
    pub ctap_status: Option<String>,
}

impl JsonError {
    /// From an error and its one-line message.
    pub fn new(err: &CliError, message: String) -> Self {
        let host = match err {
            CliError::Host(h) => Some(h),
            CliError::Demo(crate::demo::DemoError::Host(h)) => Some(h),
            _ => None,
        };
        Self {
            ok: false,
            error: message,
            status_word: host
                .and_then(host::HostError::status_word)
                .map(|sw| format!("{:04X}", sw.code())),
            ctap_status: host
                .and_then(host::HostError::ctap)
                .map(|s| s.describe().to_owned()),
        }
    }
}

/// Frames of the spinner.
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A spinner line on stderr, cleared when dropped; nothing at all when
/// stderr is not a terminal.
#[derive(Debug)]
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Show `message` after a turning spinner until the value is dropped.
    pub fn start(message: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self { stop, thread: None };
        }
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("tapfido-spinner".to_owned())
            .spawn(move || {
                let mut frame = 0usize;
                while !flag.load(Ordering::Relaxed) {
                    let glyph = FRAMES[frame % FRAMES.len()];
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r{glyph} {message}");
                    let _ = err.flush();
                    drop(err);
                    frame = frame.wrapping_add(1);
                    std::thread::sleep(Duration::from_millis(100));
                }
                // Erase the line.
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
