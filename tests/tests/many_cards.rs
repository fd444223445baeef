//! Eight cards in one `tapfido card --cards 8` process, through one private pcscd (its own
//! mount namespace and reader configuration, never the system's: four vpcd entries, two
//! readers each, ports PORT..PORT+7): python-fido2 registers and signs in on all eight at
//! once. Prints the card process's resident memory per card (`VmRSS` / cards, and the
//! marginal cost of a card against a one-card process) for BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::private::{reader_name, PrivatePcscd};
use e2e::python;

const CARDS: u16 = 8;

/// `CARDS` consecutive free loopback ports.
fn free_ports() -> u16 {
    'search: for _ in 0..200 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base > u16::MAX - CARDS {
            continue;
        }
        for port in base..base + CARDS {
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue 'search;
            }
        }
        return base;
    }
    panic!("no {CARDS} consecutive free ports");
}

/// `tapfido card --cards n --vpcd 127.0.0.1:base`, once its control API is up.
#[allow(clippy::zombie_processes)] // the caller stops and waits for the child (`stop`)
fn start_cards(tapfido: &Path, dir: &Path, n: u16, base: u16) -> (Child, String) {
    let log_path = dir.join(format!("cards-{n}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(tapfido)
        .args(["card", "--cards", &n.to_string()])
        .args(["--vpcd", &format!("127.0.0.1:{base}")])
        .args(["--control", "127.0.0.1:0", "--state-dir"])
        .arg(dir.join(format!("state-{n}")))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.contains("control API on http://") {
            return (child, log_path.display().to_string());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cards not up:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resident set size of `pid`, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "card process exit {status}");
}

#[test]
fn eight_cards_register_and_sign_in_at_once_through_one_pcscd() {
    let stack = e2e::require_python!();
    if !e2e::prereq::is_root() {
        assert!(!e2e::in_ci(), "a private pcscd needs root (CI is set)");
        eprintln!("SKIPPED: a private pcscd needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut pcscd = PrivatePcscd::start(CARDS / 2, None, base).unwrap();

    // One card alone first: the process's fixed cost, for the marginal figure.
    let (one, _) = start_cards(&stack.tapfido, dir.path(), 1, base);
    std::thread::sleep(Duration::from_millis(500));
    let rss_one = rss_kib(one.id());
    stop(one);

    let (cards, log) = start_cards(&stack.tapfido, dir.path(), CARDS, base);
    let readers: Vec<String> = (0..CARDS)
        .map(|slot| reader_name(slot / 2, slot % 2))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/many_cards.py");
    let (key, socket) = pcscd.client_env();
    let out = Command::new(python::interpreter())
        .arg(&script)
        .args(["--readers", &readers.join(",")])
        .env(key, socket)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "{stdout}\n{}\n--- cards ---\n{}\n--- pcscd ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default(),
        pcscd.log()
    );
    assert!(out.status.success() && stdout.contains("PASS"), "{report}");
    assert!(pcscd.alive(), "pcscd died:\n{report}");
    println!("{stdout}");
    let rss_all = rss_kib(cards.id());
    stop(cards);

    let per_card = rss_all as f64 / f64::from(CARDS) / 1024.0;
    let marginal = rss_all.saturating_sub(rss_one) as f64 / f64::from(CARDS - 1) / 1024.0;
    println!(
        "RSS: 1 card {:.1} MiB; {CARDS} cards {:.1} MiB = {per_card:.2} MiB per card, \
         {marginal:.2} MiB per added card",
        rss_one as f64 / 1024.0,
        rss_all as f64 / 1024.0
    );
    assert!(
        per_card < 10.0,
        "more than 10 MiB per card: {per_card:.2} MiB"
    );
}
