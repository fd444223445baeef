//! Running the real `tapfido` binary from the CLI tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

/// The binary cargo built for these tests.
pub const TAPFIDO: &str = env!("CARGO_BIN_EXE_tapfido");

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `tapfido ARGS` with stdin closed, no PIN in the environment, and
/// the data directory moved to `data` when given.
pub fn tapfido(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(TAPFIDO);
    cmd.args(args)
        .env_remove("TAPFIDO_PIN")
        .env_remove("TAPFIDO_NEW_PIN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}
