//! The measuring: parlab's backends and CPython run the rows and probes of the experiment,
//! each announced to the progress callback before it starts.
//!
//! A row runs one run at a time ([`ReproduceLab::run_once`]); `rounds` repeats the rows of a group
//! round by round and pairs them.

use std::time::Duration;

use super::ReproduceOptions;
use super::fidelity::{ModelProbe, PROBE_ROUNDS, PythonProbe};
use super::rounds::RowRun;
use super::row::{GilComparison, Metric, ReproduceRow, Variant, Who};
use crate::backend::gil::convoy;
use crate::backend::{Backend, BackendKind, BackendOptions};
use crate::cpython::{Holds, Python, Rates, Timed};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Kernel;
use crate::measure::rusage::CpuTime;
use crate::observer::Silent;
use crate::span::Span;

/// Steps each engine's GIL probes take: hold times, then the convoy, in every round.
pub const PROBE_STEPS: usize = 2 * PROBE_ROUNDS;

/// Numbers the steps and tells the caller of each before it starts.
pub struct ReproduceProgress<'a> {
    done: usize,
    total: usize,
    tell: &'a mut dyn FnMut(&str, usize, usize),
}

impl<'a> ReproduceProgress<'a> {
    /// Progress over `total` steps, told to `tell`.
    pub fn new(total: usize, tell: &'a mut dyn FnMut(&str, usize, usize)) -> Self {
        ReproduceProgress {
            done: 0,
            total,
            tell,
        }
    }

    fn step(&mut self, what: &str) {
        self.done = (self.done + 1).min(self.total);
        (self.tell)(what, self.done, self.total);
    }

    /// Tells of a run that was not planned as a step of its own (a round past the least).
    pub fn show(&mut self, what: &str) {
        (self.tell)(what, self.done, self.total);
    }
}

/// Everything that runs rows: the backends as configured, the interpreters found (each with
/// whether the user named it).
pub struct ReproduceLab<'a> {
    pythons: &'a [(Python, bool)],
    backends: &'a BackendOptions,
    python_start: Option<&'a str>,
    progress: ReproduceProgress<'a>,
    /// Interpreters found by looking that failed mid-run: their later rows are skipped.
    failed: Vec<String>,
    /// What failed, for the report.
    pub notes: Vec<String>,
}

impl<'a> ReproduceLab<'a> {
    /// A lab with the backends `options` configure.
    pub fn new(
        options: &'a ReproduceOptions,
        pythons: &'a [(Python, bool)],
        progress: ReproduceProgress<'a>,
    ) -> Self {
        ReproduceLab {
            pythons,
            backends: &options.backends,
            python_start: options.python_start.as_deref(),
            progress,
            failed: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The interpreter labelled `version`, unless it failed earlier.
    fn python(&self, version: &str) -> Option<&'a (Python, bool)> {
        if self.failed.iter().any(|f| f == version) {
            return None;
        }
        self.pythons.iter().find(|(p, _)| p.version == version)
    }

    /// Runs `f` on interpreter `py`: a failure of one the user named is bad input (exit 2),
    /// of one found by looking a note, after which its rows are skipped (`None`). Ctrl-C or
    /// SIGTERM, or a limit met, is no failure of the interpreter: it is the error as it is.
    fn on_python<T>(
        &mut self,
        entry: &(Python, bool),
        f: impl FnOnce(&Python) -> Result<T>,
    ) -> Result<Option<T>> {
        let (py, named) = entry;
        match f(py) {
            Ok(t) => Ok(Some(t)),
            // Not the interpreter's doing: Ctrl-C (exit 130/143), a limit of this machine.
            Err(e) if e.interrupted_by().is_some() || e.is_limit() => Err(e),
            Err(e) if *named => Err(Error::invalid(
                "python",
                py.program().display().to_string(),
                format!("an interpreter that runs the seed script to the end ({e})"),
            )),
            Err(e) => {
                self.notes.push(format!(
                    "CPython {} ({}) failed and is left out from here on: {e}",
                    py.version,
                    py.program().display()
                ));
                self.failed.push(py.version.clone());
                Ok(None)
            }
        }
    }

    /// The backend each of `rows` runs on, built once: parlab's rows only.
    pub fn backends(&self, rows: &[(Who, Variant)]) -> Vec<Option<Box<dyn Backend>>> {
        rows.iter()
            .map(|(who, _)| match who {
                Who::Parlab(kind) => Some(kind.create_with(self.backends)),
                _ => None,
            })
            .collect()
    }

    /// Runs `who`'s `job` as `variant` once, told to progress as `what` (a step of its own when
    /// `step`); on `backend` for a parlab row. `None` when its interpreter (found by looking)
    /// failed, now or before.
    #[allow(clippy::too_many_arguments)]
    pub fn run_once(
        &mut self,
        who: &Who,
        variant: Variant,
        job: &Job,
        backend: Option<&dyn Backend>,
        what: &str,
        step: bool,
    ) -> Result<Option<RowRun>> {
        if step {
            self.progress.step(what);
        } else {
            self.progress.show(what);
        }
        // A sleeping job's CPU time says nothing of the CPU's speed: it is counted for
        // CPU-bound jobs only.
        let cpu_bound = !matches!(job.kernel, Kernel::Sleep { .. });
        match who {
            Who::CPython { version } => {
                let Some(entry) = self.python(version) else {
                    return Ok(None);
                };
                let mut args = seed_args(job, variant)?;
                if let (Variant::Processes(_), Some(m)) = (variant, self.python_start) {
                    args.push(m.to_string());
                }
                let Some(timed) = self.on_python(entry, |py| py.run_as::<Timed>(&args))? else {
                    return Ok(None);
                };
                let info = &entry.0.info;
                let note = match variant {
                    Variant::Processes(_) => timed.start_method.map(|m| format!("started by {m}")),
                    Variant::Subinterpreters(_) => {
                        timed.api.map(|api| format!("one GIL each, through {api}"))
                    }
                    Variant::Threads(_) if !info.gil_enabled => {
                        Some("free-threaded build: GIL disabled".into())
                    }
                    Variant::Threads(_) => None,
                };
                Ok(Some(RowRun {
                    wall_s: timed.elapsed_s,
                    total: timed.result.into(),
                    gil: None,
                    note,
                    cpu_s: timed.cpu_s.filter(|_| cpu_bound),
                }))
            }
            Who::Parlab(_) => {
                let backend = backend.ok_or_else(|| not_measured(who))?;
                let (t0, cpu0) = (std::time::Instant::now(), CpuTime::now());
                let (total, gil) = backend.run_with_stats(job, variant.workers(), &Silent)?;
                let cpu = CpuTime::now().since(cpu0);
                // Worker processes are reaped by the fork server, not here: their CPU time
                // would be missing.
                let in_process = !matches!(who, Who::Parlab(BackendKind::Processes));
                Ok(Some(RowRun {
                    wall_s: t0.elapsed().as_secs_f64(),
                    total: total.headline(),
                    gil,
                    note: None,
                    cpu_s: (in_process && cpu_bound).then_some(cpu.user_s + cpu.sys_s),
                }))
            }
            Who::SeedPost => Err(not_measured(who)),
        }
    }

    /// The GIL probes: every interpreter's (hold time per turn, convoy), then the `gil`
    /// model's and the `gil-legacy` model's, in [`PROBE_ROUNDS`] rounds, each engine's probes
    /// once a round, forwards in one round and backwards in the next, so that no engine always
    /// meets the same moment of the machine. Each round's probe lasts `probe` over the rounds,
    /// so that the rounds together take what one probe of `probe` would. The models' hold-time
    /// probes count for that long at the speed of `threads_row` (parlab's one-thread row of
    /// `count`).
    pub fn probes(
        &mut self,
        count: &Job,
        threads_row: Option<&ReproduceRow>,
        probe: Duration,
    ) -> Result<(Vec<PythonProbe>, ModelProbe, ModelProbe)> {
        let each = probe / PROBE_ROUNDS as u32;
        let secs = format!("{}", each.as_secs_f64());
        let holds_job = hold_job(count, threads_row, each);
        let kinds = [BackendKind::Gil, BackendKind::GilLegacy];
        let backends: Vec<Box<dyn Backend>> =
            kinds.iter().map(|k| k.create_with(self.backends)).collect();
        let mut theirs: Vec<(Vec<Holds>, Vec<Rates>)> =
            vec![Default::default(); self.pythons.len()];
        let mut ours: Vec<ModelProbe> = vec![
            ModelProbe {
                stats: Vec::new(),
                convoy: Vec::new(),
            };
            kinds.len()
        ];
        // Engines 0..n are the interpreters, n and n+1 the two models.
        let engines = self.pythons.len() + kinds.len();
        for round in 0..PROBE_ROUNDS {
            let mut order: Vec<usize> = (0..engines).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            let r = round + 1;
            for e in order {
                if let Some(entry) = self.pythons.get(e) {
                    let label = &entry.0.version;
                    self.progress.step(&format!(
                        "round {r}: CPython {label}, two CPU-bound threads: hold time per turn"
                    ));
                    let holds = self.probe_python::<Holds>(label, "holds", &secs)?;
                    self.progress.step(&format!(
                        "round {r}: CPython {label}, convoy: write+read pairs alone and beside \
                         a CPU-bound thread"
                    ));
                    let rates = self.probe_python::<Rates>(label, "convoy", &secs)?;
                    if let (Some(h), Some(c)) = (holds, rates) {
                        theirs[e].0.push(h);
                        theirs[e].1.push(c);
                    }
                    continue;
                }
                let m = e - self.pythons.len();
                let kind = kinds[m];
                self.progress.step(&format!(
                    "round {r}: parlab {kind}, two CPU-bound threads: hold time per turn"
                ));
                let (_, stats) = backends[m].run_with_stats(&holds_job, 2, &Silent)?;
                let stats = stats.expect("the GIL models report their lock's statistics");
                self.progress.step(&format!(
                    "round {r}: parlab {kind}, convoy: write+read pairs alone and beside a \
                     CPU-bound thread"
                ));
                let convoy = match kind {
                    BackendKind::Gil => convoy::measure(self.backends.switch_interval, each)?,
                    _ => convoy::measure_legacy(self.backends.check_interval, each)?,
                };
                ours[m].stats.push(stats);
                ours[m].convoy.push(convoy);
            }
        }
        let pythons = self
            .pythons
            .iter()
            .zip(theirs)
            .filter(|(_, (holds, _))| !holds.is_empty())
            .map(|((py, _), (holds, rates))| PythonProbe {
                python: py.version.clone(),
                major: py.info.major_minor().0,
                gil_enabled: py.info.gil_enabled,
                holds,
                rates,
            })
            .collect();
        let legacy = ours.pop().expect("two models");
        let gil = ours.pop().expect("two models");
        Ok((pythons, gil, legacy))
    }

    /// One probe of the seed script's `mode` (`holds`, `convoy`) on the interpreter labelled
    /// `label`, `secs` long; `None` when it failed (found by looking), now or before.
    fn probe_python<T: serde::de::DeserializeOwned>(
        &mut self,
        label: &str,
        mode: &str,
        secs: &str,
    ) -> Result<Option<T>> {
        let Some(entry) = self.python(label) else {
            return Ok(None);
        };
        self.on_python(entry, |py| py.run_as::<T>(&[mode.into(), secs.into()]))
    }
}

/// The GIL section's comparisons: `python` (the first 3.x interpreter's probes, if any)
/// against the `gil` model, each the median of its rounds with its interval.
pub fn comparisons(python: Option<&PythonProbe>, model: &ModelProbe) -> Vec<GilComparison> {
    Metric::ALL
        .into_iter()
        .filter_map(|metric| {
            Some(GilComparison {
                metric,
                cpython: python.and_then(|p| p.figure(metric)),
                parlab: model.figure(metric)?,
            })
        })
        .collect()
}

fn not_measured(who: &Who) -> Error {
    Error::invalid(
        "reproduce row",
        who.to_string(),
        "rows are measured by parlab's backends or a CPython that was found",
    )
}

/// `seed.py`'s arguments for `job` split as `variant`.
fn seed_args(job: &Job, variant: Variant) -> Result<Vec<String>> {
    let Span { start, end } = job.range;
    let (mode, extra) = match (job.kernel, variant) {
        (Kernel::Count, Variant::Threads(_)) => ("threads", None),
        (Kernel::Count, Variant::Processes(_)) => ("processes", None),
        (Kernel::Count, Variant::Subinterpreters(_)) => ("subinterpreters", None),
        (Kernel::Sleep { per_item_ns }, Variant::Threads(_)) => {
            ("sleep", Some(format!("{}", per_item_ns as f64 / 1e9)))
        }
        _ => {
            return Err(Error::invalid(
                "CPython row",
                format!("{} in {variant}", job.kernel),
                "the seed script counts in threads or processes and sleeps in threads",
            ));
        }
    };
    let mut args = vec![
        mode.to_string(),
        variant.workers().to_string(),
        start.to_string(),
        end.to_string(),
    ];
    args.extend(extra);
    Ok(args)
}

/// A `count` job for two threads that lasts about `probe` at the speed `threads_row` measured
/// (4e9 indices per second without one).
fn hold_job(count: &Job, threads_row: Option<&ReproduceRow>, probe: Duration) -> Job {
    let rate = threads_row
        .and_then(|r| r.wall_s)
        .map_or(4e9, |s| count.range.len() as f64 / s.max(1e-6));
    Job {
        range: Span {
            start: 0,
            end: (rate * probe.as_secs_f64()) as u64,
        },
        ..count.clone()
    }
}

#[cfg(test)]
mod tests;
