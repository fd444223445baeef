//! ISO/IEC 7816-4 §5.1 command APDU parsing: any bytes either parse into one of the seven
//! length cases, consistent with the input, or are refused; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reader_bridge::apdu::Apdu;

fuzz_target!(|data: &[u8]| {
    if let Ok(apdu) = Apdu::parse(data) {
        assert!(apdu.data.len() + 4 <= data.len());
        assert!(apdu.ne <= 65_536);
        let _ = apdu.case();
    }
});
