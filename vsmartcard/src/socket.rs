//! TCP options that keep Debian's vpcd from stalling 40 ms per APDU.
//!
//! vpcd 3.3 writes the length prefix and the payload with two `send()` calls and without
//! `TCP_NODELAY`: Nagle holds the payload until the card ACKs the prefix, and Linux delays that
//! ACK by ~40 ms. Setting `TCP_QUICKACK` right after reading each prefix makes the kernel send
//! the pending ACK at once. Linux clears the option again on its own (it is not sticky), so it
//! is re-armed after every header. `TCP_NODELAY` on the card's side keeps its own replies from
//! waiting on Nagle.

use std::net::TcpStream;

/// Sets `TCP_NODELAY` and arms `TCP_QUICKACK` on a fresh connection.
///
/// # Errors
/// The `setsockopt` error.
pub(crate) fn configure(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    rearm_quickack(stream)
}

/// Re-arms `TCP_QUICKACK` (Linux and Android; a no-op elsewhere).
///
/// # Errors
/// The `setsockopt` error.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn rearm_quickack(stream: &TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(stream).set_tcp_quickack(true)
}

/// Re-arms `TCP_QUICKACK` (Linux and Android; a no-op elsewhere).
///
/// # Errors
/// None on this platform.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn rearm_quickack(_stream: &TcpStream) -> std::io::Result<()> {
    Ok(())
}
