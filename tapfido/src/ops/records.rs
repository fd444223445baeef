//! The relying party's credential records file (`--store`): a JSON list of
//! [`CredentialRecord`]s, replaced atomically and owner-only.

use std::path::Path;

use relying_party::store::{CredentialRecord, StoreError};

/// Load every record; a missing file is an empty list.
pub fn load(path: &Path) -> Result<Vec<CredentialRecord>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Replace the file's contents atomically (temp file, fsync, rename; mode
/// 0600), creating its directory (mode 0700) when missing.
pub fn save(path: &Path, records: &[CredentialRecord]) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(records)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            crate::storage::create_private_dir(dir)?;
        }
    }
    crate::storage::atomic_write(path, &json, 0o600)?;
    Ok(())
}
