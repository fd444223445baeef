//! Typed vpcd messages: what a frame from vpcd means, and what the card answers.
//!
//! ```text
//!  vpcd -> card payload          meaning            card -> vpcd reply
//!  ---------------------------   ----------------   ---------------------------
//!  00                            power off          (none)
//!  01                            power on           (none)
//!  02                            reset              (none)
//!  04                            get ATR            ATR bytes
//!  any other single byte         1-byte command     67 00 (wrong length)
//!  2 ..= 65,535 bytes            command APDU       response APDU (data || SW1 SW2)
//!  0 bytes                       protocol error     (none; the link is closed)
//! ```
//!
//! Control codes as defined by vsmartcard's `vpcd.h` (`VPCD_CTRL_OFF`, `VPCD_CTRL_ON`,
//! `VPCD_CTRL_RESET`, `VPCD_CTRL_ATR`). An APDU payload is passed on whole: ISO/IEC 7816-4 §5.1
//! parsing (length cases, chaining) belongs to the card, not to this transport.
//!
//! vpcd itself only ever sends the four control codes as one-byte frames, but it forwards a
//! PC/SC client's command APDU as is, whatever its length: a one-byte `SCardTransmit` reaches
//! the card as a one-byte frame and vpcd then waits for a reply, with no timeout, holding the
//! reader for every client. So a one-byte frame that is not a control code is a command that
//! is too short to be an APDU (ISO/IEC 7816-4 §5.1 needs at least CLA INS P1 P2) and is
//! answered `67 00` ("wrong length", §5.6 table 6) at once, without reaching the card. The
//! one-byte commands `00`, `01`, `02` and `04` cannot be told apart from control codes: that is
//! a limit of the vpcd protocol (a client sending them gets no answer, or the ATR).
//!
//! vpcd never sends an empty frame. [`VpcdMessage::decode`] rejects one with
//! [`Error::EmptyFrame`] and the connection closes the link rather than ignoring it: if vpcd
//! were waiting for a reply to it, ignoring it would block the slot forever (vpcd has no receive
//! timeout), while a closed link is seen by pcscd as a removal and the card reconnects.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::frame::{read_frame, write_frame};
use crate::Error;

/// Control byte: the card leaves the field.
pub const CTRL_POWER_OFF: u8 = 0x00;
/// Control byte: the card enters the field.
pub const CTRL_POWER_ON: u8 = 0x01;
/// Control byte: warm reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control byte: vpcd asks for the ATR (also its presence poll, every 400 ms).
pub const CTRL_GET_ATR: u8 = 0x04;

/// SW `67 00`, "wrong length" (ISO/IEC 7816-4:2013 §5.6, table 6): the answer to a one-byte
/// command, which cannot hold an APDU header.
pub const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];

/// One message from vpcd to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpcdMessage {
    /// `00`: power off.
    PowerOff,
    /// `01`: power on.
    PowerOn,
    /// `02`: reset.
    Reset,
    /// `04`: get ATR; the only control code with a reply.
    GetAtr,
    /// A payload of two bytes or more: a command APDU.
    Apdu(Vec<u8>),
    /// A single byte that is not a control code: a client's command too short to be an APDU,
    /// answered [`SW_WRONG_LENGTH`].
    ShortCommand(u8),
}

impl VpcdMessage {
    /// Decodes a frame payload.
    ///
    /// # Errors
    /// [`Error::EmptyFrame`] for an empty payload.
    pub fn decode(payload: Vec<u8>) -> Result<Self, Error> {
        match payload.as_slice() {
            [] => Err(Error::EmptyFrame),
            [CTRL_POWER_OFF] => Ok(Self::PowerOff),
            [CTRL_POWER_ON] => Ok(Self::PowerOn),
            [CTRL_RESET] => Ok(Self::Reset),
            [CTRL_GET_ATR] => Ok(Self::GetAtr),
            [other] => Ok(Self::ShortCommand(*other)),
            _ => Ok(Self::Apdu(payload)),
        }
    }

    /// The frame payload vpcd sends for this message (the vpcd side, for test doubles and
    /// tools).
    #[must_use]
    pub fn to_payload(&self) -> Vec<u8> {
        match self {
            Self::PowerOff => vec![CTRL_POWER_OFF],
            Self::PowerOn => vec![CTRL_POWER_ON],
            Self::Reset => vec![CTRL_RESET],
            Self::GetAtr => vec![CTRL_GET_ATR],
            Self::Apdu(apdu) => apdu.clone(),
            Self::ShortCommand(byte) => vec![*byte],
        }
    }

    /// Whether vpcd waits for a reply to this message (GET ATR, APDUs and one-byte commands).
    #[must_use]
    pub fn expects_reply(&self) -> bool {
        matches!(self, Self::GetAtr | Self::Apdu(_) | Self::ShortCommand(_))
    }
}

/// Reads and decodes one message from vpcd. `Ok(None)` when vpcd closed the connection
/// between frames.
///
/// # Errors
/// Framing errors of [`read_frame`], [`Error::EmptyFrame`] for a zero-length frame.
pub async fn read_message<R>(reader: &mut R) -> Result<Option<VpcdMessage>, Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    match read_frame(reader).await? {
        None => Ok(None),
        Some(payload) => VpcdMessage::decode(payload).map(Some),
    }
}

/// Writes one message as vpcd would (the vpcd side, for test doubles and tools).
///
/// # Errors
/// As [`write_frame`]; an `Apdu` of more than 65,535 bytes is [`Error::FrameTooLarge`].
pub async fn write_message<W>(writer: &mut W, message: &VpcdMessage) -> Result<(), Error>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    write_frame(writer, &message.to_payload()).await
}

/// Writes the card's reply (an ATR or a response APDU) as one frame.
///
/// # Errors
/// [`Error::EmptyFrame`] for an empty reply (vpcd would take it for a removal),
/// [`Error::FrameTooLarge`] for one over 65,535 bytes; nothing is written in either case.
pub async fn write_reply<W>(writer: &mut W, reply: &[u8]) -> Result<(), Error>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    write_frame(writer, reply).await
}
