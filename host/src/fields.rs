//! Reading members of decoded CTAP2 response maps, with every miss named.

use applet::cbor::Value;

use super::HostError;

/// A response map.
pub(crate) fn map(v: &Value, what: &'static str) -> Result<Vec<(Value, Value)>, HostError> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        _ => Err(HostError::Malformed(what)),
    }
}

/// The member under integer key `key`.
pub(crate) fn get(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    let want = Value::from(key);
    m.iter().find(|(k, _)| *k == want).map(|(_, v)| v)
}

/// The member under text key `key`.
pub(crate) fn get_text<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

pub(crate) fn bytes(v: Option<&Value>, what: &'static str) -> Result<Vec<u8>, HostError> {
    match v {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(HostError::Malformed(what)),
    }
}

pub(crate) fn text(v: Option<&Value>, what: &'static str) -> Result<String, HostError> {
    match v {
        Some(Value::Text(t)) => Ok(t.clone()),
        _ => Err(HostError::Malformed(what)),
    }
}

pub(crate) fn uint(v: Option<&Value>, what: &'static str) -> Result<u64, HostError> {
    match v {
        Some(Value::Unsigned(n)) => Ok(*n),
        _ => Err(HostError::Malformed(what)),
    }
}

pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Unsigned(n) => i64::try_from(*n).ok(),
        Value::Negative(n) => i64::try_from(*n).ok().map(|n| -1 - n),
        _ => None,
    }
}

pub(crate) fn opt_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

pub(crate) fn opt_uint(v: Option<&Value>) -> Option<u64> {
    match v {
        Some(Value::Unsigned(n)) => Some(*n),
        _ => None,
    }
}

pub(crate) fn text_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}
