//! The worker side of the `processes` backend.
//!
//! A worker is the parlab binary started with the hidden `__worker` subcommand, or any program
//! that calls [`init`] at the top of its `main` (see `examples/own_worker.rs`), or a process
//! forked from such a program running as a fork server (see `forkserver.rs`). It says `Hello`,
//! reads `Setup` and then `Part` frames from its input pipe (standard input when spawned),
//! answers each with `Done` (or `Failed` for a panic or kernel error) on its output pipe, and
//! exits with code 0 on `Shutdown` or when its input closes. Exit codes: 0 clean, 3 protocol
//! error from the parent, 4 I/O error on the pipes.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::protocol::{Frame, ProtocolError, READ_BUFFER, VERSION, check_end};
use crate::backend::panic_message;
use crate::fault::{Fault, FaultKind};
use crate::kernels::Kernel;
use crate::span::Span;

/// Environment variable that marks a process as a parlab worker.
pub const WORKER_ENV: &str = "PARLAB_WORKER";
/// Environment variable holding the parent's PID, so a worker can tell it was orphaned.
pub const PARENT_ENV: &str = "PARLAB_PARENT_PID";
/// Argument the parent passes to the worker program (the parlab binary's hidden subcommand).
pub const WORKER_ARG: &str = "__worker";

/// Exit code of a worker that received frames it cannot accept.
pub const EXIT_PROTOCOL: i32 = 3;
/// Exit code of a worker whose pipes failed.
pub const EXIT_IO: i32 = 4;

/// A part that ran this long is answered at once rather than batched with the next ones.
const FLUSH_AFTER: Duration = Duration::from_micros(100);

/// Lets a program that uses parlab as a library serve as its own worker process.
///
/// Call it first thing in `main`. In a normal run it returns at once; in a process started by
/// the `processes` backend (marked by [`WORKER_ENV`]) it serves parts, or with the `forkserver`
/// start method forks the workers that do, and exits, never returning. Pair it with
/// [`super::Processes::default`], which re-executes the current program, and call
/// [`super::shut_down`] at the end of `main` to reap the fork server.
///
/// ```no_run
/// // First thing in `main`:
/// parlab::worker::init();
/// // ... the program's own work, which may use the processes backend ...
/// ```
pub fn init() {
    match std::env::var_os(WORKER_ENV) {
        #[cfg(target_os = "linux")]
        Some(v) if v == super::forkserver::SERVER => std::process::exit(super::forkserver::serve()),
        Some(_) => std::process::exit(serve()),
        None => {}
    }
}

/// Serves parts on standard input and output until shutdown, with the fault set in
/// [`crate::fault::FAULT_ENV`] if any; returns the exit code.
pub fn serve() -> i32 {
    tie_to_parent(parent_from_env());
    quiet_panics();
    let pipes = (|| {
        let input = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let output = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
        Ok::<_, std::io::Error>((input, output))
    })();
    let Ok((input, output)) = pipes else {
        return EXIT_IO;
    };
    // The parent checked the variable before starting us; an unreadable one injects nothing.
    serve_pipes(input, output, Fault::from_env().ok().flatten())
}

/// Serves parts on `input` and `output`; returns the exit code.
pub(super) fn serve_pipes(
    input: std::fs::File,
    output: std::fs::File,
    fault: Option<Fault>,
) -> i32 {
    match serve_on(input, output, std::process::id(), fault) {
        Ok(()) => 0,
        Err(WorkerError::Protocol(_)) => EXIT_PROTOCOL,
        Err(WorkerError::Io(_)) => EXIT_IO,
    }
}

/// A panic inside a kernel is caught and reported to the parent in a `Failed` frame; the
/// default hook would also print it on the shared terminal.
pub(super) fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

/// The parent's PID as the parent wrote it in [`PARENT_ENV`].
pub(super) fn parent_from_env() -> Option<i32> {
    std::env::var(PARENT_ENV).ok().and_then(|p| p.parse().ok())
}

/// Dies with the parent: the kernel sends SIGKILL when the parent goes away, and a process whose
/// parent (`expected`, if known) died before that was armed exits at once.
pub(super) fn tie_to_parent(expected: Option<i32>) {
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        if let Some(parent) = expected
            && nix::unistd::getppid().as_raw() != parent
        {
            std::process::exit(0);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = expected;
}

/// Why a worker stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The parent sent something the protocol does not allow.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A pipe failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The worker loop over any byte streams (pipes in a worker, buffers in tests).
///
/// Results are batched: they are written when no complete frame is left to process, or at once
/// after a part that took long, so a stream of tiny chunks costs few system calls while a slow
/// part's result is never held back. `fault` is injected into its part (see [`crate::fault`]).
pub fn serve_on(
    mut input: impl Read,
    mut output: impl Write,
    pid: u32,
    fault: Option<Fault>,
) -> Result<(), WorkerError> {
    let mut out = Vec::with_capacity(8192);
    Frame::Hello {
        version: VERSION,
        pid,
    }
    .encode(&mut out);
    output.write_all(&out)?;
    output.flush()?;
    out.clear();

    let mut buf = vec![0u8; READ_BUFFER];
    let (mut filled, mut used) = (0usize, 0usize);
    let mut kernel: Option<Kernel> = None;
    loop {
        while let Some((frame, n)) = Frame::decode(&buf[used..filled])? {
            used += n;
            match frame {
                Frame::Setup { version, kernel: k } => {
                    if version != VERSION {
                        return Err(ProtocolError::Version { got: version }.into());
                    }
                    if kernel.replace(k).is_some() {
                        return Err(unexpected("Setup", "a second Setup"));
                    }
                }
                Frame::Part { index, start, end } => {
                    let k = kernel.ok_or_else(|| unexpected("Part", "Part before Setup"))?;
                    if let Some(f) = fault.filter(|f| f.hits(index, 0)) {
                        // What finished before the fault is sent, as a real crash could have.
                        output.write_all(&out)?;
                        output.flush()?;
                        out.clear();
                        if let Some(frame) = inject(f, &mut output)? {
                            frame.encode(&mut out);
                            continue;
                        }
                    }
                    let t0 = Instant::now();
                    answer(k, index, start, end).encode(&mut out);
                    if t0.elapsed() >= FLUSH_AFTER {
                        output.write_all(&out)?;
                        output.flush()?;
                        out.clear();
                    }
                }
                Frame::Shutdown => {
                    output.write_all(&out)?;
                    output.flush()?;
                    return Ok(());
                }
                other => {
                    return Err(unexpected(
                        other.name(),
                        "a parent sends Setup, Part or Shutdown",
                    ));
                }
            }
        }
        if !out.is_empty() {
            output.write_all(&out)?;
            output.flush()?;
            out.clear();
        }
        buf.copy_within(used..filled, 0);
        filled -= used;
        used = 0;
        let n = loop {
            match input.read(&mut buf[filled..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            // The parent closed our input: it is gone or done with us.
            check_end(&buf[..filled])?;
            return Ok(());
        }
        filled += n;
    }
}

/// Misbehaves as `fault` says. Returns only for faults after which the worker goes on, with
/// the frame to answer the part with instead of computing it, if any.
fn inject(fault: Fault, output: &mut impl Write) -> Result<Option<Frame>, WorkerError> {
    match fault.kind {
        // Reported as any kernel panic is: in a `Failed` frame.
        FaultKind::Panic => Ok(Some(Frame::Failed {
            index: fault.part,
            panic: true,
            message: format!("injected fault: panic in part {}", fault.part),
        })),
        FaultKind::Hang => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        FaultKind::Exit(code) => std::process::exit(code),
        FaultKind::Signal(signal) => {
            if let Ok(sig) = nix::sys::signal::Signal::try_from(signal) {
                let _ = nix::sys::signal::raise(sig);
            }
            // The signal was ignored or caught: die the way a shell reports it.
            std::process::exit(128 + signal)
        }
        FaultKind::Corrupt => {
            output.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 0x00])?;
            output.flush()?;
            Ok(None)
        }
    }
}

fn unexpected(got: &'static str, context: &str) -> WorkerError {
    ProtocolError::Unexpected {
        got,
        context: context.into(),
    }
    .into()
}

/// Runs one part and builds its answer frame.
fn answer(kernel: Kernel, index: u64, start: u64, end: u64) -> Frame {
    let span = match Span::new(start, end) {
        Ok(s) => s,
        Err(e) => {
            return Frame::Failed {
                index,
                panic: false,
                message: e.to_string(),
            };
        }
    };
    match catch_unwind(AssertUnwindSafe(|| kernel.run(span))) {
        Ok(Ok(total)) => Frame::Done { index, total },
        Ok(Err(e)) => Frame::Failed {
            index,
            panic: false,
            message: e.to_string(),
        },
        Err(payload) => Frame::Failed {
            index,
            panic: true,
            message: panic_message(payload.as_ref()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Total;

    fn frames(bytes: &[u8]) -> Vec<Frame> {
        let mut at = 0;
        let mut out = Vec::new();
        while let Some((f, n)) = Frame::decode(&bytes[at..]).unwrap() {
            out.push(f);
            at += n;
        }
        assert_eq!(at, bytes.len());
        out
    }

    #[test]
    fn serves_parts_in_order_and_exits_on_shutdown() {
        let mut input = Vec::new();
        Frame::Setup {
            version: VERSION,
            kernel: Kernel::Primes,
        }
        .encode(&mut input);
        Frame::Part {
            index: 0,
            start: 0,
            end: 100,
        }
        .encode(&mut input);
        Frame::Part {
            index: 1,
            start: 100,
            end: 1000,
        }
        .encode(&mut input);
        Frame::Shutdown.encode(&mut input);
        let mut output = Vec::new();
        serve_on(&input[..], &mut output, 77, None).unwrap();
        assert_eq!(
            frames(&output),
            [
                Frame::Hello {
                    version: VERSION,
                    pid: 77
                },
                Frame::Done {
                    index: 0,
                    total: Total::Primes { primes: 25 }
                },
                Frame::Done {
                    index: 1,
                    total: Total::Primes { primes: 143 }
                },
            ]
        );
    }

    #[test]
    fn refuses_parts_before_setup_and_other_versions() {
        let mut input = Vec::new();
        Frame::Part {
            index: 0,
            start: 0,
            end: 1,
        }
        .encode(&mut input);
        assert!(matches!(
            serve_on(&input[..], Vec::new(), 1, None),
            Err(WorkerError::Protocol(ProtocolError::Unexpected { .. }))
        ));
        let mut input = Vec::new();
        Frame::Setup {
            version: VERSION + 1,
            kernel: Kernel::Count,
        }
        .encode(&mut input);
        assert!(matches!(
            serve_on(&input[..], Vec::new(), 1, None),
            Err(WorkerError::Protocol(ProtocolError::Version { .. }))
        ));
    }

    #[test]
    fn reports_kernel_errors_and_truncated_input() {
        let mut input = Vec::new();
        Frame::Setup {
            version: VERSION,
            kernel: Kernel::Count,
        }
        .encode(&mut input);
        Frame::Part {
            index: 4,
            start: 9,
            end: 3,
        }
        .encode(&mut input);
        let mut output = Vec::new();
        serve_on(&input[..], &mut output, 1, None).unwrap();
        assert!(matches!(
            &frames(&output)[1],
            Frame::Failed {
                index: 4,
                panic: false,
                ..
            }
        ));
        input.truncate(input.len() - 3);
        assert!(matches!(
            serve_on(&input[..], Vec::new(), 1, None),
            Err(WorkerError::Protocol(ProtocolError::Truncated { .. }))
        ));
    }
}
