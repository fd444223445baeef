//! The card panel in a real headless browser (Debian's chromium and chromium-driver,
//! driven by selenium from PyPI) against a card behind the real pcscd + vpcd:
//! `tests/python/panel_browser.py` clicks "tap" and watches pcscd see the card leave
//! and come back, makes a python-fido2 registration and sign-in and finds them decoded
//! in the live log, switches presence, copies an exchange as hex, and checks the
//! browser console stayed free of errors.
//!
//! `TAPFIDO_PANEL_SCREENSHOT=docs/panel.png` also keeps a screenshot of the panel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use e2e::{python, Card, CardOptions};

/// selenium importable and Debian's chromium + chromedriver installed.
fn browser_available() -> Result<(), String> {
    for path in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        let path = std::env::var(if path.ends_with("driver") {
            "CHROMEDRIVER"
        } else {
            "CHROMIUM"
        })
        .unwrap_or_else(|_| path.to_owned());
        if !Path::new(&path).exists() {
            return Err(format!(
                "{path} missing: apt-get install chromium chromium-driver"
            ));
        }
    }
    let out = Command::new(python::interpreter())
        .args(["-c", "import selenium"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("python lacks selenium: pip install -r tests/python/requirements.txt".into());
    }
    Ok(())
}

#[test]
fn panel_in_a_headless_browser() {
    let stack = e2e::require_python!();
    if let Err(reason) = browser_available() {
        assert!(
            !e2e::in_ci(),
            "browser prerequisites missing (CI is set): {reason}"
        );
        eprintln!("SKIPPED (set CI=1 to make this a failure): {reason}");
        return;
    }
    let card = Card::start(stack, CardOptions::default());
    let shot = std::env::var("TAPFIDO_PANEL_SCREENSHOT")
        .unwrap_or_else(|_| card.dir().join("panel.png").display().to_string());
    let slot = card.reader().slot;
    let out = python::run(
        &card,
        "panel_browser",
        &["--slot", &slot.to_string(), "--screenshot", &shot],
    );
    assert!(out.contains("PASS"), "{out}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "no PNG screenshot at {shot}"
    );
}
