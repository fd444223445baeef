//! The `tapfido` binary: `$TAPFIDO_BIN` if set, otherwise built once per process with
//! `cargo build -p tapfido --bin tapfido` (a no-op when it is fresh, so a
//! stale binary is never used) in the workspace's target directory (`$CARGO_TARGET_DIR`
//! or `<workspace>/target`). Debug builds of the tests use the debug binary, release
//! builds (the benchmark) the release one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the parent of this crate).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || workspace_root().join("target"),
        |dir| {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        },
    )
}

/// `true` for an optimised build of this crate (the benchmark).
const RELEASE: bool = !cfg!(debug_assertions);

/// The path of the `tapfido` binary, built if needed (once per process).
///
/// # Errors
/// When cargo fails or the binary is not where it should be.
pub fn tapfido() -> Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(build).clone()
}

fn build() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("TAPFIDO_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("TAPFIDO_BIN={} is not a file", bin.display()))
        };
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "tapfido", "--bin", "tapfido"]);
    if RELEASE {
        cmd.arg("--release");
    }
    if std::env::var_os("TAPFIDO_E2E_LOCKED").is_some() {
        cmd.arg("--locked");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo to build tapfido: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of tapfido failed: {status}"));
    }
    let bin = target_dir()
        .join(if RELEASE { "release" } else { "debug" })
        .join("tapfido");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "tapfido was built but {} is missing",
            bin.display()
        ))
    }
}
