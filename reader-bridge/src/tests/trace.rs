//! Trace descriptions name the instruction and the status word.

use super::h;
use crate::trace::describe_exchange;

fn d(cmd: &str, resp: &str) -> String {
    describe_exchange(&h(cmd), &h(resp))
}

#[test]
fn names() {
    let s = d(
        "00 A4 04 00 08 A0 00 00 06 47 2F 00 01 00",
        "46 49 44 4F 5F 32 5F 30 90 00",
    );
    assert!(
        s.starts_with(">> 00 a4 04 00 08 a0 00 00 06 47 2f 00 01 00  SELECT a0000006472f0001"),
        "{s}"
    );
    assert!(
        s.contains("\n<< 46 49 44 4f 5f 32 5f 30 90 00  (90 00 success, 8 data bytes)"),
        "{s}"
    );
    assert!(d("80 10 80 00 01 04 00", "90 00").contains("NFCCTAP_MSG authenticatorGetInfo"));
    assert!(d("90 10 80 00 01 01", "90 00").contains("NFCCTAP_MSG (chained block)"));
    assert!(d("80 10 80 00 01 01 00", "02 91 00").contains("NFC CTAP status update"));
    assert!(d("80 11 11 00", "2D 90 00").contains("NFCCTAP_GETRESPONSE cancel"));
    assert!(d("80 12 01 00", "90 00").contains("NFCCTAP_CONTROL end session"));
    assert!(d("00 C0 00 00 00", "69 85").contains("GET RESPONSE"));
    assert!(d("00 C0 00 00 00", "69 85").contains("conditions of use not satisfied"));
    assert!(d("00 01 00 00 00", "67 00").contains("U2F REGISTER"));
    assert!(d("00 02 07 00 00", "69 85").contains("U2F AUTHENTICATE check-only"));
    assert!(d("00 03 00 00", "6A 82").contains("U2F VERSION"));
    assert!(d("00 03 00 00", "6A 82").contains("not found"));
    assert!(d("00 03 00 00", "01 61 10").contains("16 more bytes"));
    assert!(d("00 03 00", "67 00").contains("malformed"));
    assert!(d("00 03 00 00", "90").contains("invalid"));
}
