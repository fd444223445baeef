//! CTAP messages in CBOR diagnostic notation (RFC 8949 §8), map keys named.
//!
//! ```text
//!  01 a4 01 58 20 …  (authenticatorMakeCredential request)
//!  → {1 /clientDataHash/: h'…', 2 /rp/: {"id": "example.com"}, …}
//! ```
//!
//! Names follow the parameter tables of CTAP 2.1 §6 (one per command,
//! request and response) and COSE_Key (RFC 9052 §7, RFC 9053 §7.1) for
//! `keyAgreement` and `publicKey`. Comments use the `/…/` form of the
//! extended diagnostic notation (RFC 8610 Appendix G.6). Decoding uses
//! ciborium, independently of the applet's own CBOR code.

use ciborium::value::Value;
use std::fmt::Write as _;

/// Which side of a CTAP command a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request parameters (after the command byte).
    Request,
    /// The response (after the status byte).
    Response,
}

/// Key names of a map, by integer key.
type Names = &'static [(i64, &'static str)];

const MAKE_CREDENTIAL_REQ: Names = &[
    (1, "clientDataHash"),
    (2, "rp"),
    (3, "user"),
    (4, "pubKeyCredParams"),
    (5, "excludeList"),
    (6, "extensions"),
    (7, "options"),
    (8, "pinUvAuthParam"),
    (9, "pinUvAuthProtocol"),
    (10, "enterpriseAttestation"),
];
const MAKE_CREDENTIAL_RESP: Names = &[
    (1, "fmt"),
    (2, "authData"),
    (3, "attStmt"),
    (4, "epAtt"),
    (5, "largeBlobKey"),
];
const GET_ASSERTION_REQ: Names = &[
    (1, "rpId"),
    (2, "clientDataHash"),
    (3, "allowList"),
    (4, "extensions"),
    (5, "options"),
    (6, "pinUvAuthParam"),
    (7, "pinUvAuthProtocol"),
];
const GET_ASSERTION_RESP: Names = &[
    (1, "credential"),
    (2, "authData"),
    (3, "signature"),
    (4, "user"),
    (5, "numberOfCredentials"),
    (6, "userSelected"),
    (7, "largeBlobKey"),
];
const GET_INFO_RESP: Names = &[
    (1, "versions"),
    (2, "extensions"),
    (3, "aaguid"),
    (4, "options"),
    (5, "maxMsgSize"),
    (6, "pinUvAuthProtocols"),
    (7, "maxCredentialCountInList"),
    (8, "maxCredentialIdLength"),
    (9, "transports"),
    (10, "algorithms"),
    (11, "maxSerializedLargeBlobArray"),
    (12, "forcePINChange"),
    (13, "minPINLength"),
    (14, "firmwareVersion"),
    (15, "maxCredBlobLength"),
    (16, "maxRPIDsForSetMinPINLength"),
    (17, "preferredPlatformUvAttempts"),
    (18, "uvModality"),
    (19, "certifications"),
    (20, "remainingDiscoverableCredentials"),
    (21, "vendorPrototypeConfigCommands"),
];
const CLIENT_PIN_REQ: Names = &[
    (1, "pinUvAuthProtocol"),
    (2, "subCommand"),
    (3, "keyAgreement"),
    (4, "pinUvAuthParam"),
    (5, "newPinEnc"),
    (6, "pinHashEnc"),
    (9, "permissions"),
    (10, "rpId"),
];
const CLIENT_PIN_RESP: Names = &[
    (1, "keyAgreement"),
    (2, "pinUvAuthToken"),
    (3, "pinRetries"),
    (4, "powerCycleState"),
    (5, "uvRetries"),
];
const CLIENT_PIN_SUB: Names = &[
    (1, "getPINRetries"),
    (2, "getKeyAgreement"),
    (3, "setPIN"),
    (4, "changePIN"),
    (5, "getPinToken"),
    (6, "getPinUvAuthTokenUsingUvWithPermissions"),
    (7, "getUVRetries"),
    (9, "getPinUvAuthTokenUsingPinWithPermissions"),
];
const CRED_MGMT_REQ: Names = &[
    (1, "subCommand"),
    (2, "subCommandParams"),
    (3, "pinUvAuthProtocol"),
    (4, "pinUvAuthParam"),
];
const CRED_MGMT_PARAMS: Names = &[(1, "rpIDHash"), (2, "credentialID"), (3, "user")];
const CRED_MGMT_SUB: Names = &[
    (1, "getCredsMetadata"),
    (2, "enumerateRPsBegin"),
    (3, "enumerateRPsGetNextRP"),
    (4, "enumerateCredentialsBegin"),
    (5, "enumerateCredentialsGetNextCredential"),
    (6, "deleteCredential"),
    (7, "updateUserInformation"),
];
const CRED_MGMT_RESP: Names = &[
    (1, "existingResidentCredentialsCount"),
    (2, "maxPossibleRemainingResidentCredentialsCount"),
    (3, "rp"),
    (4, "rpIDHash"),
    (5, "totalRPs"),
    (6, "user"),
    (7, "credentialID"),
    (8, "publicKey"),
    (9, "totalCredentials"),
    (10, "credProtect"),
    (11, "largeBlobKey"),
];
const LARGE_BLOBS_REQ: Names = &[
    (1, "get"),
    (2, "set"),
    (3, "offset"),
    (4, "length"),
    (5, "pinUvAuthParam"),
    (6, "pinUvAuthProtocol"),
];
const LARGE_BLOBS_RESP: Names = &[(1, "config")];
const CONFIG_REQ: Names = &[
    (1, "subCommand"),
    (2, "subCommandParams"),
    (3, "pinUvAuthProtocol"),
    (4, "pinUvAuthParam"),
];
const CONFIG_PARAMS: Names = &[
    (1, "newMinPINLength"),
    (2, "minPinLengthRPIDs"),
    (3, "forceChangePin"),
];
const CONFIG_SUB: Names = &[
    (1, "enableEnterpriseAttestation"),
    (2, "toggleAlwaysUv"),
    (3, "setMinPINLength"),
    (0xFF, "vendorPrototype"),
];
const COSE_KEY: Names = &[(1, "kty"), (3, "alg"), (-1, "crv"), (-2, "x"), (-3, "y")];
const SELECTION: Names = &[];

/// How the maps of one message are named: top-level keys, then the nested
/// maps under some keys, and subcommand values.
struct Schema {
    top: Names,
    /// Top-level key whose value is a COSE_Key.
    cose: &'static [i64],
    /// Top-level key whose value is a map named by the second table.
    nested: Option<(i64, Names)>,
    /// The subCommand key and its value names.
    sub: Option<(i64, Names)>,
}

fn schema(command: u8, side: Side) -> Option<Schema> {
    let plain = |top| Schema {
        top,
        cose: &[],
        nested: None,
        sub: None,
    };
    Some(match (command, side) {
        (0x01, Side::Request) => plain(MAKE_CREDENTIAL_REQ),
        (0x01, Side::Response) => plain(MAKE_CREDENTIAL_RESP),
        (0x02, Side::Request) => plain(GET_ASSERTION_REQ),
        (0x02 | 0x08, Side::Response) => plain(GET_ASSERTION_RESP),
        (0x04, Side::Response) => plain(GET_INFO_RESP),
        (0x06, Side::Request) => Schema {
            top: CLIENT_PIN_REQ,
            cose: &[3],
            nested: None,
            sub: Some((2, CLIENT_PIN_SUB)),
        },
        (0x06, Side::Response) => Schema {
            top: CLIENT_PIN_RESP,
            cose: &[1],
            nested: None,
            sub: None,
        },
        (0x0A | 0x41, Side::Request) => Schema {
            top: CRED_MGMT_REQ,
            cose: &[],
            nested: Some((2, CRED_MGMT_PARAMS)),
            sub: Some((1, CRED_MGMT_SUB)),
        },
        (0x0A | 0x41, Side::Response) => Schema {
            top: CRED_MGMT_RESP,
            cose: &[8],
            nested: None,
            sub: None,
        },
        (0x0C, Side::Request) => plain(LARGE_BLOBS_REQ),
        (0x0C, Side::Response) => plain(LARGE_BLOBS_RESP),
        (0x0D, Side::Request) => Schema {
            top: CONFIG_REQ,
            cose: &[],
            nested: Some((2, CONFIG_PARAMS)),
            sub: Some((1, CONFIG_SUB)),
        },
        (0x0B, _) => plain(SELECTION),
        _ => return None,
    })
}

/// A CTAP message body (the CBOR after the command or status byte) in
/// diagnostic notation, top-level keys named for `command`. `None` when
/// `body` is empty; `Err` with the reason when it is not one CBOR item.
pub fn ctap_diag(command: u8, side: Side, body: &[u8]) -> Option<Result<String, String>> {
    if body.is_empty() {
        return None;
    }
    Some(decode_one(body).map(|value| {
        let mut out = String::new();
        let schema = schema(command, side);
        write_top(&mut out, &value, schema.as_ref());
        out
    }))
}

/// Any CBOR item in diagnostic notation, no names.
pub fn diag(body: &[u8]) -> Result<String, String> {
    decode_one(body).map(|value| {
        let mut out = String::new();
        write_value(&mut out, &value, None);
        out
    })
}

fn decode_one(body: &[u8]) -> Result<Value, String> {
    let mut reader = body;
    let value: Value =
        ciborium::de::from_reader(&mut reader).map_err(|e| format!("not CBOR: {e}"))?;
    if !reader.is_empty() {
        return Err(format!("{} bytes after the CBOR item", reader.len()));
    }
    Ok(value)
}

fn int_key(key: &Value) -> Option<i64> {
    match key {
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
}

fn name_of(names: Names, key: i64) -> Option<&'static str> {
    names.iter().find(|(k, _)| *k == key).map(|(_, n)| *n)
}

fn write_top(out: &mut String, value: &Value, schema: Option<&Schema>) {
    let (Some(schema), Value::Map(entries)) = (schema, value) else {
        write_value(out, value, None);
        return;
    };
    out.push('{');
    for (i, (key, item)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(out, key, None);
        let k = int_key(key);
        if let Some(name) = k.and_then(|k| name_of(schema.top, k)) {
            let _ = write!(out, " /{name}/");
        }
        out.push_str(": ");
        let names = match k {
            Some(k) if schema.cose.contains(&k) => Some(COSE_KEY),
            Some(k) => schema.nested.filter(|(nk, _)| *nk == k).map(|(_, n)| n),
            None => None,
        };
        write_value(out, item, names);
        if let (Some(k), Some((sub_key, subs))) = (k, schema.sub) {
            if k == sub_key {
                if let Some(name) = int_key(item).and_then(|v| name_of(subs, v)) {
                    let _ = write!(out, " /{name}/");
                }
            }
        }
    }
    out.push('}');
}

/// One item; `names` names the keys of `value` when it is a map.
fn write_value(out: &mut String, value: &Value, names: Option<Names>) {
    match value {
        Value::Integer(i) => {
            let _ = write!(out, "{}", i128::from(*i));
        }
        Value::Bytes(b) => {
            let _ = write!(out, "h'{}'", hex::encode(b));
        }
        Value::Float(f) => write_float(out, *f),
        Value::Text(s) => write_text(out, s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Tag(tag, inner) => {
            let _ = write!(out, "{tag}(");
            write_value(out, inner, None);
            out.push(')');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, None);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, key, None);
                if let Some(name) = names.zip(int_key(key)).and_then(|(n, k)| name_of(n, k)) {
                    let _ = write!(out, " /{name}/");
                }
                out.push_str(": ");
                write_value(out, item, None);
            }
            out.push('}');
        }
        _ => out.push_str("undefined"),
    }
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

fn write_text(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Name of a CTAP status byte (CTAP 2.1 §8.2).
pub fn ctap_status_name(status: u8) -> &'static str {
    match status {
        0x00 => "CTAP2_OK",
        0x01 => "CTAP1_ERR_INVALID_COMMAND",
        0x02 => "CTAP1_ERR_INVALID_PARAMETER",
        0x03 => "CTAP1_ERR_INVALID_LENGTH",
        0x04 => "CTAP1_ERR_INVALID_SEQ",
        0x05 => "CTAP1_ERR_TIMEOUT",
        0x06 => "CTAP1_ERR_CHANNEL_BUSY",
        0x0A => "CTAP1_ERR_LOCK_REQUIRED",
        0x0B => "CTAP1_ERR_INVALID_CHANNEL",
        0x11 => "CTAP2_ERR_CBOR_UNEXPECTED_TYPE",
        0x12 => "CTAP2_ERR_INVALID_CBOR",
        0x14 => "CTAP2_ERR_MISSING_PARAMETER",
        0x15 => "CTAP2_ERR_LIMIT_EXCEEDED",
        0x16 => "CTAP2_ERR_UNSUPPORTED_EXTENSION",
        0x17 => "CTAP2_ERR_FP_DATABASE_FULL",
        0x18 => "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL",
        0x19 => "CTAP2_ERR_CREDENTIAL_EXCLUDED",
        0x21 => "CTAP2_ERR_PROCESSING",
        0x22 => "CTAP2_ERR_INVALID_CREDENTIAL",
        0x23 => "CTAP2_ERR_USER_ACTION_PENDING",
        0x24 => "CTAP2_ERR_OPERATION_PENDING",
        0x25 => "CTAP2_ERR_NO_OPERATIONS",
        0x26 => "CTAP2_ERR_UNSUPPORTED_ALGORITHM",
        0x27 => "CTAP2_ERR_OPERATION_DENIED",
        0x28 => "CTAP2_ERR_KEY_STORE_FULL",
        0x2A => "CTAP2_ERR_NO_OPERATION_PENDING",
        0x2B => "CTAP2_ERR_UNSUPPORTED_OPTION",
        0x2C => "CTAP2_ERR_INVALID_OPTION",
        0x2D => "CTAP2_ERR_KEEPALIVE_CANCEL",
        0x2E => "CTAP2_ERR_NO_CREDENTIALS",
        0x2F => "CTAP2_ERR_USER_ACTION_TIMEOUT",
        0x30 => "CTAP2_ERR_NOT_ALLOWED",
        0x31 => "CTAP2_ERR_PIN_INVALID",
        0x32 => "CTAP2_ERR_PIN_BLOCKED",
        0x33 => "CTAP2_ERR_PIN_AUTH_INVALID",
        0x34 => "CTAP2_ERR_PIN_AUTH_BLOCKED",
        0x35 => "CTAP2_ERR_PIN_NOT_SET",
        0x36 => "CTAP2_ERR_PUAT_REQUIRED",
        0x37 => "CTAP2_ERR_PIN_POLICY_VIOLATION",
        0x38 => "Reserved for Future Use (0x38)",
        0x39 => "CTAP2_ERR_REQUEST_TOO_LARGE",
        0x3A => "CTAP2_ERR_ACTION_TIMEOUT",
        0x3B => "CTAP2_ERR_UP_REQUIRED",
        0x3C => "CTAP2_ERR_UV_BLOCKED",
        0x3D => "CTAP2_ERR_INTEGRITY_FAILURE",
        0x3E => "CTAP2_ERR_INVALID_SUBCOMMAND",
        0x3F => "CTAP2_ERR_UV_INVALID",
        0x40 => "CTAP2_ERR_UNAUTHORIZED_PERMISSION",
        0x7F => "CTAP1_ERR_OTHER",
        0xDF => "CTAP2_ERR_SPEC_LAST",
        0xE0..=0xEF => "CTAP2_ERR_EXTENSION (0xE0-0xEF)",
        0xF0..=0xFF => "CTAP2_ERR_VENDOR (0xF0-0xFF)",
        _ => "unknown CTAP status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// CTAP 2.1 §6.5.5.1: getPINRetries = {1: protocol, 2: 1}.
    #[test]
    fn client_pin_request_keys_and_subcommand_are_named() {
        let text = ctap_diag(0x06, Side::Request, &h("a2 01 02 02 01"))
            .unwrap()
            .unwrap();
        assert_eq!(
            text,
            "{1 /pinUvAuthProtocol/: 2, 2 /subCommand/: 1 /getPINRetries/}"
        );
    }

    /// CTAP 2.1 §6.5.5.4 getKeyAgreement response: a COSE_Key under key 1.
    #[test]
    fn cose_keys_are_named() {
        let text = ctap_diag(0x06, Side::Response, &h("a1 01 a2 01 02 20 01"))
            .unwrap()
            .unwrap();
        assert_eq!(text, "{1 /keyAgreement/: {1 /kty/: 2, -1 /crv/: 1}}");
    }

    #[test]
    fn get_info_values_of_every_kind() {
        let body = h("a3 01 81 68 46 49 44 4f 5f 32 5f 30 03 42 ab cd 04 a1 62 72 6b f5");
        let text = ctap_diag(0x04, Side::Response, &body).unwrap().unwrap();
        assert_eq!(
            text,
            "{1 /versions/: [\"FIDO_2_0\"], 3 /aaguid/: h'abcd', 4 /options/: {\"rk\": true}}"
        );
    }

    #[test]
    fn empty_trailing_and_invalid_bodies() {
        assert!(ctap_diag(0x04, Side::Request, &[]).is_none());
        assert!(ctap_diag(0x04, Side::Response, &h("a0 00"))
            .unwrap()
            .is_err());
        assert!(ctap_diag(0x04, Side::Response, &h("a1")).unwrap().is_err());
        assert_eq!(diag(&h("c6 41 01")).unwrap(), "6(h'01')");
    }

    #[test]
    fn status_names() {
        assert_eq!(ctap_status_name(0x00), "CTAP2_OK");
        assert_eq!(ctap_status_name(0x31), "CTAP2_ERR_PIN_INVALID");
        assert_eq!(ctap_status_name(0xF3), "CTAP2_ERR_VENDOR (0xF0-0xFF)");
    }
}
