//! One Python interpreter running `worker.py serve FILE FUNCTION`: started so that it cannot
//! outlive parlab, spoken to in lines, read without blocking, killed and reaped.

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
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if !self.place.is_empty() {
            write!(f, " (at {})", self.place)?;
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
    /// Every part of a request was answered, or one failed; with the CPU seconds the
    /// interpreter's process used on the request (every thread), where it said.
    End(Option<f64>),
}

impl Event {
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
        cmd.arg(&launch.script)
            .arg("serve")
            .arg(&launch.file)
            .arg(&launch.function)
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
        let stdin = self.stdin.as_mut().ok_or("its input is closed")?;
        let mut data = Vec::with_capacity(line.len() + 1);
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        if stdin.write_all(&data).and_then(|_| stdin.flush()).is_err() {
            return Err(self.ended());
        }
        Ok(())
    }

    /// Reads what is there (call it when [`wait_readable`] named this worker) and appends the
    /// events of every whole line. `Err` when the worker closed its output (it ended) or sent
    /// something that is not the protocol.
    pub(crate) fn receive(&mut self, events: &mut Vec<Event>) -> std::result::Result<(), String> {
        let mut chunk = [0u8; 65536];
        let n = loop {
            match self.stdout.read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("reading its output failed: {e}")),
                Ok(n) => break n,
            }
        };
        if n == 0 {
            return Err(self.ended());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        let mut used = 0;
        while let Some(at) = self.buf[used..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.buf[used..used + at]).into_owned();
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
