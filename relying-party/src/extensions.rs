//! Authenticator extension outputs in authenticator data, checked against
//! the types and sizes the specifications give them (WebAuthn Level 3
//! §9.2 "authenticator extension outputs" must be well-formed; CTAP 2.1
//! §12, CTAP 2.2 §12.7 hmac-secret-mc, §12.9 thirdPartyPayment, CTAP 2.3
//! pinComplexityPolicy).
//!
//! ```text
//!  registration (makeCredential)         assertion (getAssertion)
//!  "hmac-secret"         bool            "hmac-secret"        bstr 32|64 (+16 IV)
//!  "hmac-secret-mc"      bstr 32|64      "thirdPartyPayment"  bool
//!                        (+16 IV), and   "credBlob"           bstr
//!                        "hmac-secret": true
//!  "credProtect"         uint 1..=3
//!  "credBlob"            bool
//!  "minPinLength"        uint
//!  "pinComplexityPolicy" bool
//!  "thirdPartyPayment"   bool
//! ```
//! Other names are not interpreted. The hmac-secret outputs are encrypted
//! for the platform: the relying party sees only their size (32 or 64
//! bytes, plus a 16-byte IV with PIN/UV auth protocol two).

use ciborium::Value;
use serde::Serialize;

use super::RpError;

/// What a registration's extension outputs said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistrationExtensions {
    /// hmac-secret: the credential has one.
    pub hmac_secret: Option<bool>,
    /// hmac-secret-mc: length of the encrypted outputs.
    pub hmac_secret_mc_len: Option<usize>,
    /// credProtect level.
    pub cred_protect: Option<u64>,
    /// pinComplexityPolicy: the authenticator enforces a PIN complexity policy.
    pub pin_complexity_policy: Option<bool>,
    /// thirdPartyPayment.
    pub third_party_payment: Option<bool>,
}

/// What an assertion's extension outputs said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AssertionExtensions {
    /// hmac-secret: length of the encrypted outputs.
    pub hmac_secret_len: Option<usize>,
    /// thirdPartyPayment: the credential's mark.
    pub third_party_payment: Option<bool>,
}

fn entries(ext: Option<&Value>) -> Result<Vec<(String, &Value)>, RpError> {
    match ext {
        None => Ok(Vec::new()),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, v)| match k {
                Value::Text(name) => Ok((name.clone(), v)),
                _ => Err(RpError::MalformedExtension("an extension name is not text")),
            })
            .collect(),
        Some(_) => Err(RpError::MalformedExtension("extensions are not a map")),
    }
}

fn boolean(v: &Value, what: &'static str) -> Result<bool, RpError> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(RpError::MalformedExtension(what)),
    }
}

fn uint(v: &Value, what: &'static str) -> Result<u64, RpError> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| RpError::MalformedExtension(what)),
        _ => Err(RpError::MalformedExtension(what)),
    }
}

/// The length of encrypted hmac-secret outputs: one or two 32-byte outputs,
/// plus a 16-byte IV with protocol two.
fn hmac_len(v: &Value, what: &'static str) -> Result<usize, RpError> {
    match v {
        Value::Bytes(b) if matches!(b.len(), 32 | 48 | 64 | 80) => Ok(b.len()),
        _ => Err(RpError::MalformedExtension(what)),
    }
}

/// Check a registration's extension outputs.
pub fn check_registration(ext: Option<&Value>) -> Result<RegistrationExtensions, RpError> {
    let mut out = RegistrationExtensions::default();
    for (name, v) in entries(ext)? {
        match name.as_str() {
            "hmac-secret" => out.hmac_secret = Some(boolean(v, "hmac-secret is not a bool")?),
            "hmac-secret-mc" => {
                out.hmac_secret_mc_len = Some(hmac_len(
                    v,
                    "hmac-secret-mc is not 32 or 64 encrypted bytes",
                )?);
            }
            "credProtect" => {
                let level = uint(v, "credProtect is not an unsigned integer")?;
                if !(1..=3).contains(&level) {
                    return Err(RpError::MalformedExtension("credProtect is not 1, 2 or 3"));
                }
                out.cred_protect = Some(level);
            }
            "credBlob" => {
                boolean(v, "credBlob is not a bool")?;
            }
            "minPinLength" => {
                uint(v, "minPinLength is not an unsigned integer")?;
            }
            "pinComplexityPolicy" => {
                out.pin_complexity_policy = Some(boolean(v, "pinComplexityPolicy is not a bool")?);
            }
            "thirdPartyPayment" => {
                out.third_party_payment = Some(boolean(v, "thirdPartyPayment is not a bool")?);
            }
            _ => {}
        }
    }
    if out.hmac_secret_mc_len.is_some() && out.hmac_secret != Some(true) {
        return Err(RpError::MalformedExtension(
            "hmac-secret-mc output without hmac-secret: true",
        ));
    }
    Ok(out)
}

/// Check an assertion's extension outputs.
pub fn check_assertion(ext: Option<&Value>) -> Result<AssertionExtensions, RpError> {
    let mut out = AssertionExtensions::default();
    for (name, v) in entries(ext)? {
        match name.as_str() {
            "hmac-secret" => {
                out.hmac_secret_len =
                    Some(hmac_len(v, "hmac-secret is not 32 or 64 encrypted bytes")?);
            }
            "thirdPartyPayment" => {
                out.third_party_payment = Some(boolean(v, "thirdPartyPayment is not a bool")?);
            }
            "credBlob" if !matches!(v, Value::Bytes(_)) => {
                return Err(RpError::MalformedExtension("credBlob is not a byte string"));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ext(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::Text(k.to_owned()), v))
                .collect(),
        )
    }

    #[test]
    fn registration_outputs() {
        let ok = ext(vec![
            ("hmac-secret", Value::Bool(true)),
            ("hmac-secret-mc", Value::Bytes(vec![0; 80])),
            ("pinComplexityPolicy", Value::Bool(false)),
        ]);
        let r = check_registration(Some(&ok)).unwrap();
        assert_eq!(r.hmac_secret_mc_len, Some(80));
        assert_eq!(r.pin_complexity_policy, Some(false));
        for bad in [
            ext(vec![("hmac-secret-mc", Value::Bytes(vec![0; 48]))]),
            ext(vec![
                ("hmac-secret", Value::Bool(true)),
                ("hmac-secret-mc", Value::Bytes(vec![0; 33])),
            ]),
            ext(vec![("thirdPartyPayment", Value::Integer(1.into()))]),
            ext(vec![("credProtect", Value::Integer(4.into()))]),
            Value::Array(vec![]),
        ] {
            assert!(
                matches!(
                    check_registration(Some(&bad)),
                    Err(RpError::MalformedExtension(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn assertion_outputs() {
        let ok = ext(vec![
            ("hmac-secret", Value::Bytes(vec![0; 48])),
            ("thirdPartyPayment", Value::Bool(true)),
        ]);
        let a = check_assertion(Some(&ok)).unwrap();
        assert_eq!(a.third_party_payment, Some(true));
        assert_eq!(a.hmac_secret_len, Some(48));
        let bad = ext(vec![("thirdPartyPayment", Value::Text("yes".into()))]);
        assert!(check_assertion(Some(&bad)).is_err());
        assert_eq!(
            check_assertion(None).unwrap(),
            AssertionExtensions::default()
        );
    }
}
