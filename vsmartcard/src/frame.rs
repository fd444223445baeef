//! Length-prefixed framing of the vpcd socket, both directions.
//!
//! ```text
//!  offset  0        1        2 ..
//!         +--------+--------+------------------------------+
//!         | len hi | len lo | payload (len bytes)          |
//!         +--------+--------+------------------------------+
//!  len: u16 big-endian, 0 ..= 65,535
//! ```
//!
//! vsmartcard's `vpcd.c` (`sendToVICC` / `recvFromVICC`) defines this layout; it has no
//! further header, checksum or sequence number. The length is checked explicitly on both
//! sides: [`encode_frame`] refuses a payload over [`MAX_PAYLOAD`] bytes with
//! [`Error::FrameTooLarge`] instead of truncating the prefix, and refuses an empty payload with
//! [`Error::EmptyFrame`] (vpcd reads an empty reply as "card removed"). A frame is written with
//! one `write_all` of header and payload together, so the card never splits a reply into two
//! segments.
//!
//! The functions here are async (tokio); [`blocking`] has the same framing over
//! `std::io::Read` and `std::io::Write`, for the card's link thread.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Error;

/// Largest payload the 16-bit length prefix can announce.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 2;

/// Encodes `payload` as one frame: length prefix followed by the payload.
///
/// # Errors
/// [`Error::EmptyFrame`] for an empty payload, [`Error::FrameTooLarge`] for one over
/// [`MAX_PAYLOAD`] bytes.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, Error> {
    if payload.is_empty() {
        return Err(Error::EmptyFrame);
    }
    let len =
        u16::try_from(payload.len()).map_err(|_| Error::FrameTooLarge { len: payload.len() })?;
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Writes `payload` as one frame and flushes the writer.
///
/// The length is checked before anything is written: on error the stream is untouched.
///
/// # Errors
/// As [`encode_frame`], plus [`Error::Io`] from the writer.
pub async fn write_frame<W>(writer: &mut W, payload: &[u8]) -> Result<(), Error>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let frame = encode_frame(payload)?;
    writer.write_all(&frame).await?;
    writer.flush().await?;
    Ok(())
}

/// Reads a length prefix. `Ok(None)` when the stream ends cleanly before it (the peer closed
/// the connection between frames).
///
/// # Errors
/// [`Error::Truncated`] when the stream ends after one byte, [`Error::Io`] from the reader.
pub async fn read_header<R>(reader: &mut R) -> Result<Option<u16>, Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut header = [0u8; HEADER_LEN];
    let got = read_until_eof(reader, &mut header).await?;
    header_read(header, got)
}

/// The length a header announces, from the `got` bytes of it that arrived.
fn header_read(header: [u8; HEADER_LEN], got: usize) -> Result<Option<u16>, Error> {
    match got {
        0 => Ok(None),
        HEADER_LEN => Ok(Some(u16::from_be_bytes(header))),
        _ => Err(Error::Truncated {
            expected: HEADER_LEN,
            got,
        }),
    }
}

/// The payload, if all of it (`got` bytes) arrived.
fn payload_read(payload: Vec<u8>, got: usize) -> Result<Vec<u8>, Error> {
    if got == payload.len() {
        Ok(payload)
    } else {
        Err(Error::Truncated {
            expected: payload.len(),
            got,
        })
    }
}

/// Reads the `len`-byte payload that follows a length prefix.
///
/// # Errors
/// [`Error::Truncated`] when the stream ends first, [`Error::Io`] from the reader.
pub async fn read_payload<R>(reader: &mut R, len: u16) -> Result<Vec<u8>, Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut payload = vec![0u8; usize::from(len)];
    let got = read_until_eof(reader, &mut payload).await?;
    payload_read(payload, got)
}

/// Reads one whole frame. `Ok(None)` on a clean end of stream between frames. A zero-length
/// frame is returned as an empty payload: whether that is acceptable is the protocol layer's
/// decision.
///
/// # Errors
/// As [`read_header`] and [`read_payload`].
pub async fn read_frame<R>(reader: &mut R) -> Result<Option<Vec<u8>>, Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    match read_header(reader).await? {
        None => Ok(None),
        Some(len) => read_payload(reader, len).await.map(Some),
    }
}

/// Fills `buf` until it is full or the stream ends; returns the number of bytes read.
async fn read_until_eof<R>(reader: &mut R, buf: &mut [u8]) -> Result<usize, Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut got = 0;
    while got < buf.len() {
        let Some(rest) = buf.get_mut(got..) else {
            break;
        };
        match reader.read(rest).await {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// The same framing over blocking `std::io` streams: the card's link thread reads and writes
/// its socket with these, one thread per connection, with no async runtime on the APDU path.
pub mod blocking {
    use std::io::{ErrorKind, Read, Write};

    use super::{encode_frame, header_read, payload_read, HEADER_LEN};
    use crate::Error;

    /// Reads a length prefix, as [`read_header`](super::read_header).
    ///
    /// # Errors
    /// [`Error::Truncated`] when the stream ends after one byte, [`Error::Io`] from the reader
    /// (`WouldBlock` or `TimedOut` when a read timeout set on a socket expires).
    pub fn read_header<R: Read + ?Sized>(reader: &mut R) -> Result<Option<u16>, Error> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_until_eof(reader, &mut header)?;
        header_read(header, got)
    }

    /// Reads the `len`-byte payload that follows a length prefix, as
    /// [`read_payload`](super::read_payload).
    ///
    /// # Errors
    /// [`Error::Truncated`] when the stream ends first, [`Error::Io`] from the reader.
    pub fn read_payload<R: Read + ?Sized>(reader: &mut R, len: u16) -> Result<Vec<u8>, Error> {
        let mut payload = vec![0u8; usize::from(len)];
        let got = read_until_eof(reader, &mut payload)?;
        payload_read(payload, got)
    }

    /// Writes `payload` as one frame with one `write_all`, as
    /// [`write_frame`](super::write_frame).
    ///
    /// # Errors
    /// As [`encode_frame`], plus [`Error::Io`] from the writer; on a length error nothing is
    /// written.
    pub fn write_frame<W: Write + ?Sized>(writer: &mut W, payload: &[u8]) -> Result<(), Error> {
        let frame = encode_frame(payload)?;
        writer.write_all(&frame)?;
        writer.flush()?;
        Ok(())
    }

    /// Fills `buf` until it is full or the stream ends; returns the number of bytes read.
    fn read_until_eof<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> Result<usize, Error> {
        let mut got = 0;
        while let Some(rest) = buf.get_mut(got..).filter(|rest| !rest.is_empty()) {
            match reader.read(rest) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(got)
    }
}
