//! `tapfido readers` and `tapfido wait`, and how every card subcommand
//! reaches its card: choose the reader, wait for a tap (with a spinner)
//! when no card is in it yet, connect, SELECT the FIDO applet.
//!
//! ```text
//! tapfido readers [--json]
//! tapfido wait [--reader R] [--timeout SECS] [--json]
//! ```

use std::time::Duration;

use super::output::{emit, OutputArgs, Spinner};
use super::CliError;
use crate::ops;
use clap::Args;
use host::pcsc::{PcscTransport, ReaderInfo, ReaderSelector};
use host::{CardSession, HostError};

/// `--reader R --timeout SECS`, shared by every subcommand that talks to a card.
#[derive(Debug, Clone, Default, Args)]
pub struct ReaderArgs {
    /// Reader: its index in `tapfido readers`, or part of its name
    /// [default: the first reader with a card].
    #[arg(long, short = 'r', value_name = "NAME|INDEX")]
    pub reader: Option<String>,
    /// How long to wait for a tap when no card is present, in seconds (0: for ever).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

impl ReaderArgs {
    /// The reader selector.
    pub fn selector(&self) -> ReaderSelector {
        ReaderSelector::parse(self.reader.as_deref())
    }

    /// The wait limit (`None`: for ever).
    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout > 0).then(|| Duration::from_secs(self.timeout))
    }

    fn describe(&self) -> String {
        match &self.reader {
            Some(r) => format!("reader {r:?}"),
            None => "any reader".to_owned(),
        }
    }

    /// Wait for a card (a spinner on a terminal when none is present yet).
    pub fn wait(&self) -> Result<ReaderInfo, CliError> {
        let selector = self.selector();
        match ops::wait(&selector, Some(Duration::ZERO)) {
            Ok(reader) => Ok(reader),
            Err(HostError::WaitTimeout) => {
                let _spinner = Spinner::start(format!(
                    "tap a card on {} (Ctrl-C to stop) …",
                    self.describe()
                ));
                Ok(ops::wait(&selector, self.timeout())?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Wait for a card, connect, SELECT the FIDO applet.
    pub fn connect(&self) -> Result<CardSession<PcscTransport>, CliError> {
        let reader = self.wait()?;
        // Open the reader the card was found in, not whichever comes first.
        Ok(ops::open(&ReaderSelector::Name(reader.name))?)
    }
}

/// The flags of a subcommand that needs the PIN: PIN source, reader, output.
#[derive(Debug, Clone, Default, Args)]
pub struct SessionArgs {
    /// PIN source.
    #[command(flatten)]
    pub pin: super::pin_input::PinArgs,
    /// Reader and time limit.
    #[command(flatten)]
    pub reader: ReaderArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl SessionArgs {
    /// The PIN (refused before any reader is touched when there is none),
    /// then the card.
    pub fn pin_and_connect(
        &self,
    ) -> Result<(super::pin_input::Pin, CardSession<PcscTransport>), CliError> {
        let pin = self.pin.require()?;
        Ok((pin, self.reader.connect()?))
    }
}

/// Arguments of `tapfido readers`.
#[derive(Debug, Args)]
pub struct ReadersArgs {
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `tapfido readers`.
pub fn run_readers(args: &ReadersArgs) -> Result<(), CliError> {
    let readers = ops::readers()?;
    emit(args.output.json, &readers, &ops::format_readers(&readers))
}

/// Arguments of `tapfido wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Reader and time limit.
    #[command(flatten)]
    pub reader: ReaderArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Run `tapfido wait`: returns once a card is in the reader.
pub fn run_wait(args: &WaitArgs) -> Result<(), CliError> {
    let reader = args.reader.wait()?;
    let human = format!(
        "card in {:?}, ATR {}\n",
        reader.name,
        hex::encode_upper(&reader.atr)
    );
    emit(args.output.json, &reader, &human)
}
