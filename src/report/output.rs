//! Where a report goes: a file, a special file (a FIFO, a device), or standard output (`-`).
//!
//! A regular file, or a path that does not exist yet, is written through a temporary file in
//! its own directory and renamed over it once complete, so a reader never sees half a file and
//! a failed write leaves the previous one in place. A symlink is followed first, so the link
//! stays and its target is what gets replaced (in the target's directory). Anything else (a
//! FIFO, a character device) is opened and written in place, never replaced: renaming over
//! `/dev/stdout` or a named pipe would destroy it and leave its reader with nothing. A path that
//! is this process's standard output (`/dev/stdout`, or the file the shell redirected it to) is
//! standard output, as `-` is.
//!
//! Every failed write is an error naming the file and the OS error; nothing fails silently.
//!
//! No export replaces a file the command needs: parlab's own program (however it is named: a
//! link, `/proc/self/exe`, a hard link) or a file the command reads ([`Protected`]). Two
//! names of one file count as one place, by device and inode.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The most symlinks followed in a chain before the path counts as a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// How long a write in place may still wait for its reader once Ctrl-C or SIGTERM asked parlab
/// to stop: long enough for a reader that is there, short enough that a stop is never ignored.
const GRACE: Duration = Duration::from_secs(1);

/// The most bytes of a destination's name its temporary file keeps: the rest of the temporary
/// name (a dot, the process id, a counter, `.tmp`) must fit beside it in the 255 bytes a name
/// may have, whatever the destination's own length.
const TEMP_NAME_KEEPS: usize = 32;

/// Files no export may replace, each known by its device and inode (so that a symlink, a hard
/// link or `/proc/self/exe` is caught like the name itself): parlab's own program, always, and
/// the files the command reads, added with [`Protected::input`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    files: Vec<(String, (u64, u64))>,
}

impl Protected {
    /// parlab's own program, the file this process runs.
    pub fn program() -> Protected {
        let meta = std::fs::metadata("/proc/self/exe")
            .or_else(|_| std::env::current_exe().and_then(std::fs::metadata));
        Protected {
            files: meta
                .ok()
                .map(|m| ("parlab's own program".to_string(), (m.dev(), m.ino())))
                .into_iter()
                .collect(),
        }
    }

    /// Adds `path`, which the command reads, described as `what` ("the baseline this benchmark
    /// compares with (--baseline b.json)"); a path that does not exist protects nothing.
    pub fn input(mut self, what: impl Into<String>, path: impl AsRef<Path>) -> Protected {
        if let Ok(m) = std::fs::metadata(path) {
            self.files.push((what.into(), (m.dev(), m.ino())));
        }
        self
    }

    /// What the file `m` is to the command, when it is protected.
    fn holder(&self, m: &std::fs::Metadata) -> Option<&str> {
        self.files
            .iter()
            .find(|(_, id)| *id == (m.dev(), m.ino()))
            .map(|(what, _)| what.as_str())
    }
}

/// A destination the user named for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `-` (or a path that is this process's standard output).
    Stdout,
    /// A regular file or a new path: written atomically, in the directory of `target`.
    File {
        /// The path as the user named it.
        named: PathBuf,
        /// Where it leads once symlinks are followed: the file that is replaced.
        target: PathBuf,
    },
    /// A FIFO, a device or another special file, as the user named it: written in place.
    Special(PathBuf),
}

impl Output {
    /// The destination `text` names, for `what` (e.g. "JSON export path"), checked now, before
    /// any work is done: `-` is standard output; a path must lead to a writable special file,
    /// or to a file that can be created in an existing, writable directory, and never to
    /// parlab's own program.
    pub fn parse(what: &'static str, text: &str) -> Result<Output> {
        Output::parse_with(what, text, &Protected::program())
    }

    /// [`Output::parse`], refusing every file of `protected` too: an export must not replace
    /// what the command reads.
    pub fn parse_with(what: &'static str, text: &str, protected: &Protected) -> Result<Output> {
        if text == "-" {
            return Ok(Output::Stdout);
        }
        let allowed = "'-' (standard output), or a file path in an existing, writable directory";
        let bad = |why: String| Error::invalid(what, text, format!("{allowed} ({why})"));
        if text.is_empty() {
            return Err(Error::invalid(what, text, allowed));
        }
        let named = PathBuf::from(text);
        // `metadata` follows every link, the kernel's own included (`/dev/fd/63` leads to
        // "pipe:[…]", which no path names): what the path opens is what it is.
        let meta = match std::fs::metadata(&named) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(bad(e.to_string())),
        };
        if meta.is_none() && names_a_directory(text) {
            return Err(Error::invalid(
                what,
                text,
                "a file name; one ending in '/', '.' or '..' names a directory",
            ));
        }
        if let Some(m) = &meta {
            if let Some(holder) = protected.holder(m).filter(|_| m.is_file()) {
                return Err(Error::invalid(
                    what,
                    text,
                    format!("a file of its own: this is {holder}, which no export replaces"),
                ));
            }
            if m.is_dir() {
                return Err(bad("it is a directory".into()));
            }
            if m.file_type().is_socket() {
                return Err(bad(
                    "it is a socket, which cannot be opened as a file".into()
                ));
            }
            if is_stdout(m) {
                return Ok(Output::Stdout);
            }
            if !m.is_file() {
                nix::unistd::access(&named, nix::unistd::AccessFlags::W_OK)
                    .map_err(|e| bad(std::io::Error::from(e).to_string()))?;
                return Ok(Output::Special(named));
            }
        }
        let target = resolve(&named).map_err(|e| bad(e.to_string()))?;
        if meta.is_some() && std::fs::symlink_metadata(&target).is_err() {
            // A file reached through a link only the kernel can follow (a descriptor of
            // another process, a deleted file): it cannot be replaced, so write it in place.
            return Ok(Output::Special(named));
        }
        let probe = temp_name(&target);
        std::fs::File::create(&probe).map_err(|e| bad(e.to_string()))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Output::File { named, target })
    }

    /// True for a regular file: it can be rewritten as often as the report grows (the
    /// benchmark does after every round). Standard output and special files are written once,
    /// at the end, so that their reader gets one whole document.
    pub fn is_rewritable(&self) -> bool {
        matches!(self, Output::File { .. })
    }

    /// True when `self` and `other` write to the same place, where two reports would clobber
    /// or interleave: both standard output, the same file (whatever links lead to it) or the
    /// same FIFO. A device (`/dev/null`, a terminal) takes any number of writers.
    pub fn same_place(&self, other: &Output) -> bool {
        match (self, other) {
            (Output::Stdout, Output::Stdout) => true,
            (Output::File { target: a, .. }, Output::File { target: b, .. }) => {
                match (identity(a), identity(b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => place(a) == place(b),
                }
            }
            (Output::Special(a), Output::Special(b)) => {
                match (std::fs::metadata(a), std::fs::metadata(b)) {
                    (Ok(a), Ok(b)) => {
                        !a.file_type().is_char_device() && (a.dev(), a.ino()) == (b.dev(), b.ino())
                    }
                    _ => a == b,
                }
            }
            _ => false,
        }
    }

    /// The destination as a person reads it: "standard output" or the path as named.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File { named, .. } | Output::Special(named) => named.display().to_string(),
        }
    }

    /// Writes `bytes` to the destination: atomically for a file, in place for the others. The
    /// error names the destination and the OS error.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let written = match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Output::File { named, target } => {
                return write_atomic(target, bytes).map_err(|e| match e {
                    // Name the file as the user did; the link's target is what failed.
                    Error::Io { source, .. } if named != target => Error::io(
                        format!("writing {} (-> {})", named.display(), target.display()),
                        source,
                    ),
                    e => e,
                });
            }
            Output::Special(path) => write_in_place(path, bytes),
        };
        written.map_err(|e| Error::io(format!("writing {}", self.name()), e))
    }
}

/// Writes `bytes` to the regular file (or new path) `path` through a temporary file in the
/// same directory, renamed over `path` once complete and synced. A file replaced keeps its
/// permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_name(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(old) = std::fs::metadata(path) {
            let mode = old.permissions().mode() & 0o7777;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("writing {}", path.display()), e)
    })
}

/// Opens the special file `path` and writes `bytes` to it, without blocking signals out: the
/// open waits for a FIFO's reader and a write for room, in short polls, and either gives up
/// [`GRACE`] after a stop was asked for (Ctrl-C, SIGTERM).
fn write_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let began = Instant::now();
    let wait = || -> std::io::Result<()> {
        if crate::interrupt::requested().is_some() && began.elapsed() >= GRACE {
            return Err(std::io::Error::other(
                "stopped while waiting for its reader",
            ));
        }
        Ok(())
    };
    // A FIFO's open fails with ENXIO, instead of blocking, while it has no reader.
    let file = loop {
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        match std::fs::OpenOptions::new()
            .write(true)
            .truncate(regular)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
        {
            Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) && is_fifo(path) => {
                wait()?;
                std::thread::sleep(Duration::from_millis(20));
            }
            opened => break opened?,
        }
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        match (&file).write(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                wait()?;
                let mut fds = [nix::poll::PollFd::new(
                    std::os::fd::AsFd::as_fd(&file),
                    nix::poll::PollFlags::POLLOUT,
                )];
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// True when the file `m` is this process's standard output, a pipe or a file (`/dev/stdout`,
/// `/dev/fd/1`, or the very file the shell redirected it to). A device such as a terminal or
/// `/dev/null` is written in place like any other: standard output stays where it was.
fn is_stdout(m: &std::fs::Metadata) -> bool {
    !m.file_type().is_char_device()
        && nix::sys::stat::fstat(std::io::stdout())
            .is_ok_and(|s| (s.st_dev, s.st_ino) == (m.dev(), m.ino()))
}

fn is_fifo(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
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

/// True when the path `text` ends where only a directory can: in `/`, `.` or `..`.
fn names_a_directory(text: &str) -> bool {
    matches!(text.rsplit('/').next(), Some("" | "." | ".."))
}

/// The device and inode of the file `path` leads to, if it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Where a path that may not exist yet would be: its directory, with every link followed, and
/// its name.
fn place(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir).map_or_else(|_| path.to_path_buf(), |d| d.join(name))
        }
        _ => path.to_path_buf(),
    }
}

/// The temporary file beside `path` that becomes it: hidden, named for this process and
/// unique within it, and short, so that any name `path` may have leaves room for it.
fn temp_name(path: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map_or(&b"out"[..], |n| n.as_bytes());
    let kept = &name[..name.len().min(TEMP_NAME_KEEPS)];
    let mut temp = b".".to_vec();
    temp.extend_from_slice(kept);
    temp.extend_from_slice(
        format!(
            ".{}.{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
        .as_bytes(),
    );
    path.with_file_name(std::ffi::OsStr::from_bytes(&temp))
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
