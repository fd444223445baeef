//! Typed vpcd messages: what a frame from vpcd means, and what the card answers.
//!
//! ```text
//!  vpcd -> card payload          meaning            card -> vpcd reply
//!  ---------------------------   ----------------   ---------------------------
//!  00                            power off          (none)
//!  01                            power on           (none)
//!  02                            reset              (none)
//!  04                            get ATR            ATR bytes
//!  any other single byte         unknown control    (none; logged)
//!  2 ..= 65,535 bytes            command APDU       response APDU (data || SW1 SW2)
//!  0 bytes                       protocol error     (none; the link is closed)
//! ```
//!
//! Control codes as defined by vsmartcard's `vpcd.h` (`VPCD_CTRL_OFF`, `VPCD_CTRL_ON`,
//! `VPCD_CTRL_RESET`, `VPCD_CTRL_ATR`). An APDU payload is passed on whole: ISO/IEC 7816-4 §5.1
//! parsing (length cases, chaining) belongs to the card, not to this transport.
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
    /// A single byte that is not a known control code.
    Unknown(u8),
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
            [other] => Ok(Self::Unknown(*other)),
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
            Self::Unknown(byte) => vec![*byte],
        }
    }

    /// Whether vpcd waits for a reply to this message (GET ATR and APDUs).
    #[must_use]
    pub fn expects_reply(&self) -> bool {
        matches!(self, Self::GetAtr | Self::Apdu(_))
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
