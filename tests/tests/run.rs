//! `tapfido run -- CMD` end to end: a private pcscd + vpcd in a private mount namespace,
//! real clients (python-fido2 over pyscard, `tapfido` itself) inside it.
//!
//! These tests never use the system's pcscd or the harness's slot locks: every world is
//! private. Each checks that nothing it started is left running (the world's pcscd and
//! `tapfido` processes, by PID) and that the system's pcscd configuration
//! (`/etc/reader.conf.d`, `/run/pcscd`, the mount table) is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// python-fido2's getInfo over PC/SC on every card of the world; prints the PIDs of
/// the world's `tapfido` (CMD's parent) and pcscd for the leak check.
const GET_INFO: &str = r#"
import os
from fido2.pcsc import CtapPcscDevice
from fido2.ctap2 import Ctap2
from smartcard.System import readers
names = os.environ["TAPFIDO_READERS"].split("\n")
# Only vpcd's readers: pcscd's USB drivers are hidden in the world.
assert all(str(r).startswith("Virtual PCD") for r in readers()), readers()
assert not os.path.isdir("/usr/lib/pcsc/drivers") or not os.listdir("/usr/lib/pcsc/drivers")
listed = [r for r in readers() if str(r) in names]
assert sorted(map(str, listed)) == sorted(names), (listed, names)
for r in listed:
    info = Ctap2(CtapPcscDevice(r.createConnection(), str(r))).get_info()
    assert "FIDO_2_1" in info.versions, info.versions
    print("getInfo", r, info.versions, info.aaguid)
pcscd = open("/run/pcscd/pcscd.pid").read().strip("\0\n ")
print("pids", os.getppid(), pcscd)
"#;

/// What the world needs; `None` (after printing SKIPPED) when missing and `CI` is unset.
fn prerequisites(python: bool) -> Option<PathBuf> {
    let mut missing = Vec::new();
    for tool in ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so"] {
        if !Path::new(tool).exists() {
            missing.push(format!("{tool} (vsmartcard-vpcd)"));
        }
    }
    let mut unshare = Command::new("unshare");
    unshare.args(["--mount", "--propagation", "private"]);
    if !e2e::prereq::is_root() {
        unshare.args(["--user", "--map-root-user"]);
    }
    match unshare.arg("true").output() {
        Err(e) => missing.push(format!("unshare (util-linux): {e}")),
        Ok(out) if !out.status.success() => missing.push(format!(
            "a private mount namespace (unshare: {})",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => {}
    }
    if !["/usr/sbin/pcscd", "/usr/bin/pcscd", "/sbin/pcscd"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        missing.push("pcscd".to_owned());
    }
    if python {
        if let Err(e) = e2e::python::available() {
            missing.push(e);
        }
    }
    let bin = match e2e::binary::tapfido() {
        Ok(bin) => Some(bin),
        Err(e) => {
            missing.push(e);
            None
        }
    };
    if missing.is_empty() {
        return bin;
    }
    let reason = missing.join("; ");
    assert!(
        !e2e::in_ci(),
        "tapfido run prerequisites missing (CI is set, so this fails): {reason}"
    );
    eprintln!("SKIPPED (set CI=1 to make this a failure): {reason}");
    None
}

/// The system's pcscd configuration as seen from here, to compare before and after.
#[derive(Debug, PartialEq, Eq)]
struct SystemPcsc {
    reader_conf: Vec<(String, Vec<u8>)>,
    run_pcscd: Option<Vec<String>>,
    mounts: Vec<String>,
}

fn snapshot() -> SystemPcsc {
    let mut reader_conf: Vec<(String, Vec<u8>)> = std::fs::read_dir("/etc/reader.conf.d")
        .map(|dir| {
            dir.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    reader_conf.sort();
    // Names only: another test process on the machine may restart the system pcscd,
    // which recreates the same files.
    let run_pcscd = std::fs::read_dir("/run/pcscd").ok().map(|dir| {
        let mut v: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    });
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with("/run") || p.starts_with("/etc"))
        .map(str::to_owned)
        .collect();
    SystemPcsc {
        reader_conf,
        run_pcscd,
        mounts,
    }
}

/// `true` while `pid` is a live process (not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rfind(')')
                .and_then(|i| s[i + 1..].split_whitespace().next().map(str::to_owned))
                .is_some_and(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// The PIDs printed on a `pids A B` line.
/// `tapfido run` with a command that prints the PIDs of its world (`tapfido run`'s
/// second stage, the world's pcscd and, with `shell`, the command itself) on a `pids`
/// line and then sleeps; the child and that line.
fn run_reporting_pids(bin: &Path, shell: bool) -> (Child, String) {
    let script = if shell {
        "echo pids $PPID $(tr -d '\\0' < /run/pcscd/pcscd.pid) $$; exec sleep 60"
    } else {
        "echo pids $PPID $(tr -d '\\0' < /run/pcscd/pcscd.pid); exec sleep 60"
    };
    let mut child = tapfido_run(bin, &["--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn pids(out: &str) -> Vec<u32> {
    out.lines()
        .find_map(|l| l.strip_prefix("pids "))
        .expect("no pids line")
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

fn assert_gone(pids: &[u32]) {
    // The world's processes are reaped before `tapfido run` exits; allow the kernel
    // a moment to finish tearing a killed process down.
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &pid in pids {
        assert!(!alive(pid), "process {pid} of the world is still running");
    }
}

fn tapfido_run(bin: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("run").args(args);
    cmd
}

fn output(mut cmd: Command) -> (Output, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    (out, text)
}

#[test]
fn python_fido2_get_info_in_a_private_world() {
    let Some(bin) = prerequisites(true) else {
        return;
    };
    let before = snapshot();
    let (out, text) = output(tapfido_run(
        &bin,
        &["--", &e2e::python::interpreter(), "-c", GET_INFO],
    ));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("getInfo Virtual PCD 00 00"), "{text}");
    assert_gone(&pids(&text));
    assert_eq!(
        snapshot(),
        before,
        "the system's pcscd configuration changed"
    );
}

#[test]
fn sixteen_cards_each_answer_on_its_own_reader() {
    let Some(bin) = prerequisites(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.log");
    let (out, text) = output(tapfido_run(
        &bin,
        &[
            "--cards",
            "16",
            "--trace",
            trace.to_str().unwrap(),
            "--",
            &e2e::python::interpreter(),
            "-c",
            GET_INFO,
        ],
    ));
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("getInfo ").count(), 16, "{text}");
    assert!(text.contains("getInfo Virtual PCD 7 00 01"), "{text}");
    // Every card answered its own getInfo: the trace shows each slot's traffic.
    let log = std::fs::read_to_string(&trace).unwrap();
    for slot in 0..16 {
        assert!(
            log.contains(&format!("[slot {slot}] >> 80 10 ")),
            "no getInfo on slot {slot} in the trace"
        );
    }
    assert_gone(&pids(&text));
}

#[test]
fn two_runs_in_parallel_never_see_each_others_card() {
    let Some(bin) = prerequisites(true) else {
        return;
    };
    let before = snapshot();
    let sync = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/run_isolation.py");
    let start = |name: &str, peer: &str| {
        let mut cmd = tapfido_run(&bin, &["--"]);
        cmd.arg(e2e::python::interpreter())
            .arg(&script)
            .args(["--name", name, "--peer", peer, "--sync"])
            .arg(sync.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    let a = start("a", "b");
    let b = start("b", "a");
    for (name, child) in [("a", a), ("b", b)] {
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "--- {name} stdout ---\n{}\n--- {name} stderr ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{text}");
        assert!(out.status.success(), "{text}");
        assert!(text.contains("PASS"), "{text}");
        assert!(
            text.contains("the peer's credential is unknown here"),
            "{text}"
        );
    }
    assert_eq!(
        snapshot(),
        before,
        "the system's pcscd configuration changed"
    );
}

#[test]
fn exit_status_is_the_commands() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let status = |args: &[&str]| output(tapfido_run(&bin, args)).0.status.code();
    assert_eq!(status(&["--", "sh", "-c", "exit 7"]), Some(7));
    assert_eq!(status(&["--", "sh", "-c", "kill -TERM $$"]), Some(143));
    assert_eq!(status(&["--", "/nonexistent/command"]), Some(127));
    let started = Instant::now();
    assert_eq!(status(&["--timeout", "1", "--", "sleep", "60"]), Some(124));
    assert!(started.elapsed() < Duration::from_secs(20));
    // A usage error is clap's 2, before anything starts.
    assert_eq!(status(&["--cards", "17", "--", "true"]), Some(2));
}

#[test]
fn sigterm_stops_the_command_and_the_world() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let before = snapshot();
    let (mut child, line) = run_reporting_pids(&bin, false);
    let world = pids(&line);
    assert!(world.iter().all(|&p| alive(p)), "{line}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(143), "128 + SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_gone(&world);
    assert_eq!(
        snapshot(),
        before,
        "the system's pcscd configuration changed"
    );
}

/// A CMD that counts the SIGINTs it gets (one line each in `dir/ints`), says it is ready,
/// and exits 9 once `dir/stop` exists.
fn counting_command(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "trap 'echo INT >> {d}/ints' INT; touch {d}/ready; \
         while [ ! -e {d}/stop ]; do sleep 0.05; done; exit 9"
    )
}

/// After a SIGINT was sent: waits until CMD counted one, leaves room for a duplicate to
/// arrive, were one sent, then tells CMD to exit (status 9).
fn let_the_sigint_land(dir: &Path) {
    wait_file(&dir.join("ints"));
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(dir.join("stop"), "").unwrap();
}

/// CMD counted exactly one SIGINT.
fn assert_one_sigint(dir: &Path) {
    let ints = std::fs::read_to_string(dir.join("ints")).unwrap();
    assert_eq!(
        ints.lines().count(),
        1,
        "SIGINT delivered {} times",
        ints.lines().count()
    );
}

fn wait_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGINT sent to `tapfido run` by another process reaches CMD exactly once; the world
/// keeps running until CMD decides to exit, and CMD's status is returned.
#[test]
fn sigint_from_a_process_is_passed_on_once() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = tapfido_run(&bin, &["--", "sh", "-c", &counting_command(dir.path())])
        .spawn()
        .unwrap();
    wait_file(&dir.path().join("ready"));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let_the_sigint_land(dir.path());
    assert_eq!(child.wait().unwrap().code(), Some(9));
    assert_one_sigint(dir.path());
}

/// Ctrl-C on a terminal goes to the whole foreground process group, CMD included:
/// `tapfido run` must not pass it on a second time.
#[test]
fn ctrl_c_on_a_terminal_reaches_the_command_once() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            !e2e::in_ci(),
            "script(1) (bsdutils) is missing (CI is set, so this fails)"
        );
        eprintln!("SKIPPED (set CI=1 to make this a failure): script(1) (bsdutils) is needed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inner = format!(
        "{} run -- sh -c \"{}\"",
        bin.display(),
        counting_command(dir.path())
    );
    let mut script = Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_file(&dir.path().join("ready"));
    // The terminal's foreground group: that of the shell script(1) started.
    let stat = std::fs::read_to_string(format!(
        "/proc/{}/task/{}/children",
        script.id(),
        script.id()
    ))
    .unwrap();
    let shell: u32 = stat.split_whitespace().next().unwrap().parse().unwrap();
    let kill = Command::new("kill")
        .args(["-INT", "--", &format!("-{shell}")])
        .status()
        .unwrap();
    assert!(kill.success());
    let_the_sigint_land(dir.path());
    let _ = script.wait();
    assert_one_sigint(dir.path());
}

#[test]
fn the_world_stops_when_tapfido_run_is_killed_outright() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let (mut child, line) = run_reporting_pids(&bin, true);
    let world = pids(&line);
    assert_eq!(world.len(), 3, "{line}");
    child.kill().unwrap(); // SIGKILL: no chance to clean up in the first stage
    let _ = child.wait();
    // The second stage sees its parent gone, stops the command and the world.
    assert_gone(&world);
}

/// A missing prerequisite ends with 125 and a message naming the package.
#[test]
fn a_missing_vpcd_driver_is_named() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    if !e2e::prereq::is_root() {
        eprintln!("SKIPPED: needs root to hide the driver in an outer namespace");
        return;
    }
    let script = format!(
        "mount -t tmpfs tmpfs /usr/lib/pcsc/drivers/serial && exec {} run -- true",
        bin.display()
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    let (out, text) = output(cmd);
    assert_eq!(out.status.code(), Some(125), "{text}");
    assert!(text.contains("vsmartcard-vpcd"), "{text}");
}

#[test]
fn fixture_pin_credentials_state_dir_and_trace() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("fixture.toml");
    std::fs::write(
        &fixture,
        "pin = \"246810\"\n\
         [[credential]]\nrp = \"fixture.example\"\nuser = \"alice\"\n\
         [[credential]]\nrp = \"other.example\"\nuser = \"bob\"\ndiscoverable = false\ncard = 1\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    let trace = dir.path().join("trace.log");
    let list = format!(
        "{bin} creds list --reader \"Virtual PCD 00 00\" --json && \
         {bin} pin retries --reader \"Virtual PCD 00 01\" --json && cat \"$TAPFIDO_CREDENTIALS\"",
        bin = bin.display()
    );
    let mut cmd = tapfido_run(
        &bin,
        &[
            "--cards",
            "2",
            "--fixture",
            fixture.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &list,
        ],
    );
    cmd.env("TAPFIDO_PIN", "246810");
    let (out, text) = output(cmd);
    assert!(out.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Card 0 holds alice's discoverable credential, found with the fixture's PIN.
    assert!(stdout.contains("fixture.example"), "{text}");
    assert!(stdout.contains("alice"), "{text}");
    // Both registrations verified and recorded for `tapfido login --store`.
    assert!(stdout.contains("\"rp_id\": \"other.example\""), "{text}");
    // The state directory was kept: both cards' state and the attestation CA.
    for file in [
        "slot0/state.bin",
        "slot1/state.bin",
        "ca.pem",
        "credentials.json",
    ] {
        assert!(
            state.join(file).is_file(),
            "{file} missing from --state-dir"
        );
    }
    let log = std::fs::read_to_string(&trace).unwrap();
    assert!(log.contains("[slot 0] >> "), "no slot 0 in the trace");
    assert!(log.contains("[slot 1] >> "), "no slot 1 in the trace");

    // A second run on the same state: the PIN is set already (left as it is), alice's
    // credential is still there.
    let mut again = tapfido_run(
        &bin,
        &[
            "--cards",
            "2",
            "--pin",
            "246810",
            "--state-dir",
            state.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &format!(
                "{} creds list --reader \"Virtual PCD 00 00\" --json",
                bin.display()
            ),
        ],
    );
    again.env("TAPFIDO_PIN", "246810");
    let (out, text) = output(again);
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fixture.example"),
        "{text}"
    );
}

/// `tapfido tap` inside the world finds the world's control API through TAPFIDO_CONTROL.
#[test]
fn tapfido_tap_reaches_the_worlds_control_api() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    let script = format!(
        "{bin} tap --off --json && {bin} tap --on --json && echo control=$TAPFIDO_CONTROL",
        bin = bin.display()
    );
    let (out, text) = output(tapfido_run(&bin, &["--", "sh", "-c", &script]));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("\"done\": \"off\""), "{text}");
    assert!(text.contains("\"done\": \"on\""), "{text}");
    assert!(!text.contains("control=127.0.0.1:35980"), "{text}");
}

/// Without root: a user namespace (`unshare -Ur`) where the kernel allows one.
#[test]
fn works_without_root_in_a_user_namespace() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    if !e2e::prereq::is_root() {
        // Already unprivileged: the other tests cover this path.
        return;
    }
    let userns = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["unshare", "--user", "--map-root-user", "--mount", "true"])
        .status();
    if !userns.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: unprivileged user namespaces are not allowed here");
        return;
    }
    let readable = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !readable {
        eprintln!("SKIPPED: user 65534 cannot execute {}", bin.display());
        return;
    }
    let before = snapshot();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(&bin)
        .args(["run", "--cards", "2", "--"])
        .arg(&bin)
        .args(["info", "--reader", "Virtual PCD 00 01", "--json"])
        .env("HOME", "/tmp")
        .env_remove("XDG_DATA_HOME");
    let (out, text) = output(cmd);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("FIDO_2_1"), "{text}");
    assert_eq!(
        snapshot(),
        before,
        "the system's pcscd configuration changed"
    );
}

/// With no `/run/pcscd` at all (no pcscd ever ran): `/run` is covered by a tmpfs with
/// its entries bound back, in the private namespace only.
#[test]
fn works_when_run_pcscd_does_not_exist() {
    let Some(bin) = prerequisites(false) else {
        return;
    };
    if !e2e::prereq::is_root() {
        eprintln!("SKIPPED: needs root to hide /run/pcscd in an outer namespace");
        return;
    }
    let before = snapshot();
    // An outer private namespace whose /run is empty but for one directory.
    let script = format!(
        "mount -t tmpfs tmpfs /run && mkdir /run/keep && echo kept > /run/keep/f && \
         {bin} run -- sh -c 'cat /run/keep/f && test -S /run/pcscd/pcscd.comm && \
         {bin} readers' && test ! -e /run/pcscd",
        bin = bin.display()
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    let (out, text) = output(cmd);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kept"), "{text}");
    assert!(text.contains("Virtual PCD 00 00"), "{text}");
    assert_eq!(
        snapshot(),
        before,
        "the system's pcscd configuration changed"
    );
}
