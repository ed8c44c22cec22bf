//! The worker's side of the exchange: the loop that answers parts ([`serve_on`]), and what
//! every worker process does before it (die with the parent, keep panics quiet), whether it
//! was spawned or forked by the fork server.
//!
//! A worker says `Hello`, reads `Setup` and then `Part` frames from its input pipe, answers each
//! with `Done` (or `Failed` for a panic or kernel error) on its output pipe, and exits with
//! code 0 on `Shutdown` or when its input closes. Exit codes: 0 clean, 3 protocol error from
//! the parent, 4 I/O error on the pipes.

use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::protocol::{Frame, ProtocolError, READ_BUFFER, VERSION, check_end};
use crate::backend::panic_message;
use crate::fault::{Fault, Struck};
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
    send(&mut output, &mut out)?;

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
                        send(&mut output, &mut out)?;
                        match f.strike() {
                            // Reported as any kernel panic is: in a `Failed` frame.
                            Struck::Panic => {
                                Frame::Failed {
                                    index,
                                    panic: true,
                                    message: f.panic_message(),
                                }
                                .encode(&mut out);
                                continue;
                            }
                            // A length prefix far beyond any frame's, then the part's answer.
                            Struck::Corrupt => {
                                out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
                                send(&mut output, &mut out)?;
                            }
                        }
                    }
                    let t0 = Instant::now();
                    answer(k, index, start, end).encode(&mut out);
                    if t0.elapsed() >= FLUSH_AFTER {
                        send(&mut output, &mut out)?;
                    }
                }
                Frame::Shutdown => {
                    send(&mut output, &mut out)?;
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
            send(&mut output, &mut out)?;
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

/// Writes out what `out` holds and empties it.
fn send(output: &mut impl Write, out: &mut Vec<u8>) -> std::io::Result<()> {
    output.write_all(out)?;
    output.flush()?;
    out.clear();
    Ok(())
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

    fn setup(kernel: Kernel) -> Frame {
        Frame::Setup {
            version: VERSION,
            kernel,
        }
    }

    fn part(index: u64, start: u64, end: u64) -> Frame {
        Frame::Part { index, start, end }
    }

    /// What a worker with `fault` answers to `input`, decoded.
    fn served(input: &[Frame], fault: Option<&str>) -> Vec<Frame> {
        let mut output = Vec::new();
        let fault = fault.map(|f| f.parse().unwrap());
        serve_on(&Frame::stream(input)[..], &mut output, 77, fault).unwrap();
        Frame::decode_all(&output).unwrap()
    }

    fn hello() -> Frame {
        Frame::Hello {
            version: VERSION,
            pid: 77,
        }
    }

    #[test]
    fn serves_parts_in_order_and_exits_on_shutdown() {
        let input = [
            setup(Kernel::Primes),
            part(0, 0, 100),
            part(1, 100, 1000),
            Frame::Shutdown,
            part(2, 0, 1),
        ];
        assert_eq!(
            served(&input, None),
            [
                hello(),
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
        let input = Frame::stream(&[part(0, 0, 1)]);
        assert!(matches!(
            serve_on(&input[..], Vec::new(), 1, None),
            Err(WorkerError::Protocol(ProtocolError::Unexpected { .. }))
        ));
        let input = Frame::stream(&[Frame::Setup {
            version: VERSION + 1,
            kernel: Kernel::Count,
        }]);
        assert!(matches!(
            serve_on(&input[..], Vec::new(), 1, None),
            Err(WorkerError::Protocol(ProtocolError::Version { .. }))
        ));
    }

    #[test]
    fn reports_kernel_errors_and_truncated_input() {
        let mut input = Frame::stream(&[setup(Kernel::Count), part(4, 9, 3)]);
        let mut output = Vec::new();
        serve_on(&input[..], &mut output, 1, None).unwrap();
        assert!(matches!(
            &Frame::decode_all(&output).unwrap()[1],
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

    #[test]
    fn an_injected_panic_fails_its_part_only() {
        let input = [setup(Kernel::Count), part(0, 0, 5), part(1, 5, 7)];
        assert_eq!(
            served(&input, Some("panic@0")),
            [
                hello(),
                Frame::Failed {
                    index: 0,
                    panic: true,
                    message: "injected fault: panic in part 0".into()
                },
                Frame::Done {
                    index: 1,
                    total: Total::Count { count: 2 }
                },
            ]
        );
    }

    #[test]
    fn injected_corruption_comes_after_the_parts_before_it() {
        let input = [setup(Kernel::Count), part(0, 0, 5), part(1, 5, 7)];
        let mut output = Vec::new();
        let fault = "corrupt@1".parse().ok();
        serve_on(&Frame::stream(&input)[..], &mut output, 77, fault).unwrap();
        let (frames, used) = {
            let (hello, a) = Frame::decode(&output).unwrap().unwrap();
            let (done, b) = Frame::decode(&output[a..]).unwrap().unwrap();
            (vec![hello, done], a + b)
        };
        assert_eq!(
            frames,
            [
                hello(),
                Frame::Done {
                    index: 0,
                    total: Total::Count { count: 5 }
                }
            ]
        );
        assert!(matches!(
            Frame::decode(&output[used..]),
            Err(ProtocolError::BadLength { len: u32::MAX })
        ));
    }
}
