//! One Python interpreter running `worker.py serve FILE FUNCTION` (or `map FILE FUNCTION
//! SOURCE...`): started so that it cannot outlive parlab, spoken to in lines (some followed by a
//! payload of bytes, `data I LEN`), read without blocking, killed and reaped.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use num_bigint::BigInt;
use serde::Deserialize;

use super::Road;
use crate::error::{Error, Result};

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

/// What the Python side reported about a failed part.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Fault {
    /// The exception's type, e.g. `ValueError`; `TypeError` for a non-int answer.
    #[serde(rename = "type")]
    pub kind: String,
    /// The exception's message.
    pub message: String,
    /// The last traceback line: `file.py:12 in work: raise ValueError(...)`.
    #[serde(rename = "where")]
    pub place: String,
    /// Map mode: the item it failed on, `17: 'line text'`.
    #[serde(default)]
    pub item: Option<String>,
    /// Map mode: the type of the value that could not be pickled to cross between
    /// interpreters, where that was the failure.
    #[serde(default)]
    pub cross: Option<String>,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        let item = self.item.as_ref().map(|i| format!("on item {i}"));
        let place = (!self.place.is_empty()).then(|| format!("at {}", self.place));
        let said: Vec<String> = item.into_iter().chain(place).collect();
        if !said.is_empty() {
            write!(f, " ({})", said.join(", "))?;
        }
        Ok(())
    }
}

/// One line from the worker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The function is loaded.
    Ready,
    /// A part has begun.
    Start(u64),
    /// A part's exact answer.
    Done(u64, BigInt),
    /// A part raised or returned a non-int.
    Fail(u64, Fault),
    /// Map mode: a chunk's results are kept in the interpreter.
    Ok(u64),
    /// Bytes for part or request `I`: item or result forms.
    Data(u64, Vec<u8>),
    /// An answer in JSON (the helper's).
    Info(serde_json::Value),
    /// Every part of a request was answered, or one failed; with the CPU seconds the
    /// interpreter's process used on the request (every thread), where it said.
    End(Option<f64>),
}

impl Event {
    /// The event in a few words, for a message (a payload by its size only).
    pub(crate) fn brief(&self) -> String {
        match self {
            Event::Data(i, data) => format!("data {i} ({} bytes)", data.len()),
            Event::Info(v) => {
                let text = v.to_string();
                format!("info {}", text.chars().take(80).collect::<String>())
            }
            other => format!("{other:?}"),
        }
    }

    /// Reads one protocol line.
    pub(crate) fn parse(line: &str) -> std::result::Result<Event, String> {
        let mut words = line.splitn(3, ' ');
        let head = words.next().unwrap_or("");
        let index = |w: Option<&str>| {
            w.and_then(|w| w.parse::<u64>().ok())
                .ok_or_else(|| format!("sent a line without a part number: {line:?}"))
        };
        match head {
            "ready" => Ok(Event::Ready),
            "end" => Ok(Event::End(
                words
                    .next()
                    .and_then(|w| w.parse::<f64>().ok())
                    .filter(|c| c.is_finite() && *c >= 0.0),
            )),
            "start" => Ok(Event::Start(index(words.next())?)),
            "ok" => Ok(Event::Ok(index(words.next())?)),
            "info" => {
                let rest = line.split_once(' ').map_or("", |(_, r)| r);
                serde_json::from_str(rest)
                    .map(Event::Info)
                    .map_err(|e| format!("sent an unreadable answer: {e}"))
            }
            "done" => {
                let i = index(words.next())?;
                let value = words.next().unwrap_or("");
                let v = value
                    .parse::<BigInt>()
                    .map_err(|_| format!("sent an answer that is not an int: {value:?}"))?;
                Ok(Event::Done(i, v))
            }
            "fail" => {
                let i = index(words.next())?;
                let fault = serde_json::from_str(words.next().unwrap_or(""))
                    .map_err(|e| format!("sent an unreadable failure: {e}"))?;
                Ok(Event::Fail(i, fault))
            }
            _ => Err(format!("sent an unexpected line: {line:?}")),
        }
    }
}

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
    Fault(Fault),
    /// It ended, or broke the protocol: how, in words.
    Gone(String),
    /// No `end` within the limit.
    Late(Duration),
    /// Ctrl-C or SIGTERM, or waiting failed.
    Stopped(Error),
}

/// A running worker interpreter. Dropping it kills and reaps the process.
#[derive(Debug)]
pub(crate) struct Interp {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    buf: Vec<u8>,
    reaped: Option<ExitStatus>,
    /// When it was started.
    pub started: Instant,
    /// Whether it said `ready`.
    pub ready: bool,
}

impl Interp {
    /// Starts `launch` for `road`; the function's module sees the road in `PARLAB_ROAD`.
    pub(crate) fn start(launch: &Launch, road: Road) -> Result<Interp> {
        let parent = std::process::id();
        let mut cmd = Command::new(&launch.program);
        let mode = if launch.source.is_some() {
            "map"
        } else {
            "serve"
        };
        cmd.arg(&launch.script)
            .arg(mode)
            .arg(&launch.file)
            .arg(&launch.function)
            .args(launch.source.iter().flatten())
            .env("PARLAB_ROAD", road.name())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: between fork and exec only async-signal-safe calls are made: sigaction,
        // prctl, getppid and _exit. SIGINT is ignored from before the interpreter starts (it
        // then installs no KeyboardInterrupt handler), so Ctrl-C at a terminal, which signals
        // the whole group, never prints a traceback from a worker half-started: parlab stops
        // them itself. The interpreter is killed when parlab's thread that started it ends
        // (parlab starts them from its main thread), and one whose parent already died before
        // prctl took effect exits at once, so no interpreter outlives parlab.
        unsafe {
            cmd.pre_exec(move || {
                use nix::sys::signal::{SigHandler, Signal, signal};
                let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                if nix::unistd::getppid().as_raw() as u32 != parent {
                    nix::libc::_exit(1);
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", launch.program.display()), e))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(Interp {
            child,
            stdin,
            stdout,
            buf: Vec::new(),
            reaped: None,
            started: Instant::now(),
            ready: false,
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
        let stdin = self.stdin.as_mut().ok_or("its input is closed")?;
        let mut data = Vec::with_capacity(line.len() + 1 + payload.len());
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        data.extend_from_slice(payload);
        if stdin.write_all(&data).and_then(|_| stdin.flush()).is_err() {
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
            match self.stdout.read(&mut self.buf[old..]) {
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
            if event == Event::Ready {
                self.ready = true;
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

    /// Kills and reaps the worker, unless it was reaped already.
    pub(crate) fn kill(&mut self) {
        if self.reaped.is_none() {
            let _ = self.child.kill();
            self.reaped = self.child.wait().ok();
        }
    }

    /// Tells the worker to exit, waits a moment for it, and kills it if it has not.
    pub(crate) fn quit(&mut self) {
        if self.reaped.is_some() {
            return;
        }
        let _ = self.send("quit");
        self.stdin = None;
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
        interps.iter().map(|p| p.stdout.as_fd()),
        wait,
        "waiting for Python workers (poll)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_lines_read_as_events() {
        assert_eq!(Event::parse("ready"), Ok(Event::Ready));
        assert_eq!(Event::parse("end"), Ok(Event::End(None)));
        assert_eq!(Event::parse("end 0.25"), Ok(Event::End(Some(0.25))));
        assert_eq!(Event::parse("end nan"), Ok(Event::End(None)));
        assert_eq!(Event::parse("start 3"), Ok(Event::Start(3)));
        let big = "123456789012345678901234567890123456789";
        assert_eq!(
            Event::parse(&format!("done 2 {big}")),
            Ok(Event::Done(2, big.parse().unwrap()))
        );
        assert_eq!(
            Event::parse("done 2 -5"),
            Ok(Event::Done(2, BigInt::from(-5)))
        );
        let fail =
            r#"fail 1 {"type": "ValueError", "message": "boom", "where": "f.py:3 in f: raise"}"#;
        let Ok(Event::Fail(1, fault)) = Event::parse(fail) else {
            panic!("{fail}");
        };
        assert_eq!(
            fault.to_string(),
            "ValueError: boom (at f.py:3 in f: raise)"
        );
        assert!(Event::parse("done x 1").is_err());
        assert!(
            Event::parse("done 1 1.5")
                .unwrap_err()
                .contains("not an int")
        );
        assert!(Event::parse("hello").is_err());
    }
}
