//! [`Processes`]: the backend's settings (worker program, policy, start method) and how it
//! starts a run's workers by either method.

use std::ffi::OsString;
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;

#[cfg(target_os = "linux")]
use super::forkserver;
use super::handle::Handle;
use super::pipes::Proc;
use super::serve::{PARENT_ENV, WORKER_ARG, WORKER_ENV};
use super::start::StartMethod;
use crate::backend::Policy;
use crate::error::{Error, PartNote, PidNote, Result, WorkerCause};
use crate::fault::{self, Fault};
use crate::kernels::Kernel;
use crate::limits;

/// Worker processes over pipes.
#[derive(Debug, Clone, Default)]
pub struct Processes {
    program: Option<PathBuf>,
    args: Vec<OsString>,
    pub(super) policy: Policy,
    start: StartMethod,
    /// How long a worker has to start; `None` for [`START_LIMIT`].
    start_limit: Option<Duration>,
}

/// How long a worker has to start (to greet) unless told otherwise: an `exec` and the
/// program's start-up take milliseconds, and about a second for 1024 workers on 2 CPUs, so
/// this catches a worker that will never start, not a slow one.
pub const START_LIMIT: Duration = Duration::from_secs(30);

impl Processes {
    /// Workers run `program args...` instead of re-executing the current program, started by
    /// `spawn`. The program must serve the protocol: the parlab binary with `__worker`, or a
    /// program that calls [`super::worker::init`] (which may then be started by `forkserver`
    /// too).
    pub fn with_worker(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Processes {
            program: Some(program.into()),
            args: args.into_iter().map(Into::into).collect(),
            policy: Policy::default(),
            start: StartMethod::Spawn,
            start_limit: None,
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

    /// The same backend, where a worker that has not started (greeted) within `limit` is
    /// killed and reported as failing to start (default [`START_LIMIT`]).
    pub fn with_start_limit(mut self, limit: Duration) -> Self {
        self.start_limit = Some(limit);
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

    /// The command that starts a worker that injects `fault`, if any.
    fn command(&self, fault: Option<Fault>) -> Result<Command> {
        let (program, args) = self.program()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env(WORKER_ENV, "1")
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        fault::pass_on(&mut cmd, fault);
        Ok(cmd)
    }

    /// Starts the workers numbered `indices`, each injecting `fault` if any (a replacement
    /// worker, for a retry, is given none, so that a retried part can succeed), and queues their
    /// `Setup` frames for `kernel`. One answer per worker.
    pub(super) fn start(
        &self,
        indices: Range<usize>,
        kernel: Kernel,
        fault: Option<Fault>,
    ) -> Vec<Result<Proc>> {
        let spawn_error = |index, what: String| Error::Worker {
            worker: index,
            pid: PidNote(None),
            part: PartNote(None),
            cause: WorkerCause::Spawn(what),
        };
        let workers = indices.len();
        let limit = self.start_limit.unwrap_or(START_LIMIT);
        match self.start {
            StartMethod::Spawn => indices
                .map(|index| {
                    let mut cmd = self.command(fault)?;
                    let mut child = cmd.spawn().map_err(|e| {
                        // A limit hit (open files, processes) is named.
                        let why = match e.raw_os_error() {
                            Some(errno) => limits::explain(Errno::from_raw(errno), workers),
                            None => e.to_string(),
                        };
                        spawn_error(
                            index,
                            format!("{}: {why}", cmd.get_program().to_string_lossy()),
                        )
                    })?;
                    let input = OwnedFd::from(child.stdin.take().expect("stdin is piped"));
                    let output = OwnedFd::from(child.stdout.take().expect("stdout is piped"));
                    Ok(Proc::new(
                        kernel,
                        Handle::Spawned(child),
                        input.into(),
                        output.into(),
                        limit,
                    ))
                })
                .collect(),
            #[cfg(target_os = "linux")]
            StartMethod::ForkServer => {
                let (program, args) = match self.program() {
                    Ok(p) => p,
                    Err(e) => return vec![Err(e)],
                };
                let faults = vec![fault; indices.len()];
                forkserver::fork_workers(program, args, &faults)
                    .into_iter()
                    .zip(indices)
                    .map(|(forked, index)| {
                        let f = forked.map_err(|e| spawn_error(index, e))?;
                        let process = Handle::forked(f.pid);
                        Ok(Proc::new(kernel, process, f.input, f.output, limit))
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
