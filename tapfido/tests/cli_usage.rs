//! Exit status 2 for usage errors, and `tapfido profiles` from the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::tapfido;

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["register", "--user", "alice"],
        &["login"],
        &["login", "--rp", "example.org", "--credential", "not an id!"],
        &["verify", "x.json", "--rp", "example.org"],
        &["pin"],
        &["creds", "delete"],
        &["demo", "--in-process", "--reader", "0"],
        &["info", "--timeout", "soon"],
        &["reset"],
    ] {
        let run = tapfido(args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn reset_needs_yes() {
    let run = tapfido(&["reset"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
}

#[test]
fn profiles_table_and_json() {
    let run = tapfido(&["profiles"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // pcsc-tools smartcard list, "ACS PocketKey NFC".
    let pocketkey = run
        .stdout
        .lines()
        .find(|l| l.starts_with("pocketkey "))
        .unwrap();
    assert!(
        pocketkey.contains("3B 89 80 01 41 43 53 20 41 46 44 30 32 38"),
        "{pocketkey}"
    );
    assert!(run.stdout.lines().any(|l| l.starts_with("default ")));

    let run = tapfido(&["profiles", "--json"], &[]);
    assert_eq!(run.code, 0);
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pocketkey = rows.iter().find(|r| r["name"] == "pocketkey").unwrap();
    // FIDO MDS: ACS PocketKey NFC's AAGUID.
    assert_eq!(pocketkey["aaguid"], "973446ca-e21c-9a9b-99f5-9b985a67af0f");
}

#[test]
fn help_lists_every_subcommand() {
    let run = tapfido(&["--help"], &[]);
    assert_eq!(run.code, 0);
    for sub in [
        "card", "tap", "profiles", "demo", "readers", "wait", "info", "pin", "register", "login",
        "creds", "reset", "verify", "doctor",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "{sub} missing from\n{}",
            run.stdout
        );
    }
}
