//! Running a child program (CPython, an MPI launcher) to its end with a time limit, its output
//! collected.

use std::io::Read;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::interrupt;

/// Waits for `child` to exit and returns its status and output. Once `limit` has passed it is
/// stopped and reaped, and the error names `what`; on Ctrl-C or SIGTERM it is stopped too and
/// the error is the interruption (the wait is the whole of a benchmark cell's run when that
/// runs under `mpirun`, which must not outlive a request to stop).
///
/// Its piped standard output and error are read while it runs, by a thread each: a child that
/// writes more than a pipe holds (`mpirun` relaying an error from each of 1024 ranks, say)
/// would otherwise block on the full pipe while parlab waited for it to exit, forever.
pub(crate) fn output_limited(
    mut child: Child,
    limit: Option<Duration>,
    what: &str,
) -> Result<Output> {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        pipe.map(|mut pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                // A read error ends the output early; the exit status still tells what happened.
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if interrupt::requested().is_some() => {
                stop(&mut child);
                let signal = interrupt::requested().unwrap_or(nix::libc::SIGINT);
                return Err(interrupt::error(signal));
            }
            Ok(None) if limit.is_none_or(|l| started.elapsed() < l) => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(None) => {
                stop(&mut child);
                return Err(Error::io(
                    what,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("killed after {:?}", limit.unwrap_or_default()),
                    ),
                ));
            }
            Err(e) => return Err(Error::io(format!("waiting for {what}"), e)),
        }
    };
    // The pipes end when the child and whatever it left holding them have exited.
    let collect = |reader: Option<std::thread::JoinHandle<Vec<u8>>>| {
        reader.and_then(|r| r.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

/// Asks `child` to stop (SIGTERM, so that a launcher such as `mpirun` takes its ranks down
/// with it), kills it if it has not within a second, and reaps it.
fn stop(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let until = Instant::now() + Duration::from_secs(1);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits up to `wait` until some of `fds` have something to read, or their writer has gone;
/// returns their positions (none when the wait ran out or a signal interrupted it). `what`
/// names the wait in an error.
pub(crate) fn readable<'a>(
    fds: impl IntoIterator<Item = std::os::fd::BorrowedFd<'a>>,
    wait: Duration,
    what: &str,
) -> Result<Vec<usize>> {
    use nix::errno::Errno;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds: Vec<PollFd> = fds
        .into_iter()
        .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
        .collect();
    // Rounded up, so that an expiring timeout is past when poll returns; capped at poll's
    // longest (a caller waiting longer polls again).
    let ms = wait.as_micros().div_ceil(1000).min(u16::MAX as u128) as u16;
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(0) | Err(Errno::EINTR) => Ok(Vec::new()),
        Ok(_) => Ok(fds
            .iter()
            .enumerate()
            .filter(|(_, fd)| fd.any().unwrap_or(true))
            .map(|(i, _)| i)
            .collect()),
        Err(e) => Err(Error::io(what, e.into())),
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn a_child_that_writes_more_than_a_pipe_holds_is_not_waited_on_forever() {
        // 1 MiB on each stream: 16 times a pipe's default capacity.
        let child = Command::new("sh")
            .args([
                "-c",
                "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; exit 3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = output_limited(child, Some(Duration::from_secs(60)), "sh").unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout.len(), 1 << 20);
        assert_eq!(out.stderr.len(), 1 << 20);
    }

    #[test]
    fn a_child_past_its_limit_is_killed_and_named() {
        let child = Command::new("sleep")
            .arg("30")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let err = output_limited(child, Some(Duration::from_millis(100)), "sleep 30")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sleep 30: killed after 100ms"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(20));
    }
}
