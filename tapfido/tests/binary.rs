//! The `tapfido` binary end to end against an in-process fake vpcd: the card
//! connects, `tapfido tap` removes and reinserts it through the control API,
//! SIGTERM removes it and exits 0, a corrupt state file exits 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const TAPFIDO: &str = env!("CARGO_BIN_EXE_tapfido");
const GUARD: Duration = Duration::from_secs(30);

fn send(stream: &mut TcpStream, payload: &[u8]) {
    let len = u16::try_from(payload.len()).unwrap().to_be_bytes();
    stream.write_all(&len).unwrap();
    stream.write_all(payload).unwrap();
}

/// The next frame, or `None` once the card closed the connection.
fn recv(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload).ok()?;
    Some(payload)
}

fn accept(vpcd: &TcpListener) -> TcpStream {
    vpcd.set_nonblocking(false).unwrap();
    let (stream, _) = vpcd.accept().unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    stream
}

/// Start `tapfido card` on a fake vpcd with its state in `dir`; returns the child and its
/// log (stderr), line by line.
fn spawn_card(vpcd: &TcpListener, dir: &Path, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(TAPFIDO)
        .args(["card", "--vpcd", &vpcd.local_addr().unwrap().to_string()])
        .args(["--state-dir", dir.to_str().unwrap()])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Start `tapfido card` on a fake vpcd; returns the child and, when the
/// control API is on, its address (read from the log).
fn start_card(vpcd: &TcpListener, dir: &Path, extra: &[&str]) -> (Child, Option<String>) {
    const MARK: &str = "control API on http://";
    let (child, log) = spawn_card(vpcd, dir, extra);
    if extra.contains(&"--no-control") {
        return (child, None);
    }
    let deadline = std::time::Instant::now() + GUARD;
    let line = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = log
            .recv_timeout(left)
            .expect("control API address in the log");
        if line.contains(MARK) {
            break line;
        }
    };
    let at = line.find(MARK).unwrap_or_default() + MARK.len();
    (child, Some(line[at..].trim_end_matches('/').to_string()))
}

fn tap(control: &str, args: &[&str]) {
    let status = Command::new(TAPFIDO)
        .args(["tap", "--control", control])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "tapfido tap {args:?}: {status}");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    signal(child, "-TERM")
}

fn signal(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    child.wait().unwrap()
}

#[test]
fn tap_removes_and_reinserts_then_sigterm_exits_0() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, control) = start_card(&vpcd, dir.path(), &["--control", "127.0.0.1:0"]);
    let control = control.unwrap();

    let mut link = accept(&vpcd);
    send(&mut link, &[0x04]);
    let atr = recv(&mut link).unwrap();
    assert_eq!(atr[0], 0x3B, "an ATR: {atr:02X?}");
    send(&mut link, &[0x01]);
    // SELECT the FIDO AID.
    send(
        &mut link,
        &[
            0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00,
        ],
    );
    let response = recv(&mut link).unwrap();
    assert_eq!(&response[response.len() - 2..], [0x90, 0x00]);

    tap(&control, &["--off"]);
    assert_eq!(recv(&mut link), None, "removal closes the vpcd connection");
    tap(&control, &["--on"]);
    let mut link = accept(&vpcd);
    send(&mut link, &[0x04]);
    assert_eq!(recv(&mut link).unwrap(), atr, "same card back");

    // A whole tap: out, then in again.
    tap(&control, &["--hold-ms", "10"]);
    assert_eq!(recv(&mut link), None);
    let mut link = accept(&vpcd);

    let status = terminate(&mut child);
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(recv(&mut link), None, "shutdown removes the card");
    assert!(dir.path().join("ca.pem").exists());
    assert!(dir.path().join("slot0").join("state.bin").exists());
}

#[test]
fn corrupt_state_exits_1_with_a_message() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.state");
    std::fs::write(&state, b"garbage").unwrap();
    let output = Command::new(TAPFIDO)
        .args(["card", "--no-control", "--state", state.to_str().unwrap()])
        .args(["--vpcd", &vpcd.local_addr().unwrap().to_string()])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refuses to start"), "{stderr}");
    assert!(stderr.contains("INFO"), "log lines reach stderr: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI colour codes when stderr is not a terminal: {stderr:?}"
    );
    assert_eq!(std::fs::read(&state).unwrap(), b"garbage");
}

#[test]
fn usage_errors_exit_2() {
    let output = Command::new(TAPFIDO)
        .args(["card", "--cards", "2", "--state", "only-one"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(TAPFIDO)
        .args(["card", "--control", "0.0.0.0:35980", "--state-dir"])
        .arg(dir.path().join("st"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("non-loopback"));
    assert!(
        !dir.path().join("st").exists(),
        "refused before touching state"
    );
}

/// A user profile that claims an option or extension tapfido does not have is served, and
/// the log names each such claim (getInfo leaves them out).
#[test]
fn claims_the_card_lacks_are_named_in_the_log() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("mine.toml");
    std::fs::write(
        &profile,
        "[card]\nname = \"mine\"\nhistorical_bytes = \"80 73 80 01 C0\"\n\n[fido]\n\
         extensions = [\"credProtect\", \"largeBlob\"]\n\n[fido.options]\nrk = true\n\
         uvBioEnroll = true\n",
    )
    .unwrap();
    let (mut child, rx) = spawn_card(
        &vpcd,
        &dir.path().join("st"),
        &["--no-control", "--profile", profile.to_str().unwrap()],
    );
    let mut warned = Vec::new();
    let deadline = std::time::Instant::now() + GUARD;
    while warned.len() < 2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("warnings in the log; got {warned:?}"));
        if line.contains("which tapfido does not implement") {
            warned.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(warned[0].contains("option uvBioEnroll"), "{warned:?}");
    assert!(warned[1].contains("extension largeBlob"), "{warned:?}");
    assert!(warned
        .iter()
        .all(|l| !l.contains("credProtect") && !l.contains(" rk")));
}

#[test]
fn unknown_profile_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(TAPFIDO)
        .args([
            "card",
            "--no-control",
            "--profile",
            "no-such-profile",
            "--state-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown profile"), "{stderr}");
}

#[test]
fn trace_prints_each_exchange_with_its_slot() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(TAPFIDO)
        .args(["card", "--no-control", "--trace", "--echo", "--slot", "0"])
        .args(["--vpcd", &vpcd.local_addr().unwrap().to_string()])
        .args(["--state-dir", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut link = accept(&vpcd);
    send(&mut link, &[0x01]);
    // SELECT the echo applet (F0 "tapfidoE"), then an unknown INS.
    send(
        &mut link,
        &[
            0x00, 0xA4, 0x04, 0x00, 0x09, 0xF0, 0x74, 0x61, 0x70, 0x66, 0x69, 0x64, 0x6F, 0x45,
        ],
    );
    assert_eq!(recv(&mut link).unwrap(), [0x90, 0x00]);
    send(&mut link, &[0x00, 0x77, 0x00, 0x00]);
    assert_eq!(recv(&mut link).unwrap(), [0x6D, 0x00]);
    // Ctrl-C: SIGINT.
    let status = signal(&mut child, "-INT");
    assert_eq!(status.code(), Some(0));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("[slot 0] ")), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[slot 0] >> 00 a4 04 00 09 f0")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("[slot 0] << 90 00")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("[slot 0] << 6d 00")),
        "{stdout}"
    );
    assert!(lines.contains(&"[slot 0] power on"), "{stdout}");
}

/// The corruption corpus extended to file types and hand-edited fields (reliability.md §8.1
/// item 9): each state below stops the card with exit 1 and a message naming the problem,
/// within the guard time (a FIFO never blocks), and nothing is created or changed.
#[test]
fn unusable_state_files_of_every_kind_exit_1() {
    use std::os::unix::fs::{symlink, PermissionsExt};

    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let edited = {
        let identity = applet::state::Identity {
            master_key: [7; 32],
            attestation_key: None,
        };
        let mut persistent = applet::state::Persistent::fresh(4);
        persistent.min_pin_length = 200;
        applet::state::encode(&identity, &persistent)
    };
    type Make = Box<dyn Fn(&Path)>;
    let target = dir.path().join("target");
    std::fs::write(&target, b"x").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cases: Vec<(&str, Make, &str)> = vec![
        (
            "dangling",
            Box::new(|p| symlink("/nonexistent/state", p).unwrap()),
            "symbolic link",
        ),
        (
            "link",
            Box::new({
                let target = target.clone();
                move |p| symlink(&target, p).unwrap()
            }),
            "symbolic link",
        ),
        (
            "fifo",
            Box::new(|p| {
                assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
            }),
            "FIFO",
        ),
        (
            "directory",
            Box::new(|p| std::fs::create_dir(p).unwrap()),
            "directory",
        ),
        (
            "huge",
            Box::new(|p| {
                std::fs::File::create(p).unwrap().set_len(1 << 30).unwrap();
            }),
            "larger than",
        ),
        (
            "edited",
            Box::new(move |p| std::fs::write(p, &edited).unwrap()),
            "persistent.minPinLength",
        ),
    ];
    for (name, make, expected) in cases {
        let state = dir.path().join(name).join("state.bin");
        std::fs::create_dir(state.parent().unwrap()).unwrap();
        make(&state);
        let mut child = Command::new(TAPFIDO)
            .args(["card", "--no-control", "--state", state.to_str().unwrap()])
            .arg("--state-dir")
            .arg(dir.path().join(name))
            .args(["--vpcd", &vpcd.local_addr().unwrap().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        let Ok(text) = rx.recv_timeout(GUARD) else {
            let _ = child.kill();
            panic!("{name}: the card did not stop within {GUARD:?}");
        };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{name}: {text}");
        assert!(text.contains(expected), "{name}: {text}");
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"x");
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(!Path::new("/nonexistent/state").exists());
}
