//! Card profiles: what the card presents, as data.
//!
//! A profile is a TOML file. The built-in ones live in
//! `profiles/*.toml` and are embedded in the binary; a user
//! file can be loaded by path.
//!
//! ```toml
//! [card]
//! name = "default"
//! description = "..."
//! historical_bytes = "80 73 80 01 C0"   # → 3B 85 80 01 <hist> TCK
//! # or: atr = "3B 89 80 01 ..."          # exact ATR, checked (TCK included)
//!
//! [fido]                                  # kept raw for the FIDO applet
//! ```

use reader_bridge::atr::{self, AtrError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The built-in profiles: (name, TOML text).
const BUILTIN: [(&str, &str); 2] = [
    ("default", include_str!("../../profiles/default.toml")),
    ("pocketkey", include_str!("../../profiles/pocketkey.toml")),
];

/// A card profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Short name (`default`, `pocketkey`, ...).
    pub name: String,
    /// One line for people.
    pub description: String,
    /// The ATR presented on GET ATR.
    pub atr: Vec<u8>,
    /// The `[fido]` table as written; its schema belongs to the FIDO applet.
    pub fido: Option<toml::Table>,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown profile {name:?} (built-in: {})", Profile::names().join(", "))]
    Unknown {
        /// The requested name.
        name: String,
    },
    /// The file could not be read.
    #[error("cannot read profile {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML for a profile.
    #[error("profile {origin}: {source}")]
    Toml {
        /// Built-in name or file path.
        origin: String,
        /// The parse error (with line and column).
        #[source]
        source: toml::de::Error,
    },
    /// `[card]` has both or neither of `atr` and `historical_bytes`.
    #[error("profile {origin}: [card] needs exactly one of `atr` and `historical_bytes`")]
    AtrSource {
        /// Built-in name or file path.
        origin: String,
    },
    /// A hex string is not valid hex.
    #[error("profile {origin}: [card] {field} is not hex: {source}")]
    Hex {
        /// Built-in name or file path.
        origin: String,
        /// The field.
        field: &'static str,
        /// The decode error.
        #[source]
        source: hex::FromHexError,
    },
    /// The ATR (given or built) is invalid.
    #[error("profile {origin}: bad ATR: {source}")]
    Atr {
        /// Built-in name or file path.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: AtrError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    card: CardSection,
    fido: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardSection {
    name: String,
    #[serde(default)]
    description: String,
    atr: Option<String>,
    historical_bytes: Option<String>,
}

impl Profile {
    /// The names of the built-in profiles.
    pub fn names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        let (_, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ProfileError::Unknown {
                    name: name.to_owned(),
                })?;
        Profile::parse(text, name)
    }

    /// A built-in profile when `name_or_path` is one's name, otherwise the
    /// file at that path (for `--profile NAME|PATH`).
    pub fn find(name_or_path: &str) -> Result<Profile, ProfileError> {
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Profile::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.contains(std::path::MAIN_SEPARATOR) {
            Profile::load(path)
        } else {
            Profile::builtin(name_or_path)
        }
    }

    /// Load a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parse profile TOML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let file: ProfileFile = toml::from_str(text).map_err(|source| ProfileError::Toml {
            origin: origin.to_owned(),
            source,
        })?;
        let card = file.card;
        let atr_err = |source| ProfileError::Atr {
            origin: origin.to_owned(),
            source,
        };
        let atr = match (card.atr, card.historical_bytes) {
            (Some(atr), None) => {
                let atr = decode_hex(&atr, "atr", origin)?;
                atr::validate(&atr).map_err(atr_err)?;
                atr
            }
            (None, Some(hist)) => {
                let hist = decode_hex(&hist, "historical_bytes", origin)?;
                atr::contactless(&hist).map_err(atr_err)?
            }
            _ => {
                return Err(ProfileError::AtrSource {
                    origin: origin.to_owned(),
                })
            }
        };
        Ok(Profile {
            name: card.name,
            description: card.description,
            atr,
            fido: file.fido,
        })
    }
}

/// Hex with optional spaces or colons between bytes.
fn decode_hex(s: &str, field: &'static str, origin: &str) -> Result<Vec<u8>, ProfileError> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(clean).map_err(|source| ProfileError::Hex {
        origin: origin.to_owned(),
        field,
        source,
    })
}
