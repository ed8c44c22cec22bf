//! Running an MPI job from parlab itself: `mpirun -n W parlab run --backend mpi ...` as one
//! run of a benchmark cell, so MPI appears in the same tables and plots as the local backends.
//! The wall time includes the launcher and MPI's start-up, as a user of MPI pays them.

use std::process::{Command, Stdio};

use crate::backend::record::RunRecord;
use crate::backend::{Backend, Policy};
use crate::child::output_limited;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// Launches each run with an MPI launcher, running this program as the ranks.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The launcher and its flags, e.g. `["mpirun", "--oversubscribe"]` (never empty: the
    /// command line refuses an empty one).
    pub command: Vec<String>,
    /// Timeout of a run.
    pub policy: Policy,
}

impl Backend for Launcher {
    fn run(&self, job: &Job, workers: usize, _observer: &dyn Observer) -> Result<Total> {
        let what = format!("{} -n {workers}", self.command.join(" "));
        let Some((launcher, flags)) = self.command.split_first() else {
            return Err(Error::invalid(
                "mpirun",
                "",
                "a launcher command, e.g. \"mpirun --oversubscribe\"",
            ));
        };
        let program = std::env::current_exe()
            .map_err(|e| Error::io("finding parlab to run under mpirun", e))?;
        let child = Command::new(launcher)
            .args(flags)
            .args(["-n", &workers.to_string()])
            .arg(program)
            .args(["run", "--backend", "mpi", "--json"])
            .args(["--kernel", &job.kernel.to_string()])
            .args(["--range", &job.range.to_string()])
            .args(["--split", &job.split.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("starting {what}"), e))?;
        let out = output_limited(child, self.policy.timeout, &what)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // parlab's own error line if a rank wrote one, else the launcher's first line of
            // words (OpenMPI frames its messages in lines of dashes).
            let last = stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .or(stderr
                    .lines()
                    .find(|l| l.chars().any(char::is_alphanumeric)))
                .map(str::trim);
            return Err(Error::io(
                what,
                std::io::Error::other(format!("{}: {}", out.status, last.unwrap_or("no message"))),
            ));
        }
        RunRecord::total_in(&stdout, &job.kernel, &what)
    }
}
