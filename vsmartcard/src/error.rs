//! The crate's one error enum: framing, protocol and connection failures.
//!
//! Every variant that concerns the wire carries the value seen on it (a length, a byte
//! count) so a log line says exactly what vpcd or the card did.

use crate::frame::MAX_PAYLOAD;

/// Errors of the vpcd codec and connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the socket failed.
    #[error("vpcd socket: {0}")]
    Io(#[from] std::io::Error),

    /// A payload does not fit the 16-bit length prefix. Nothing was written: a frame is never
    /// truncated.
    #[error("frame payload of {len} bytes exceeds the {MAX_PAYLOAD}-byte limit of the vpcd length prefix")]
    FrameTooLarge {
        /// The payload length that was refused.
        len: usize,
    },

    /// A frame with a zero length prefix. From vpcd this is a protocol error; towards vpcd it
    /// would mean "card removed", so the encoder refuses to write one.
    #[error("zero-length vpcd frame")]
    EmptyFrame,

    /// The peer closed the connection inside a frame (after `got` of `expected` bytes of the
    /// header or payload).
    #[error("vpcd closed the connection inside a frame ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes the frame part needed.
        expected: usize,
        /// Bytes received before the end of the stream.
        got: usize,
    },

    /// The card returned an empty ATR; vpcd would read an empty reply as a removal.
    #[error("the card returned an empty ATR")]
    EmptyAtr,

    /// vpcd sent nothing on a new connection within
    /// [`FIRST_FRAME_TIMEOUT`](crate::FIRST_FRAME_TIMEOUT): it has not accepted it.
    #[error("vpcd sent nothing on the new connection; connecting again")]
    Silent,

    /// pcscd polled a new connection twice, or powered it off, without ever powering it on:
    /// it has not seen the card inserted.
    #[error("pcscd does not power the card on this connection; connecting again")]
    NeverPowered,

    /// The vpcd address is not `HOST:PORT` with a numeric port.
    #[error("invalid vpcd address {0:?}: expected HOST:PORT")]
    InvalidAddress(String),
}
