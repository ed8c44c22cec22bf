//! Reports: files written for people and programs (plots), always atomically.

pub mod plot;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory, renamed over
/// `path` once complete: a reader never sees a half-written file, and an interrupted write
/// leaves the previous file (if any) in place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_name(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("writing {}", path.display()), e)
    })
}

/// Checks before any work is done that `path` can be written later: its directory exists and
/// is writable, and the path is not a directory.
pub fn check_writable(what: &'static str, path: &Path) -> Result<()> {
    let allowed = "a file path in an existing, writable directory";
    if path.as_os_str().is_empty() || path.is_dir() {
        return Err(Error::invalid(what, path.display().to_string(), allowed));
    }
    let probe = temp_name(path);
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::invalid(
            what,
            path.display().to_string(),
            format!("{allowed} ({e})"),
        )),
    }
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("parlab-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(check_writable("plot", &path).is_ok());
        assert!(check_writable("plot", &dir).unwrap_err().is_usage());
        assert!(
            check_writable("plot", &dir.join("no/such/dir/x.svg"))
                .unwrap_err()
                .is_usage()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
