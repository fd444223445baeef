//! CTAP2 canonical encoding (CTAP 2.1 §8 "Message encoding").

use super::decode::canonical_cmp;
use super::Value;

/// Encode `value` in CTAP2 canonical form.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Append the CTAP2 canonical encoding of `value` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Unsigned(n) => head(0, *n, out),
        Value::Negative(n) => head(1, *n, out),
        Value::Bytes(b) => {
            head(2, len64(b.len()), out);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(3, len64(t.len()), out);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(4, len64(items.len()), out);
            for item in items {
                encode_into(item, out);
            }
        }
        Value::Map(pairs) => {
            let mut encoded: Vec<(Vec<u8>, &Value)> =
                pairs.iter().map(|(k, v)| (encode(k), v)).collect();
            encoded.sort_by(|a, b| canonical_cmp(&a.0, &b.0));
            head(5, len64(encoded.len()), out);
            for (key, value) in encoded {
                out.extend_from_slice(&key);
                encode_into(value, out);
            }
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
    }
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Write a head (major type + argument) in its shortest form.
fn head(major: u8, arg: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if let Ok(small) = u8::try_from(arg) {
        if small < 24 {
            out.push(m | small);
        } else {
            out.extend_from_slice(&[m | 24, small]);
        }
    } else if let Ok(v) = u16::try_from(arg) {
        out.push(m | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(arg) {
        out.push(m | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}
