//! `tapfido run --fixture FILE.toml`: a PIN and credentials put on the cards
//! before the command starts, through the same PC/SC path as any client
//! (clientPIN setPIN, makeCredential, verified by the offline relying party).
//!
//! ```toml
//! pin = "123456"            # optional: set on every card that has none
//!
//! [[credential]]            # repeat; registered in this order
//! rp = "example.com"        # RP ID
//! user = "alice"            # user name (the user handle is SHA-256(name)[..16])
//! discoverable = true       # optional, default true (a resident key)
//! card = 0                  # optional, default 0: the card's index
//! ```
//!
//! The verified registrations are written, in the relying-party record
//! format `tapfido login --store` reads, to `<state dir>/credentials.json`
//! (`TAPFIDO_CREDENTIALS` in the command's environment).

use std::path::Path;

use serde::Deserialize;

use crate::ops::register::{register, RegisterOptions};
use host::pcsc::ReaderSelector;
use relying_party::store::CredentialRecord;

/// The fixture file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// PIN for every card.
    pub pin: Option<String>,
    /// Credentials to register.
    #[serde(default, rename = "credential")]
    pub credentials: Vec<FixtureCredential>,
}

/// One `[[credential]]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FixtureCredential {
    /// RP ID.
    pub rp: String,
    /// User name.
    pub user: String,
    /// Resident key.
    #[serde(default = "yes")]
    pub discoverable: bool,
    /// Card index.
    #[serde(default)]
    pub card: u16,
}

fn yes() -> bool {
    true
}

impl Fixture {
    /// Read and check a fixture file against `cards` cards.
    pub fn load(path: &Path, cards: u16) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("fixture {}: {e}", path.display()))?;
        Self::parse(&text, cards).map_err(|e| format!("fixture {}: {e}", path.display()))
    }

    /// Parse and check fixture text against `cards` cards.
    pub fn parse(text: &str, cards: u16) -> Result<Self, String> {
        let fixture: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(pin) = &fixture.pin {
            check_pin(pin)?;
        }
        for c in &fixture.credentials {
            if c.card >= cards {
                return Err(format!(
                    "credential {}@{}: card {} but only {cards} card(s) (0 to {})",
                    c.user,
                    c.rp,
                    c.card,
                    cards - 1
                ));
            }
            if c.rp.is_empty() || c.user.is_empty() {
                return Err("a credential needs a non-empty rp and user".into());
            }
        }
        Ok(fixture)
    }
}

/// CTAP 2.1 §6.5.5.5: a PIN is 4 to 63 bytes of UTF-8 (4 code points at
/// least).
pub fn check_pin(pin: &str) -> Result<(), String> {
    if pin.chars().count() < 4 || pin.len() > 63 {
        return Err("a PIN is 4 to 63 bytes of UTF-8, at least 4 characters".into());
    }
    Ok(())
}

/// Put `pin` on every card of `readers` (those that have none), then
/// register `fixture`'s credentials; returns the relying party's records.
pub fn apply(
    readers: &[String],
    pin: Option<&str>,
    credentials: &[FixtureCredential],
) -> Result<Vec<CredentialRecord>, String> {
    if let Some(pin) = pin {
        for reader in readers {
            let mut s = crate::ops::open(&ReaderSelector::Name(reader.clone()))
                .map_err(|e| format!("{reader}: {e}"))?;
            let info = s.get_info().map_err(|e| format!("{reader}: {e}"))?;
            if info.option("clientPin") == Some(true) {
                tracing::info!(reader, "a PIN is set already; left as it is");
                continue;
            }
            s.set_pin(pin)
                .map_err(|e| format!("{reader}: setting the PIN: {e}"))?;
        }
    }
    let mut records = Vec::new();
    for c in credentials {
        let reader = readers
            .get(usize::from(c.card))
            .ok_or_else(|| format!("no card {}", c.card))?;
        let mut s = crate::ops::open(&ReaderSelector::Name(reader.clone()))
            .map_err(|e| format!("{reader}: {e}"))?;
        let report = register(
            &mut s,
            &RegisterOptions {
                rp_id: c.rp.clone(),
                user: c.user.clone(),
                resident_key: c.discoverable,
                pin: pin.map(str::to_owned),
                ..RegisterOptions::default()
            },
        )
        .map_err(|e| format!("{reader}: registering {}@{}: {e}", c.user, c.rp))?;
        match (report.passed(), report.record) {
            (true, Some(record)) => records.push(record),
            _ => {
                return Err(format!(
                    "{reader}: the registration of {}@{} did not verify: {:?}",
                    c.user, c.rp, report.verification
                ))
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_parses_with_defaults() {
        let f = Fixture::parse(
            "pin = \"123456\"\n[[credential]]\nrp = \"example.com\"\nuser = \"alice\"\n\
             [[credential]]\nrp = \"example.org\"\nuser = \"bob\"\ndiscoverable = false\ncard = 1\n",
            2,
        )
        .unwrap();
        assert_eq!(f.pin.as_deref(), Some("123456"));
        assert_eq!(f.credentials.len(), 2);
        assert!(f.credentials[0].discoverable);
        assert_eq!(f.credentials[0].card, 0);
        assert!(!f.credentials[1].discoverable);
        assert_eq!(f.credentials[1].card, 1);
    }

    #[test]
    fn bad_fixtures_are_refused_with_a_reason() {
        let card_out_of_range = "[[credential]]\nrp = \"a\"\nuser = \"b\"\ncard = 2\n";
        assert!(Fixture::parse(card_out_of_range, 2)
            .unwrap_err()
            .contains("card 2"));
        assert!(Fixture::parse("pin = \"123\"\n", 1).is_err(), "short PIN");
        assert!(
            Fixture::parse("pim = \"123456\"\n", 1).is_err(),
            "unknown key"
        );
        assert!(
            Fixture::parse("[[credential]]\nrp = \"a\"\n", 1).is_err(),
            "no user"
        );
        assert_eq!(Fixture::parse("", 1).unwrap(), Fixture::default());
    }
}
