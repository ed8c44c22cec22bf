//! The system limits a run of many workers meets: open files (two pipe ends per worker process
//! stay open in parlab) and processes per user (threads count too). A `processes` run raises
//! its own soft limit on open files as far as the hard limit allows, and a worker, thread or
//! pool that still cannot start names the limit it hit, so that a run under `ulimit -n 64` or
//! `ulimit -u 100` fails with one line that says why instead of a bare `errno`.

use nix::errno::Errno;

use crate::error::Error;
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors parlab holds per worker while a run goes on: its ends of the two pipes.
const FILES_PER_WORKER: u64 = 2;
/// Descriptors beyond the workers' for everything else (standard streams, the fork server's
/// socket, the files a pipe briefly needs while a worker starts, exports).
const FILES_SPARE: u64 = 64;

/// Raises the soft limit on open files so that `workers` workers fit, up to the hard limit
/// (a soft limit of 1024 is common and 1024 workers need more). Never lowers it; a limit that
/// cannot be raised is left for the start to report when it is hit.
pub(crate) fn make_room_for(workers: usize) {
    let need = workers as u64 * FILES_PER_WORKER + FILES_SPARE;
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < need
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, need.min(hard), hard);
    }
}

/// `errno` described, with the limit behind it named when it is one of those above; `workers`
/// (0 when unknown) is how many the run asked for.
pub(crate) fn explain(errno: Errno, workers: usize) -> String {
    let asked = if workers > 0 {
        format!(
            "; {} need about {}",
            crate::units::count(workers as u64, "worker"),
            workers as u64 * FILES_PER_WORKER + FILES_SPARE
        )
    } else {
        String::new()
    };
    match errno {
        Errno::EMFILE => match getrlimit(Resource::RLIMIT_NOFILE) {
            Ok((soft, _)) => format!(
                "{} (this process may have {soft} files open, RLIMIT_NOFILE or `ulimit -n`{asked})",
                errno.desc()
            ),
            Err(_) => errno.desc().to_string(),
        },
        Errno::ENFILE => format!("{} (the system's limit on open files)", errno.desc()),
        Errno::EAGAIN => match getrlimit(Resource::RLIMIT_NPROC) {
            Ok((soft, _)) => format!(
                "{} (this user may run {soft} processes, RLIMIT_NPROC or `ulimit -u`, or the \
                 system is out of processes)",
                errno.desc()
            ),
            Err(_) => errno.desc().to_string(),
        },
        _ => errno.desc().to_string(),
    }
}

/// The error for `context` failing with `e` while starting `workers` workers: a limit hit is
/// named (see [`explain`]), any other error is kept as it is.
pub(crate) fn start_error(context: String, e: std::io::Error, workers: usize) -> Error {
    match e.raw_os_error().map(Errno::from_raw) {
        Some(errno @ (Errno::EMFILE | Errno::ENFILE | Errno::EAGAIN)) => {
            Error::io(context, std::io::Error::other(explain(errno, workers)))
        }
        _ => Error::io(context, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_named_and_other_errors_are_left_alone() {
        assert!(explain(Errno::EMFILE, 10).contains("RLIMIT_NOFILE"));
        assert!(explain(Errno::EMFILE, 10).contains("10 workers need about 84"));
        assert!(explain(Errno::EAGAIN, 0).contains("RLIMIT_NPROC"));
        assert_eq!(explain(Errno::ENOENT, 3), Errno::ENOENT.desc());
    }

    #[test]
    fn room_is_made_but_never_taken_away() {
        let (before, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        make_room_for(1024);
        let (after, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert!(
            after >= before && after >= (2 * 1024 + 64).min(hard),
            "{after}"
        );
    }
}
