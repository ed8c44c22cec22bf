//! Running a child program (CPython, an MPI launcher) to its end with a time limit, its output
//! collected.

use std::io::Read;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::interrupt;

/// How long the output of a child that has exited is still read: a process it left behind
/// may hold its pipes open for ever, and what the child itself wrote is there at once.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Waits for `child` to exit and returns its status and output. Once `limit` has passed it is
/// stopped and reaped, and the error names `what`; on Ctrl-C or SIGTERM it is stopped too and
/// the error is the interruption (the wait is the whole of a benchmark cell's run when that
/// runs under `mpirun`, which must not outlive a request to stop). A child that is stopped
/// (SIGSTOP, SIGTSTP) would never exit: it is killed, and the error names the signal.
///
/// Its piped standard output and error are read while it runs, by a thread each: a child that
/// writes more than a pipe holds (`mpirun` relaying an error from each of 1024 ranks, say)
/// would otherwise block on the full pipe while parlab waited for it to exit, forever. A
/// reading thread the OS refuses is an error naming the limit (the child is stopped first).
pub(crate) fn output_limited(
    mut child: Child,
    limit: Option<Duration>,
    what: &str,
) -> Result<Output> {
    let stdout = child
        .stdout
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let stderr = child
        .stderr
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let stdout = match Drain::start(stdout, "parlab-stdout") {
        Ok(d) => d,
        Err(e) => {
            stop(&mut child);
            return Err(e);
        }
    };
    let stderr = match Drain::start(stderr, "parlab-stderr") {
        Ok(d) => d,
        Err(e) => {
            stop(&mut child);
            return Err(e);
        }
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if interrupt::requested().is_some() => {
                stop(&mut child);
                let signal = interrupt::requested().unwrap_or(nix::libc::SIGINT);
                return Err(interrupt::error(signal));
            }
            Ok(None) if let Some(signal) = stopped(child.id()) => {
                stop(&mut child);
                return Err(Error::io(
                    what,
                    std::io::Error::other(format!(
                        "pid {} was stopped by signal {signal} ({}), and is killed",
                        child.id(),
                        crate::error::signal_name(signal)
                    )),
                ));
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
    // The pipes end when the child and whatever it left holding them have exited; what the
    // child wrote is read by then, or soon after.
    let until = Instant::now() + DRAIN_AFTER_EXIT;
    Ok(Output {
        status,
        stdout: stdout.finish(until),
        stderr: stderr.finish(until),
    })
}

/// A thread reading one of a child's pipes to its end into a buffer shared with the caller.
#[derive(Debug)]
pub(crate) struct Drain {
    bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drain {
    /// Starts reading `pipe`, if there is one, on a thread called `name`.
    pub(crate) fn start(pipe: Option<Box<dyn Read + Send>>, name: &str) -> Result<Drain> {
        let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = match pipe {
            None => None,
            Some(mut pipe) => {
                let into = bytes.clone();
                Some(crate::limits::spawn(name, move || {
                    let mut chunk = [0u8; 65536];
                    // A read error ends the output early; the exit status still tells what
                    // happened.
                    while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                        into.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .extend_from_slice(&chunk[..n]);
                    }
                })?)
            }
        };
        Ok(Drain { bytes, reader })
    }

    /// What was read, once the pipe ended or `until` passed (a process the child left holds
    /// it open; its thread then ends when that process does).
    pub(crate) fn finish(self, until: Instant) -> Vec<u8> {
        if let Some(reader) = self.reader {
            while !reader.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        std::mem::take(
            &mut *self
                .bytes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// The signal that stopped `pid`, a child of this process, if it is stopped now (SIGSTOP,
/// SIGTSTP, SIGTTIN, SIGTTOU): looked at without reaping it or taking the report away, so that
/// its end is still read as usual.
pub(crate) fn stopped(pid: u32) -> Option<i32> {
    use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
    let flags = WaitPidFlag::WSTOPPED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(nix::unistd::Pid::from_raw(pid as i32)), flags) {
        Ok(WaitStatus::Stopped(_, signal)) => Some(signal as i32),
        _ => None,
    }
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

/// The descendants of `pid` that still run (its children, theirs, and so on; zombies, which
/// have ended, are left out), from `/proc`.
pub(crate) fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in list
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                if !found.contains(&child) && child != pid {
                    found.push(child);
                    todo.push(child);
                }
            }
        }
    }
    found.retain(|&p| running(p));
    found
}

/// True while `pid` runs: it exists and has not ended (a zombie has).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

/// Kills every descendant of `pid` that still runs, however it got there: a child subreaper
/// (`PR_SET_CHILD_SUBREAPER`, as the Python workers are) keeps even a double-forked `setsid`
/// daemon among them. Returns how many there were. Looks again until none is left (a process
/// may fork while its siblings are killed), a bounded number of times.
pub(crate) fn kill_descendants(pid: u32) -> usize {
    use nix::sys::signal::{Signal, kill};
    let mut killed: Vec<u32> = Vec::new();
    for _ in 0..50 {
        let left = descendants(pid);
        if left.is_empty() {
            break;
        }
        for p in left {
            let _ = kill(nix::unistd::Pid::from_raw(p as i32), Signal::SIGKILL);
            if !killed.contains(&p) {
                killed.push(p);
            }
        }
        // A killed process runs no more once it is a zombie: a moment for that.
        std::thread::sleep(Duration::from_millis(1));
    }
    killed.len()
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
    fn descendants_left_by_a_child_are_found_and_killed_even_when_they_leave_its_session() {
        use std::os::unix::process::CommandExt;
        // The child makes itself a subreaper, as a Python worker does, then runs a shell that
        // starts a sleep in a new session through a double fork, and one of its own, and waits.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "(setsid sleep 60 &) ; sleep 60 & echo started; wait"])
            .stdout(Stdio::piped());
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                let _ = nix::sys::prctl::set_child_subreaper(true);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = [0u8; 8];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut line)
            .unwrap();
        let pid = child.id();
        // The orphaned setsid sleep is adopted by the subreaper a moment after its parent
        // exits.
        let t0 = Instant::now();
        while descendants(pid).len() < 2 && t0.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let found = descendants(pid);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(kill_descendants(pid), 2);
        assert!(descendants(pid).is_empty());
        // With its sleeps gone, the shell's wait ends.
        assert!(child.wait().unwrap().success());
        // Killed at once; a busy machine may take a moment to let them end.
        let t0 = Instant::now();
        while found.iter().any(|&p| running(p)) && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(found.iter().all(|&p| !running(p)), "{found:?}");
    }

    #[test]
    fn a_stopped_child_is_killed_and_the_signal_named() {
        let child = Command::new("sh")
            .args(["-c", "kill -STOP $$; exit 0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let err = output_limited(child, None, "sh").unwrap_err().to_string();
        assert_eq!(
            err,
            format!("sh: pid {pid} was stopped by signal 19 (SIGSTOP), and is killed")
        );
    }

    #[test]
    fn a_process_left_holding_the_pipes_does_not_hold_the_caller() {
        // The child exits at once; the sleep it started keeps its standard output open.
        let child = Command::new("sh")
            .args(["-c", "echo answer; sleep 20 & exit 0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let out = output_limited(child, Some(Duration::from_secs(120)), "sh").unwrap();
        assert_eq!(out.stdout, b"answer\n");
        assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_refused_reading_thread_stops_the_child_and_names_the_limit() {
        crate::limits::allow_threads(Some(1));
        let child = Command::new("sleep")
            .arg("60")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let outcome = output_limited(child, None, "sleep 60");
        crate::limits::allow_threads(None);
        let e = outcome.unwrap_err();
        assert!(
            e.is_limit() && e.to_string().contains("parlab-stderr"),
            "{e}"
        );
        // Stopped and reaped: the process is gone.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
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
