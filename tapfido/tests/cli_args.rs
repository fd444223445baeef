//! The documented `tapfido` flags parse, and resolve to the right plan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use tapfido::cli::card::{parse_aaguid, slot_address, CardArgs};
use tapfido::cli::tap::TapPlan;
use tapfido::cli::{Cli, CliError, Command};
use tapfido::serve::CardPlan;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("tapfido").chain(args.iter().copied()))
}

fn card(args: &[&str]) -> CardArgs {
    match parse(&[&["card"], args].concat()).unwrap().command {
        Command::Card(card) => card,
        other => panic!("{other:?}"),
    }
}

#[test]
fn clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn card_defaults() {
    let config = card(&["--state-dir", "/tmp/st"]).to_config().unwrap();
    assert_eq!(
        config.cards,
        vec![CardPlan {
            slot: 0,
            vpcd: "127.0.0.1:35963".into(),
            state: PathBuf::from("/tmp/st/slot0/state.bin"),
        }]
    );
    assert_eq!(config.profile, "default");
    assert_eq!(config.control, Some("127.0.0.1:35980".parse().unwrap()));
    assert_eq!(config.attestation_ca, None);
    assert_eq!(config.aaguid, None);
    assert!(!config.echo && !config.trace);
}

#[test]
fn card_every_flag() {
    let config = card(&[
        "--vpcd",
        "localhost:4000",
        "--slot",
        "1",
        "--slot",
        "3",
        "--profile",
        "pocketkey",
        "--state",
        "/a/one.state",
        "--state",
        "/b/three.state",
        "--attestation-ca",
        "ca.pem",
        "ca.key",
        "--aaguid",
        "973446ca-e21c-9a9b-99f5-9b985a67af0f",
        "--control",
        "127.0.0.1:0",
        "--echo",
        "--trace",
    ])
    .to_config()
    .unwrap();
    assert_eq!(
        config.cards,
        vec![
            CardPlan {
                slot: 1,
                vpcd: "localhost:4001".into(),
                state: "/a/one.state".into()
            },
            CardPlan {
                slot: 3,
                vpcd: "localhost:4003".into(),
                state: "/b/three.state".into()
            },
        ]
    );
    assert_eq!(config.state_dir, PathBuf::from("/a"));
    assert_eq!(config.profile, "pocketkey");
    assert_eq!(
        config.attestation_ca,
        Some(("ca.pem".into(), "ca.key".into()))
    );
    assert_eq!(
        config.aaguid,
        Some([
            0x97, 0x34, 0x46, 0xca, 0xe2, 0x1c, 0x9a, 0x9b, 0x99, 0xf5, 0x9b, 0x98, 0x5a, 0x67,
            0xaf, 0x0f
        ])
    );
    assert_eq!(config.control, Some("127.0.0.1:0".parse().unwrap()));
    assert!(config.echo && config.trace);
}

#[test]
fn cards_count_gives_consecutive_slots() {
    let config = card(&["--cards", "3", "--state-dir", "d", "--no-control"])
        .to_config()
        .unwrap();
    let slots: Vec<_> = config
        .cards
        .iter()
        .map(|c| (c.slot, c.vpcd.as_str()))
        .collect();
    assert_eq!(
        slots,
        [
            (0, "127.0.0.1:35963"),
            (1, "127.0.0.1:35964"),
            (2, "127.0.0.1:35965")
        ]
    );
    assert_eq!(config.cards[2].state, PathBuf::from("d/slot2/state.bin"));
    assert_eq!(config.control, None);
}

#[test]
fn card_rejects_bad_combinations() {
    assert!(parse(&["card", "--slot", "1", "--cards", "2"]).is_err());
    assert!(parse(&["card", "--cards", "0"]).is_err());
    assert!(parse(&["card", "--cards", "17"]).is_err());
    assert!(parse(&["card", "--no-control", "--control", "127.0.0.1:1"]).is_err());
    assert!(parse(&["card", "--attestation-ca", "only-cert"]).is_err());
    assert!(parse(&["card", "--aaguid", "1234"]).is_err());
    assert!(parse(&["card", "--control", "localhost"]).is_err());
    assert!(matches!(
        card(&["--slot", "2", "--slot", "2"]).to_config(),
        Err(CliError::Usage(_))
    ));
    assert!(matches!(
        card(&["--cards", "2", "--state", "x"]).to_config(),
        Err(CliError::Usage(_))
    ));
    assert!(matches!(
        card(&["--cards", "2", "--state", "x", "--state", "x"]).to_config(),
        Err(CliError::Usage(_))
    ));
    assert!(matches!(
        card(&["--vpcd", "nohost", "--state-dir", "d"]).to_config(),
        Err(CliError::Usage(_))
    ));
}

#[test]
fn slot_addresses() {
    assert_eq!(
        slot_address("127.0.0.1:35963", 1).unwrap(),
        "127.0.0.1:35964"
    );
    assert_eq!(slot_address("[::1]:100", 2).unwrap(), "[::1]:102");
    assert!(slot_address("h:65535", 1).is_err());
    assert!(slot_address(":1", 0).is_err());
    assert!(slot_address("h:x", 0).is_err());
}

#[test]
fn aaguids() {
    let plain = parse_aaguid("50a45b0c80e7f944bf29f552bfa2e048").unwrap();
    let dashed = parse_aaguid("50A45B0C-80E7-F944-BF29-F552BFA2E048").unwrap();
    assert_eq!(plain, dashed);
    assert_eq!(plain[0], 0x50);
    assert_eq!(plain[15], 0x48);
    assert!(parse_aaguid("50a45b0c-80e7f944-bf29-f552bfa2e048").is_err());
    assert!(parse_aaguid("50a45b0c-80e7-f944-bf29-f552bfa2e04g").is_err());
    assert!(parse_aaguid("50a45b0c80e7f944bf29f552bfa2e0").is_err());
}

#[test]
fn tap_plans() {
    let plan = |args: &[&str]| match parse(&[&["tap"], args].concat()).unwrap().command {
        Command::Tap(tap) => (tap.plan(), tap.card, tap.control),
        other => panic!("{other:?}"),
    };
    let default_control = "127.0.0.1:35980".parse().unwrap();
    assert_eq!(
        plan(&[]),
        (
            TapPlan::Tap(Duration::from_millis(1000)),
            0,
            default_control
        )
    );
    assert_eq!(
        plan(&["--off", "--card", "1"]),
        (TapPlan::Off, 1, default_control)
    );
    assert_eq!(
        plan(&["--on", "--control", "127.0.0.1:9"]),
        (TapPlan::On, 0, "127.0.0.1:9".parse().unwrap())
    );
    assert_eq!(
        plan(&["--hold-ms", "50"]).0,
        TapPlan::Tap(Duration::from_millis(50))
    );
    assert!(parse(&["tap", "--on", "--off"]).is_err());
    assert!(parse(&["tap", "--on", "--hold-ms", "5"]).is_err());
}

#[test]
fn profiles_parses() {
    assert!(matches!(
        parse(&["profiles"]).unwrap().command,
        Command::Profiles(_)
    ));
    assert!(matches!(
        parse(&["profiles", "--json"]).unwrap().command,
        Command::Profiles(p) if p.json
    ));
}

#[test]
fn builtin_profiles_listing() {
    let rows = tapfido::cli::profiles::builtin_rows().unwrap();
    let pocketkey = rows.iter().find(|r| r.name == "pocketkey").unwrap();
    // pcsc-tools smartcard list, "ACS PocketKey NFC"; FIDO MDS AAGUID.
    assert_eq!(pocketkey.atr, "3B 89 80 01 41 43 53 20 41 46 44 30 32 38");
    assert_eq!(pocketkey.aaguid, "973446ca-e21c-9a9b-99f5-9b985a67af0f");
    assert!(rows.iter().any(|r| r.name == "default"));
}
