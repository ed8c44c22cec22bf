//! Fault injection, for tests and demonstrations of failure handling.
//!
//! Set `PARLAB_FAULT=KIND@PART` and the worker that runs part `PART` misbehaves, on the part's
//! first attempt only (a retried part runs cleanly, so `--retries` can be shown to recover):
//!
//! | `KIND` | what the worker does | backends |
//! |---|---|---|
//! | `panic` | panics inside the part | all |
//! | `hang` | never finishes the part (until stopped by `--timeout` or a signal) | all |
//! | `exit:CODE` | exits with `CODE` | `processes`, `mpi` |
//! | `signal:SIG` | kills itself with signal number `SIG` (e.g. `signal:9`) | `processes`, `mpi` |
//! | `corrupt` | writes a frame with an impossible length | `processes` (`mpi`: as `panic`) |
//!
//! Kinds that only a separate process can do are ignored by in-process backends, which would
//! otherwise take parlab itself down.
//!
//! This module is the one place that reads the variable ([`Fault::from_env`], once per run:
//! a run hands the parsed fault on to the workers it starts, see [`pass_on`]) and the one place
//! that carries out a fault in a process of its own, a worker process or an MPI rank
//! ([`Fault::strike`]).

use std::fmt;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::number::parse_u64_as;

/// The environment variable read by [`Fault::from_env`].
pub const FAULT_ENV: &str = "PARLAB_FAULT";

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Panic inside the part.
    Panic,
    /// Never finish the part.
    Hang,
    /// Exit the worker process with this code.
    Exit(i32),
    /// Kill the worker process with this signal.
    Signal(i32),
    /// Write a frame whose length prefix is out of bounds.
    Corrupt,
}

/// A fault injected into one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// The part it happens in.
    pub part: u64,
}

impl Fault {
    /// The fault set in [`FAULT_ENV`], if any.
    pub fn from_env() -> Result<Option<Fault>> {
        match std::env::var(FAULT_ENV) {
            Ok(v) if !v.is_empty() => v.parse().map(Some),
            _ => Ok(None),
        }
    }

    /// True when this fault applies to the first attempt of `part`.
    pub fn hits(&self, part: u64, attempt: u32) -> bool {
        self.part == part && attempt == 0
    }

    /// True for faults an in-process backend can inject without harming parlab.
    pub fn in_process(&self) -> bool {
        matches!(self.kind, FaultKind::Panic | FaultKind::Hang)
    }

    /// What an injected panic says.
    pub fn panic_message(&self) -> String {
        format!("injected fault: panic in part {}", self.part)
    }

    /// Carries the fault out in this process, a worker process or an MPI rank, which it may
    /// end. An exit, a signal or a hang never returns; a panic or corrupt output is left to the
    /// caller, which reports it the way its channel to the parent does.
    pub fn strike(&self) -> Struck {
        match self.kind {
            FaultKind::Exit(code) => std::process::exit(code),
            FaultKind::Signal(signal) => die_of(signal),
            FaultKind::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            FaultKind::Panic => Struck::Panic,
            FaultKind::Corrupt => Struck::Corrupt,
        }
    }
}

/// What is left to do after [`Fault::strike`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Struck {
    /// Fail the part as a panic inside it would, with [`Fault::panic_message`].
    Panic,
    /// Send bytes that are no valid frame.
    Corrupt,
}

/// Makes `cmd`, a worker about to be started, inject `fault`, or nothing: the worker reads it
/// back from [`FAULT_ENV`], so it gets exactly the fault the run parsed.
pub fn pass_on(cmd: &mut Command, fault: Option<Fault>) {
    match fault {
        Some(f) => cmd.env(FAULT_ENV, f.to_string()),
        None => cmd.env_remove(FAULT_ENV),
    };
}

/// Kills this process with `signal`; where the signal is ignored or caught, exits the way a
/// shell reports a death by it (128 + the signal's number).
fn die_of(signal: i32) -> ! {
    if let Ok(sig) = nix::sys::signal::Signal::try_from(signal) {
        let _ = nix::sys::signal::raise(sig);
    }
    std::process::exit(128 + signal)
}

impl FromStr for Fault {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let allowed = "expected KIND@PART with KIND one of panic, hang, exit:CODE, signal:SIG, \
                       corrupt (e.g. panic@3)";
        let bad = || Error::invalid("fault", s, allowed);
        let (kind, part) = s.split_once('@').ok_or_else(bad)?;
        let part = parse_u64_as("fault part", part)?;
        let (name, arg) = match kind.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (kind, None),
        };
        let int = |a: Option<&str>, lo: i32, hi: i32| {
            a.and_then(|a| a.parse::<i32>().ok())
                .filter(|v| (lo..=hi).contains(v))
                .ok_or_else(bad)
        };
        let kind = match name {
            "panic" if arg.is_none() => FaultKind::Panic,
            "hang" if arg.is_none() => FaultKind::Hang,
            "corrupt" if arg.is_none() => FaultKind::Corrupt,
            "exit" => FaultKind::Exit(int(arg, 0, 255)?),
            "signal" => FaultKind::Signal(int(arg, 1, 64)?),
            _ => return Err(bad()),
        };
        Ok(Fault { kind, part })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FaultKind::Panic => write!(f, "panic@{}", self.part),
            FaultKind::Hang => write!(f, "hang@{}", self.part),
            FaultKind::Corrupt => write!(f, "corrupt@{}", self.part),
            FaultKind::Exit(c) => write!(f, "exit:{c}@{}", self.part),
            FaultKind::Signal(s) => write!(f, "signal:{s}@{}", self.part),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        for s in ["panic@3", "hang@0", "corrupt@1", "exit:7@2", "signal:9@1"] {
            assert_eq!(s.parse::<Fault>().unwrap().to_string(), s);
        }
        assert_eq!(
            "exit:7@1e3".parse::<Fault>().unwrap(),
            Fault {
                kind: FaultKind::Exit(7),
                part: 1000
            }
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for s in [
            "panic",
            "@3",
            "boom@1",
            "exit@1",
            "exit:300@1",
            "signal:0@1",
            "panic:1@2",
            "hang@x",
        ] {
            assert!(s.parse::<Fault>().unwrap_err().is_usage(), "{s}");
        }
    }

    #[test]
    fn a_passed_on_fault_reads_back_the_same_and_none_removes_it() {
        let fault: Fault = "signal:9@4".parse().unwrap();
        let mut cmd = Command::new("true");
        pass_on(&mut cmd, Some(fault));
        let value = |cmd: &Command| {
            cmd.get_envs()
                .find(|(k, _)| *k == FAULT_ENV)
                .map(|(_, v)| v.map(|v| v.to_str().unwrap().parse::<Fault>().unwrap()))
        };
        assert_eq!(value(&cmd), Some(Some(fault)));
        pass_on(&mut cmd, None);
        assert_eq!(value(&cmd), Some(None));
    }

    #[test]
    fn a_panic_and_corrupt_output_are_left_to_the_caller() {
        let panic: Fault = "panic@5".parse().unwrap();
        assert_eq!(panic.strike(), Struck::Panic);
        assert_eq!(panic.panic_message(), "injected fault: panic in part 5");
        assert_eq!(
            "corrupt@0".parse::<Fault>().unwrap().strike(),
            Struck::Corrupt
        );
    }

    #[test]
    fn only_the_first_attempt_is_hit() {
        let f: Fault = "panic@2".parse().unwrap();
        assert!(f.hits(2, 0));
        assert!(!f.hits(2, 1));
        assert!(!f.hits(1, 0));
    }
}
