//! The library's one error type.
//!
//! Every failure carries the context a user needs to act on it: the bad value and what is
//! allowed for input errors; the part, the worker and its PID and the exit code or signal for
//! worker failures. [`Error::is_usage`] tells the command line which errors are bad input
//! (exit code 2) and which are failures of a run.

use std::fmt;

/// Result type used throughout parlab.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in parlab.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value given by the user (a flag, a job spec field) is not allowed.
    #[error("invalid {what} '{value}': {allowed}")]
    Invalid {
        /// What the value is for: "number", "range", "workers", "split", ...
        what: &'static str,
        /// The value as the user wrote it.
        value: String,
        /// What is allowed instead, in plain words.
        allowed: String,
    },

    /// A kernel's arithmetic would leave its exact integer domain.
    #[error("kernel {kernel} overflowed at index {index}: {detail}")]
    Overflow {
        /// The kernel's name.
        kernel: &'static str,
        /// The index being computed when it overflowed.
        index: u64,
        /// What overflowed.
        detail: String,
    },

    /// A worker (thread or process) failed while it held a part.
    #[error("worker {worker}{pid} failed{part}: {cause}")]
    Worker {
        /// Index of the worker, 0-based.
        worker: usize,
        /// Its process id, for worker processes.
        pid: PidNote,
        /// The part it held, if it held one.
        part: PartNote,
        /// What happened.
        cause: WorkerCause,
    },

    /// The run was stopped by a signal (Ctrl-C, SIGTERM).
    #[error("interrupted by signal {signal} ({name})")]
    Interrupted {
        /// Signal number.
        signal: i32,
        /// Signal name, e.g. "SIGINT".
        name: String,
    },

    /// A run failed after some of its parts had finished: what finished is kept here.
    #[error("{error}; {finished} of {} had finished{prefix}", parts_of(*.parts))]
    Incomplete {
        /// Why the run stopped.
        error: Box<Error>,
        /// Parts that finished.
        finished: u64,
        /// Parts in the plan.
        parts: u64,
        /// The combined total of the finished parts that form an unbroken prefix.
        prefix: PrefixNote,
    },

    /// A run's answer differs from the one it must equal: another repetition of the same job,
    /// or the sequential answer. A failure of the run (exit 1), not bad input.
    #[error("wrong answer from {what}: {got} (expected {expected})")]
    WrongAnswer {
        /// Which run gave it, e.g. "repetition 3 of CPython 2 threads".
        what: String,
        /// The answer it gave.
        got: String,
        /// The answer it should have given.
        expected: String,
    },

    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What parlab was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Builds an [`Error::Invalid`].
    pub fn invalid(
        what: &'static str,
        value: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            what,
            value: value.into(),
            allowed: allowed.into(),
        }
    }

    /// The item of `all` called `value` by `name`, or an [`Error::Invalid`] for `what` that
    /// lists every name.
    pub(crate) fn by_name<T: Copy>(
        what: &'static str,
        value: &str,
        all: &[T],
        name: impl Fn(&T) -> &'static str,
    ) -> Result<T> {
        all.iter()
            .find(|t| name(t) == value)
            .copied()
            .ok_or_else(|| {
                let names: Vec<_> = all.iter().map(&name).collect();
                Error::invalid(
                    what,
                    value,
                    format!("expected one of: {}", names.join(", ")),
                )
            })
    }

    /// Builds an [`Error::Io`] with the given context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the error is the user's input rather than a failure of the run.
    ///
    /// The command line exits with code 2 for these.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Invalid { .. })
    }

    /// True when the error is a limit of this machine met (open files, processes, memory;
    /// the message names it), not a fault of the program or interpreter being started.
    pub fn is_limit(&self) -> bool {
        match self {
            Error::Io { source, .. } => is_limit(source),
            Error::Incomplete { error, .. } => error.is_limit(),
            _ => false,
        }
    }

    /// The signal that stopped the run, if a signal did.
    pub fn interrupted_by(&self) -> Option<i32> {
        match self {
            Error::Interrupted { signal, .. } => Some(*signal),
            Error::Incomplete { error, .. } => error.interrupted_by(),
            _ => None,
        }
    }
}

/// The name of signal `signal` as the shell writes it ("SIGKILL"), or "signal N" for a number
/// the platform does not name.
pub fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

/// Why a worker failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCause {
    /// The worker process exited with a status code.
    Exited(i32),
    /// The worker process was killed by a signal.
    Signaled {
        /// Signal number.
        signal: i32,
        /// Signal name, e.g. "SIGKILL".
        name: String,
    },
    /// The worker panicked or reported an error; the message it gave.
    Panicked(String),
    /// The worker closed its pipe or sent a frame that could not be decoded.
    Protocol(String),
    /// The worker reported an error from the kernel.
    Kernel(String),
    /// The worker could not be started.
    Spawn(String),
    /// The worker did not finish its part within the timeout.
    TimedOut(std::time::Duration),
    /// The worker process was stopped by a signal (SIGSTOP, SIGTSTP) and would never have
    /// answered; it was killed.
    Stopped {
        /// Signal number.
        signal: i32,
        /// Signal name, e.g. "SIGSTOP".
        name: String,
    },
}

impl WorkerCause {
    /// A worker killed by `signal`, with the signal's name.
    pub fn signaled(signal: i32) -> Self {
        WorkerCause::Signaled {
            signal,
            name: signal_name(signal),
        }
    }

    /// A worker stopped by `signal`, with the signal's name.
    pub fn stopped(signal: i32) -> Self {
        WorkerCause::Stopped {
            signal,
            name: signal_name(signal),
        }
    }
}

impl fmt::Display for WorkerCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerCause::Exited(code) => write!(f, "exited with code {code}"),
            WorkerCause::Signaled { signal, name } => {
                write!(f, "killed by signal {signal} ({name})")
            }
            WorkerCause::Panicked(msg) => write!(f, "panicked: {msg}"),
            WorkerCause::Protocol(msg) => write!(f, "{msg}"),
            WorkerCause::Kernel(msg) => write!(f, "{msg}"),
            WorkerCause::Spawn(msg) => write!(f, "could not start: {msg}"),
            WorkerCause::TimedOut(t) => write!(f, "did not finish within the timeout of {t:?}"),
            WorkerCause::Stopped { signal, name } => {
                write!(f, "stopped by signal {signal} ({name}), and killed")
            }
        }
    }
}

/// The optional PID of a failed worker, displayed as " (pid N)" or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidNote(pub Option<u32>);

impl fmt::Display for PidNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pid) => write!(f, " (pid {pid})"),
            None => Ok(()),
        }
    }
}

/// A part by its plain numbers: the error type sits below the job it describes, so it holds
/// numbers rather than the job's types (a `Part` converts into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartAt {
    /// Position of the part in part order.
    pub index: u64,
    /// First index of the part, included.
    pub start: u64,
    /// End of the part, excluded.
    pub end: u64,
}

/// The optional part a failed worker held, displayed as " on part K (a..b)" or
/// " holding no part".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartNote(pub Option<PartAt>);

impl fmt::Display for PartNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " on part {} ({}..{})", p.index, p.start, p.end),
            None => write!(f, " holding no part"),
        }
    }
}

/// The unbroken prefix of parts that finished before a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// Parts 0..`parts` finished.
    pub parts: u64,
    /// First index they cover, included.
    pub start: u64,
    /// End of what they cover, excluded.
    pub end: u64,
    /// Their combined total's headline figure.
    pub headline: u128,
}

/// The finished prefix of an incomplete run, displayed as "; parts 0..K (range A..B) give T".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixNote(pub Option<Prefix>);

impl fmt::Display for PrefixNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(
                f,
                "; parts 0..{} (range {}..{}) give {}",
                p.parts, p.start, p.end, p.headline
            ),
            None => Ok(()),
        }
    }
}

/// The source of an [`Error::Io`] for a limit met: its words name the limit (`limits::explain`),
/// and [`Error::is_limit`] finds it, so that a limit of this machine is never taken for a
/// fault of what was being started (an interpreter, a worker program).
#[derive(Debug)]
pub(crate) struct LimitHit(pub(crate) String);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

/// True when `e` is a limit met, as [`crate::limits::start_error`] builds it.
pub(crate) fn is_limit(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LimitHit>())
}

/// `1 part`, `3 parts`.
fn parts_of(n: impl Into<u64>) -> String {
    let n = n.into();
    format!("{n} part{}", if n == 1 { "" } else { "s" })
}
