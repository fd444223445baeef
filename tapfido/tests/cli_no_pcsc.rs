//! The binary on a machine without PC/SC: it does not link libpcsclite
//! (pcsc-lite is opened at run time, see `host/csrc/pcsc_loader.c`), the demo
//! runs in process, and a PC/SC command names what to install.
//!
//! "Without PC/SC" is made real with a private mount namespace in which every
//! `libpcsclite.so.1` on the loader's path is covered by `/dev/null`; the
//! system is not changed. That needs root (`unshare -m`): elsewhere the test
//! prints SKIPPED, and with `CI` set it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::process::Command;

use cli_support::TAPFIDO;

/// The binary's dynamic section lists no libpcsclite.
#[test]
fn binary_does_not_link_libpcsclite() {
    let out = Command::new("readelf")
        .args(["--dynamic", TAPFIDO])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success());
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(dynamic.contains("NEEDED"), "{dynamic}");
    assert!(
        !dynamic.contains("libpcsclite"),
        "tapfido links libpcsclite (a pcsc-sys built before .cargo/config.toml named the \
         run-time loader? `cargo clean -p pcsc-sys`):\n{dynamic}"
    );
}

/// Every path of `libpcsclite.so.1` the dynamic loader knows.
fn pcsclite_paths() -> Vec<String> {
    let out = Command::new("ldconfig").arg("-p").output();
    let mut paths: Vec<String> = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.trim_start().starts_with("libpcsclite.so.1 "))
        .filter_map(|l| l.split(" => ").nth(1).map(|p| p.trim().to_owned()))
        .collect();
    for dir in [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ] {
        let p = format!("{dir}/libpcsclite.so.1");
        if std::path::Path::new(&p).exists() && !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Run `tapfido ARGS` where no libpcsclite.so.1 can be opened.
fn without_pcsc(args: &str) -> Option<(i32, String, String)> {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: this test needs root for unshare -m"
        );
        eprintln!("SKIPPED: hiding libpcsclite needs root (unshare -m)");
        return None;
    }
    let hide: String = pcsclite_paths()
        .iter()
        .map(|p| format!("mount --bind /dev/null '{p}' && "))
        .collect();
    let script = format!("mount --make-rprivate / && {hide}exec '{TAPFIDO}' {args}");
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .env_remove("TAPFIDO_PIN")
        .env_remove("RUST_LOG")
        .output()
        .expect("unshare (util-linux) runs");
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn demo_runs_in_process_without_the_pcsc_library() {
    let Some((code, stdout, stderr)) = without_pcsc("demo") else {
        return;
    };
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("in this process (no PC/SC library)"),
        "{stdout}"
    );
    assert!(
        stdout.lines().last().unwrap_or("").starts_with("PASS"),
        "{stdout}"
    );
}

#[test]
fn pcsc_command_without_the_library_names_what_to_install() {
    let Some((code, stdout, stderr)) = without_pcsc("readers") else {
        return;
    };
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("libpcsclite.so.1 was not found"),
        "{stderr}"
    );
    assert!(stderr.contains("apt install pcscd"), "{stderr}");
}
