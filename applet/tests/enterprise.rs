//! Enterprise attestation (CTAP 2.1 §7.1): authenticatorConfig
//! enableEnterpriseAttestation (§6.11.1), getInfo `ep` (§6.4),
//! makeCredential `enterpriseAttestation` 1 (vendor-facilitated) and 2
//! (platform-managed) with `epAtt` (§6.1.2 step 9 and response), and the
//! enterprise certificate under the card's CA, checked with x509-cert,
//! rasn (canonical DER) and rustls-webpki (path validation).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;

use applet::attestation::AttestationCa;
use applet::config::Config;
use ciborium::Value as C;
use client::pin::*;
use client::status::*;
use client::*;
use der::Decode;
use rustls_pki_types::{CertificateDer, UnixTime};

const PIN: &str = "1357";
const LISTED_RP: &str = "corp.example";
const OTHER_RP: &str = "example.com";

const ENABLE_EA: u8 = 0x01;

fn profile() -> Config {
    let mut config = Config::pocketkey();
    config.enterprise_attestation_rp_ids = vec![LISTED_RP.to_owned()];
    config
}

fn ep(card: &mut Card) -> Option<C> {
    let info = card.ctap(GET_INFO, None).ok();
    get_text(get(&info, 4).unwrap(), "ep").cloned()
}

fn mc(rp: &str, ea: Option<i64>) -> C {
    let req = mc_request(rp, b"user", &cdh(1), &[-7], false);
    match ea {
        Some(v) => with(req, vec![(int(0x0A), int(v))]),
        None => req,
    }
}

/// The subject CN of x5c[0] of a packed response.
fn leaf_cn(resp: &C) -> String {
    let stmt = get(resp, 3).unwrap();
    let Some(C::Array(chain)) = get_text(stmt, "x5c") else {
        panic!("no x5c")
    };
    let cert = x509_cert::Certificate::from_der(&as_bytes(&chain[0])).unwrap();
    let cn = cert
        .tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid::db::rfc4519::CN)
        .unwrap();
    String::from_utf8(cn.value.value().to_vec()).unwrap()
}

fn ep_att(resp: &C) -> Option<&C> {
    get(resp, 4)
}

#[test]
fn get_info_lists_ep_false_until_enabled_then_true_until_reset() {
    // Without an attestation CA there is no enterprise certificate: no `ep`.
    let mut card = Card::new(1, profile(), false);
    assert_eq!(ep(&mut card), None);
    assert_eq!(
        config(&mut card, ENABLE_EA, None, None).status,
        INVALID_SUBCOMMAND
    );

    let mut card = Card::new(1, profile(), true);
    assert_eq!(ep(&mut card), Some(C::Bool(false)));
    // No PIN yet: the card is not protected, no token needed (§6.11 step 3).
    assert_eq!(config(&mut card, ENABLE_EA, None, None).status, OK);
    assert_eq!(ep(&mut card), Some(C::Bool(true)));
    card.restart();
    assert_eq!(ep(&mut card), Some(C::Bool(true)), "persisted");
    card.power_cycle();
    assert_eq!(card.ctap(RESET, None).status, OK);
    assert_eq!(ep(&mut card), Some(C::Bool(false)), "cleared by reset");
}

#[test]
fn enabling_needs_an_acfg_token_once_a_pin_is_set() {
    let mut card = Card::new(2, profile(), true);
    set_pin(&mut card, 2, PIN);
    assert_eq!(
        config(&mut card, ENABLE_EA, None, None).status,
        PUAT_REQUIRED
    );
    let wrong = token(&mut card, 2, PIN, PERM_MC, Some(OTHER_RP));
    assert_eq!(
        config(&mut card, ENABLE_EA, None, Some(&wrong)).status,
        0x33,
        "PIN_AUTH_INVALID without the acfg permission"
    );
    assert_eq!(ep(&mut card), Some(C::Bool(false)));
    let acfg = token(&mut card, 2, PIN, PERM_ACFG, None);
    assert_eq!(config(&mut card, ENABLE_EA, None, Some(&acfg)).status, OK);
    assert_eq!(ep(&mut card), Some(C::Bool(true)));
}

/// §6.1.2 step 9: not capable or not enabled → INVALID_PARAMETER (before
/// the value is looked at); a value other than 1 or 2 → INVALID_OPTION.
#[test]
fn error_order() {
    let mut card = Card::new(3, profile(), false);
    assert_eq!(
        card.ctap(MC, Some(mc(LISTED_RP, Some(2)))).status,
        INVALID_PARAMETER
    );
    let mut card = Card::new(3, profile(), true);
    for value in [1, 2, 3, 0] {
        assert_eq!(
            card.ctap(MC, Some(mc(LISTED_RP, Some(value)))).status,
            INVALID_PARAMETER,
            "disabled, value {value}"
        );
    }
    assert_eq!(config(&mut card, ENABLE_EA, None, None).status, OK);
    for value in [0, 3, 255] {
        assert_eq!(
            card.ctap(MC, Some(mc(LISTED_RP, Some(value)))).status,
            INVALID_OPTION,
            "value {value}"
        );
    }
}

#[test]
fn vendor_facilitated_only_for_listed_rps_platform_managed_for_any() {
    let mut card = Card::new(4, profile(), true);
    assert_eq!(config(&mut card, ENABLE_EA, None, None).status, OK);
    let aaguid = card.config.aaguid.0;

    // No request: the batch attestation, no epAtt.
    let resp = card.ctap(MC, Some(mc(LISTED_RP, None))).ok();
    check_registration(&resp, LISTED_RP, &cdh(1), &aaguid);
    assert_eq!(leaf_cn(&resp), "tapfido Batch Attestation");
    assert_eq!(ep_att(&resp), None);

    // 1 for an RP not on the list: the batch attestation.
    let resp = card.ctap(MC, Some(mc(OTHER_RP, Some(1)))).ok();
    check_registration(&resp, OTHER_RP, &cdh(1), &aaguid);
    assert_eq!(leaf_cn(&resp), "tapfido Batch Attestation");
    assert_eq!(ep_att(&resp), None);

    // 1 for a listed RP, 2 for any: the enterprise attestation and epAtt.
    for (rp, value) in [(LISTED_RP, 1), (OTHER_RP, 2), (LISTED_RP, 2)] {
        let resp = card.ctap(MC, Some(mc(rp, Some(value)))).ok();
        check_registration(&resp, rp, &cdh(1), &aaguid);
        assert_eq!(leaf_cn(&resp), "tapfido Enterprise Attestation");
        assert_eq!(ep_att(&resp), Some(&C::Bool(true)), "{rp} {value}");
    }

    // attestationFormatsPreference "none" wins: no attestation, no epAtt.
    let req = with(mc(LISTED_RP, Some(2)), vec![(int(0x0B), texts(&["none"]))]);
    let resp = card.ctap(MC, Some(req)).ok();
    assert_eq!(get(&resp, 1), Some(&text("none")));
    assert_eq!(ep_att(&resp), None);
}

#[test]
fn enterprise_certificate_names_the_card_and_chains_to_the_ca() {
    let mut card = Card::new(5, profile(), true);
    assert_eq!(config(&mut card, ENABLE_EA, None, None).status, OK);
    let resp = card.ctap(MC, Some(mc(OTHER_RP, Some(2)))).ok();
    let stmt = get(&resp, 3).unwrap();
    let Some(C::Array(chain)) = get_text(stmt, "x5c") else {
        panic!()
    };
    assert_eq!(chain.len(), 1, "the self-signed CA is not in x5c");
    let leaf_der = as_bytes(&chain[0]);

    // Canonical DER: rasn decodes and re-encodes the same bytes.
    let decoded: rasn_pkix::Certificate = rasn::der::decode(&leaf_der).unwrap();
    assert_eq!(rasn::der::encode(&decoded).unwrap(), leaf_der);
    // Subject: OU "Authenticator Attestation" and a serialNumber (2.5.4.5).
    let cert = x509_cert::Certificate::from_der(&leaf_der).unwrap();
    let attrs: Vec<_> = cert
        .tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| (atv.oid.to_string(), atv.value.value().to_vec()))
        .collect();
    assert!(attrs.contains(&("2.5.4.11".into(), b"Authenticator Attestation".to_vec())));
    let serial = attrs.iter().find(|(oid, _)| oid == "2.5.4.5").unwrap();
    assert_eq!(serial.1.len(), 16);

    // The batch certificate has no serialNumber, and another key.
    let batch = card.ctap(MC, Some(mc(OTHER_RP, None))).ok();
    let Some(C::Array(batch_chain)) = get_text(get(&batch, 3).unwrap(), "x5c") else {
        panic!()
    };
    let batch_cert = x509_cert::Certificate::from_der(&as_bytes(&batch_chain[0])).unwrap();
    assert_ne!(
        batch_cert.tbs_certificate.subject_public_key_info,
        cert.tbs_certificate.subject_public_key_info
    );

    // Path validation to the card's CA (RFC 5280 §6.1, rustls-webpki).
    let ca_der = card.ca.as_ref().unwrap().cert_der().to_vec();
    let root = CertificateDer::from(ca_der.as_slice());
    let anchors = [webpki::anchor_from_trusted_cert(&root).unwrap().to_owned()];
    let leaf = CertificateDer::from(leaf_der.as_slice());
    let leaf = webpki::EndEntityCert::try_from(&leaf).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    leaf.verify_for_usage(
        &[webpki::ring::ECDSA_P256_SHA256],
        &anchors,
        &[],
        UnixTime::since_unix_epoch(now),
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .unwrap();

    // Same card after a restart: the same enterprise certificate.
    card.restart();
    let again = card.ctap(MC, Some(mc(OTHER_RP, Some(2)))).ok();
    let Some(C::Array(again_chain)) = get_text(get(&again, 3).unwrap(), "x5c") else {
        panic!()
    };
    assert_eq!(as_bytes(&again_chain[0]), leaf_der);
}

#[test]
fn a_users_ca_issues_the_enterprise_certificate_too() {
    let ca = AttestationCa::from_pem(
        include_str!("data/attestation/example-intermediate.crt.pem"),
        include_str!("data/attestation/example-ca.pkcs8.pem"),
    )
    .unwrap();
    let batch = applet::attestation::BatchAttestation::generate(
        &ca,
        &Config::pocketkey().aaguid.0,
        &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(6),
    )
    .unwrap();
    let enterprise = batch.enterprise().unwrap();
    assert_eq!(enterprise.chain().len(), 2, "leaf and the intermediate");
    assert_eq!(enterprise.chain()[1], batch.chain()[1]);
    let cert = x509_cert::Certificate::from_der(enterprise.certificate()).unwrap();
    assert_eq!(
        cert.tbs_certificate.issuer,
        ca.certificate().tbs_certificate.subject
    );
    assert_ne!(enterprise.verifying_key(), batch.verifying_key());
}
