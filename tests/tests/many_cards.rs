//! Eight cards at once through one private pcscd: `tapfido run --cards 8` (a private mount
//! namespace with its own pcscd and reader configuration, never the system's) runs
//! `tests/python/many_cards.py`, which has python-fido2 register and sign in on all eight
//! cards concurrently, each signature verified, each card refusing another's credential.
//! The script prints the resident memory of the process serving the cards (its parent);
//! a one-card world gives the fixed cost. Figures: BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use e2e::python;

const CARDS: u32 = 8;

/// `tapfido run --cards n -- python3 many_cards.py [extra]`: its standard output.
fn run_world(tapfido: &Path, n: u32, extra: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/many_cards.py");
    let out = Command::new(tapfido)
        .args(["run", "--cards", &n.to_string(), "--control", "127.0.0.1:0"])
        .args(["--timeout", "300", "--"])
        .arg(python::interpreter())
        .arg(&script)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tapfido run --cards {n}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn rss_kib(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("rss_kib "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rss_kib line in:\n{stdout}"))
}

#[test]
fn eight_cards_register_and_sign_in_at_once_through_one_pcscd() {
    let stack = e2e::require_python!();
    let unshare = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status();
    if !matches!(unshare, Ok(s) if s.success()) {
        assert!(
            !e2e::in_ci(),
            "tapfido run needs a private mount namespace (CI is set)"
        );
        eprintln!("SKIPPED: no private mount namespace (unshare)");
        return;
    }
    let idle_one = rss_kib(&run_world(&stack.tapfido, 1, &["--idle"]));
    let out = run_world(&stack.tapfido, CARDS, &[]);
    assert!(out.contains("PASS"), "{out}");
    let all = rss_kib(&out);
    let per_card = all as f64 / f64::from(CARDS) / 1024.0;
    let marginal = all.saturating_sub(idle_one) as f64 / f64::from(CARDS - 1) / 1024.0;
    println!("{out}");
    println!(
        "RSS: 1 card (idle) {:.1} MiB; {CARDS} cards {:.1} MiB = {per_card:.2} MiB per card, \
         {marginal:.2} MiB per added card",
        idle_one as f64 / 1024.0,
        all as f64 / 1024.0
    );
    assert!(
        per_card < 10.0,
        "more than 10 MiB per card: {per_card:.2} MiB"
    );
}
