//! The `tapfido` client subcommands end to end: a `tapfido card` process on a locked vpcd
//! slot, and the CLI driving it through pcscd by its reader name (`Virtual PCD 00 0N`),
//! as it would drive a physical reader: `readers`, `wait`, `info`, `pin`, `register`,
//! `login`, `creds`, `reset`, and `doctor` on both profiles. Expected values come from
//! the specs (getInfo member names, CTAP status names) or from what an earlier command
//! reported, never from tapfido's own formatting code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

use e2e::{Card, CardOptions};
use serde_json::Value;

const PIN: &str = "246810";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn tapfido(bin: &Path, args: &[&str], pin: Option<&str>) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("TAPFIDO_PIN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    if let Some(pin) = pin {
        cmd.env("TAPFIDO_PIN", pin);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs a `--json` subcommand against the card's reader and parses its output.
fn json(bin: &Path, card: &Card, args: &[&str], pin: Option<&str>, code: i32) -> Value {
    let reader = card.reader().name.clone();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--reader", &reader, "--json"]);
    let run = tapfido(bin, &all, pin);
    assert_eq!(
        run.code,
        code,
        "tapfido {all:?}\nstdout:\n{}\nstderr:\n{}\n--- card log ---\n{}",
        run.stdout,
        run.stderr,
        card.log()
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("tapfido {all:?}: not JSON ({e}):\n{}", run.stdout))
}

#[test]
fn client_subcommands_against_the_virtual_card() {
    let stack = e2e::require_stack!();
    let bin = stack.tapfido.as_path();
    let card = Card::start(stack, CardOptions::default());
    let reader = card.reader().name.clone();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("rp.json");
    let store = store.to_str().unwrap();

    // readers: the card's reader is listed with a card in it.
    let run = tapfido(bin, &["readers", "--json"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let readers: Value = serde_json::from_str(&run.stdout).unwrap();
    let ours = readers
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == reader.as_str())
        .unwrap_or_else(|| panic!("{reader} not in {readers}"));
    assert_eq!(ours["card_present"], true);
    let run = tapfido(bin, &["readers"], None);
    assert!(run.stdout.contains(&reader), "{}", run.stdout);

    // wait: returns at once, the card is there.
    let waited = json(bin, &card, &["wait", "--timeout", "5"], None, 0);
    assert_eq!(waited["atr"], ours["atr"]);

    // info: CTAP 2.1 §6.4 getInfo members.
    let info = json(bin, &card, &["info"], None, 0);
    let versions = info["info"]["versions"].as_array().unwrap();
    assert!(versions.iter().any(|v| v == "FIDO_2_0"), "{info}");
    assert_eq!(info["info"]["options"]["clientPin"], false, "{info}");
    let run = tapfido(bin, &["info", "--reader", &reader], None);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // pin set, pin retries: 8 retries after setting (CTAP 2.1 §6.5.2.2).
    let retries = json(bin, &card, &["pin", "set"], Some(PIN), 0);
    assert_eq!(retries["retries"], 8);
    let retries = json(bin, &card, &["pin", "retries"], None, 0);
    assert_eq!(retries["retries"], 8);

    // register a discoverable credential with hmac-secret and UV; the record is kept.
    let reg = json(
        bin,
        &card,
        &[
            "register",
            "--rp",
            "example.org",
            "--user",
            "alice",
            "--rk",
            "--uv",
            "--hmac-secret",
            "--store",
            store,
        ],
        Some(PIN),
        0,
    );
    assert_eq!(reg["verification"]["status"], "passed", "{reg}");
    let credential_id = reg["record"]["credential_id"].as_str().unwrap().to_owned();
    let records: Value = serde_json::from_slice(&std::fs::read(store).unwrap()).unwrap();
    assert_eq!(records[0]["credential_id"], credential_id.as_str());

    // login: discoverable, verified against the stored record, counter moves forward.
    let login = json(
        bin,
        &card,
        &["login", "--rp", "example.org", "--uv", "--store", store],
        Some(PIN),
        0,
    );
    assert_eq!(login["verification"]["status"], "passed", "{login}");
    assert_eq!(login["credential_id"], credential_id.as_str());
    assert_eq!(login["user_verified"], true);
    let records: Value = serde_json::from_slice(&std::fs::read(store).unwrap()).unwrap();
    assert_eq!(records[0]["sign_count"], login["sign_count"]);

    // An RP with no credential: the CTAP status is named, exit 1.
    let err = json(
        bin,
        &card,
        &["login", "--rp", "nothing-here.example", "--store", store],
        Some(PIN),
        1,
    );
    assert_eq!(err["ctap_status"], "CTAP2_ERR_NO_CREDENTIALS", "{err}");

    // creds list / delete (CTAP 2.1 §6.8).
    let list = json(bin, &card, &["creds", "list"], Some(PIN), 0);
    let creds = list["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1, "{list}");
    assert_eq!(creds[0]["rp_id"], "example.org");
    json(
        bin,
        &card,
        &["creds", "delete", &credential_id],
        Some(PIN),
        0,
    );
    let list = json(bin, &card, &["creds", "list"], Some(PIN), 0);
    assert_eq!(list["credentials"].as_array().unwrap().len(), 0, "{list}");

    // A wrong PIN is named by its CTAP status.
    let err = json(bin, &card, &["creds", "list"], Some("000000"), 1);
    assert_eq!(err["ctap_status"], "CTAP2_ERR_PIN_INVALID", "{err}");

    // tap: the card leaves the reader and comes back (control API); JSON says so.
    let slot = card.reader().slot.to_string();
    let control = card.control_addr().to_string();
    let run = tapfido(
        bin,
        &["tap", "--card", &slot, "--control", &control, "--json"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let done: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(done["done"], "tap");
    json(bin, &card, &["wait", "--timeout", "15"], None, 0);

    // reset: the PIN is gone.
    json(bin, &card, &["reset", "--yes"], None, 0);
    let info = json(bin, &card, &["info"], None, 0);
    assert_eq!(info["info"]["options"]["clientPin"], false, "{info}");
}

#[test]
fn doctor_passes_on_both_profiles() {
    let stack = e2e::require_stack!();
    let bin = stack.tapfido.as_path();
    for profile in ["default", "pocketkey"] {
        let card = Card::start(stack, CardOptions::profile(profile));
        let dir = tempfile::tempdir().unwrap();
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        json(bin, &card, &["pin", "set"], Some(PIN), 0);
        let anchor = card.dir().join("ca.pem");
        let report = json(
            bin,
            &card,
            &[
                "doctor",
                "--pin-file",
                pin_file.to_str().unwrap(),
                "--trust-anchor",
                anchor.to_str().unwrap(),
            ],
            None,
            0,
        );
        assert_eq!(report["passed"], true, "{profile}: {report}");
        for check in report["checks"].as_array().unwrap() {
            assert_eq!(check["outcome"], "pass", "{profile}: {check}");
        }
        // The table for people ends with the verdict.
        let run = tapfido(
            bin,
            &[
                "doctor",
                "--reader",
                &card.reader().name,
                "--pin-file",
                pin_file.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.stdout.lines().last(), Some("PASS"), "{}", run.stdout);
    }
}
