//! The relying party's error enum: one variant per verification rule, so a
//! failure names exactly which rule of WebAuthn Level 3 §7.1/§7.2/§8 failed.

use serde::Serialize;

/// Which rule of registration or assertion verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", content = "detail", rename_all = "snake_case")]
pub enum RpError {
    /// The attestation object is not a CBOR map with `fmt`, `attStmt`, `authData`.
    #[error("attestation object is malformed: {0}")]
    MalformedAttestationObject(&'static str),
    /// Authenticator data is shorter than its flags announce, or has trailing bytes.
    #[error("authenticator data is malformed: {0}")]
    MalformedAuthData(&'static str),
    /// The credential public key is not a COSE_Key this verifier understands.
    #[error("credential public key is malformed: {0}")]
    MalformedCoseKey(&'static str),
    /// COSE algorithm other than ES256 (-7) and EdDSA (-8).
    #[error("unsupported COSE algorithm {0}")]
    UnsupportedAlgorithm(i64),
    /// clientDataJSON is not JSON with string `type`, `challenge`, `origin`.
    #[error("clientDataJSON is malformed")]
    MalformedClientData,
    /// clientDataJSON `type` is not `webauthn.create` / `webauthn.get` (§7.1 step 7).
    #[error("clientDataJSON type is {found:?}, expected {expected:?}")]
    ClientDataType {
        /// What the ceremony needs.
        expected: String,
        /// What the client sent.
        found: String,
    },
    /// clientDataJSON `challenge` is not base64url(expected challenge) (§7.1 step 8).
    #[error("challenge does not match")]
    ChallengeMismatch,
    /// clientDataJSON `origin` is not the expected origin (§7.1 step 9).
    #[error("origin is {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// Expected origin.
        expected: String,
        /// Origin in clientDataJSON.
        found: String,
    },
    /// authData rpIdHash is not SHA-256 of the RP ID (§7.1 step 13).
    #[error("RP ID hash does not match")]
    RpIdHashMismatch,
    /// Flag UP (bit 0) is clear (§7.1 step 14).
    #[error("user presence flag is not set")]
    UserNotPresent,
    /// Flag UV (bit 2) is clear while the ceremony requires UV (§7.1 step 15).
    #[error("user verification flag is not set")]
    UserNotVerified,
    /// Registration authData carries no attested credential data (flag AT).
    #[error("no attested credential data")]
    NoAttestedCredential,
    /// Attestation statement format not one of `packed`, `fido-u2f`, `none`.
    #[error("unsupported attestation format {0:?}")]
    UnsupportedFormat(String),
    /// attStmt does not have the fields its format requires.
    #[error("attestation statement is malformed: {0}")]
    MalformedAttStmt(&'static str),
    /// attStmt `alg` differs from the credential key's algorithm (self attestation).
    #[error("attestation alg {att} does not match credential alg {cred}")]
    AlgorithmMismatch {
        /// attStmt alg.
        att: i64,
        /// Credential key alg.
        cred: i64,
    },
    /// The attestation signature does not verify (§8.2, §8.6).
    #[error("attestation signature is invalid")]
    AttestationSignatureInvalid,
    /// A certificate in x5c or a trust anchor is not valid DER X.509.
    #[error("certificate {index} is malformed")]
    CertificateMalformed {
        /// Position in x5c (0 = attestation certificate).
        index: usize,
    },
    /// A validity date in x5c is not in the time type RFC 5280 §4.1.2.5
    /// requires: UTCTime through 2049, GeneralizedTime from 2050. A verifier
    /// that re-encodes the certificate gets other bytes and a broken
    /// signature.
    #[error(
        "certificate {index} {field} ({year}) is {found}; RFC 5280 §4.1.2.5 requires \
         UTCTime through 2049 and GeneralizedTime from 2050"
    )]
    CertificateTimeType {
        /// Position in x5c.
        index: usize,
        /// `notBefore` or `notAfter`.
        field: &'static str,
        /// The date's year.
        year: u16,
        /// `GeneralizedTime` or `UTCTime`, as encoded.
        found: &'static str,
    },
    /// A certificate in x5c is not in DER's one encoding (X.690 §10):
    /// decoding and encoding it again changes its bytes.
    #[error("certificate {index} is not canonical DER: re-encoding changes its bytes (X.690 §10)")]
    CertificateNotDer {
        /// Position in x5c.
        index: usize,
    },
    /// Attestation certificate is not X.509 version 3 (§8.2.1).
    #[error("attestation certificate is not version 3")]
    CertificateNotV3,
    /// Subject OU is not "Authenticator Attestation" (§8.2.1).
    #[error("attestation certificate subject OU is not \"Authenticator Attestation\"")]
    CertificateSubjectOu,
    /// Basic constraints say CA:true, or are missing (§8.2.1).
    #[error("attestation certificate is a CA certificate or lacks basic constraints")]
    CertificateIsCa,
    /// id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4) differs from authData's AAGUID.
    #[error("certificate AAGUID extension does not match authenticator data")]
    CertificateAaguidMismatch,
    /// The AAGUID extension is marked critical or is not an OCTET STRING of 16 bytes.
    #[error("certificate AAGUID extension is malformed or critical")]
    CertificateAaguidMalformed,
    /// Certificate `index` in x5c is not signed by certificate `index + 1`.
    #[error("certificate {index} is not signed by the next certificate in x5c")]
    ChainSignatureInvalid {
        /// Position of the certificate whose signature failed.
        index: usize,
    },
    /// The chain does not end at any of the given trust anchors.
    #[error("attestation chain does not lead to a trust anchor")]
    ChainUntrusted,
    /// A certificate uses a signature or key algorithm other than ECDSA P-256/SHA-256.
    #[error("certificate {index} uses an unsupported algorithm")]
    CertificateAlgorithm {
        /// Position in the chain.
        index: usize,
    },
    /// fido-u2f: the attestation or credential key is not P-256 (§8.6 steps 2-3).
    #[error("fido-u2f needs P-256 keys")]
    U2fKeyNotP256,
    /// The assertion signature does not verify (§7.2 step 20).
    #[error("assertion signature is invalid")]
    SignatureInvalid,
    /// signCount did not increase (§7.2 step 21): possible cloned authenticator.
    #[error("signature counter regressed: stored {stored}, received {received}")]
    CounterRegression {
        /// Counter stored with the credential.
        stored: u32,
        /// Counter in the assertion's authData.
        received: u32,
    },
}

impl RpError {
    /// The rule's snake_case name, as in JSON reports (`signature_invalid`).
    pub fn rule_name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("rule").and_then(|r| r.as_str()).map(str::to_owned))
            .unwrap_or_default()
    }
}
