//! The minimal responder: the real floor of the end-to-end benchmark, outside tapfido's
//! code path. A blocking `std::net` client of vpcd's wire protocol (vpcd-stack.md §2) in
//! a thread of its own: 2-byte big-endian length + payload both ways, GET ATR (`04`)
//! answered with an ATR, power codes (`00` `01` `02`) answered with nothing, any APDU
//! answered `90 00`. `TCP_NODELAY` once, `TCP_QUICKACK` re-armed after every header
//! (vpcd-stack.md §3). Nothing of tokio, vsmartcard or the bridge is involved.
//!
//! It runs as a process of its own (`src/bin/minimal_responder.rs`), as `tapfido card`
//! does: a responder thread inside the benchmark's process would share the client's
//! address space, and a switch between the two on one core would skip the address-space
//! switch that every exchange with the card pays.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::bare::BARE_ATR;
use crate::card::{PcscdLock, CARD_TIMEOUT};
use crate::lock::{self, Lock};
use crate::reader::Reader;

/// Serves one connection until the socket closes.
fn respond(mut stream: TcpStream) -> std::io::Result<()> {
    let quickack = |s: &TcpStream| socket2::SockRef::from(s).set_tcp_quickack(true);
    stream.set_nodelay(true)?;
    let mut atr = vec![0x00, 0x05];
    atr.extend_from_slice(&BARE_ATR);
    let mut payload = vec![0u8; 65_535];
    loop {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header)?;
        quickack(&stream)?;
        let len = usize::from(u16::from_be_bytes(header));
        stream.read_exact(&mut payload[..len])?;
        quickack(&stream)?;
        let reply: &[u8] = match (len, payload[0]) {
            (1, 0x04) => &atr,
            (0 | 1, _) => continue,
            _ => &[0x00, 0x02, 0x90, 0x00],
        };
        stream.write_all(reply)?;
    }
}

/// Connects to vpcd on `127.0.0.1:port` and answers until the connection closes.
///
/// # Errors
/// When the connection cannot be made, or fails other than by closing.
pub fn serve(port: u16) -> std::io::Result<()> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    match respond(stream) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        other => other,
    }
}

/// The `minimal_responder` program, built next to the running benchmark.
fn program() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let path = exe.with_file_name("minimal_responder");
    assert!(
        path.is_file(),
        "{} is missing: cargo build --release -p tapfido-tests --bins",
        path.display()
    );
    path
}

/// A minimal responder on a vpcd slot, in a process of its own; removed on drop.
#[derive(Debug)]
pub struct MinimalResponder {
    child: Child,
    reader: Reader,
    _slot_lock: Lock,
    _pcscd_lock: Option<Lock>,
}

impl MinimalResponder {
    /// Connects to vpcd's port for `slot` and waits until pcscd sees the card.
    #[must_use]
    pub fn start(slot: u8, pcscd_lock: PcscdLock) -> Self {
        let pcscd_lock = match pcscd_lock {
            PcscdLock::Shared => Some(lock::pcscd(false)),
            PcscdLock::HeldByCaller => None,
        };
        crate::pcscd::ensure().unwrap_or_else(|e| panic!("{e}"));
        let slot_lock = lock::slot(slot);
        let reader = Reader::slot(slot);
        if let Err(e) = reader.wait(false, CARD_TIMEOUT) {
            panic!("{} is busy: {e}", reader.name);
        }
        let child = Command::new(program())
            .arg(reader.vpcd_port().to_string())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("minimal responder: {e}"));
        let responder = Self {
            child,
            reader,
            _slot_lock: slot_lock,
            _pcscd_lock: pcscd_lock,
        };
        if let Err(e) = responder.reader.wait(true, CARD_TIMEOUT) {
            panic!("minimal responder did not appear: {e}");
        }
        responder
    }

    /// The reader it sits in.
    #[must_use]
    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

impl Drop for MinimalResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.reader.wait(false, CARD_TIMEOUT);
    }
}
