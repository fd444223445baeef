//! A sequence of command APDUs and power events to the real card: the bridge (ISO 7816-4
//! framing, chaining, paging, NFC CTAP binding) over the FIDO applet, à la
//! fido-authenticator's `Vec<Request>` and apdu-dispatch fuzzing (reliability §8.6 item 57).
//!
//! Input: a list of items. `00` power on, `01` power off, `02` reset, `03` disconnect;
//! any other first byte `n` is followed by an APDU of `n` bytes (`FF` → the next two
//! bytes give a big-endian length, for extended APDUs). Every answer carries a status
//! word; never a panic.
#![no_main]

use applet::config::Config;
use applet::env::TestEnv;
use applet::fido::FidoApplet;
use libfuzzer_sys::fuzz_target;
use reader_bridge::apdu::Apdu;
use reader_bridge::bridge::Bridge;
use vsmartcard::VirtualCard;

const ATR: [u8; 14] = [
    0x3B, 0x89, 0x80, 0x01, 0x41, 0x43, 0x53, 0x20, 0x41, 0x46, 0x44, 0x30, 0x32, 0x38,
];

fuzz_target!(|data: &[u8]| {
    let applet = FidoApplet::new(TestEnv::seeded(3), Config::default(), None).unwrap();
    let mut card = Bridge::new(ATR.to_vec(), vec![Box::new(applet)]);
    card.power_on();
    let mut rest = data;
    while let Some((&tag, tail)) = rest.split_first() {
        rest = tail;
        match tag {
            0 => card.power_on(),
            1 => card.power_off(),
            2 => card.reset(),
            3 => card.disconnected(),
            n => {
                let len = if n == 0xFF {
                    let Some((len, tail)) = rest.split_first_chunk::<2>() else {
                        return;
                    };
                    rest = tail;
                    usize::from(u16::from_be_bytes(*len))
                } else {
                    usize::from(n)
                };
                let len = len.min(rest.len());
                let (apdu, tail) = rest.split_at(len);
                rest = tail;
                let reply = card.transmit(apdu);
                assert!(reply.len() >= 2, "a response without a status word");
                if let Ok(parsed) = Apdu::parse(apdu) {
                    if !parsed.extended {
                        // libfido2 reads at most 258 bytes per short frame (§8.5 item 48).
                        assert!(reply.len() <= 258, "{} bytes for a short APDU", reply.len());
                    }
                }
            }
        }
    }
});
