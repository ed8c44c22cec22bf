//! Reading a file the user names as an input (`bench --baseline`) with a bound on its size and
//! on the wait for it, and a look at Ctrl-C while waiting: `/dev/zero` would otherwise grow
//! parlab's memory without end, and a FIFO nobody writes to would block it for ever.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::interrupt;

/// Why an input could not be read.
#[derive(Debug)]
pub(crate) enum Unread {
    /// The system said no (missing, a folder, no permission).
    Io(std::io::Error),
    /// It holds more than the bound, in bytes.
    TooLarge(u64),
    /// Nothing came for this long (a FIFO no one writes to).
    Silent(Duration),
    /// Ctrl-C or SIGTERM while waiting: the error to pass on as it is.
    Interrupted(Error),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Io(e) => write!(f, "{}", e.to_string().lines().next().unwrap_or("")),
            Unread::TooLarge(limit) => {
                write!(f, "it holds more than {} MiB", limit >> 20)
            }
            Unread::Silent(wait) => write!(
                f,
                "nothing came to read within {wait:?} (a FIFO that no one writes to?)"
            ),
            Unread::Interrupted(e) => write!(f, "{e}"),
        }
    }
}

/// How often a wait looks at the interrupt flag.
const TICK: Duration = Duration::from_millis(100);

/// The bytes of `path`, at most `limit` of them, waiting at most `silence` for more to come
/// (a regular file never makes it wait; a FIFO or a device may). Opening never blocks: a FIFO
/// is opened without waiting for its writer, and then waited for like any other input.
pub(crate) fn read_bounded(path: &Path, limit: u64, silence: Duration) -> Result<Vec<u8>, Unread> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(Unread::Io)?;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut last = Instant::now();
    loop {
        if let Some(signal) = interrupt::requested() {
            return Err(Unread::Interrupted(interrupt::error(signal)));
        }
        let ready = {
            use std::os::fd::AsFd;
            crate::child::readable([file.as_fd()], TICK, "waiting for an input")
                .map_err(|e| Unread::Io(std::io::Error::other(e.to_string())))?
        };
        if ready.is_empty() {
            if last.elapsed() >= silence {
                return Err(Unread::Silent(silence));
            }
            continue;
        }
        match file.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                if out.len() as u64 + n as u64 > limit {
                    return Err(Unread::TooLarge(limit));
                }
                out.extend_from_slice(&chunk[..n]);
                last = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(Unread::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_whole_and_an_endless_device_is_cut_at_the_bound() {
        let path = std::env::temp_dir().join(format!("parlab-input-{}", std::process::id()));
        std::fs::write(&path, b"{\"schema\": 2}").unwrap();
        let read = read_bounded(&path, 1 << 20, Duration::from_secs(10)).unwrap();
        assert_eq!(read, b"{\"schema\": 2}");
        std::fs::remove_file(&path).unwrap();
        let t0 = Instant::now();
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(e, Unread::TooLarge(_)), "{e}");
        assert_eq!(e.to_string(), "it holds more than 1 MiB");
        assert!(t0.elapsed() < Duration::from_secs(30));
        let missing = read_bounded(Path::new("/no/such/file"), 10, Duration::from_secs(1));
        assert!(missing.unwrap_err().to_string().starts_with("No such file"));
    }

    #[test]
    fn a_fifo_with_no_writer_is_waited_for_a_bounded_time() {
        let path = std::env::temp_dir().join(format!("parlab-input-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let t0 = Instant::now();
        let e = read_bounded(&path, 1 << 20, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, Unread::Silent(_)), "{e}");
        assert!(t0.elapsed() >= Duration::from_millis(300));
        // A writer that comes in time is read to its end.
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            std::fs::write(writer_path, b"late").unwrap();
        });
        let read = read_bounded(&path, 1 << 20, Duration::from_secs(20)).unwrap();
        writer.join().unwrap();
        assert_eq!(read, b"late");
        std::fs::remove_file(&path).unwrap();
    }
}
