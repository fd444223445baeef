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
use crate::diag::{ctap_diag, ctap_status_name, Side};
use crate::echo;
use crate::fold::Exchange;
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
    let first = if chained {
        None
    } else {
        apdu.data.first().copied()
    };
    let mut name = instruction_name([cla, apdu.ins, apdu.p1, apdu.p2], first, apdu.data);
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

/// The instruction of a header (chaining bit cleared), by name; `first` is
/// the first data byte of an unchained NFCCTAP_MSG (its CTAP command), `data`
/// the data field (the AID of a SELECT).
pub fn instruction_name(header: [u8; 4], first: Option<u8>, data: &[u8]) -> String {
    let [cla, ins, p1, _] = header;
    match (cla, ins) {
        (c, INS_SELECT) if c & 0x80 == 0 => format!("SELECT {}", hex::encode(data)),
        (_, INS_GET_RESPONSE) => "GET RESPONSE".to_owned(),
        (CTAP, INS_NFCCTAP_MSG) => match first {
            Some(c) => format!("NFCCTAP_MSG {}", ctap_command_name(c)),
            _ => "NFCCTAP_MSG".to_owned(),
        },
        (CTAP, INS_NFCCTAP_GETRESPONSE) if p1 == P1_CANCEL => {
            "NFCCTAP_GETRESPONSE cancel".to_owned()
        }
        (CTAP, INS_NFCCTAP_GETRESPONSE) => "NFCCTAP_GETRESPONSE".to_owned(),
        (CTAP, INS_NFCCTAP_CONTROL) if p1 == P1_END_SESSION => {
            "NFCCTAP_CONTROL end session".to_owned()
        }
        (CTAP, INS_NFCCTAP_CONTROL) => "NFCCTAP_CONTROL".to_owned(),
        (0x00, 0x01) => "U2F REGISTER".to_owned(),
        (0x00, 0x02) => format!("U2F AUTHENTICATE {}", u2f_auth_mode(p1)),
        (0x00, 0x03) => "U2F VERSION".to_owned(),
        (_, echo::INS_ECHO) => "ECHO (test applet)".to_owned(),
        (_, echo::INS_GENERATE) => "GENERATE (test applet)".to_owned(),
        (_, echo::INS_REPORT_NE) => "REPORT NE (test applet)".to_owned(),
        (_, ins) => format!("INS {ins:02x}"),
    }
}

/// A folded exchange ([`crate::fold`]) decoded for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The instruction by name (`NFCCTAP_MSG authenticatorGetInfo`).
    pub instruction: String,
    /// The CTAP command by name, for an NFCCTAP_MSG.
    pub ctap_command: Option<&'static str>,
    /// The CTAP status by name, for an answered NFCCTAP_MSG.
    pub ctap_status: Option<&'static str>,
    /// The request CBOR in diagnostic notation, keys named; or why it is
    /// not CBOR.
    pub request_cbor: Option<Result<String, String>>,
    /// The response CBOR in diagnostic notation, keys named.
    pub response_cbor: Option<Result<String, String>>,
    /// The final status word by name.
    pub status: String,
}

/// Decode a folded exchange: instruction, CTAP command and status by name,
/// request and response CBOR (CTAP 2.1 §11.3: request `cmd || CBOR`,
/// response `status || CBOR`).
pub fn decode_exchange(ex: &Exchange) -> Decoded {
    let ctap = ex.is_ctap_msg();
    let command = if ctap {
        ex.request.first().copied()
    } else {
        None
    };
    let answered = ctap && ex.complete && ex.sw == 0x9000;
    let status = if answered {
        ex.response.first().copied()
    } else {
        None
    };
    Decoded {
        instruction: instruction_name(ex.header, command, &ex.request),
        ctap_command: command.map(ctap_command_name),
        ctap_status: status.map(ctap_status_name),
        request_cbor: command.and_then(|c| ctap_diag(c, Side::Request, &ex.request[1..])),
        response_cbor: match (command, status) {
            (Some(c), Some(_)) => ctap_diag(c, Side::Response, &ex.response[1..]),
            _ => None,
        },
        status: status_name(ex.sw),
    }
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

#[cfg(test)]
mod decode_tests {
    use super::*;
    use crate::fold::Folder;

    /// CTAP 2.1 §11.3: a chained authenticatorClientPIN request and its answer.
    #[test]
    fn a_folded_ctap_exchange_is_named_and_decoded() {
        let mut folder = Folder::new();
        assert!(folder
            .push(&hex::decode("901080000206a2").unwrap(), &[0x90, 0x00])
            .is_empty());
        let out = folder.push(
            &hex::decode("80108000040102020100").unwrap(),
            &hex::decode("00a103089000").unwrap(),
        );
        let d = decode_exchange(&out[0]);
        assert_eq!(d.instruction, "NFCCTAP_MSG authenticatorClientPIN");
        assert_eq!(d.ctap_command, Some("authenticatorClientPIN"));
        assert_eq!(d.ctap_status, Some("CTAP2_OK"));
        assert_eq!(
            d.request_cbor,
            Some(Ok(
                "{1 /pinUvAuthProtocol/: 2, 2 /subCommand/: 1 /getPINRetries/}".into()
            ))
        );
        assert_eq!(d.response_cbor, Some(Ok("{3 /pinRetries/: 8}".into())));
        assert_eq!(d.status, "success");
    }

    #[test]
    fn a_select_has_no_cbor() {
        let mut folder = Folder::new();
        let out = folder.push(
            &hex::decode("00a4040008a0000006472f000100").unwrap(),
            &hex::decode("5532465f56329000").unwrap(),
        );
        let d = decode_exchange(&out[0]);
        assert_eq!(d.instruction, "SELECT a0000006472f0001");
        assert!(d.ctap_command.is_none() && d.request_cbor.is_none());
    }
}
