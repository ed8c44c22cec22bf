//! `processes`: worker processes running the program itself, fed over pipes with a binary
//! protocol. Workers start as Python's do, by one of two [`StartMethod`]s: `spawn` executes the
//! program afresh for each worker; `forkserver` (the default on Linux) executes it once, as a
//! server that forks the workers (see [`forkserver`]).
//!
//! The design (frames, batching, failure handling) is described in `README.md` beside this
//! file. In short: the parent starts every worker at once, sends each a `Setup` frame and its
//! first parts without waiting for the workers to be up, then runs a single `poll(2)` loop over
//! the workers' output pipes. That loop is the seed's one result queue: every total from every
//! worker arrives through it and goes into an in-order combiner. With `chunks:SIZE` each worker
//! keeps a small window of chunks in flight so tiny chunks cost one system call per batch, not
//! per chunk. A worker that closes its pipe, dies, or sends a bad frame is reported with the
//! part it held, its PID and its exit code or signal; all other workers are killed and reaped.

#[cfg(target_os = "linux")]
pub mod forkserver;
pub mod protocol;
pub mod worker;

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::ops::Range;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use self::protocol::{Frame, READ_BUFFER, VERSION, check_end};
use self::worker::{PARENT_ENV, WORKER_ARG, WORKER_ENV};
use crate::backend::combine::Combiner;
use crate::backend::{Backend, Policy, check_workers};
use crate::error::{Error, PartNote, PidNote, Result, WorkerCause};
use crate::fault::{FAULT_ENV, Fault};
use crate::interrupt;
use crate::job::Job;
use crate::kernels::{Kernel, Total};
use crate::observer::Observer;
use crate::span::Part;
use crate::split::Plan;

/// Most chunks one worker holds at a time with `chunks:SIZE`.
const MAX_WINDOW: u64 = 64;
/// How long a worker that closed its pipe gets to finish exiting before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Stops the fork servers started so far and reaps them, so that none is left for the system
/// to reap after this process exits. Call it at the end of `main` in a program that used the
/// `forkserver` start method; a later run starts a fresh server.
pub fn shut_down() {
    #[cfg(target_os = "linux")]
    forkserver::shut_down();
}

/// How worker processes are started; the names are Python's `multiprocessing` start methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMethod {
    /// Every worker executes the worker program afresh (a new address space, the dynamic loader,
    /// the program's start-up).
    Spawn,
    /// The worker program is executed once per parlab process, as a fork server, and every
    /// worker is forked from it: cheaper per worker, same isolation. Linux only.
    ForkServer,
}

impl StartMethod {
    /// Every method, in the order they are listed to users.
    pub const ALL: [StartMethod; 2] = [StartMethod::ForkServer, StartMethod::Spawn];

    /// The method's name, as `--start` takes it.
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Spawn => "spawn",
            StartMethod::ForkServer => "forkserver",
        }
    }
}

impl Default for StartMethod {
    /// `forkserver` where it is supported (Linux), else `spawn`.
    fn default() -> Self {
        if cfg!(target_os = "linux") {
            StartMethod::ForkServer
        } else {
            StartMethod::Spawn
        }
    }
}

impl fmt::Display for StartMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StartMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Error::by_name("start method", s, &StartMethod::ALL, |m| m.name())
    }
}

/// Worker processes over pipes.
#[derive(Debug, Clone, Default)]
pub struct Processes {
    program: Option<PathBuf>,
    args: Vec<OsString>,
    policy: Policy,
    start: StartMethod,
}

impl Processes {
    /// Workers run `program args...` instead of re-executing the current program, started by
    /// `spawn`. The program must serve the protocol: the parlab binary with `__worker`, or a
    /// program that calls [`worker::init`] (which may then be started by `forkserver` too).
    pub fn with_worker(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Processes {
            program: Some(program.into()),
            args: args.into_iter().map(Into::into).collect(),
            policy: Policy::default(),
            start: StartMethod::Spawn,
        }
    }

    /// The same backend with timeouts and retries.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The same backend with workers started by `start`.
    pub fn with_start(mut self, start: StartMethod) -> Self {
        self.start = start;
        self
    }

    /// How workers are started.
    pub fn start_method(&self) -> StartMethod {
        self.start
    }

    /// The worker program and its arguments.
    fn program(&self) -> Result<(PathBuf, Vec<OsString>)> {
        Ok(match &self.program {
            Some(p) => (p.clone(), self.args.clone()),
            None => (
                std::env::current_exe()
                    .map_err(|e| Error::io("finding the current program to start workers", e))?,
                vec![OsString::from(WORKER_ARG)],
            ),
        })
    }

    /// The command that starts a worker. A replacement worker (a retry) runs without any
    /// injected fault, so that a retried part can succeed.
    fn command(&self, replacement: bool) -> Result<Command> {
        let (program, args) = self.program()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env(WORKER_ENV, "1")
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if replacement {
            cmd.env_remove(FAULT_ENV);
        }
        Ok(cmd)
    }

    /// Starts `n` worker processes and leaves them idle, waiting for their `Setup` frame, for
    /// measurements of idle workers (`parlab probe memory`). Dropping one ends it.
    pub fn idle_workers(&self, n: usize) -> Result<Vec<IdleWorker>> {
        self.start(0..n, Kernel::Count, true)
            .into_iter()
            .map(|p| p.map(IdleWorker))
            .collect()
    }

    /// Starts the workers numbered `indices` (replacements when `replacement`: they inject no
    /// fault) and queues their `Setup` frames. One answer per worker.
    fn start(&self, indices: Range<usize>, kernel: Kernel, replacement: bool) -> Vec<Result<Proc>> {
        let spawn_error = |index, what: String| Error::Worker {
            worker: index,
            pid: PidNote(None),
            part: PartNote(None),
            cause: WorkerCause::Spawn(what),
        };
        match self.start {
            StartMethod::Spawn => indices
                .map(|index| {
                    let mut cmd = self.command(replacement)?;
                    let mut child = cmd.spawn().map_err(|e| {
                        spawn_error(
                            index,
                            format!("{}: {e}", cmd.get_program().to_string_lossy()),
                        )
                    })?;
                    let stdin = OwnedFd::from(child.stdin.take().expect("stdin is piped"));
                    let stdout = OwnedFd::from(child.stdout.take().expect("stdout is piped"));
                    Ok(Proc::new(
                        index,
                        kernel,
                        Handle::Spawned(child),
                        stdin.into(),
                        stdout.into(),
                    ))
                })
                .collect(),
            #[cfg(target_os = "linux")]
            StartMethod::ForkServer => {
                let (program, args) = match self.program() {
                    Ok(p) => p,
                    Err(e) => return vec![Err(e)],
                };
                let fault = if replacement {
                    None
                } else {
                    Fault::from_env().ok().flatten()
                };
                let faults = vec![fault; indices.len()];
                forkserver::fork_workers(program, args, &faults)
                    .into_iter()
                    .zip(indices)
                    .map(|(forked, index)| {
                        let f = forked.map_err(|e| spawn_error(index, e))?;
                        let handle = Handle::Forked {
                            pid: Pid::from_raw(f.pid as i32),
                            status: None,
                        };
                        Ok(Proc::new(index, kernel, handle, f.input, f.output))
                    })
                    .collect()
            }
            #[cfg(not(target_os = "linux"))]
            StartMethod::ForkServer => indices
                .map(|index| {
                    Err(spawn_error(
                        index,
                        "the forkserver start method needs Linux; use spawn".into(),
                    ))
                })
                .collect(),
        }
    }
}

/// A worker process left idle by [`Processes::idle_workers`]. Dropping it closes its input,
/// which ends it, and reaps it.
pub struct IdleWorker(Proc);

impl IdleWorker {
    /// The worker's PID.
    pub fn pid(&self) -> u32 {
        self.0.pid
    }
}

impl fmt::Debug for IdleWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdleWorker")
            .field("pid", &self.0.pid)
            .finish()
    }
}

impl Drop for IdleWorker {
    fn drop(&mut self) {
        self.0.stdin = None;
        let _ = self.0.wait_exit();
    }
}

/// A worker process, to signal and reap.
#[derive(Debug)]
enum Handle {
    /// Started by `spawn`.
    Spawned(Child),
    /// Forked by the fork server: a child of this process all the same. `status` once reaped.
    Forked {
        pid: Pid,
        status: Option<ExitStatus>,
    },
}

impl Handle {
    /// The process's PID.
    fn pid(&self) -> u32 {
        match self {
            Handle::Spawned(child) => child.id(),
            Handle::Forked { pid, .. } => pid.as_raw() as u32,
        }
    }

    /// Sends SIGKILL, unless the process was already reaped (its PID may be reused).
    fn kill(&mut self) {
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
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
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
    fn wait(&mut self) -> std::io::Result<ExitStatus> {
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

impl Backend for Processes {
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        Fault::from_env()?;
        let plan = job.plan(workers);
        if plan.is_empty() {
            return Ok(job.kernel.zero());
        }
        let n = if plan.is_dynamic() {
            workers.min(usize::try_from(plan.len()).unwrap_or(usize::MAX))
        } else {
            workers
        };
        let mut set = WorkerSet {
            backend: self,
            kernel: job.kernel,
            procs: Vec::with_capacity(n),
        };
        let mut failed = None;
        for started in self.start(0..n, job.kernel, false) {
            match started {
                Ok(proc) => {
                    observer.worker_started(proc.index, Some(proc.pid));
                    set.procs.push(proc);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            // The set's drop stops the workers that did start.
            return Err(e);
        }
        let mut results = Combiner::new(&job.kernel, plan.len());
        // On error the set's drop kills and reaps every worker; on success they exit by
        // themselves and are checked by `shut_down`.
        set.drive(&plan, &mut results, observer)
            .and_then(|()| set.shut_down())
            .map_err(|e| results.incomplete(e, &plan))?;
        Ok(results.finish())
    }
}

/// One worker process and its pipes.
struct Proc {
    index: usize,
    process: Handle,
    pid: u32,
    stdin: Option<File>,
    stdout: File,
    rbuf: Vec<u8>,
    filled: usize,
    wbuf: Vec<u8>,
    in_flight: VecDeque<Part>,
    /// Since when the worker has been on the head of `in_flight`.
    head_since: Option<Instant>,
    greeted: bool,
    reaped: bool,
}

/// All workers of one run. Dropping it kills and reaps every worker still alive.
struct WorkerSet<'a> {
    backend: &'a Processes,
    kernel: Kernel,
    procs: Vec<Proc>,
}

/// Parts waiting to be sent again after a failure, and how often each has failed.
#[derive(Default)]
struct Retries {
    queue: VecDeque<Part>,
    failures: HashMap<u64, u32>,
}

impl WorkerSet<'_> {
    /// Hands out every part and collects every total into `results`.
    fn drive(
        &mut self,
        plan: &Plan,
        results: &mut Combiner,
        observer: &dyn Observer,
    ) -> Result<()> {
        let n = self.procs.len();
        let policy = self.backend.policy;
        let mut retries = Retries::default();
        let mut next = 0u64;
        if !plan.is_dynamic() {
            for part in plan.parts() {
                self.procs[part.index as usize % n].send(part);
            }
        }
        while !results.is_complete() {
            if let Some(signal) = interrupt::requested() {
                return Err(interrupt::error(signal));
            }
            if plan.is_dynamic() {
                next = self.refill(plan, next, &mut retries.queue);
            }
            for i in 0..n {
                if let Err(e) = self.procs[i].flush() {
                    let e = self.procs[i].failure(Some(e));
                    self.recover(i, e, plan, &mut retries, observer)?;
                }
            }
            let ready = self.wait_readable(policy.timeout)?;
            for i in ready {
                if let Err(e) = self.procs[i].receive(results, plan, observer) {
                    self.recover(i, e, plan, &mut retries, observer)?;
                }
            }
            if let Some(limit) = policy.timeout {
                let now = Instant::now();
                for i in 0..n {
                    if self.procs[i].head_since.is_some_and(|t| now - t >= limit) {
                        let e = self.procs[i].fail_with(WorkerCause::TimedOut(limit));
                        self.recover(i, e, plan, &mut retries, observer)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// After worker `i` failed with `error`: replaces it and queues its parts again if the part
    /// it was on may be retried, or returns the error.
    fn recover(
        &mut self,
        i: usize,
        error: Error,
        plan: &Plan,
        retries: &mut Retries,
        observer: &dyn Observer,
    ) -> Result<()> {
        // Ctrl-C in a terminal signals the whole process group: workers die of the same signal
        // that asked parlab to stop. That is the interruption, not a worker failure.
        if let Some(signal) = interrupt::requested() {
            return Err(interrupt::error(signal));
        }
        let Some(failed) = self.procs[i].in_flight.front().copied() else {
            return Err(error);
        };
        let count = retries.failures.entry(failed.index).or_insert(0);
        if *count >= self.backend.policy.retries {
            return Err(error);
        }
        *count += 1;
        observer.part_retried(failed, *count, &error);
        let old = &mut self.procs[i];
        if !old.reaped {
            old.process.kill();
            let _ = old.process.wait();
            old.reaped = true;
        }
        let parts: Vec<Part> = old.in_flight.drain(..).collect();
        let fresh = self
            .backend
            .start(i..i + 1, self.kernel, true)
            .pop()
            .expect("one worker asked for")?;
        observer.worker_started(i, Some(fresh.pid));
        self.procs[i] = fresh;
        if plan.is_dynamic() {
            for part in parts.into_iter().rev() {
                retries.queue.push_front(part);
            }
        } else {
            for part in parts {
                self.procs[i].send(part);
            }
        }
        Ok(())
    }

    /// Tops up every worker's window of chunks, parts to retry first; returns the next chunk
    /// never sent.
    fn refill(&mut self, plan: &Plan, mut next: u64, again: &mut VecDeque<Part>) -> u64 {
        let n = self.procs.len() as u64;
        for p in &mut self.procs {
            // Shrink the window towards the end so the last chunks go to whoever is idle.
            let left = plan.len() - next + again.len() as u64;
            let window = (left / (2 * n)).clamp(1, MAX_WINDOW) as usize;
            while p.in_flight.len() < window {
                if let Some(part) = again.pop_front() {
                    p.send(part);
                } else if next < plan.len() {
                    p.send(plan.part(next));
                    next += 1;
                } else {
                    break;
                }
            }
        }
        next
    }

    /// Waits until some worker's output is readable (or closed), a part's timeout expires, or
    /// 100 ms pass (to look at the interrupt flag); returns the readable workers.
    fn wait_readable(&self, timeout: Option<Duration>) -> Result<Vec<usize>> {
        let mut wait = Duration::from_millis(100);
        if let Some(limit) = timeout {
            let now = Instant::now();
            for p in &self.procs {
                if let Some(since) = p.head_since {
                    wait = wait.min((since + limit).saturating_duration_since(now));
                }
            }
        }
        let mut fds: Vec<PollFd> = self
            .procs
            .iter()
            .map(|p| PollFd::new(p.stdout.as_fd(), PollFlags::POLLIN))
            .collect();
        // Round up so an expiring timeout is past when poll returns.
        let ms = wait.as_micros().div_ceil(1000) as u16;
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => Ok(Vec::new()),
            Ok(_) => Ok(fds
                .iter()
                .enumerate()
                .filter(|(_, fd)| fd.any().unwrap_or(true))
                .map(|(i, _)| i)
                .collect()),
            Err(e) => Err(Error::io("waiting for workers (poll)", e.into())),
        }
    }

    /// Sends `Shutdown`, closes every input and checks that every worker exits with code 0.
    fn shut_down(&mut self) -> Result<()> {
        for p in &mut self.procs {
            Frame::Shutdown.encode(&mut p.wbuf);
            if let Err(e) = p.flush() {
                return Err(p.failure(Some(e)));
            }
            p.stdin = None;
        }
        for p in &mut self.procs {
            let status = p.wait_exit()?;
            if !status.success() {
                return Err(Error::Worker {
                    worker: p.index,
                    pid: PidNote(Some(p.pid)),
                    part: PartNote(None),
                    cause: cause_of(status),
                });
            }
        }
        Ok(())
    }
}

impl Drop for WorkerSet<'_> {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if !p.reaped {
                p.process.kill();
                let _ = p.process.wait();
                p.reaped = true;
            }
        }
    }
}

impl Proc {
    fn new(index: usize, kernel: Kernel, process: Handle, stdin: File, stdout: File) -> Proc {
        let mut wbuf = Vec::with_capacity(4096);
        Frame::Setup {
            version: VERSION,
            kernel,
        }
        .encode(&mut wbuf);
        Proc {
            index,
            pid: process.pid(),
            process,
            stdin: Some(stdin),
            stdout,
            rbuf: vec![0; READ_BUFFER],
            filled: 0,
            wbuf,
            in_flight: VecDeque::new(),
            head_since: None,
            greeted: false,
            reaped: false,
        }
    }

    fn send(&mut self, part: Part) {
        if self.in_flight.is_empty() {
            self.head_since = Some(Instant::now());
        }
        Frame::Part {
            index: part.index,
            start: part.start,
            end: part.end,
        }
        .encode(&mut self.wbuf);
        self.in_flight.push_back(part);
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let stdin = self.stdin.as_mut().expect("input open while running");
        stdin.write_all(&self.wbuf)?;
        self.wbuf.clear();
        Ok(())
    }

    /// Reads what the worker sent and handles every complete frame.
    fn receive(
        &mut self,
        results: &mut Combiner,
        plan: &Plan,
        observer: &dyn Observer,
    ) -> Result<()> {
        let n = loop {
            match self.stdout.read(&mut self.rbuf[self.filled..]) {
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
                Err(e) => {
                    return Err(
                        self.fail_with(WorkerCause::Protocol(format!("sent a bad frame: {e}")))
                    );
                }
            };
            match frame {
                Frame::Hello { version, pid } if !self.greeted => {
                    if version != VERSION {
                        return Err(self.fail_with(WorkerCause::Protocol(format!(
                            "speaks protocol version {version}, this build speaks {VERSION}"
                        ))));
                    }
                    if pid != self.pid {
                        return Err(self.fail_with(WorkerCause::Protocol(format!(
                            "introduced itself as pid {pid}"
                        ))));
                    }
                    self.greeted = true;
                }
                Frame::Done { index, total } if self.greeted && self.holds(index) => {
                    let part = self.in_flight.pop_front().expect("held part");
                    self.head_since = (!self.in_flight.is_empty()).then(Instant::now);
                    results.push(index, total);
                    observer.part_done(part, self.index, results.done(), plan.len());
                }
                Frame::Failed {
                    index,
                    panic,
                    message,
                } if self.greeted && self.holds(index) => {
                    let cause = if panic {
                        WorkerCause::Panicked(message)
                    } else {
                        WorkerCause::Kernel(message)
                    };
                    return Err(self.fail_with(cause));
                }
                other => {
                    let expected = match (self.greeted, self.in_flight.front()) {
                        (false, _) => "expected Hello".to_string(),
                        (true, Some(p)) => format!("expected the answer to part {}", p.index),
                        (true, None) => "it holds no part".to_string(),
                    };
                    return Err(self.fail_with(WorkerCause::Protocol(format!(
                        "sent an unexpected {} frame; {expected}",
                        other.name()
                    ))));
                }
            }
        }
        self.rbuf.copy_within(used..self.filled, 0);
        self.filled -= used;
        Ok(())
    }

    fn holds(&self, index: u64) -> bool {
        self.in_flight.front().is_some_and(|p| p.index == index)
    }

    /// The error for a worker whose pipe closed or failed: waits briefly for its exit status
    /// so the error can say how it ended.
    fn failure(&mut self, io: Option<std::io::Error>) -> Error {
        // Closing its input tells a worker that is still alive to finish.
        self.stdin = None;
        let ended = match self.wait_exit() {
            Ok(status) => status,
            Err(e) => return e,
        };
        let truncated = check_end(&self.rbuf[..self.filled]).err();
        let cause = match (truncated, io, ended.code()) {
            (Some(t), _, _) => {
                WorkerCause::Protocol(format!("sent a {t}, then {}", cause_of(ended)))
            }
            (None, _, Some(0)) => WorkerCause::Protocol(
                "closed its output before answering, then exited with code 0".into(),
            ),
            _ => cause_of(ended),
        };
        self.error(cause)
    }

    /// The error for a worker that misbehaved while alive: it is killed first.
    fn fail_with(&mut self, cause: WorkerCause) -> Error {
        self.process.kill();
        let _ = self.process.wait();
        self.reaped = true;
        self.error(cause)
    }

    fn error(&self, cause: WorkerCause) -> Error {
        Error::Worker {
            worker: self.index,
            pid: PidNote(Some(self.pid)),
            part: self.in_flight.front().copied().into(),
            cause,
        }
    }

    /// Waits up to [`EXIT_GRACE`] for the worker to exit, then kills it.
    fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Instant::now() + EXIT_GRACE;
        let mut nap = Duration::from_micros(5);
        let mut hung_up = false;
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
                    break self
                        .process
                        .wait()
                        .map_err(|e| Error::io(format!("reaping worker pid {}", self.pid), e))?;
                }
                Err(e) => return Err(Error::io(format!("reaping worker pid {}", self.pid), e)),
            }
        };
        self.reaped = true;
        Ok(status)
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
            let mut fds = [PollFd::new(self.stdout.as_fd(), PollFlags::empty())];
            let ms = u16::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
            match poll(&mut fds, PollTimeout::from(ms)) {
                Err(Errno::EINTR) => {}
                // Closed, or poll itself failed: either way, fall back on asking for the status.
                _ => return true,
            }
        }
    }
}

/// How a process ended, in the terms of [`WorkerCause`].
fn cause_of(status: ExitStatus) -> WorkerCause {
    match (status.code(), status.signal()) {
        (Some(code), _) => WorkerCause::Exited(code),
        (None, Some(signal)) => WorkerCause::signaled(signal),
        (None, None) => WorkerCause::Protocol(format!("ended with status {status}")),
    }
}
