//! Where a report goes: a file, a special file (a FIFO, a device), or standard output (`-`).
//!
//! A regular file, or a path that does not exist yet, is written through a temporary file in
//! its own directory and renamed over it once complete, so a reader never sees half a file and
//! a failed write leaves the previous one in place. A symlink is followed first, so the link
//! stays and its target is what gets replaced (in the target's directory). Anything else (a
//! FIFO, a character device, a socket) is opened and written in place, never replaced: renaming
//! over `/dev/stdout` or a named pipe would destroy it and leave its reader with nothing.
//!
//! Every failed write is an error naming the file and the OS error; nothing fails silently.

use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The most symlinks followed in a chain before the path counts as a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A destination the user named for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `-`: standard output.
    Stdout,
    /// A regular file or a new path, with symlinks resolved: written atomically.
    File(PathBuf),
    /// A FIFO, a device or another special file (symlinks resolved): written in place.
    Special(PathBuf),
}

impl Output {
    /// The destination `text` names, for `what` (e.g. "JSON export path"), checked now, before
    /// any work is done: `-` is standard output; a path must lead to a writable special file,
    /// or to a file that can be created in an existing, writable directory.
    pub fn parse(what: &'static str, text: &str) -> Result<Output> {
        if text == "-" {
            return Ok(Output::Stdout);
        }
        let allowed = "'-' (standard output), or a file path in an existing, writable directory";
        let bad = |why: String| Error::invalid(what, text, format!("{allowed} ({why})"));
        if text.is_empty() {
            return Err(Error::invalid(what, text, allowed));
        }
        let path = resolve(Path::new(text)).map_err(|e| bad(e.to_string()))?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Err(bad("it is a directory".into())),
            Ok(m) if !m.file_type().is_file() => {
                nix::unistd::access(&path, nix::unistd::AccessFlags::W_OK)
                    .map_err(|e| bad(std::io::Error::from(e).to_string()))?;
                Ok(Output::Special(path))
            }
            _ => {
                let probe = temp_name(&path);
                std::fs::File::create(&probe).map_err(|e| bad(e.to_string()))?;
                let _ = std::fs::remove_file(&probe);
                Ok(Output::File(path))
            }
        }
    }

    /// True for a regular file: it can be rewritten as often as the report grows (the
    /// benchmark does after every round). Standard output and special files are written once,
    /// at the end, so that their reader gets one whole document.
    pub fn is_rewritable(&self) -> bool {
        matches!(self, Output::File(_))
    }

    /// The destination as a person reads it: "standard output" or the path.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File(p) | Output::Special(p) => p.display().to_string(),
        }
    }

    /// Writes `bytes` to the destination: atomically for a file, in place for the others.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let written = match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Output::File(path) => return write_atomic(path, bytes),
            Output::Special(path) => std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush())),
        };
        written.map_err(|e| Error::io(format!("writing {}", self.name()), e))
    }
}

/// Writes `bytes` to the regular file (or new path) `path` through a temporary file in the
/// same directory, renamed over `path` once complete and synced.
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

/// `path` with every symlink in its last component followed, so that the link is written
/// through rather than replaced; a dangling link gives its (missing) target.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// True when `path` is a special file (FIFO, device, socket) once symlinks are followed.
pub fn is_special(path: &Path) -> bool {
    resolve(path).and_then(std::fs::metadata).is_ok_and(|m| {
        let t = m.file_type();
        t.is_fifo() || t.is_char_device() || t.is_block_device() || t.is_socket()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("parlab-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_file_is_replaced_whole_and_leaves_no_temporary() {
        let dir = scratch("file");
        let path = dir.join("a.txt");
        let out = Output::parse("export", path.to_str().unwrap()).unwrap();
        assert_eq!(out, Output::File(path.clone()));
        assert!(out.is_rewritable());
        out.write(b"one").unwrap();
        out.write(b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let dir = scratch("link");
        std::fs::create_dir(dir.join("results")).unwrap();
        let target = dir.join("results/today.json");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.join("report.json");
        std::os::unix::fs::symlink("results/today.json", &link).unwrap();
        // A chain: a link to the link.
        let chain = dir.join("latest.json");
        std::os::unix::fs::symlink(&link, &chain).unwrap();
        for (name, body) in [(&link, &b"new"[..]), (&chain, &b"newer"[..])] {
            let out = Output::parse("export", name.to_str().unwrap()).unwrap();
            out.write(body).unwrap();
            assert!(
                std::fs::symlink_metadata(name)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read(&target).unwrap(), body);
        }
        // No temporary left beside the link or the target.
        assert_eq!(std::fs::read_dir(dir.join("results")).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
        // A dangling link: its target is created.
        let dangling = dir.join("next.json");
        std::os::unix::fs::symlink("results/next.json", &dangling).unwrap();
        Output::parse("export", dangling.to_str().unwrap())
            .unwrap()
            .write(b"x")
            .unwrap();
        assert_eq!(std::fs::read(dir.join("results/next.json")).unwrap(), b"x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_is_written_in_place_to_its_reader() {
        let dir = scratch("fifo");
        let fifo = dir.join("pipe");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let out = Output::parse("export", fifo.to_str().unwrap()).unwrap();
        assert_eq!(out, Output::Special(fifo.clone()));
        assert!(!out.is_rewritable());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        out.write(b"{\"whole\": true}").unwrap();
        assert_eq!(reader.join().unwrap(), b"{\"whole\": true}");
        assert!(is_special(&fifo), "the FIFO was replaced");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_that_fails_writes_is_an_error_and_stays_a_device() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: making a device node needs root");
            return;
        }
        let dir = scratch("dev");
        let full = dir.join("full");
        // The device /dev/full is: every write fails with ENOSPC.
        nix::sys::stat::mknod(
            &full,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
            nix::sys::stat::makedev(1, 7),
        )
        .unwrap();
        let out = Output::parse("export", full.to_str().unwrap()).unwrap();
        let e = out.write(b"data").unwrap_err().to_string();
        assert!(
            e.contains(full.to_str().unwrap()) && e.contains("No space left"),
            "{e}"
        );
        assert!(is_special(&full), "the device was replaced");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dash_is_standard_output_and_bad_paths_are_bad_input() {
        assert_eq!(Output::parse("export", "-").unwrap(), Output::Stdout);
        assert_eq!(Output::Stdout.name(), "standard output");
        let dir = scratch("bad");
        for bad in [
            String::new(),
            dir.to_str().unwrap().to_string(),
            dir.join("no/such/dir/x.json").to_str().unwrap().to_string(),
        ] {
            let e = Output::parse("JSON export path", &bad).unwrap_err();
            assert!(e.is_usage(), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
        }
        let looped = dir.join("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        let e = Output::parse("export", looped.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("symbolic links"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
