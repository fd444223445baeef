//! Test-side builders for WebAuthn objects, written independently of the
//! crate's parsers: CBOR through ciborium, certificates through x509-cert's
//! builder, signatures through p256 / ed25519-dalek.

pub mod vectors;

use std::str::FromStr;
use std::time::Duration;

use ciborium::Value;
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};
use signature::Signer;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

pub fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

pub fn text(s: &str) -> Value {
    Value::Text(s.into())
}

pub fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

pub fn p256_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn es256_cose(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    cbor(&Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-7)),
        (int(-1), int(1)),
        (int(-2), Value::Bytes(point.x().unwrap().to_vec())),
        (int(-3), Value::Bytes(point.y().unwrap().to_vec())),
    ]))
}

pub fn eddsa_cose(key: &ed25519_dalek::SigningKey) -> Vec<u8> {
    cbor(&Value::Map(vec![
        (int(1), int(1)),
        (int(3), int(-8)),
        (int(-1), int(6)),
        (
            int(-2),
            Value::Bytes(key.verifying_key().to_bytes().to_vec()),
        ),
    ]))
}

/// authData with attested credential data.
pub fn auth_data(
    rp_id: &str,
    flags: u8,
    count: u32,
    aaguid: &[u8; 16],
    cred_id: &[u8],
    cose: &[u8],
) -> Vec<u8> {
    let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
    out.push(flags | 0x40);
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(aaguid);
    out.extend_from_slice(&u16::try_from(cred_id.len()).unwrap().to_be_bytes());
    out.extend_from_slice(cred_id);
    out.extend_from_slice(cose);
    out
}

/// authData for an assertion (no attested credential data).
pub fn assertion_auth_data(rp_id: &str, flags: u8, count: u32) -> Vec<u8> {
    let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
    out.push(flags);
    out.extend_from_slice(&count.to_be_bytes());
    out
}

pub fn att_object(fmt: &str, att_stmt: Value, auth_data: &[u8]) -> Vec<u8> {
    cbor(&Value::Map(vec![
        (text("fmt"), text(fmt)),
        (text("attStmt"), att_stmt),
        (text("authData"), Value::Bytes(auth_data.to_vec())),
    ]))
}

pub fn es256_sign(key: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: DerSignature = key.sign(msg);
    sig.as_bytes().to_vec()
}

/// Sign `authData || SHA-256(clientDataJSON)`.
pub fn sign_over(key: &SigningKey, auth: &[u8], cdj: &[u8]) -> Vec<u8> {
    let mut msg = auth.to_vec();
    msg.extend_from_slice(&Sha256::digest(cdj));
    es256_sign(key, &msg)
}

pub fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    let enc = b64url(challenge);
    format!(r#"{{"type":"{kind}","challenge":"{enc}","origin":"{origin}","crossOrigin":false}}"#)
        .into_bytes()
}

/// base64url without padding, written here independently of the crate.
pub fn b64url(data: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = String::new();
    for b in data {
        bits.push_str(&format!("{b:08b}"));
    }
    while !bits.len().is_multiple_of(6) {
        bits.push('0');
    }
    let enc: String = bits
        .as_bytes()
        .chunks(6)
        .map(|c| {
            let i = usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap();
            char::from(alphabet[i])
        })
        .collect();
    enc
}

fn spki(key: &SigningKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap()
}

fn validity() -> Validity {
    Validity::from_now(Duration::from_secs(3600 * 24 * 365)).unwrap()
}

pub fn root_ca(key: &SigningKey, cn: &str) -> Certificate {
    let name = Name::from_str(&format!("CN={cn},O=Test,C=US")).unwrap();
    CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        validity(),
        name,
        spki(key),
        key,
    )
    .unwrap()
    .build::<DerSignature>()
    .unwrap()
}

/// The FIDO AAGUID extension (1.3.6.1.4.1.45724.1.1.4): OCTET STRING(16).
#[derive(Debug)]
pub struct AaguidExt(pub [u8; 16]);

impl const_oid::AssociatedOid for AaguidExt {
    const OID: const_oid::ObjectIdentifier =
        const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
}

impl der::EncodeValue for AaguidExt {
    fn value_len(&self) -> der::Result<der::Length> {
        Ok(der::Length::new(16))
    }
    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl der::FixedTag for AaguidExt {
    const TAG: der::Tag = der::Tag::OctetString;
}

impl x509_cert::ext::AsExtension for AaguidExt {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        false
    }
}

/// An attestation (leaf) certificate signed by `ca_key`.
pub fn attestation_cert(
    key: &SigningKey,
    ca_key: &SigningKey,
    ca: &Certificate,
    subject: &str,
    aaguid: Option<[u8; 16]>,
    as_ca: bool,
) -> Certificate {
    let profile = if as_ca {
        Profile::SubCA {
            issuer: ca.tbs_certificate.subject.clone(),
            path_len_constraint: None,
        }
    } else {
        Profile::Leaf {
            issuer: ca.tbs_certificate.subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        }
    };
    let mut builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(2u32),
        validity(),
        Name::from_str(subject).unwrap(),
        spki(key),
        ca_key,
    )
    .unwrap();
    if let Some(a) = aaguid {
        builder.add_extension(&AaguidExt(a)).unwrap();
    }
    builder.build::<DerSignature>().unwrap()
}

pub fn der_of(cert: &Certificate) -> Vec<u8> {
    der::Encode::to_der(cert).unwrap()
}

pub fn pem_of(cert: &Certificate) -> String {
    der::EncodePem::to_pem(cert, der::pem::LineEnding::LF).unwrap()
}
