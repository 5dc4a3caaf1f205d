//! Crash-safe file writes: a crash leaves the old file or the new one, never half of one.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::CaError;

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Private keys: owner read/write only (0600), from the moment the file exists.
    OwnerOnly,
    /// Certificates: world-readable (0644), devices and tools need them.
    Public,
}

/// Writes `contents` to `path` via a temporary file in the same directory: write, fsync,
/// rename over `path`, then fsync the directory so the rename itself is durable.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], access: Access) -> Result<(), CaError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = temp_path(path);
    // A temp file left by a crash may have been created by someone else; start afresh so the
    // mode below is the one it gets.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(CaError::io(temp.display(), e)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match access {
            Access::OwnerOnly => 0o600,
            Access::Public => 0o644,
        });
    }
    let mut file = options
        .open(&temp)
        .map_err(|e| CaError::io(temp.display(), e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| CaError::io(temp.display(), e))?;
    drop(file);
    fs::rename(&temp, path).map_err(|e| CaError::io(path.display(), e))?;
    sync_dir(dir)
}

/// Reads a UTF-8 file, or `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, CaError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CaError::io(path.display(), e)),
    }
}

/// Creates `dir` (and parents) if needed.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), CaError> {
    fs::create_dir_all(dir).map_err(|e| CaError::io(dir.display(), e))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), CaError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CaError::io(dir.display(), e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), CaError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pem");
        write_atomic(&path, b"one", Access::Public).unwrap();
        write_atomic(&path, b"two", Access::Public).unwrap();
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("two"));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(read_optional(&dir.path().join("missing")).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_owner_only_even_over_a_stale_temp() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let stale = temp_path(&path);
        fs::write(&stale, b"stale").unwrap();
        fs::set_permissions(&stale, fs::Permissions::from_mode(0o666)).unwrap();
        write_atomic(&path, b"secret", Access::OwnerOnly).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
