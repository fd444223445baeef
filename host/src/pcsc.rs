//! The PC/SC side: list readers, open one by name or index, wait for a card
//! with `SCardGetStatusChange`, and transmit through `SCardTransmit`.

use std::ffi::CString;
use std::time::Duration;

use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use serde::Serialize;

use super::transport::{Exchange, Transport};
use super::HostError;

/// Largest response buffer: an extended response of 65 536 bytes plus SW.
const MAX_RESPONSE: usize = 65_538;

/// One reader as `tapfido readers` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    /// Position in the list (for `--reader 0`).
    pub index: usize,
    /// Reader name as PC/SC reports it.
    pub name: String,
    /// A card is in the field.
    pub card_present: bool,
    /// The card's ATR, when present.
    #[serde(with = "relying_party::hex_bytes")]
    pub atr: Vec<u8>,
}

/// How to choose a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSelector {
    /// The first reader with a card, else the first reader.
    Auto,
    /// By position in [`list_readers`].
    Index(usize),
    /// The first reader whose name contains this text (case-insensitive).
    Name(String),
}

impl ReaderSelector {
    /// `"2"` selects by index, anything else by name; `None` is automatic.
    pub fn parse(arg: Option<&str>) -> Self {
        match arg {
            None => Self::Auto,
            Some(s) => s
                .parse::<usize>()
                .map(Self::Index)
                .unwrap_or_else(|_| Self::Name(s.to_owned())),
        }
    }
}

/// `SCardEstablishContext`. The build links pcsc-lite through a run-time
/// loader (`csrc/pcsc_loader.c`) that answers `SCARD_F_INTERNAL_ERROR` when
/// `libpcsclite.so.1` cannot be opened; pcsc-lite itself never returns that
/// code here, so it names the missing library.
fn establish() -> Result<Context, HostError> {
    Context::establish(Scope::User).map_err(|e| match e {
        pcsc::Error::InternalError => HostError::NoPcscLibrary,
        e => HostError::Pcsc(e),
    })
}

fn reader_names(ctx: &Context) -> Result<Vec<CString>, HostError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Every reader with its card state (`SCardListReaders` then one
/// non-blocking `SCardGetStatusChange`).
pub fn list_readers() -> Result<Vec<ReaderInfo>, HostError> {
    let ctx = establish()?;
    let names = reader_names(&ctx)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: Vec<ReaderState> = names
        .iter()
        .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::ZERO, &mut states)?;
    Ok(states
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let present = s.event_state().contains(State::PRESENT);
            ReaderInfo {
                index,
                name: s.name().to_string_lossy().into_owned(),
                card_present: present,
                atr: if present {
                    s.atr().to_vec()
                } else {
                    Vec::new()
                },
            }
        })
        .collect())
}

fn choose(readers: &[ReaderInfo], selector: &ReaderSelector) -> Result<ReaderInfo, HostError> {
    if readers.is_empty() {
        return Err(HostError::NoReaders);
    }
    let found = match selector {
        ReaderSelector::Auto => readers
            .iter()
            .find(|r| r.card_present)
            .or_else(|| readers.first()),
        ReaderSelector::Index(i) => readers.get(*i),
        ReaderSelector::Name(n) => {
            let n = n.to_lowercase();
            readers.iter().find(|r| r.name.to_lowercase().contains(&n))
        }
    };
    found.cloned().ok_or_else(|| {
        HostError::NoSuchReader(match selector {
            ReaderSelector::Auto => String::new(),
            ReaderSelector::Index(i) => i.to_string(),
            ReaderSelector::Name(n) => n.clone(),
        })
    })
}

/// Block until a card is present in the chosen reader (`tapfido wait`).
///
/// `timeout` of `None` waits for ever. Returns the reader with its ATR.
pub fn wait_for_card(
    selector: &ReaderSelector,
    timeout: Option<Duration>,
) -> Result<ReaderInfo, HostError> {
    wait_for(selector, timeout, true)
}

/// Block until the chosen reader is empty (the card was taken away).
pub fn wait_for_removal(
    selector: &ReaderSelector,
    timeout: Option<Duration>,
) -> Result<ReaderInfo, HostError> {
    wait_for(selector, timeout, false)
}

fn wait_for(
    selector: &ReaderSelector,
    timeout: Option<Duration>,
    present: bool,
) -> Result<ReaderInfo, HostError> {
    let ctx = establish()?;
    let readers = list_readers()?;
    let reader = choose(&readers, selector)?;
    let name = CString::new(reader.name.clone())
        .map_err(|_| HostError::NoSuchReader(reader.name.clone()))?;
    let mut states = vec![ReaderState::new(name, State::UNAWARE)];
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        // A poll: `Timeout` only means nothing changed since the last look.
        match ctx.get_status_change(Duration::ZERO, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(e.into()),
        }
        let state = states[0].event_state();
        let is_present = state.contains(State::PRESENT);
        // A mute card (no usable ATR yet) is not a tap.
        let usable = !is_present || !state.contains(State::MUTE);
        if is_present == present && usable {
            return Ok(ReaderInfo {
                card_present: is_present,
                atr: if is_present {
                    states[0].atr().to_vec()
                } else {
                    Vec::new()
                },
                ..reader
            });
        }
        states[0].sync_current_state();
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(HostError::WaitTimeout);
                }
                left
            }
            None => Duration::from_secs(3600),
        };
        match ctx.get_status_change(wait, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// A card handle that leaves the card as it is when dropped.
///
/// `pcsc::Card`'s own drop disconnects with `SCARD_RESET_CARD`: pcsc-lite then resets the
/// card, and every other client of the reader loses its session (its next
/// `SCardTransmit` fails with `SCARD_W_RESET_CARD`, the selected applet and any PIN token
/// are gone). A client that is done with a FIDO card leaves it alone
/// (`SCARD_LEAVE_CARD`), as libfido2's PC/SC transport does.
struct LeftCard(Option<Card>);

impl LeftCard {
    fn get(&self) -> Result<&Card, HostError> {
        self.0
            .as_ref()
            .ok_or(HostError::Pcsc(pcsc::Error::InvalidHandle))
    }

    fn get_mut(&mut self) -> Result<&mut Card, HostError> {
        self.0
            .as_mut()
            .ok_or(HostError::Pcsc(pcsc::Error::InvalidHandle))
    }
}

impl Drop for LeftCard {
    fn drop(&mut self) {
        if let Some(card) = self.0.take() {
            // On failure the handle comes back and its own drop disconnects it (with a
            // reset): nothing better can be done while dropping.
            let _ = card.disconnect(Disposition::LeaveCard);
        }
    }
}

/// A card connected through a PC/SC reader. Dropping it disconnects with
/// `SCARD_LEAVE_CARD`: other clients of the reader keep their session.
pub struct PcscTransport {
    card: LeftCard,
    // Kept alive for the card handle's lifetime (dropped after it: fields drop in order).
    _ctx: Context,
    reader: String,
    atr: Vec<u8>,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .field("atr", &hex::encode(&self.atr))
            .finish_non_exhaustive()
    }
}

impl PcscTransport {
    /// Connect (shared mode, T=0 or T=1) to the card in the chosen reader.
    pub fn open(selector: &ReaderSelector) -> Result<Self, HostError> {
        let ctx = establish()?;
        let readers = list_readers()?;
        let reader = choose(&readers, selector)?;
        let name = CString::new(reader.name.clone())
            .map_err(|_| HostError::NoSuchReader(reader.name.clone()))?;
        let card = ctx.connect(&name, ShareMode::Shared, Protocols::ANY)?;
        let atr = card.status2_owned()?.atr().to_vec();
        Ok(Self {
            card: LeftCard(Some(card)),
            _ctx: ctx,
            reader: reader.name,
            atr,
            buffer: vec![0; MAX_RESPONSE],
        })
    }

    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, HostError> {
        let response = self.card.get()?.transmit(apdu, &mut self.buffer)?;
        Ok(response.to_vec())
    }

    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    /// `SCardReconnect` with `SCARD_UNPOWER_CARD`: pcsc-lite powers the card
    /// off and on again (vpcd sends control bytes `00` then `01`).
    fn power_cycle(&mut self) -> Result<(), HostError> {
        let card = self.card.get_mut()?;
        card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::UnpowerCard)?;
        self.atr = card.status2_owned()?.atr().to_vec();
        Ok(())
    }

    fn describe(&self) -> String {
        format!("PC/SC reader {:?}", self.reader)
    }

    /// `SCardBeginTransaction`, the exchange, `SCardEndTransaction(SCARD_LEAVE_CARD)`: pcscd
    /// holds every other client's `SCardTransmit` on this card until the exchange is over.
    /// The transaction ends when it is dropped, on error and panic paths too.
    fn exclusive(&mut self, exchange: &mut Exchange<'_>) -> Result<Vec<u8>, HostError> {
        let transaction = self.card.get_mut()?.transaction()?;
        let buffer = &mut self.buffer;
        let result = exchange(&mut |apdu| Ok(transaction.transmit(apdu, buffer)?.to_vec()));
        match transaction.end(Disposition::LeaveCard) {
            Ok(()) => result,
            // The exchange's own error says more than the failed end.
            Err((_, e)) => result.and(Err(e.into())),
        }
    }
}

/// Whether a PC/SC service answers on this machine: `Ok` when it does,
/// [`HostError::NoPcscLibrary`] when pcsc-lite is not installed, the PC/SC
/// error otherwise (typically no pcscd running).
///
/// # Errors
/// As above.
pub fn probe() -> Result<(), HostError> {
    establish().map(drop)
}
