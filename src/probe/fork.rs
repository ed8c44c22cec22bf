//! Starting and reaping the children that probes time: a raw fork, an exec of `/bin/true`, a
//! posix_spawn of it.
//!
//! A forked child of a multi-threaded parent may only make async-signal-safe calls, so
//! everything it needs (the program's path, its argv) is prepared before the fork, and it ends
//! with `_exit`, never by returning into parent code.

use std::ffi::CString;
use std::process::{Command, Stdio};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::error::{Error, Result};

/// Forks a child that runs `child`, which must only make async-signal-safe calls (raw reads
/// and writes, memory stores, execv) and must end with [`exit_now`]. Returns its PID; the
/// caller reaps it with [`reap`].
pub(super) fn fork_child(child: impl FnOnce()) -> Result<Pid> {
    // SAFETY: the child runs only `child`, which by contract makes async-signal-safe calls
    // and never returns, so no lock held by another thread of the parent is touched in it.
    match unsafe { fork() }.map_err(|e| Error::io("fork", e.into()))? {
        ForkResult::Child => {
            child();
            // A child that returns instead of ending itself ends here, never in parent code.
            exit_now(0)
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// Waits for a child started by [`fork_child`]; an exit other than 0 is an error.
pub(super) fn reap(pid: Pid) -> Result<()> {
    match waitpid(pid, None).map_err(|e| Error::io("waitpid", e.into()))? {
        WaitStatus::Exited(_, 0) => Ok(()),
        other => Err(Error::io(
            format!("probe child {pid}"),
            std::io::Error::other(format!("ended with {other:?}")),
        )),
    }
}

/// [`reap`] for a child that may run long (one that writes a GiB of pages): Ctrl-C or SIGTERM
/// meanwhile kills it, reaps it and is the error. The wait wakes as soon as the child exits,
/// as `waitpid` does (a pidfd polled), so the time it measures is not changed.
pub(super) fn reap_or_stop(pid: Pid) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::{AsFd, FromRawFd, OwnedFd};
        // SAFETY: pidfd_open takes a PID and flags and returns a new descriptor or -1; it
        // touches no memory of this process.
        let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid.as_raw(), 0) };
        if fd >= 0 {
            // SAFETY: the descriptor was just made by pidfd_open and is owned here alone.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            loop {
                if let Some(signal) = crate::interrupt::requested() {
                    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    return Err(crate::interrupt::error(signal));
                }
                let wait = std::time::Duration::from_millis(50);
                if !crate::child::readable([fd.as_fd()], wait, "waiting for a probe child")?
                    .is_empty()
                {
                    break;
                }
            }
        }
    }
    reap(pid)
}

/// Forks a child that runs `child` and waits for it.
pub(super) fn fork_wait(child: impl FnOnce()) -> Result<()> {
    reap(fork_child(child)?)
}

/// Ends a forked child at once, without running destructors or atexit handlers.
pub(super) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process; nothing runs after it.
    unsafe { nix::libc::_exit(code) }
}

/// The program every start-up probe runs: it does nothing, so only the start is timed.
const TRUE: &str = "/bin/true";

/// Runs `/bin/true` by posix_spawn (std's `Command` uses it when no `pre_exec` hook is set)
/// and waits for it.
pub(super) fn spawn_true() -> Result<()> {
    Command::new(TRUE)
        .stdin(Stdio::null())
        .status()
        .map(drop)
        .map_err(|e| Error::io(format!("spawning {TRUE}"), e))
}

/// `/bin/true`, prepared before a fork so the child allocates nothing.
pub(super) struct TrueProgram {
    path: CString,
}

impl TrueProgram {
    pub(super) fn new() -> Self {
        TrueProgram {
            path: CString::new(TRUE).expect("no NUL"),
        }
    }

    /// In a forked child: exec `/bin/true`, or exit 127.
    pub(super) fn exec(&self) -> ! {
        let argv = [self.path.as_ptr(), std::ptr::null()];
        // SAFETY: path and argv are valid NUL-terminated C strings prepared before the fork;
        // execv is async-signal-safe, and on failure the child ends with _exit.
        unsafe {
            nix::libc::execv(self.path.as_ptr(), argv.as_ptr());
        }
        exit_now(127)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_child_is_reaped_when_it_ends() {
        // A child that sleeps a moment (raw nanosleep, async-signal-safe) is waited for, not
        // taken for ended at the first look.
        let t0 = std::time::Instant::now();
        let pid = fork_child(|| {
            let nap = nix::libc::timespec {
                tv_sec: 0,
                tv_nsec: 200_000_000,
            };
            // SAFETY: nanosleep reads the timespec on this stack and is async-signal-safe.
            unsafe { nix::libc::nanosleep(&nap, std::ptr::null_mut()) };
            exit_now(0)
        })
        .unwrap();
        reap_or_stop(pid).unwrap();
        assert!(t0.elapsed() >= std::time::Duration::from_millis(200));
        let pid = fork_child(|| exit_now(4)).unwrap();
        assert!(reap_or_stop(pid).is_err());
    }

    #[test]
    fn children_are_reaped_and_their_failures_reported() {
        fork_wait(|| exit_now(0)).unwrap();
        let program = TrueProgram::new();
        fork_wait(|| program.exec()).unwrap();
        let e = fork_wait(|| exit_now(3)).unwrap_err().to_string();
        assert!(e.contains("Exited") && e.contains('3'), "{e}");
        spawn_true().unwrap();
    }
}
