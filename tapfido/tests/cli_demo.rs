//! `tapfido demo --in-process` as a new user runs it: every step of the
//! flow listed with its APDU count and time, a PASS line, exit 0; the JSON
//! variant parses and every step passed; `--pin-file` and `TAPFIDO_PIN`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::tapfido;

/// The flow of issue 5 §5, in order: tap, set PIN, register, remove, tap
/// again, sign in with PIN, verify against a policy.
const STEPS: [&str; 7] = [
    "tap",
    "set PIN",
    "register",
    "remove card",
    "tap again",
    "sign in with PIN",
    "policy",
];

#[test]
fn demo_in_process_lists_every_step_and_passes() {
    let run = tapfido(&["demo", "--in-process"], &[]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    for step in STEPS {
        // `  N  <step>  ok  <apdus>  <time> ms  <detail>`
        let line = lines
            .iter()
            .find(|l| {
                let cols: Vec<&str> = l
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                cols.get(1) == Some(&step)
            })
            .unwrap_or_else(|| panic!("no line for step {step:?} in\n{}", run.stdout));
        assert!(line.contains(" ok "), "{line}");
        assert!(line.contains(" ms "), "{line}");
    }
    assert!(
        lines.last().unwrap().starts_with("PASS"),
        "last line: {:?}",
        lines.last()
    );
    assert!(run.stdout.contains("in this process (--in-process)"));
}

#[test]
fn demo_json_parses_and_every_step_passed() {
    let run = tapfido(&["demo", "--in-process", "--json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["passed"], true);
    let steps = report["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    for step in STEPS {
        assert!(names.contains(&step), "{step:?} missing from {names:?}");
    }
    let mut total = 0;
    for step in steps {
        assert_eq!(step["result"]["status"], "pass", "{step}");
        assert!(step["micros"].is_u64(), "{step}");
        total += step["apdus"].as_u64().unwrap();
    }
    assert!(total > 0);
    assert_eq!(report["registration_policy"]["passed"], true);
    assert_eq!(report["assertion_policy"]["passed"], true);
}

#[test]
fn demo_reads_the_pin_from_a_file_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pin");
    std::fs::write(&file, "93-71-44\n").unwrap();
    let run = tapfido(
        &["demo", "--in-process", "--pin-file", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("93-71-44") && !run.stderr.contains("93-71-44"));

    let run = tapfido(
        &["demo", "--in-process", "--json"],
        &[("TAPFIDO_PIN", "5551234")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("5551234") && !run.stderr.contains("5551234"));
}

#[test]
fn bad_pin_sources_are_usage_errors_that_do_not_echo_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-pin");
    let run = tapfido(
        &[
            "demo",
            "--in-process",
            "--pin-file",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read PIN file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no-such-pin"), "{}", run.stderr);

    let short = dir.path().join("short");
    std::fs::write(&short, "7Q9\n").unwrap();
    let run = tapfido(
        &[
            "demo",
            "--in-process",
            "--pin-file",
            short.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("4 to 63 bytes"), "{}", run.stderr);
    assert!(!run.stderr.contains("7Q9"), "{}", run.stderr);

    let run = tapfido(&["demo", "--in-process"], &[("TAPFIDO_PIN", "x")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("$TAPFIDO_PIN"), "{}", run.stderr);

    // No PIN source and no terminal: refused before any reader is touched.
    for args in [&["pin", "change"][..], &["creds", "list"]] {
        let run = tapfido(args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("--pin-file"), "{}", run.stderr);
    }
}

#[test]
fn demo_without_pcscd_runs_in_process() {
    // pcsc-lite's client library looks for pcscd at $PCSCLITE_CSOCK_NAME:
    // pointing it nowhere is a machine without pcscd.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("no-pcscd.comm");
    let run = tapfido(
        &["demo"],
        &[("PCSCLITE_CSOCK_NAME", socket.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("card and reader in this process (no pcscd)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().last().unwrap().starts_with("PASS"));
}
