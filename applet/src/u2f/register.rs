//! U2F_REGISTER (U2F Raw Message Formats v1.2 §4).
//!
//! ```text
//!  request data:  challenge parameter (32) || application parameter (32)
//!  response:      05 || user public key (65, 04 x y) || L (1) || key handle (L)
//!                    || attestation certificate (DER) || signature (DER)
//!  signature over 00 || application (32) || challenge (32) || key handle || public key
//! ```
//! P1 and P2 are ignored: clients send `00` or `03` (enforce presence), and
//! registration always requires presence.

use super::{two_params, Params, U2f, U2fError, REGISTER_ID};
use crate::attestation;
use crate::credential::{CredFlags, Sealed};
use crate::iso::Command;
use crate::keys::{Algorithm, PrivateKey};

pub(super) fn register(
    ctx: U2f<'_>,
    cmd: &Command<'_>,
    reply: &mut Vec<u8>,
) -> Result<(), U2fError> {
    let Params {
        challenge,
        application,
        rest,
    } = two_params(cmd.data)?;
    if !rest.is_empty() {
        return Err(U2fError::WrongLength);
    }
    if !ctx.user_present {
        return Err(U2fError::ConditionsNotSatisfied);
    }

    let key = PrivateKey::generate(Algorithm::Es256, ctx.env.rng());
    let public: [u8; 65] = key
        .public_sec1()
        .and_then(|p| <[u8; 65]>::try_from(p).ok())
        .ok_or(U2fError::Unspecified)?;
    let sealed = Sealed {
        key,
        flags: CredFlags {
            cred_protect: 0,
            u2f: true,
            discoverable: false,
            third_party_payment: false,
        },
    };
    let key_handle = ctx.id_key.wrap(ctx.env.rng(), application, &sealed);
    let handle_len = u8::try_from(key_handle.len()).map_err(|_| U2fError::Unspecified)?;
    let message = attestation::fido_u2f_message(application, challenge, &key_handle, &public);

    // Batch attestation when the card has it, else self attestation: a
    // self-signed certificate of the new key, signed with that key.
    let (cert, signature) = match ctx.attestation {
        Some(batch) => (
            batch.certificate().to_vec(),
            batch
                .sign_message(&message)
                .map_err(|_| U2fError::Unspecified)?,
        ),
        None => {
            let PrivateKey::Es256(signing) = &sealed.key else {
                return Err(U2fError::Unspecified);
            };
            // The certificate is built with the p256 crate (crate::crypto).
            let signing = p256::ecdsa::SigningKey::from_slice(&signing.to_bytes())
                .map_err(|_| U2fError::Unspecified)?;
            let cert = attestation::self_signed_certificate(&signing)
                .map_err(|_| U2fError::Unspecified)?;
            let signature = sealed.key.sign(&message).ok_or(U2fError::Unspecified)?;
            (cert, signature)
        }
    };

    reply.reserve(1 + 65 + 1 + key_handle.len() + cert.len() + signature.len());
    reply.push(REGISTER_ID);
    reply.extend_from_slice(&public);
    reply.push(handle_len);
    reply.extend_from_slice(&key_handle);
    reply.extend_from_slice(&cert);
    reply.extend_from_slice(&signature);
    Ok(())
}
