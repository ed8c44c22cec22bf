//! A worker process as something to signal and reap, whichever way it was started, and how its
//! end reads as a [`WorkerCause`].
//!
//! A spawned worker is a [`Child`]; a forked one is only a PID, since the fork server made it,
//! but it is parlab's child all the same (`CLONE_PARENT`), so it is reaped here with `waitpid`
//! and its status is known first-hand either way.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::error::WorkerCause;

/// A worker process, to signal and reap.
#[derive(Debug)]
pub(super) enum Handle {
    /// Started by `spawn`.
    Spawned(Child),
    /// Forked by the fork server: a child of this process all the same. `status` once reaped.
    Forked {
        /// The worker's PID.
        pid: Pid,
        /// Its exit status, once reaped.
        status: Option<ExitStatus>,
    },
}

impl Handle {
    /// A worker the fork server forked, not reaped yet.
    pub(super) fn forked(pid: u32) -> Handle {
        Handle::Forked {
            pid: Pid::from_raw(pid as i32),
            status: None,
        }
    }

    /// The process's PID.
    pub(super) fn pid(&self) -> u32 {
        match self {
            Handle::Spawned(child) => child.id(),
            Handle::Forked { pid, .. } => pid.as_raw() as u32,
        }
    }

    /// Sends SIGKILL, unless the process was already reaped (its PID may be reused).
    pub(super) fn kill(&mut self) {
        match self {
            Handle::Spawned(child) => {
                let _ = child.kill();
            }
            Handle::Forked { pid, status: None } => {
                let _ = kill(*pid, Signal::SIGKILL);
            }
            Handle::Forked { .. } => {}
        }
    }

    /// The exit status, if the process has ended; reaps it.
    pub(super) fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        match self {
            Handle::Spawned(child) => child.try_wait(),
            Handle::Forked { pid, status } => {
                if status.is_none() {
                    *status = reap(*pid, Some(WaitPidFlag::WNOHANG))?;
                }
                Ok(*status)
            }
        }
    }

    /// Waits for the process to end and reaps it.
    pub(super) fn wait(&mut self) -> std::io::Result<ExitStatus> {
        match self {
            Handle::Spawned(child) => child.wait(),
            Handle::Forked { pid, status } => loop {
                if let Some(s) = status {
                    return Ok(*s);
                }
                *status = reap(*pid, None)?;
            },
        }
    }
}

/// `waitpid` for one child, as an [`ExitStatus`]; `None` while it runs (with `WNOHANG`).
fn reap(pid: Pid, flags: Option<WaitPidFlag>) -> std::io::Result<Option<ExitStatus>> {
    loop {
        return match waitpid(pid, flags) {
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::from_raw((code & 0xff) << 8))),
            Ok(WaitStatus::Signaled(_, signal, core)) => Ok(Some(ExitStatus::from_raw(
                signal as i32 | if core { 0x80 } else { 0 },
            ))),
            // Stopped or continued: only reported with flags not used here.
            Ok(_) => Ok(None),
            Err(Errno::EINTR) => continue,
            Err(e) => Err(e.into()),
        };
    }
}

/// How a process ended, in the terms of [`WorkerCause`].
pub(super) fn cause_of(status: ExitStatus) -> WorkerCause {
    match (status.code(), status.signal()) {
        (Some(code), _) => WorkerCause::Exited(code),
        (None, Some(signal)) => WorkerCause::signaled(signal),
        (None, None) => WorkerCause::Protocol(format!("ended with status {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_causes() {
        assert_eq!(
            cause_of(ExitStatus::from_raw(7 << 8)),
            WorkerCause::Exited(7)
        );
        assert_eq!(cause_of(ExitStatus::from_raw(9)), WorkerCause::signaled(9));
        // A core dump does not change the signal.
        assert_eq!(
            cause_of(ExitStatus::from_raw(11 | 0x80)),
            WorkerCause::signaled(11)
        );
    }

    #[test]
    fn a_forked_child_is_reaped_once_and_its_status_kept() {
        // Reaped below through its PID, as a forked worker is, not through `Child`.
        #[allow(clippy::zombie_processes)]
        let pid = std::process::Command::new("sh")
            .args(["-c", "exit 5"])
            .spawn()
            .unwrap()
            .id();
        let mut handle = Handle::forked(pid);
        assert_eq!(handle.wait().unwrap().code(), Some(5));
        // Reaped: asked again, the kept status answers and no signal goes to a reused PID.
        assert_eq!(handle.try_wait().unwrap().map(|s| s.code()), Some(Some(5)));
        handle.kill();
        assert_eq!(handle.wait().unwrap().code(), Some(5));
    }
}
