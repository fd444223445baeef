//! A minimal card frame for tests: the FIDO applet behind just enough ISO
//! 7816-4 (short APDUs, command chaining, 61XX paging) to be driven as a
//! `VirtualCard`. Written for the tests, independently of the bridge.

use applet::attestation::AttestationCa;
use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use applet::iso::{Applet, Command, CtapOutcome};
use rand_core::SeedableRng;
use vsmartcard::VirtualCard;

/// ACS PocketKey NFC ATR: no extended length advertised.
pub const ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x41, 0x43, 0x53, 0x20, 0x41, 0x46, 0x44, 0x30, 0x32, 0x38,
];

#[allow(missing_debug_implementations)]
pub struct MiniCard<A: Applet> {
    pub applet: A,
    chain: Vec<u8>,
    pending: Vec<u8>,
    pub powered: bool,
}

impl<A: Applet> MiniCard<A> {
    pub fn new(applet: A) -> Self {
        Self {
            applet,
            chain: Vec::new(),
            pending: Vec::new(),
            powered: false,
        }
    }

    fn page(&mut self, mut data: Vec<u8>, sw: u16) -> Vec<u8> {
        if data.len() <= 256 {
            data.extend_from_slice(&sw.to_be_bytes());
            return data;
        }
        self.pending = data.split_off(256);
        let left = self.pending.len();
        data.push(0x61);
        data.push(if left >= 256 {
            0
        } else {
            u8::try_from(left).unwrap()
        });
        data
    }
}

fn sw(s: iso7816::Status) -> u16 {
    u16::from(s)
}

impl<A: Applet + Send> VirtualCard for MiniCard<A> {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }
    fn power_on(&mut self) {
        self.powered = true;
        self.applet.power_on();
    }
    fn power_off(&mut self) {
        self.powered = false;
        self.chain.clear();
        self.pending.clear();
        self.applet.power_off();
    }
    fn reset(&mut self) {
        self.power_off();
        self.power_on();
    }
    fn transmit(&mut self, c: &[u8]) -> Vec<u8> {
        let (cla, ins, p1, p2) = (c[0], c[1], c[2], c[3]);
        let (data, ne) = match c.len() {
            4 => (&c[4..4], 0),
            5 => (&c[4..4], if c[4] == 0 { 256 } else { usize::from(c[4]) }),
            _ => {
                let lc = usize::from(c[4]);
                let data = &c[5..5 + lc];
                let ne = match c.get(5 + lc) {
                    Some(0) => 256,
                    Some(n) => usize::from(*n),
                    None => 0,
                };
                (data, ne)
            }
        };
        if ins == 0xC0 {
            let rest = std::mem::take(&mut self.pending);
            return self.page(rest, 0x9000);
        }
        self.pending.clear();
        if cla & 0x10 != 0 {
            self.chain.extend_from_slice(data);
            return vec![0x90, 0x00];
        }
        let mut full = std::mem::take(&mut self.chain);
        full.extend_from_slice(data);
        let mut reply = Vec::new();
        let result = if ins == 0xA4 && p1 == 0x04 {
            if full == self.applet.aid() {
                self.applet.select(&mut reply)
            } else {
                Err(iso7816::Status::NotFound)
            }
        } else if cla == 0x80 && ins == 0x10 {
            match self.applet.ctap(&full, false, &mut reply) {
                Ok(CtapOutcome::Done) => Ok(()),
                Ok(CtapOutcome::UserPresenceNeeded) => {
                    Err(iso7816::Status::ConditionsOfUseNotSatisfied)
                }
                Err(e) => Err(e),
            }
        } else {
            let cmd = Command {
                cla,
                ins,
                p1,
                p2,
                data: &full,
                ne,
                extended: false,
            };
            self.applet.process(&cmd, &mut reply)
        };
        match result {
            Ok(()) => self.page(reply, 0x9000),
            Err(s) => sw(s).to_be_bytes().to_vec(),
        }
    }
}

/// A FIDO applet with a fresh test CA; returns the card, the CA
/// certificate (DER) and the AAGUID.
pub fn fido_card(seed: u64, config: Config) -> (MiniCard<FidoApplet<TestEnv>>, Vec<u8>, [u8; 16]) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let ca = AttestationCa::generate_test_ca(&mut rng).unwrap();
    let aaguid = config.aaguid.0;
    let applet = FidoApplet::new(TestEnv::seeded(seed), config, Some(&ca)).unwrap();
    (MiniCard::new(applet), ca.cert_der().to_vec(), aaguid)
}
