//! Reversed mode end to end: `tapfido card --listen 127.0.0.1:PORT` and a private pcscd
//! (its own mount namespace, never the system's) whose vpcd entry is
//! `DEVICENAME 127.0.0.1:0xPORT`, so vpcd connects to the card on PORT and to the slot
//! tapfido holds on PORT + 1. python-fido2 registers, signs in, and survives a tap;
//! pcscd 1.9.9 must still be running at the end (it aborts on a lost reversed link).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::private::{free_port_pair, PrivatePcscd};
use e2e::python;

/// The card process, killed if the test fails before stopping it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn reversed_mode_through_a_private_pcscd() {
    let stack = e2e::require_python!();
    if !e2e::prereq::is_root() {
        assert!(
            !e2e::in_ci(),
            "reversed mode needs root for a private pcscd (CI is set)"
        );
        eprintln!("SKIPPED: a private pcscd needs root");
        return;
    }
    let port = free_port_pair();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("card.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut card = KillOnDrop(
        Command::new(&stack.tapfido)
            .args(["card", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--control", "127.0.0.1:0", "--state-dir"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let card_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let control = loop {
        if let Some(rest) = card_log().split("control API on http://").nth(1) {
            break format!("http://{}", rest.split('/').next().unwrap());
        }
        assert!(Instant::now() < deadline, "card not up:\n{}", card_log());
        assert!(
            card.0.try_wait().unwrap().is_none(),
            "card exited:\n{}",
            card_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    let mut pcscd = PrivatePcscd::start(1, Some("127.0.0.1"), port).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/reversed_mode.py");
    let (key, socket) = pcscd.client_env();
    let out = Command::new(python::interpreter())
        .arg(&script)
        .args(["--reader", "Virtual PCD 00 00", "--control", &control])
        .env(key, socket)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "{stdout}\n{}\n--- card ---\n{}\n--- pcscd ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        card_log(),
        pcscd.log()
    );
    assert!(out.status.success() && stdout.contains("PASS"), "{report}");
    assert!(pcscd.alive(), "pcscd did not survive:\n{report}");

    let _ = Command::new("kill")
        .args(["-TERM", &card.0.id().to_string()])
        .status();
    let status = card.0.wait().unwrap();
    assert!(status.success(), "card exit {status}:\n{}", card_log());
}
