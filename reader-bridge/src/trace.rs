//! Human-readable APDU exchanges for `tapfido card --trace`.
//!
//! ```text
//!  >> 80 10 80 00 01 04 00  NFCCTAP_MSG authenticatorGetInfo
//!  << 00 a6 01 .. 90 00  (90 00 success, 183 data bytes)
//! ```

use crate::apdu::{Apdu, ResponseApdu, CLA_CHAINING};
use crate::bridge::{
    CLA_NFCCTAP as CTAP, INS_GET_RESPONSE, INS_NFCCTAP_CONTROL, INS_NFCCTAP_GETRESPONSE,
    INS_NFCCTAP_MSG, INS_SELECT, P1_CANCEL, P1_END_SESSION,
};
use crate::echo;
use iso7816::Status;
use std::fmt::Write as _;

/// Both APDUs in hex, the decoded instruction and the status word.
pub fn describe_exchange(cmd: &[u8], resp: &[u8]) -> String {
    let mut out = format!(">> {}  {}", spaced_hex(cmd), describe_command(cmd));
    let _ = write!(
        out,
        "\n<< {}  {}",
        spaced_hex(resp),
        describe_response(resp)
    );
    out
}

/// Bytes as lower-case hex pairs separated by spaces.
pub fn spaced_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The instruction of a command APDU, by name.
pub fn describe_command(cmd: &[u8]) -> String {
    let apdu = match Apdu::parse(cmd) {
        Ok(a) => a,
        Err(e) => return format!("malformed ({e})"),
    };
    let chained = apdu.cla != 0xFF && apdu.cla & CLA_CHAINING != 0;
    let cla = if chained {
        apdu.cla & !CLA_CHAINING
    } else {
        apdu.cla
    };
    let mut name = match (cla, apdu.ins) {
        (c, INS_SELECT) if c & 0x80 == 0 => format!("SELECT {}", hex::encode(apdu.data)),
        (_, INS_GET_RESPONSE) => "GET RESPONSE".to_owned(),
        (CTAP, INS_NFCCTAP_MSG) => match apdu.data.first() {
            Some(&c) if !chained => format!("NFCCTAP_MSG {}", ctap_command_name(c)),
            _ => "NFCCTAP_MSG".to_owned(),
        },
        (CTAP, INS_NFCCTAP_GETRESPONSE) if apdu.p1 == P1_CANCEL => {
            "NFCCTAP_GETRESPONSE cancel".to_owned()
        }
        (CTAP, INS_NFCCTAP_GETRESPONSE) => "NFCCTAP_GETRESPONSE".to_owned(),
        (CTAP, INS_NFCCTAP_CONTROL) if apdu.p1 == P1_END_SESSION => {
            "NFCCTAP_CONTROL end session".to_owned()
        }
        (CTAP, INS_NFCCTAP_CONTROL) => "NFCCTAP_CONTROL".to_owned(),
        (0x00, 0x01) => "U2F REGISTER".to_owned(),
        (0x00, 0x02) => format!("U2F AUTHENTICATE {}", u2f_auth_mode(apdu.p1)),
        (0x00, 0x03) => "U2F VERSION".to_owned(),
        (_, echo::INS_ECHO) => "ECHO (test applet)".to_owned(),
        (_, echo::INS_GENERATE) => "GENERATE (test applet)".to_owned(),
        (_, echo::INS_REPORT_NE) => "REPORT NE (test applet)".to_owned(),
        (_, ins) => format!("INS {ins:02x}"),
    };
    if chained {
        name.push_str(" (chained block)");
    }
    let _ = write!(
        name,
        " [Nc={} Ne={}{}]",
        apdu.data.len(),
        apdu.ne,
        if apdu.extended { " ext" } else { "" }
    );
    name
}

/// The status word of a response APDU, by name.
pub fn describe_response(resp: &[u8]) -> String {
    let r = match ResponseApdu::parse(resp) {
        Ok(r) => r,
        Err(e) => return format!("invalid ({e})"),
    };
    format!(
        "({:02x} {:02x} {}, {} data bytes)",
        r.sw1,
        r.sw2,
        status_name(r.sw()),
        r.data.len()
    )
}

/// Name of a status word.
pub fn status_name(sw: u16) -> String {
    match Status::from(sw) {
        Status::Success => "success".to_owned(),
        Status::MoreAvailable(n) => format!("{n} more bytes (0 = 256 or more)"),
        _ if sw == u16::from_be_bytes(crate::bridge::SW_STATUS_UPDATE) => {
            "NFC CTAP status update".to_owned()
        }
        Status::WrongLength => "wrong length".to_owned(),
        Status::ConditionsOfUseNotSatisfied => "conditions of use not satisfied".to_owned(),
        Status::NotFound => "file or application not found".to_owned(),
        Status::IncorrectDataParameter => "incorrect data".to_owned(),
        Status::IncorrectP1OrP2Parameter => "incorrect P1/P2".to_owned(),
        Status::InstructionNotSupportedOrInvalid => "INS not supported".to_owned(),
        Status::ClassNotSupported => "CLA not supported".to_owned(),
        Status::UnspecifiedCheckingError => "unspecified error".to_owned(),
        Status::SecurityStatusNotSatisfied => "security status not satisfied".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Name of a CTAP command byte (CTAP 2.1 §6).
pub fn ctap_command_name(cmd: u8) -> &'static str {
    match cmd {
        0x01 => "authenticatorMakeCredential",
        0x02 => "authenticatorGetAssertion",
        0x04 => "authenticatorGetInfo",
        0x06 => "authenticatorClientPIN",
        0x07 => "authenticatorReset",
        0x08 => "authenticatorGetNextAssertion",
        0x09 => "authenticatorBioEnrollment",
        0x0A => "authenticatorCredentialManagement",
        0x0B => "authenticatorSelection",
        0x0C => "authenticatorLargeBlobs",
        0x0D => "authenticatorConfig",
        0x40 => "authenticatorBioEnrollment (preview)",
        0x41 => "authenticatorCredentialManagement (preview)",
        _ => "unknown CTAP command",
    }
}

fn u2f_auth_mode(p1: u8) -> &'static str {
    match p1 {
        0x03 => "enforce-user-presence",
        0x07 => "check-only",
        0x08 => "dont-enforce-user-presence",
        _ => "unknown mode",
    }
}
