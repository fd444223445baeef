use serde::Deserialize;

use crate::config::{Aaguid, Config};

#[derive(Deserialize)]
struct Profile {
    fido: Config,
}

fn profile(name: &str) -> Config {
    let path = format!("{}/../profiles/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    // The bridge owns other tables ([card]); take only [fido].
    let table: toml::Table = toml::from_str(&text).unwrap();
    let fido = toml::Table::from_iter([("fido".to_owned(), table["fido"].clone())]);
    Profile::deserialize(toml::Value::Table(fido)).unwrap().fido
}

#[test]
fn default_profile_file_is_config_default() {
    assert_eq!(profile("default"), Config::default());
    Config::default().validate().unwrap();
}

#[test]
fn pocketkey_profile_file_is_config_pocketkey() {
    assert_eq!(profile("pocketkey"), Config::pocketkey());
    Config::pocketkey().validate().unwrap();
}

#[test]
fn pocketkey_matches_public_mds_facts() {
    // nfc-ctap.md §7, FIDO MDS "ACS FIDO Authenticator Card".
    let c = profile("pocketkey");
    assert_eq!(
        c.aaguid,
        Aaguid(
            hex::decode("973446cae21c9a9b99f59b985a67af0f")
                .unwrap()
                .try_into()
                .unwrap()
        )
    );
    assert_eq!(
        c.versions,
        ["U2F_V2", "FIDO_2_0", "FIDO_2_1", "FIDO_2_1_PRE"]
    );
    let mut options: Vec<&str> = c.options.keys().map(String::as_str).collect();
    options.sort_unstable();
    let mut expected = vec![
        "plat",
        "rk",
        "up",
        "clientPin",
        "pinUvAuthToken",
        "credMgmt",
        "credentialMgmtPreview",
        "authnrCfg",
        "setMinPINLength",
        "makeCredUvNotRqd",
        "ep",
    ];
    expected.sort_unstable();
    assert_eq!(options, expected);
    assert!(!c.options["ep"]);
    let mut ext = c.extensions.clone();
    ext.sort();
    assert_eq!(
        ext,
        ["credBlob", "credProtect", "hmac-secret", "minPinLength"]
    );
    assert_eq!(c.max_msg_size, 2048);
    // In the entry's order: platforms pick the first one listed.
    assert_eq!(c.pin_uv_auth_protocols, [1, 2]);
    assert!(!c.options["plat"]);
    assert!(!c.options.contains_key("alwaysUv"));
    assert_eq!(c.max_credential_count_in_list, 6);
    assert_eq!(c.max_credential_id_length, 104);
    assert_eq!(c.algorithms, [-7]);
    assert_eq!(c.min_pin_length, 4);
    assert_eq!(c.max_cred_blob_length, 64);
    assert_eq!(c.max_rpids_for_set_min_pin_length, 3);
    assert_eq!(c.firmware_version, 10000);
    assert_eq!(c.transports, ["nfc"]);
}

#[test]
fn default_is_a_superset_of_pocketkey() {
    let d = Config::default();
    let p = Config::pocketkey();
    assert!(p.versions.iter().all(|v| d.versions.contains(v)));
    assert!(p.extensions.iter().all(|v| d.extensions.contains(v)));
    assert!(p.options.keys().all(|k| d.options.contains_key(k)));
    assert!(p.algorithms.iter().all(|a| d.algorithms.contains(a)));
    assert!(d.algorithms.contains(&-8));
    assert!(d.max_msg_size > p.max_msg_size);
    assert_ne!(d.aaguid, p.aaguid);
}

#[test]
fn partial_table_falls_back_to_default_and_rejects_unknown_keys() {
    let c: Config =
        toml::from_str("max_msg_size = 4096\naaguid = \"00112233-4455-6677-8899-aabbccddeeff\"")
            .unwrap();
    assert_eq!(c.max_msg_size, 4096);
    assert_eq!(c.aaguid.0[15], 0xff);
    assert_eq!(c.algorithms, Config::default().algorithms);
    assert!(toml::from_str::<Config>("no_such_key = 1").is_err());
    assert!(toml::from_str::<Config>("aaguid = \"xyz\"").is_err());
    let bad = Config {
        max_credential_id_length: 32,
        ..Config::default()
    };
    assert!(bad.validate().is_err());
    let bad = Config {
        algorithms: vec![-257],
        ..Config::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn extension_names_round_trip_and_profiles_claim_only_known_ones() {
    use crate::ctap::extensions::Extension;
    for e in Extension::ALL {
        assert_eq!(Extension::from_name(e.name()), Some(e), "{e:?}");
    }
    assert_eq!(Extension::from_name("hmac-secret-MC"), None);
    // A claimed name the card does not know would silently vanish from getInfo.
    for name in ["default", "pocketkey"] {
        for claimed in &profile(name).extensions {
            assert!(
                Extension::from_name(claimed).is_some(),
                "profile {name} claims unknown extension {claimed:?}"
            );
        }
    }
    // Every extension the card has is claimed by the default profile.
    let default = profile("default");
    for e in Extension::ALL {
        assert!(default.claims_extension(e.name()), "default lacks {e:?}");
    }
}

#[test]
fn unknown_claims_are_named() {
    use crate::ctap::get_info::unknown_claims;
    assert!(unknown_claims(&profile("default")).is_empty());
    assert!(unknown_claims(&profile("pocketkey")).is_empty());
    let mut c = Config::default();
    c.extensions.push("largeBlob".to_owned());
    c.options.insert("uvBioEnroll".to_owned(), true);
    assert_eq!(
        unknown_claims(&c),
        ["option uvBioEnroll", "extension largeBlob"]
    );
}
