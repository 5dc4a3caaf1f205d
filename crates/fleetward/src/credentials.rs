//! Access keys: generating them, and the AWS CLI `credentials` / `config` files.

use std::io::Write;
use std::path::Path;

use fleetward_store::{AccessKeyRow, Store};
use rand::Rng;
use rand::distributions::{Alphanumeric, Uniform};

/// A new access key for `account_id`: `AKIA` + 16 base-32 characters, 40-character secret.
pub fn generate_key(account_id: &str, now_ms: i64) -> AccessKeyRow {
    let mut rng = rand::thread_rng();
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let pick = Uniform::new(0, BASE32.len());
    let id: String = (0..16).map(|_| BASE32[rng.sample(pick)] as char).collect();
    let secret: String = (0..40).map(|_| rng.sample(Alphanumeric) as char).collect();
    AccessKeyRow {
        access_key_id: format!("AKIA{id}"),
        secret_access_key: secret,
        account_id: account_id.to_string(),
        status: "Active".into(),
        created_ms: now_ms,
    }
}

/// The key in an AWS CLI credentials block.
pub fn render_profile(profile: &str, key: &AccessKeyRow) -> String {
    format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.access_key_id, key.secret_access_key
    )
}

/// Writes a file readable by its owner only (credentials must not leak to other users).
pub fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::fs::PermissionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The access key id of the `[default]` profile of a credentials file, if there is one.
pub fn read_default_key_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_default = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_default = line == "[default]";
        } else if in_default
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "aws_access_key_id"
        {
            return Some(v.trim().to_string());
        }
    }
    None
}

/// Reuses the admin key named in the credentials file when it is still active in the store;
/// otherwise creates a new one and writes the file. Returns the key.
pub async fn ensure_admin_key(
    store: &dyn Store,
    path: &Path,
    account_id: &str,
    now_ms: i64,
) -> Result<AccessKeyRow, String> {
    if let Some(id) = read_default_key_id(path)
        && let Ok(Some(row)) = store.get_access_key(&id).await
        && row.status == "Active"
        && row.account_id == account_id
    {
        return Ok(row);
    }
    let key = generate_key(account_id, now_ms);
    store
        .put_access_key(&key)
        .await
        .map_err(|e| format!("cannot store the admin key: {e}"))?;
    write_private(path, &render_profile("default", &key))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_look_like_aws_keys() {
        let key = generate_key("000000000000", 1);
        assert!(key.access_key_id.starts_with("AKIA"));
        assert_eq!(key.access_key_id.len(), 20);
        assert_eq!(key.secret_access_key.len(), 40);
        assert_ne!(
            generate_key("000000000000", 1).access_key_id,
            key.access_key_id
        );
    }

    #[test]
    fn credentials_file_round_trips_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        let key = generate_key("000000000000", 1);
        let text = format!(
            "[other]\naws_access_key_id = X\n{}",
            render_profile("default", &key)
        );
        write_private(&path, &text).unwrap();
        assert_eq!(read_default_key_id(&path), Some(key.access_key_id));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
