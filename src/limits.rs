//! The system limits a run of many workers meets: open files (two pipe ends per worker process
//! stay open in parlab) and processes per user (threads count too). A `processes` run raises
//! its own soft limit on open files as far as the hard limit allows, and a worker, thread or
//! pool that still cannot start names the limit it hit, so that a run under `ulimit -n 64` or
//! `ulimit -u 100` fails with one line that says why instead of a bare `errno`.
//!
//! Every thread parlab starts is started here ([`spawn`], [`spawn_scoped`]): a thread the OS
//! refuses is an error naming the limit, never a panic (`std::thread::spawn` panics), and the
//! caller stops the threads it had started before it passes the error on.

use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

use nix::errno::Errno;

use crate::error::{Error, LimitHit, Result};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// `errno` as the limit it is, when it is one of those [`explain`] names.
fn limit_errno(e: &std::io::Error) -> Option<Errno> {
    match e.raw_os_error().map(Errno::from_raw) {
        Some(errno @ (Errno::EMFILE | Errno::ENFILE | Errno::EAGAIN | Errno::ENOMEM)) => {
            Some(errno)
        }
        _ => None,
    }
}

/// Starts `f` on a new thread called `name`. A thread the OS refuses (`ulimit -u`, memory) is
/// an error that names the limit.
pub(crate) fn spawn<T, F>(name: &str, f: F) -> Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    refused_here()
        .map_or_else(
            || std::thread::Builder::new().name(name.to_string()).spawn(f),
            Err,
        )
        .map_err(|e| start_error(format!("starting thread {name}"), e, 0))
}

/// Starts `f` on a new thread of `scope` called `name`, as [`spawn`] does. The caller must
/// make the threads it started before end (set their stop flag) before it passes an error
/// on: the scope waits for them all.
pub(crate) fn spawn_scoped<'scope, 'env, T, F>(
    scope: &'scope Scope<'scope, 'env>,
    name: &str,
    f: F,
) -> Result<ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    refused_here()
        .map_or_else(
            || {
                std::thread::Builder::new()
                    .name(name.to_string())
                    .spawn_scoped(scope, f)
            },
            Err,
        )
        .map_err(|e| start_error(format!("starting thread {name}"), e, 0))
}

#[cfg(test)]
thread_local! {
    /// Threads the calling thread may still start in a unit test, if limited.
    static THREADS_LEFT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// In unit tests: lets the calling thread start `n` more threads (none: no limit), after which
/// [`spawn`] and [`spawn_scoped`] fail as they do under `ulimit -u`.
#[cfg(test)]
pub(crate) fn allow_threads(n: Option<usize>) {
    THREADS_LEFT.with(|left| left.set(n));
}

/// The error a limited unit test meets once its threads are spent; never outside tests.
fn refused_here() -> Option<std::io::Error> {
    #[cfg(test)]
    {
        let left = THREADS_LEFT.with(|left| left.get());
        match left {
            Some(0) => return Some(std::io::Error::from_raw_os_error(Errno::EAGAIN as i32)),
            Some(n) => THREADS_LEFT.with(|left| left.set(Some(n - 1))),
            None => {}
        }
    }
    None
}

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
        Errno::ENOMEM => format!(
            "{} (the system is out of memory, or this process's RLIMIT_AS or `ulimit -v` is \
             reached)",
            errno.desc()
        ),
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
    Error::io(context, limit_error(e, workers))
}

/// `e` with the limit behind it named, marked as a limit met ([`LimitHit`]); any other error
/// as it is.
pub(crate) fn limit_error(e: std::io::Error, workers: usize) -> std::io::Error {
    match limit_errno(&e) {
        Some(errno) => std::io::Error::new(e.kind(), LimitHit(explain(errno, workers))),
        None => e,
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
    fn a_refused_thread_is_an_error_naming_the_limit_and_marked_as_a_limit() {
        allow_threads(Some(1));
        let first = spawn("parlab-test-first", || 7).unwrap();
        assert_eq!(first.join().unwrap(), 7);
        let e = spawn("parlab-test-second", || 8).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("starting thread parlab-test-second: ")
                && text.contains("RLIMIT_NPROC"),
            "{text}"
        );
        assert!(e.is_limit(), "{e:?}");
        std::thread::scope(|s| {
            let e = spawn_scoped(s, "parlab-test-scoped", || ()).unwrap_err();
            assert!(e.to_string().contains("`ulimit -u`"), "{e}");
        });
        allow_threads(None);
        spawn("parlab-test-free", || ()).unwrap().join().unwrap();
        // Not a limit: left as it is, and not marked.
        let other = start_error("x".into(), std::io::Error::from_raw_os_error(2), 0);
        assert!(
            !other.is_limit() && other.to_string().starts_with("x: No such file"),
            "{other}"
        );
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
