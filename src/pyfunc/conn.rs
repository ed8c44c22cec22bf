//! One Python interpreter running `worker.py check|serve FILE FUNCTION` (in map mode,
//! `check-map|map FILE FUNCTION SOURCE...`): started so that it cannot outlive parlab, nor
//! anything the function starts outlive its row, spoken to in lines on descriptors of its own
//! (some lines followed by a payload of bytes, `data I LEN`), read without blocking, killed and
//! reaped.
//!
//! The interpreter gets `/dev/null` as standard input and parlab's standard error as its
//! standard output (in `check` mode, one pipe parlab reads, for the message of an interpreter
//! that cannot run the script), so a function that reads its input or prints cannot touch the
//! protocol: requests go in on its descriptor 3, events come out on its descriptor 4. It is a
//! child subreaper (`PR_SET_CHILD_SUBREAPER`): every process the function starts, even a
//! double-forked daemon in a session of its own, stays its descendant while it lives, and is
//! killed (and counted) before the interpreter is stopped.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::Road;
use super::event::{Event, PythonException};
use crate::child::Drain;
use crate::error::{Result, WorkerCause};

/// What starts a worker interpreter: the program, the script and the function.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    /// The interpreter.
    pub program: PathBuf,
    /// `worker.py`, written out.
    pub script: PathBuf,
    /// The user's file.
    pub file: PathBuf,
    /// The function's name.
    pub function: String,
    /// Map mode: SOURCE as the worker reads it (`MAX range A B`, `MAX lines PATH`,
    /// `MAX attr PATH NAME`); `None` for `FUNCTION(start, end)`.
    pub source: Option<Vec<String>>,
}

/// What an interpreter is started to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkerMode {
    /// Check the function once (`worker.py check`), its output kept for a message.
    Check,
    /// Serve parts on this road (`worker.py serve`).
    Serve(Road),
}

/// The descriptors the interpreter finds the protocol on: requests in, events out.
const REQUESTS_FD: i32 = 3;
const EVENTS_FD: i32 = 4;

/// The longest a wait goes without looking at the interrupt flag.
pub(crate) const TICK: Duration = Duration::from_millis(100);

/// What a request answered before its `end`.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    /// The payloads of its `data` lines, in order.
    pub data: Vec<Vec<u8>>,
    /// Its `info` answers, in order.
    pub info: Vec<serde_json::Value>,
}

/// Why a request got no reply; the worker is killed in every case.
#[derive(Debug)]
pub(crate) enum Unanswered {
    /// The worker said `fail`.
    Fault(PythonException),
    /// It ended, was stopped, or broke the protocol: how, in words.
    Gone(String),
    /// No `end` within the limit.
    Late(Duration),
    /// Ctrl-C or SIGTERM, or waiting failed.
    Stopped(crate::Error),
}

/// A running worker interpreter. Dropping it kills and reaps the process, and what the
/// function left running before it.
#[derive(Debug)]
pub(crate) struct Interp {
    child: Child,
    requests: Option<File>,
    events: File,
    buf: Vec<u8>,
    reaped: Option<ExitStatus>,
    /// What it printed, in `check` mode.
    captured: Option<Drain>,
    /// Processes the function left, killed: counted here for the row.
    left: Arc<AtomicUsize>,
    /// When it was started.
    pub started: Instant,
    /// When it said `loading`: from then on it reads the user's file.
    pub loading: Option<Instant>,
    /// Whether it said `ready`.
    pub ready: bool,
    /// Whether its children are an executor's pool of its own (not the function's), so that
    /// those killed with it are not counted as left by the function.
    pub pool_children: bool,
}

impl Interp {
    /// Starts `launch` in `mode`; a served function's module sees the road in `PARLAB_ROAD`.
    /// The processes its function leaves are counted in `left` when it stops. A limit met
    /// while starting it (open files, processes) is an error naming the limit.
    pub(crate) fn start(
        launch: &Launch,
        mode: WorkerMode,
        left: &Arc<AtomicUsize>,
    ) -> Result<Interp> {
        let what = format!("starting {}", launch.program.display());
        let limit = |e: std::io::Error| crate::limits::start_error(what.clone(), e, 0);
        let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| limit(e.into()));
        let (requests_in, requests) = pipe()?;
        let (events, events_out) = pipe()?;
        let parent = std::process::id();
        let mut cmd = Command::new(&launch.program);
        let verb = match (mode, launch.source.is_some()) {
            (WorkerMode::Check, false) => "check",
            (WorkerMode::Check, true) => "check-map",
            (WorkerMode::Serve(_), false) => "serve",
            (WorkerMode::Serve(_), true) => "map",
        };
        cmd.arg(&launch.script)
            .arg(verb)
            .arg(&launch.file)
            .arg(&launch.function)
            .args(launch.source.iter().flatten())
            .stdin(Stdio::null());
        let mut captured = None;
        match mode {
            WorkerMode::Serve(road) => {
                // What the function prints goes where parlab's messages go.
                let stderr = std::io::stderr()
                    .as_fd()
                    .try_clone_to_owned()
                    .map_err(limit)?;
                cmd.env("PARLAB_ROAD", road.name())
                    .stdout(Stdio::from(stderr))
                    .stderr(Stdio::inherit());
            }
            WorkerMode::Check => {
                let (out, into) = pipe()?;
                let into_too = into.try_clone().map_err(limit)?;
                cmd.stdout(Stdio::from(into)).stderr(Stdio::from(into_too));
                captured = Some(out);
            }
        }
        let (theirs_in, theirs_out) = (requests_in.as_raw_fd(), events_out.as_raw_fd());
        // SAFETY: between fork and exec only async-signal-safe calls are made: sigaction,
        // prctl, getppid, fcntl, dup2, close and _exit, on descriptors this process owns.
        // SIGINT is ignored from before the interpreter starts (it then installs no
        // KeyboardInterrupt handler), so Ctrl-C at a terminal, which signals the whole group,
        // never prints a traceback from a worker half-started: parlab stops them itself. The
        // interpreter is killed when parlab's thread that started it ends (parlab starts them
        // from its main thread), and one whose parent already died before prctl took effect
        // exits at once, so no interpreter outlives parlab. As a child subreaper it adopts
        // whatever the function's processes orphan. Its protocol ends are moved out of the way
        // first, so that neither is overwritten when the other is put in place.
        unsafe {
            cmd.pre_exec(move || {
                use nix::libc;
                use nix::sys::signal::{SigHandler, Signal, signal};
                let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                let _ = nix::sys::prctl::set_child_subreaper(true);
                if nix::unistd::getppid().as_raw() as u32 != parent {
                    libc::_exit(1);
                }
                let a = libc::fcntl(theirs_in, libc::F_DUPFD_CLOEXEC, 10);
                let b = libc::fcntl(theirs_out, libc::F_DUPFD_CLOEXEC, 10);
                if a < 0 || b < 0 || libc::dup2(a, REQUESTS_FD) < 0 || libc::dup2(b, EVENTS_FD) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(a);
                libc::close(b);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(limit)?;
        // The interpreter's ends are its own now.
        drop((requests_in, events_out));
        let captured = match captured {
            Some(out) => {
                let pipe = Box::new(File::from(out)) as Box<dyn Read + Send>;
                match Drain::start(Some(pipe), "parlab-python-output") {
                    Ok(d) => Some(d),
                    Err(e) => {
                        let mut child = child;
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        Ok(Interp {
            child,
            requests: Some(File::from(requests)),
            events: File::from(events),
            buf: Vec::new(),
            reaped: None,
            captured,
            left: left.clone(),
            started: Instant::now(),
            loading: None,
            ready: false,
            pool_children: false,
        })
    }

    /// The process's PID.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request line; a worker that is gone is an error naming how it ended.
    pub(crate) fn send(&mut self, line: &str) -> std::result::Result<(), String> {
        self.send_with(line, &[])
    }

    /// Sends one request line and `payload` after it (the worker reads as many bytes as the
    /// line says, and only when it is idle, so the write cannot wait on the worker's output).
    pub(crate) fn send_with(
        &mut self,
        line: &str,
        payload: &[u8],
    ) -> std::result::Result<(), String> {
        let requests = self.requests.as_mut().ok_or("its input is closed")?;
        let mut data = Vec::with_capacity(line.len() + 1 + payload.len());
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        data.extend_from_slice(payload);
        if requests
            .write_all(&data)
            .and_then(|_| requests.flush())
            .is_err()
        {
            return Err(self.ended());
        }
        Ok(())
    }

    /// Reads what is there (call it when [`wait_readable`] named this worker) and appends the
    /// events of every whole line. `Err` when the worker closed its output (it ended) or sent
    /// something that is not the protocol.
    pub(crate) fn receive(&mut self, events: &mut Vec<Event>) -> std::result::Result<(), String> {
        let old = self.buf.len();
        self.buf.resize(old + READ_SIZE, 0);
        let read = loop {
            match self.events.read(&mut self.buf[old..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(old + *read.as_ref().unwrap_or(&0));
        let n = read.map_err(|e| format!("reading its output failed: {e}"))?;
        if n == 0 {
            return Err(self.ended());
        }
        let mut used = 0;
        while let Some(at) = self.buf[used..].iter().position(|&b| b == b'\n') {
            let head = &self.buf[used..used + at];
            if let Some(rest) = head.strip_prefix(b"data ") {
                let (i, len) = data_header(rest)?;
                let from = used + at + 1;
                if self.buf.len() < from + len {
                    break; // the rest of the payload is still on its way
                }
                events.push(Event::Data(i, self.buf[from..from + len].to_vec()));
                used = from + len;
                continue;
            }
            let line = String::from_utf8_lossy(head).into_owned();
            used += at + 1;
            let event = Event::parse(line.trim_end())?;
            match event {
                Event::Ready => self.ready = true,
                Event::Loading => self.loading = Some(Instant::now()),
                _ => {}
            }
            events.push(event);
        }
        self.buf.drain(..used);
        Ok(())
    }

    /// Sends a request and reads its answer up to `end`, for at most `limit`.
    pub(crate) fn call(
        &mut self,
        line: &str,
        payload: &[u8],
        limit: Duration,
    ) -> std::result::Result<Reply, Unanswered> {
        let t0 = Instant::now();
        self.send_with(line, payload).map_err(Unanswered::Gone)?;
        let mut events = Vec::new();
        let mut reply = Reply::default();
        loop {
            if let Some(signal) = crate::interrupt::requested() {
                self.kill();
                return Err(Unanswered::Stopped(crate::interrupt::error(signal)));
            }
            let left = limit.saturating_sub(t0.elapsed());
            if left.is_zero() {
                self.kill();
                return Err(Unanswered::Late(limit));
            }
            if wait_readable(&[&*self], left.min(TICK))
                .map_err(Unanswered::Stopped)?
                .is_empty()
            {
                if let Some(cause) = self.gone() {
                    self.kill();
                    return Err(Unanswered::Gone(cause.to_string()));
                }
                continue;
            }
            let read = self.receive(&mut events);
            for event in events.drain(..) {
                match event {
                    Event::Data(_, data) => reply.data.push(data),
                    Event::Info(v) => reply.info.push(v),
                    Event::End(_) => return Ok(reply),
                    Event::Fail(_, fault) => {
                        self.kill();
                        return Err(Unanswered::Fault(fault));
                    }
                    other => {
                        self.kill();
                        let why = format!("sent {} out of turn", other.brief());
                        return Err(Unanswered::Gone(why));
                    }
                }
            }
            if let Err(why) = read {
                self.kill();
                return Err(Unanswered::Gone(why));
            }
        }
    }

    /// Why the worker will never answer, if it will not: it ended (a descendant may still hold
    /// its output open, so that no end of it is seen), or it is stopped by a signal (SIGSTOP),
    /// and is then killed. Look when a wait saw nothing to read.
    pub(crate) fn gone(&mut self) -> Option<WorkerCause> {
        if let Some(status) = self.reaped {
            return Some(WorkerCause::Protocol(describe(status)));
        }
        if let Some(signal) = crate::child::stopped(self.pid()) {
            self.kill();
            return Some(WorkerCause::stopped(signal));
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.reaped = Some(status);
                Some(WorkerCause::Protocol(describe(status)))
            }
            _ => None,
        }
    }

    /// How the worker ended, in words, once it has (waits a moment for it, then kills it).
    fn ended(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.reaped = Some(status);
                    return describe(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    self.kill();
                    return "it closed its output".to_string();
                }
            }
        }
    }

    /// What the interpreter printed, in `check` mode, once it has ended (or a moment after).
    pub(crate) fn printed(&mut self) -> String {
        let until = Instant::now() + Duration::from_secs(1);
        self.captured
            .take()
            .map(|d| String::from_utf8_lossy(&d.finish(until)).into_owned())
            .unwrap_or_default()
    }

    /// Kills what the function left running (while the interpreter, their subreaper, still
    /// holds them) and counts it.
    fn sweep(&mut self) {
        if self.reaped.is_none() {
            let n = crate::child::kill_descendants(self.pid());
            if !self.pool_children {
                self.left.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Kills and reaps the worker and what its function left running, unless it was reaped
    /// already.
    pub(crate) fn kill(&mut self) {
        if self.reaped.is_none() {
            self.sweep();
            let _ = self.child.kill();
            self.reaped = self.child.wait().ok();
        }
    }

    /// Kills what the function left running, tells the worker to exit, waits a moment for it,
    /// and kills it if it has not.
    pub(crate) fn quit(&mut self) {
        if self.reaped.is_some() {
            return;
        }
        self.sweep();
        let _ = self.send("quit");
        self.requests = None;
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.reaped = Some(status);
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.kill();
    }
}

/// How much one read of a worker's output takes at most.
const READ_SIZE: usize = 1 << 18;
/// The largest payload a worker may announce (a protocol error beyond: no real answer is
/// this big).
const MOST_DATA: usize = 1 << 36;

/// `I LEN` of a `data I LEN` line.
fn data_header(rest: &[u8]) -> std::result::Result<(u64, usize), String> {
    let text = String::from_utf8_lossy(rest);
    let mut words = text.split(' ');
    let i = words.next().and_then(|w| w.parse::<u64>().ok());
    let len = words.next().and_then(|w| w.parse::<usize>().ok());
    match (i, len, words.next()) {
        (Some(i), Some(len), None) if len <= MOST_DATA => Ok((i, len)),
        _ => Err(format!("sent an unreadable data line: {:?}", text)),
    }
}

impl Drop for Interp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a process ended, in words.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("the interpreter exited with code {code}"),
        (None, Some(signal)) => format!(
            "the interpreter was killed by signal {signal} ({})",
            crate::error::signal_name(signal)
        ),
        _ => format!("the interpreter ended ({status})"),
    }
}

/// Waits up to `wait` until some of `interps` have something to read (or ended); returns
/// their positions.
pub(crate) fn wait_readable(interps: &[&Interp], wait: Duration) -> Result<Vec<usize>> {
    crate::child::readable(
        interps.iter().map(|p| p.events.as_fd()),
        wait,
        "waiting for Python workers (poll)",
    )
}
