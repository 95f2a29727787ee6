//! Writing files that must never be left half-written or readable by others: recordings,
//! transcripts and reports are personal data.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, Result};

/// Creates a directory (and parents) readable only by the user.
pub fn create_private_dir(path: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Creates (or truncates) a file readable only by the user.
pub fn create_private_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Bytes free to an unprivileged user on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> Result<u64> {
    let stats = rustix::fs::statvfs(dir)
        .with_context(|| format!("cannot check the free space in {}", dir.display()))?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Whether an error chain ends in a full disk (ENOSPC or a quota).
pub fn is_disk_full(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        })
    })
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it into place, so a
/// reader sees the old file or the whole new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = create_private_file(&temp)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", temp.display()))?;
        std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_writes_are_private_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("session");
        create_private_dir(&private).unwrap();
        let path = private.join("report.json");
        write_atomic(&path, b"{}").unwrap();
        write_atomic(&path, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&private), 0o700);
        assert_eq!(std::fs::read_dir(&private).unwrap().count(), 1);
    }
}
