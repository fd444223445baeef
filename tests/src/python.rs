//! Running the python-fido2 scripts of `tests/python/` against a card:
//! `python3 tests/python/<script>.py --reader "<name>" --control <url> [args]`.
//! The interpreter is `$PYTHON`, or `python3`.

use std::process::Command;
use std::sync::OnceLock;

use crate::card::Card;

/// The python interpreter to use.
#[must_use]
pub fn interpreter() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Checks once that python3 imports `fido2` (2.x) and `smartcard` (pyscard).
///
/// # Errors
/// What is missing and how to install it.
pub fn available() -> Result<(), String> {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            let python = interpreter();
            let probe = "import fido2, smartcard, importlib.metadata as m; \
                         v = m.version('fido2'); \
                         assert int(v.split('.')[0]) >= 2, 'fido2 ' + v + ' < 2'; print(v)";
            let out = Command::new(&python)
                .args(["-c", probe])
                .output()
                .map_err(|e| format!("cannot run {python}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{python} lacks python-fido2 2.x or pyscard ({}): pip install -r tests/python/requirements.txt",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
}

/// Runs `tests/python/<script>.py` against `card` with extra `args`; asserts exit 0 and
/// prints the script's output either way. Returns the standard output.
#[must_use]
pub fn run(card: &Card, script: &str, args: &[&str]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(format!("{script}.py"));
    let out = Command::new(interpreter())
        .arg(&path)
        .arg("--reader")
        .arg(&card.reader().name)
        .arg("--control")
        .arg(card.control_url())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- {script}.py stdout ---\n{stdout}--- {script}.py stderr ---\n{stderr}");
    assert!(
        out.status.success(),
        "{script}.py failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- card log ---\n{}",
        out.status,
        card.log()
    );
    stdout
}
