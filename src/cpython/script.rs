//! A Python script shipped in the binary, written to a new file in the temporary folder for an
//! interpreter to run, and removed when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A script written to a new temporary file, removed when dropped.
#[derive(Debug)]
pub(crate) struct Script {
    path: PathBuf,
}

impl Script {
    /// Writes `text` to a new file named `<prefix>-<pid>-<n>.py`. A new file only: a name
    /// planted in the shared temporary folder (a symlink, as root) is refused rather than
    /// followed and overwritten.
    pub(crate) fn write(prefix: &str, text: &str) -> Result<Script> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}.py",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| {
                // The folder is the usual cause (TMPDIR naming one that is not there).
                let from = match std::env::var_os("TMPDIR") {
                    Some(dir) => format!(" (TMPDIR={})", dir.to_string_lossy()),
                    None => String::new(),
                };
                Error::io(
                    format!("writing {} to the temporary folder{from}", path.display()),
                    crate::limits::limit_error(e, 0),
                )
            })?;
        Ok(Script { path })
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
