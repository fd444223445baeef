//! Unit tests of the ISO 7816-4 layer. Transcript tests run hex command /
//! response pairs through a [`Bridge`] holding the echo applet and a small
//! fake CTAP applet that records every call.

mod apdu;
mod chaining;
mod nfc_ctap;
mod paging;
mod power;
mod prop;
mod select;
mod trace;

use crate::bridge::Bridge;
use crate::echo::EchoApplet;
use applet::iso::{Applet, Command, CtapOutcome, Status};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// FIDO AID (CTAP 2.1 NFC applet selection).
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];
/// SELECT of the FIDO AID, case 4 short.
pub const SELECT_FIDO: &str = "00 A4 04 00 08 A0 00 00 06 47 2F 00 01 00";
/// SELECT of the echo AID, case 4 short.
pub const SELECT_ECHO: &str = "00 A4 04 00 09 F0 74 61 70 66 69 64 6F 45 00";
/// "FIDO_2_0" 90 00.
pub const FIDO_2_0_OK: &str = "46 49 44 4F 5F 32 5F 30 90 00";

/// Hex to bytes; spaces ignored.
pub fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap()
}

/// (cla, ins, p1, p2, data, ne, extended) as the applet saw them.
pub type SeenCommand = (u8, u8, u8, u8, Vec<u8>, usize, bool);

/// Everything the fake applet saw.
#[derive(Clone, Debug, Default)]
pub struct Log {
    pub process: usize,
    pub ctap: usize,
    pub select: usize,
    pub deselect: usize,
    pub power_on: usize,
    pub power_off: usize,
    pub end_session: usize,
    pub shutdown: usize,
    /// (cla, ins, p1, p2, data, ne, extended) of the last `process`.
    pub last_cmd: Option<SeenCommand>,
    /// (request, may_wait) of the last `ctap`.
    pub last_ctap: Option<(Vec<u8>, bool)>,
}

/// A minimal CTAP applet under the FIDO AID.
///
/// `process`: INS `6D` → `6D 00`; anything else → `[INS] || data`.
/// `ctap` by command byte: `04` → `00 A0`; `01` → `00 || rest` once
/// presence is given, else waits (may_wait) or answers `27` itself;
/// `0C N1 N2` → `00 || N bytes (i * 7 + 3 mod 256)`; `0F` always asks to
/// wait (misbehaving); otherwise `01`.
pub struct FakeCtap {
    pub log: Arc<Mutex<Log>>,
    pub presence: Arc<AtomicBool>,
}

/// The fake applet's large-response pattern.
pub fn fake_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from((i * 7 + 3) % 256).unwrap())
        .collect()
}

impl Applet for FakeCtap {
    fn aid(&self) -> &[u8] {
        &FIDO_AID
    }
    fn select(&mut self, reply: &mut Vec<u8>) -> Result<(), Status> {
        self.log.lock().unwrap().select += 1;
        reply.extend_from_slice(b"FIDO_2_0");
        Ok(())
    }
    fn deselect(&mut self) {
        self.log.lock().unwrap().deselect += 1;
    }
    fn process(&mut self, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), Status> {
        let mut log = self.log.lock().unwrap();
        log.process += 1;
        log.last_cmd = Some((
            cmd.cla,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            cmd.data.to_vec(),
            cmd.ne,
            cmd.extended,
        ));
        if cmd.ins == 0x6D {
            return Err(Status::InstructionNotSupportedOrInvalid);
        }
        reply.push(cmd.ins);
        reply.extend_from_slice(cmd.data);
        Ok(())
    }
    fn ctap(
        &mut self,
        request: &[u8],
        may_wait: bool,
        reply: &mut Vec<u8>,
    ) -> Result<CtapOutcome, Status> {
        let mut log = self.log.lock().unwrap();
        log.ctap += 1;
        log.last_ctap = Some((request.to_vec(), may_wait));
        match request {
            [0x04] => reply.extend_from_slice(&[0x00, 0xA0]),
            [0x01, rest @ ..] => {
                if self.presence.load(Ordering::SeqCst) {
                    reply.push(0x00);
                    reply.extend_from_slice(rest);
                } else if may_wait {
                    return Ok(CtapOutcome::UserPresenceNeeded);
                } else {
                    reply.push(0x27);
                }
            }
            [0x0C, n1, n2] => {
                reply.push(0x00);
                reply.extend(fake_bytes(usize::from(u16::from_be_bytes([*n1, *n2]))));
            }
            [0x0F, ..] => return Ok(CtapOutcome::UserPresenceNeeded),
            _ => reply.push(0x01),
        }
        Ok(CtapOutcome::Done)
    }
    fn end_session(&mut self) {
        self.log.lock().unwrap().end_session += 1;
    }
    fn power_on(&mut self) {
        self.log.lock().unwrap().power_on += 1;
    }
    fn power_off(&mut self) {
        self.log.lock().unwrap().power_off += 1;
    }
    fn shutdown(&mut self) {
        self.log.lock().unwrap().shutdown += 1;
    }
}

/// A bridge with the echo applet and the fake CTAP applet, plus handles on
/// the fake's log and presence flag.
pub struct Harness {
    pub bridge: Bridge,
    pub log: Arc<Mutex<Log>>,
    pub presence: Arc<AtomicBool>,
}

impl Harness {
    pub fn new() -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let presence = Arc::new(AtomicBool::new(false));
        let fake = FakeCtap {
            log: log.clone(),
            presence: presence.clone(),
        };
        let bridge = Bridge::new(
            crate::atr::contactless(&crate::atr::DEFAULT_HISTORICAL).unwrap(),
            vec![Box::new(EchoApplet), Box::new(fake)],
        );
        Harness {
            bridge,
            log,
            presence,
        }
    }

    /// Send raw bytes, get the raw response.
    pub fn send(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.bridge.process(cmd)
    }

    /// Run a transcript of (command hex, expected response hex).
    pub fn run(&mut self, transcript: &[(&str, &str)]) {
        for (i, (cmd, expected)) in transcript.iter().enumerate() {
            let got = self.send(&h(cmd));
            assert_eq!(
                hex::encode(&got),
                hex::encode(h(expected)),
                "step {i}: {cmd}"
            );
        }
    }

    /// A snapshot of the fake applet's log.
    pub fn log(&self) -> Log {
        self.log.lock().unwrap().clone()
    }

    pub fn give_presence(&self) {
        self.presence.store(true, Ordering::SeqCst);
    }
}

/// Split a response into (data, sw).
pub fn split(resp: &[u8]) -> (&[u8], u16) {
    let (data, sw) = resp.split_at(resp.len() - 2);
    (data, u16::from_be_bytes([sw[0], sw[1]]))
}

/// Collect a response that may continue with `61 XX`: keeps sending GET
/// RESPONSE (`cla C0 00 00 le`), checking that every frame carries
/// exactly min(le or 256, remaining announced) bytes and that no frame
/// carries more than 256. Returns (all data, final sw, number of frames).
pub fn collect(hn: &mut Harness, first: Vec<u8>, gr_cla: u8, le: u8) -> (Vec<u8>, u16, usize) {
    let (data, mut sw) = split(&first);
    let mut all = data.to_vec();
    let mut frames = 1;
    let per_frame = if le == 0 { 256 } else { usize::from(le) };
    while sw & 0xFF00 == 0x6100 {
        let announced = usize::from(sw & 0xFF);
        let resp = hn.send(&[gr_cla, 0xC0, 0x00, 0x00, le]);
        let (d, s) = split(&resp);
        assert!(d.len() <= 256, "frame of {} bytes", d.len());
        if announced != 0 {
            assert_eq!(d.len(), announced.min(per_frame));
        } else {
            assert_eq!(d.len(), per_frame);
        }
        all.extend_from_slice(d);
        sw = s;
        frames += 1;
    }
    (all, sw, frames)
}
