//! A client of the card's loopback HTTP control API (the interface python-fido2's device
//! tests drive: `GET /`, `GET /usb{N}/power/off|on`, `GET /usb{N}/touch/on|off`).
//! Plain HTTP/1.1 over a `TcpStream`: the API is tiny and so is this.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An HTTP response: status code and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// `200`, `404`, ...
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// `GET path` on `addr`.
///
/// # Errors
/// Connection or protocol errors, as text.
pub fn get(addr: SocketAddr, path: &str) -> Result<Response, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}
