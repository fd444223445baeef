//! A seeded card (persistent state in `TestEnv` storage + ClientPIN state)
//! and platform-side PIN operations built on the independent model of
//! `pin_client`, shared by the PIN state-machine tests.

use sha2::{Digest, Sha256};

use super::pin_client::Platform;
use crate::env::TestEnv;
use crate::error::CtapError;
use crate::pin::protocol::{CoseEcdhKey, PinUvAuthProtocol};
use crate::pin::token::permission;
use crate::pin::{NewPinRequest, PinState, TokenRequest, TokenTimes};
use crate::state::{CardState, Identity, Persistent};

pub(crate) const PROTOCOLS: [PinUvAuthProtocol; 2] =
    [PinUvAuthProtocol::One, PinUvAuthProtocol::Two];

/// Every permission a card with credMgmt, largeBlobs and authnrCfg grants.
pub(crate) const GRANTABLE: u8 = permission::MAKE_CREDENTIAL
    | permission::GET_ASSERTION
    | permission::CREDENTIAL_MANAGEMENT
    | permission::LARGE_BLOB_WRITE
    | permission::AUTHENTICATOR_CONFIG;

pub(crate) struct Card {
    pub(crate) env: TestEnv,
    pub(crate) state: CardState,
    pub(crate) pin: PinState,
    seed: u64,
}

/// `pin` padded with zeros to the 64-byte block.
pub(crate) fn padded(pin: &[u8]) -> Vec<u8> {
    let mut block = pin.to_vec();
    block.resize(64, 0);
    block
}

pub(crate) fn pin_hash16(pin: &[u8]) -> Vec<u8> {
    Sha256::digest(pin)[..16].to_vec()
}

impl Card {
    pub(crate) fn new(seed: u64) -> Self {
        let mut env = TestEnv::seeded(seed);
        let state = CardState::new(
            Identity {
                master_key: [0x11; 32],
                attestation_key: None,
            },
            Persistent::fresh(4),
        );
        state.store_initial(&mut env).unwrap();
        let pin = PinState::new(&mut env, TokenTimes::default());
        Self {
            env,
            state,
            pin,
            seed,
        }
    }

    /// A fresh platform key agreement against the card's current key.
    pub(crate) fn platform(&mut self, protocol: PinUvAuthProtocol) -> Platform {
        self.seed += 1;
        Platform::encapsulate(protocol, &self.pin.key_agreement(protocol), self.seed)
    }

    pub(crate) fn retries(&self) -> u8 {
        crate::pin::store::PinStore::pin_retries(&self.state)
    }

    /// Restart the process: reload the persistent state from storage and
    /// start a new power cycle.
    pub(crate) fn reload(&mut self) {
        self.state = CardState::load(&mut self.env).unwrap().unwrap();
        self.pin = PinState::new(&mut self.env, TokenTimes::default());
    }

    pub(crate) fn power_cycle(&mut self) {
        self.pin.power_cycle(&mut self.env);
    }

    /// setPIN with an explicit padded block.
    pub(crate) fn set_pin_block(
        &mut self,
        protocol: PinUvAuthProtocol,
        block: &[u8],
    ) -> Result<(), CtapError> {
        let platform = self.platform(protocol);
        let enc = platform.encrypt([0x42; 16], block);
        let param = platform.authenticate(&enc);
        self.set_pin_raw(&platform, &enc, &param)
    }

    /// setPIN with a given newPinEnc and pinUvAuthParam.
    pub(crate) fn set_pin_raw(
        &mut self,
        platform: &Platform,
        new_pin_enc: &[u8],
        pin_uv_auth_param: &[u8],
    ) -> Result<(), CtapError> {
        let rules =
            crate::pin::policy::PinRules::length(crate::pin::PinStore::min_pin_length(&self.state));
        self.pin.set_pin(
            &mut self.env,
            &mut self.state,
            NewPinRequest {
                protocol: platform.protocol,
                key_agreement: Some(&platform.public),
                pin_uv_auth_param,
                new_pin_enc,
                rules,
            },
        )
    }

    pub(crate) fn set_pin(
        &mut self,
        protocol: PinUvAuthProtocol,
        pin: &str,
    ) -> Result<(), CtapError> {
        self.set_pin_block(protocol, &padded(pin.as_bytes()))
    }

    pub(crate) fn change_pin(
        &mut self,
        protocol: PinUvAuthProtocol,
        current: &str,
        new: &str,
    ) -> Result<(), CtapError> {
        let platform = self.platform(protocol);
        let new_enc = platform.encrypt([0x43; 16], &padded(new.as_bytes()));
        let hash_enc = platform.encrypt([0x44; 16], &pin_hash16(current.as_bytes()));
        let param = platform.authenticate(&[new_enc.as_slice(), &hash_enc].concat());
        let rules =
            crate::pin::policy::PinRules::length(crate::pin::PinStore::min_pin_length(&self.state));
        self.pin.change_pin(
            &mut self.env,
            &mut self.state,
            NewPinRequest {
                protocol,
                key_agreement: Some(&platform.public),
                pin_uv_auth_param: &param,
                new_pin_enc: &new_enc,
                rules,
            },
            &hash_enc,
        )
    }

    /// getPinToken / 0x09 through `platform`; returns the decrypted token.
    pub(crate) fn token_with(
        &mut self,
        platform: &Platform,
        pin: &str,
        permissions: Option<(u64, Option<String>)>,
    ) -> Result<Vec<u8>, CtapError> {
        let hash_enc = platform.encrypt([0x45; 16], &pin_hash16(pin.as_bytes()));
        self.token_raw(platform.protocol, &platform.public, &hash_enc, permissions)
            .map(|enc| platform.decrypt(&enc))
    }

    pub(crate) fn token_raw(
        &mut self,
        protocol: PinUvAuthProtocol,
        key_agreement: &CoseEcdhKey,
        pin_hash_enc: &[u8],
        permissions: Option<(u64, Option<String>)>,
    ) -> Result<Vec<u8>, CtapError> {
        self.pin.get_token(
            &mut self.env,
            &mut self.state,
            TokenRequest {
                protocol,
                key_agreement: Some(key_agreement),
                pin_hash_enc,
                permissions,
                grantable: GRANTABLE,
            },
        )
    }

    /// getPinToken (0x05) with a fresh key agreement.
    pub(crate) fn pin_token(
        &mut self,
        protocol: PinUvAuthProtocol,
        pin: &str,
    ) -> Result<Vec<u8>, CtapError> {
        let platform = self.platform(protocol);
        self.token_with(&platform, pin, None)
    }

    /// getPinUvAuthTokenUsingPinWithPermissions (0x09) with a fresh key agreement.
    pub(crate) fn token_for(
        &mut self,
        protocol: PinUvAuthProtocol,
        pin: &str,
        permissions: u8,
        rp_id: Option<&str>,
    ) -> Result<Vec<u8>, CtapError> {
        let platform = self.platform(protocol);
        self.token_with(
            &platform,
            pin,
            Some((u64::from(permissions), rp_id.map(str::to_owned))),
        )
    }
}
