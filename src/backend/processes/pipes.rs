//! One worker process and its two pipes, as the scheduling loop's [`Conn`]: frames out to its
//! input, frames in from its output, and what its end means when a pipe closes.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::handle::{Handle, cause_of};
use super::protocol::{Frame, READ_BUFFER, VERSION, check_end};
use super::schedule::{Broken, Conn};
use crate::error::{Error, Result, WorkerCause};
use crate::kernels::Kernel;
use crate::span::Part;

/// How long a worker that closed its pipe gets to finish exiting before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// One worker process and its pipes. Dropping it kills and reaps the worker unless it was
/// reaped already.
#[derive(Debug)]
pub(super) struct Proc {
    process: Handle,
    pid: u32,
    /// The worker's input; `None` once closed, which tells the worker to finish.
    input: Option<File>,
    output: File,
    rbuf: Vec<u8>,
    filled: usize,
    wbuf: Vec<u8>,
    greeted: bool,
    /// When it was started, and how long it has to greet (the start-up watchdog).
    started: Instant,
    start_limit: Duration,
    reaped: bool,
}

impl Proc {
    /// A worker just started, with its `Setup` frame (for `kernel`) queued; it is taken for
    /// hung if it has not greeted within `start_limit`.
    pub(super) fn new(
        kernel: Kernel,
        process: Handle,
        input: File,
        output: File,
        start_limit: Duration,
    ) -> Proc {
        let mut wbuf = Vec::with_capacity(4096);
        Frame::Setup {
            version: VERSION,
            kernel,
        }
        .encode(&mut wbuf);
        Proc {
            pid: process.pid(),
            process,
            input: Some(input),
            output,
            rbuf: vec![0; READ_BUFFER],
            filled: 0,
            wbuf,
            greeted: false,
            started: Instant::now(),
            start_limit,
            reaped: false,
        }
    }

    /// Closes the worker's input, which ends a worker that waits for work, and reaps it.
    pub(super) fn end(&mut self) {
        self.input = None;
        let _ = self.wait_exit();
    }

    /// Checks the worker's greeting; `Ok(Some)` hands on a frame that comes after it.
    fn greeting(&mut self, frame: Frame) -> std::result::Result<Option<Frame>, Broken> {
        if self.greeted {
            return Ok(Some(frame));
        }
        match frame {
            Frame::Hello { version, .. } if version != VERSION => Err(self.fail_with(format!(
                "speaks protocol version {version}, this build speaks {VERSION}"
            ))),
            Frame::Hello { pid, .. } if pid != self.pid => {
                Err(self.fail_with(format!("introduced itself as pid {pid}")))
            }
            Frame::Hello { .. } => {
                self.greeted = true;
                Ok(None)
            }
            other => Err(self.fail_with(format!(
                "sent an unexpected {} frame; expected Hello",
                other.name()
            ))),
        }
    }

    /// Why the worker's pipe closed or failed: waits briefly for its exit status so the cause
    /// can say how it ended.
    fn failure(&mut self, io: Option<std::io::Error>) -> Broken {
        // Closing its input tells a worker that is still alive to finish.
        self.input = None;
        let ended = match self.wait_exit() {
            Ok(status) => status,
            Err(e) => return Broken::Parent(e),
        };
        let truncated = check_end(&self.rbuf[..self.filled]).err();
        Broken::Worker(match (truncated, io, ended.code()) {
            (Some(t), _, _) => {
                WorkerCause::Protocol(format!("sent a {t}, then {}", cause_of(ended)))
            }
            (None, _, Some(0)) => WorkerCause::Protocol(
                "closed its output before answering, then exited with code 0".into(),
            ),
            _ => cause_of(ended),
        })
    }

    /// A worker that broke the protocol while alive: it is killed first.
    fn fail_with(&mut self, protocol: String) -> Broken {
        self.kill();
        Broken::Worker(WorkerCause::Protocol(protocol))
    }

    /// Waits until the worker's output pipe has no writer left (it exited, or closed it), or
    /// `deadline`; true in the first case, and once the deadline has passed.
    fn await_hangup(&self, deadline: Instant) -> bool {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            // No events asked for: poll reports only POLLHUP, POLLERR and POLLNVAL.
            let mut fds = [PollFd::new(self.output.as_fd(), PollFlags::empty())];
            let ms = u16::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
            match poll(&mut fds, PollTimeout::from(ms)) {
                Err(Errno::EINTR) => {}
                // Closed, or poll itself failed: either way, fall back on asking for the status.
                _ => return true,
            }
        }
    }
}

impl Conn for Proc {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn send(&mut self, part: Part) {
        Frame::Part {
            index: part.index,
            start: part.start,
            end: part.end,
        }
        .encode(&mut self.wbuf);
    }

    fn flush(&mut self) -> std::result::Result<(), Broken> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let input = self.input.as_mut().expect("input open while running");
        if let Err(e) = input.write_all(&self.wbuf) {
            return Err(self.failure(Some(e)));
        }
        self.wbuf.clear();
        Ok(())
    }

    fn receive(&mut self, replies: &mut Vec<Frame>) -> std::result::Result<(), Broken> {
        let n = loop {
            match self.output.read(&mut self.rbuf[self.filled..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.failure(Some(e))),
                Ok(n) => break n,
            }
        };
        if n == 0 {
            return Err(self.failure(None));
        }
        self.filled += n;
        let mut used = 0;
        loop {
            let frame = match Frame::decode(&self.rbuf[used..self.filled]) {
                Ok(Some((frame, len))) => {
                    used += len;
                    frame
                }
                Ok(None) => break,
                Err(e) => return Err(self.fail_with(format!("sent a bad frame: {e}"))),
            };
            if let Some(reply) = self.greeting(frame)? {
                replies.push(reply);
            }
        }
        self.rbuf.copy_within(used..self.filled, 0);
        self.filled -= used;
        Ok(())
    }

    fn start_overdue(&self) -> Option<Duration> {
        (!self.greeted && self.started.elapsed() >= self.start_limit).then_some(self.start_limit)
    }

    fn stopped(&self) -> Option<i32> {
        // Forked workers are children of this process too (the fork server forks them with
        // CLONE_PARENT), so either kind is looked at the same way.
        (!self.reaped)
            .then(|| crate::child::stopped(self.pid))
            .flatten()
    }

    fn kill(&mut self) {
        if !self.reaped {
            self.process.kill();
            let _ = self.process.wait();
            self.reaped = true;
        }
    }

    fn close(&mut self) -> std::result::Result<(), Broken> {
        Frame::Shutdown.encode(&mut self.wbuf);
        self.flush()?;
        self.input = None;
        Ok(())
    }

    fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Instant::now() + EXIT_GRACE;
        let mut nap = Duration::from_micros(5);
        let mut hung_up = false;
        let pid = self.pid;
        let reaping = move |e| Error::io(format!("reaping worker pid {pid}"), e);
        let status = loop {
            match self.process.try_wait() {
                Ok(Some(status)) => break status,
                // A worker's output closes as it exits: sleep until then rather than guess,
                // and then only microseconds until its status can be collected.
                Ok(None) if !hung_up => hung_up = self.await_hangup(deadline),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(10));
                }
                Ok(None) => {
                    self.process.kill();
                    break self.process.wait().map_err(reaping)?;
                }
                Err(e) => return Err(reaping(e)),
            }
        };
        self.reaped = true;
        Ok(status)
    }

    fn wait_readable(conns: &[Self], wait: Duration) -> Result<Vec<usize>> {
        crate::child::readable(
            conns.iter().map(|p| p.output.as_fd()),
            wait,
            "waiting for workers (poll)",
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}
