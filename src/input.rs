//! Reading a file the user named as an input (`bench --baseline`): bounded in size, and never
//! deaf to a stop.
//!
//! A path can lead anywhere: `/dev/zero` never ends, a FIFO with no writer never starts, a
//! terminal waits for typing. The file is opened without blocking, read in chunks up to a size
//! limit, and a special file is polled in short waits; Ctrl-C or SIGTERM (the flag of
//! [`crate::interrupt`]) ends the read within one wait.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// How long one wait for a special file's data lasts before the stop flag is looked at again.
const POLL_MS: u16 = 100;

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// Why an input could not be read.
#[derive(Debug)]
pub(crate) enum Unread {
    /// The operating system refused it (no such file, a directory, no permission).
    Io(std::io::Error),
    /// It holds more than the limit, in bytes.
    TooLarge(usize),
    /// A stop was asked for by this signal while reading or waiting for data.
    Stopped(i32),
}

/// The whole content of `path`, at most `limit` bytes: a regular file, or a FIFO, pipe,
/// socket or character device read until its end.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, Unread> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(Unread::Io)?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if meta.is_dir() {
        return Err(Unread::Io(std::io::Error::from_raw_os_error(
            nix::libc::EISDIR,
        )));
    }
    if meta.is_file() && meta.len() > limit as u64 {
        return Err(Unread::TooLarge(limit));
    }
    // A regular file never blocks; anything else may wait for ever for its data.
    let special = {
        let t = meta.file_type();
        t.is_fifo() || t.is_socket() || t.is_char_device()
    };
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(Unread::Stopped(signal));
        }
        if special {
            // A FIFO opened without blocking is not ready (no end of file either) until its
            // first writer comes, then readable until the last one leaves.
            let mut fds = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&file),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(POLL_MS)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(Unread::Io(e.into())),
            }
        }
        let room = (limit + 1 - bytes.len()).min(CHUNK);
        match file.read(&mut chunk[..room]) {
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() > limit {
                    return Err(Unread::TooLarge(limit));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) => {}
            Err(e) => return Err(Unread::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("parlab-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_file_is_read_whole_up_to_the_limit_and_refused_beyond() {
        let dir = scratch("file");
        let path = dir.join("a");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(read_bounded(&path, 9), Err(Unread::TooLarge(9))));
        assert!(matches!(read_bounded(&dir, 100), Err(Unread::Io(_))));
        assert!(matches!(
            read_bounded(&dir.join("none"), 100),
            Err(Unread::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_without_end_stops_at_the_limit() {
        let began = Instant::now();
        let read = read_bounded(Path::new("/dev/zero"), 1 << 20);
        assert!(matches!(read, Err(Unread::TooLarge(_))), "{read:?}");
        assert!(began.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_fifo_waits_for_its_writer_and_reads_to_its_end() {
        let dir = scratch("fifo");
        let fifo = dir.join("f");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                // Late, so that the reader has found no writer yet and must wait for one.
                std::thread::sleep(Duration::from_millis(300));
                std::fs::write(&fifo, b"late data").unwrap();
            })
        };
        assert_eq!(read_bounded(&fifo, 100).unwrap(), b"late data");
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
