//! Batch attestation: the attestation CA, the batch certificate it issues,
//! and the attestation signatures made with the batch key.
//!
//! # API
//! - [`AttestationCa::generate_test_ca`] creates the test CA at first start;
//!   [`AttestationCa::to_pem`] / [`AttestationCa::from_pem`] keep it in the
//!   state directory or read a user's CA (`--attestation-ca CERT KEY`).
//! - [`BatchAttestation::generate`] makes a batch key and its certificate;
//!   the 32 secret bytes from [`BatchAttestation::key_bytes`] belong in the
//!   persistent identity section, and [`BatchAttestation::from_key_bytes`]
//!   rebuilds the same attestation (byte-identical chain) at every start.
//! - [`BatchAttestation::sign`] makes the `packed` signature (WebAuthn §8.2:
//!   over `authData || clientDataHash`); [`BatchAttestation::sign_fido_u2f`]
//!   the U2F registration / `fido-u2f` one (U2F Raw Message Formats §4.3).
//! - [`BatchAttestation::chain`] is `x5c`: batch certificate first, then the
//!   intermediate CAs of a user-supplied chain. A self-signed root is never
//!   sent: it is the verifier's trust anchor (RFC 5280 §6.1.1 (d), FIDO
//!   Metadata `attestationRootCertificates`), not part of the path
//!   (WebAuthn §8.2 x5c: "attestnCert followed by its certificate chain").
//! - [`self_signed_certificate`] gives U2F REGISTER a certificate on a card
//!   without batch attestation (self attestation with the credential key).
//!
//! # Certificate profile
//! ```text
//!  CA (test)  v3, serial 16 random bytes, ecdsa-with-SHA256
//!             subject = issuer = O=tapfido, CN=tapfido Test Attestation CA
//!             validity 2024-01-01 (UTCTime) .. 9999-12-31T23:59:59Z
//!             (GeneralizedTime), the types of RFC 5280 §4.1.2.5
//!             basicConstraints  critical  CA:TRUE, pathLen 0
//!             keyUsage          critical  keyCertSign, cRLSign
//!             subjectKeyIdentifier        SHA-256(key)[..20] (RFC 7093)
//!
//!  batch      v3, serial SHA-256(CA cert || AAGUID || key)[..16] (positive),
//!             ecdsa-with-SHA256, validity the CA certificate's (re-typed
//!             per RFC 5280 §4.1.2.5 if the CA's are not)
//!             subject  C=<CA's C, else XX>, O=<CA's O, else tapfido>,
//!                      OU=Authenticator Attestation, CN=tapfido Batch Attestation
//!             basicConstraints  critical  CA:FALSE
//!             keyUsage          critical  digitalSignature
//!             subjectKeyIdentifier, authorityKeyIdentifier (= CA's SKI)
//!             1.3.6.1.4.1.45724.1.1.4   non-critical  OCTET STRING (16-byte AAGUID)
//!             1.3.6.1.4.1.45724.2.1.1   non-critical  BIT STRING {nFC}
//!
//!  enterprise the batch profile with CN=tapfido Enterprise Attestation and
//!             a subject serialNumber naming the card (card_serial); its key
//!             is derived from the batch key (enterprise_key), its serial
//!             from "tapfido enterprise serial"; sent instead of the batch
//!             certificate when makeCredential gets enterprise attestation
//! ```
//! These meet WebAuthn §8.2.1 "Packed Attestation Statement Certificate
//! Requirements". `XX` is an ISO 3166-1 user-assigned code: the project has
//! no country of incorporation; a user CA whose subject carries `C` and `O`
//! lends them to the batch certificate.

mod ca;
mod cert;
mod issue;

use std::fmt;

use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
/// Zeroed-on-drop wrapper of the secret values returned here.
pub use p256::elliptic_curve::zeroize::Zeroizing;

use crate::crypto::EcdsaKey;
use signature::Signer;

pub use ca::{AttestationCa, TEST_CA_COMMON_NAME, TEST_CA_ORGANIZATION};
pub use cert::{OID_FIDO_AAGUID, OID_FIDO_TRANSPORTS};
pub use issue::{
    card_serial, issue_batch, issue_enterprise, self_signed_certificate, SELF_COMMON_NAME,
};

use crate::env::CardRng;
use issue::enterprise_key;

/// Subject OU required by WebAuthn §8.2.1, exactly.
pub const BATCH_ORGANIZATIONAL_UNIT: &str = "Authenticator Attestation";
/// Subject CN of the batch certificate.
pub const BATCH_COMMON_NAME: &str = "tapfido Batch Attestation";
/// Subject CN of the enterprise attestation certificate.
pub const ENTERPRISE_COMMON_NAME: &str = "tapfido Enterprise Attestation";
/// Subject C of the batch certificate when the CA's subject has none.
pub const DEFAULT_COUNTRY: &str = "XX";

/// Why an attestation CA could not be loaded or a certificate not be made.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AttestationError {
    /// The input is not usable PEM.
    #[error("attestation CA {what} file: not valid PEM ({reason})")]
    Pem {
        /// Which file: "certificate" or "key".
        what: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The certificate file holds no `CERTIFICATE` block.
    #[error("attestation CA certificate file: no CERTIFICATE block")]
    NoCertificate,
    /// The key file holds no `PRIVATE KEY` / `EC PRIVATE KEY` block.
    #[error("attestation CA key file: no PRIVATE KEY or EC PRIVATE KEY block")]
    NoKey,
    /// The key is password-protected.
    #[error(
        "attestation CA key file: encrypted keys are not supported \
         (decrypt it first, e.g. `openssl pkey -in KEY -out PLAIN`)"
    )]
    EncryptedKey,
    /// The key is not a P-256 private key.
    #[error("attestation CA key: {0} (only EC P-256 keys are supported)")]
    Key(String),
    /// A certificate does not decode as X.509.
    #[error("attestation CA certificate: not a valid X.509 certificate ({0})")]
    Certificate(String),
    /// The CA certificate's key is not an EC P-256 key.
    #[error("attestation CA certificate: its public key is not EC P-256")]
    NotP256Certificate,
    /// The private key does not belong to the CA certificate.
    #[error("attestation CA key does not match the CA certificate's public key")]
    KeyMismatch,
    /// The certificate says it is not a CA.
    #[error("attestation CA certificate cannot issue certificates: {0}")]
    NotCa(&'static str),
    /// The CA certificate's signature does not verify (self-signature of a root, or the
    /// signature of the next certificate in the file).
    #[error("attestation CA certificate: bad signature ({0})")]
    CaSignature(&'static str),
    /// A stored batch key is not a valid P-256 scalar.
    #[error("batch attestation key is not a valid P-256 private key")]
    BatchKey,
    /// ASN.1 encoding failed (should not happen with valid inputs).
    #[error("certificate encoding failed: {0}")]
    Encoding(String),
    /// ECDSA signing failed.
    #[error("attestation signing failed")]
    Signing,
}

impl AttestationError {
    /// Whether the error is about the private-key file (else the certificate file): what a
    /// message naming the file should name.
    pub fn is_about_key(&self) -> bool {
        matches!(
            self,
            Self::Pem { what: "key", .. }
                | Self::NoKey
                | Self::EncryptedKey
                | Self::Key(_)
                | Self::KeyMismatch
        )
    }
}

impl From<der::Error> for AttestationError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}

impl From<spki::Error> for AttestationError {
    fn from(e: spki::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}

impl From<der::pem::Error> for AttestationError {
    fn from(e: der::pem::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}

/// The batch attestation key with its certificate chain, and the card's
/// enterprise attestation (its own key and certificate under the same CA).
pub struct BatchAttestation {
    key: SigningKey,
    /// The same key for attestation signatures (crate::crypto); `None`
    /// only if AWS-LC refused it, then `key` signs.
    signer: Option<EcdsaKey>,
    chain: Vec<Vec<u8>>,
    enterprise: Option<Box<BatchAttestation>>,
}

impl fmt::Debug for BatchAttestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchAttestation")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl BatchAttestation {
    /// A new random batch key, certified by `ca` for `aaguid`.
    pub fn generate(
        ca: &AttestationCa,
        aaguid: &[u8; 16],
        rng: &mut dyn CardRng,
    ) -> Result<Self, AttestationError> {
        let key = SigningKey::random(&mut &mut *rng);
        Self::with_key(ca, aaguid, key)
    }

    /// The batch attestation for a persisted key (see [`Self::key_bytes`]);
    /// the chain is re-issued and is byte-identical to the first one.
    pub fn from_key_bytes(
        ca: &AttestationCa,
        aaguid: &[u8; 16],
        key: &[u8],
    ) -> Result<Self, AttestationError> {
        if key.len() != 32 {
            return Err(AttestationError::BatchKey);
        }
        let key = SigningKey::from_slice(key).map_err(|_| AttestationError::BatchKey)?;
        Self::with_key(ca, aaguid, key)
    }

    /// Use `key` with an already issued chain (`chain[0]` certifies `key`);
    /// no enterprise attestation.
    pub fn from_parts(key: SigningKey, chain: Vec<Vec<u8>>) -> Self {
        let signer = EcdsaKey::from_bytes(&key.to_bytes().into());
        Self {
            key,
            signer,
            chain,
            enterprise: None,
        }
    }

    fn with_key(
        ca: &AttestationCa,
        aaguid: &[u8; 16],
        key: SigningKey,
    ) -> Result<Self, AttestationError> {
        let intermediates = ca.x5c_intermediates();
        let leaf = issue_batch(ca, aaguid, key.verifying_key())?;
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(leaf);
        chain.extend(intermediates.iter().cloned());

        let enterprise_key = enterprise_key(&key)?;
        let card_serial = card_serial(key.verifying_key());
        let leaf = issue_enterprise(ca, aaguid, enterprise_key.verifying_key(), &card_serial)?;
        let mut enterprise_chain = Vec::with_capacity(1 + intermediates.len());
        enterprise_chain.push(leaf);
        enterprise_chain.extend(intermediates);
        let enterprise = Self::from_parts(enterprise_key, enterprise_chain);
        Ok(Self {
            enterprise: Some(Box::new(enterprise)),
            ..Self::from_parts(key, chain)
        })
    }

    /// The enterprise attestation (CTAP 2.1 §7.1): its own key and
    /// certificate (`CN=tapfido Enterprise Attestation`, subject
    /// serialNumber = [`card_serial`]) under the same CA; `None` for an
    /// attestation built with [`Self::from_parts`].
    pub fn enterprise(&self) -> Option<&BatchAttestation> {
        self.enterprise.as_deref()
    }

    /// The 32-byte secret scalar, for the persistent identity section.
    pub fn key_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.key.to_bytes());
        out
    }

    /// `x5c`: the batch certificate first, then any intermediate CAs (never
    /// a self-signed root).
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// DER of the batch certificate (U2F registration's attestation cert).
    pub fn certificate(&self) -> &[u8] {
        self.chain.first().map_or(&[], Vec::as_slice)
    }

    /// The batch public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }

    /// ECDSA P-256 / SHA-256 over `message`, DER-encoded (RFC 3279 §2.2.3).
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, AttestationError> {
        if let Some(signer) = &self.signer {
            return signer.sign(message).ok_or(AttestationError::Signing);
        }
        let sig: DerSignature = self
            .key
            .try_sign(message)
            .map_err(|_| AttestationError::Signing)?;
        Ok(sig.as_bytes().to_vec())
    }

    /// `packed` attestation signature (WebAuthn §8.2, CTAP 2.1 §6.1.2):
    /// ```text
    ///  sig = ECDSA-SHA256(batch key, authData || clientDataHash)
    /// ```
    pub fn sign(
        &self,
        auth_data: &[u8],
        client_data_hash: &[u8],
    ) -> Result<Vec<u8>, AttestationError> {
        let mut message = Vec::with_capacity(auth_data.len() + client_data_hash.len());
        message.extend_from_slice(auth_data);
        message.extend_from_slice(client_data_hash);
        self.sign_message(&message)
    }

    /// U2F registration signature (U2F Raw Message Formats v1.2 §4.3;
    /// `fido-u2f` attestation, WebAuthn §8.6) over [`fido_u2f_message`].
    pub fn sign_fido_u2f(
        &self,
        application: &[u8; 32],
        challenge: &[u8; 32],
        key_handle: &[u8],
        public_key: &[u8; 65],
    ) -> Result<Vec<u8>, AttestationError> {
        self.sign_message(&fido_u2f_message(
            application,
            challenge,
            key_handle,
            public_key,
        ))
    }
}

/// What a U2F registration (and `fido-u2f` attestation) signs:
/// ```text
///  00 || application(32) || challenge(32) || key handle || public key(65, 04 x y)
/// ```
pub fn fido_u2f_message(
    application: &[u8; 32],
    challenge: &[u8; 32],
    key_handle: &[u8],
    public_key: &[u8; 65],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(1 + 32 + 32 + key_handle.len() + 65);
    message.push(0x00);
    message.extend_from_slice(application);
    message.extend_from_slice(challenge);
    message.extend_from_slice(key_handle);
    message.extend_from_slice(public_key);
    message
}
