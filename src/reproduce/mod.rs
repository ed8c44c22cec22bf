//! The seed experiment, reproduced: the published figures, real CPython on this machine, the
//! GIL models and parlab's own backends, side by side.
//!
//! Three sections:
//! 1. CPU-bound: `count` over 0..10^8 on 1, 2 and 4 threads and 2 processes.
//! 2. I/O-bound: one blocking sleep per item on 1, 2 and 4 threads.
//! 3. Inside the GIL: how long a CPU-bound thread keeps the lock per turn, and the convoy
//!    effect on a thread doing short blocking calls.
//!
//! [`run`] plans the rows, has them measured (`measure` runs one run, `rounds` repeats a group
//! of rows round by round and pairs each with its family's one-thread row), draws the
//! [`verdict`]s from the typed [`row`]s and their intervals and returns plain data
//! ([`ReproduceReport`]); the command line prints it. Every row of sections 1 and 2 carries its
//! result, so a wrong answer is visible next to its time.

pub mod fidelity;
mod measure;
mod rounds;
pub mod row;
pub mod verdict;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use self::fidelity::{Fidelity, SpeedupSummary};
use self::measure::{PROBE_STEPS, ReproduceLab, ReproduceProgress};
use self::rounds::Rounds;
pub use self::row::{
    GilComparison, Metric, ReproduceRow, SEED_END, SEED_ONE_THREAD_S, SEED_TWO_PROCESSES_S,
    Variant, Who,
};
use crate::backend::BackendKind;
use crate::backend::BackendOptions;
use crate::cpython::discover;
use crate::cpython::{Info, Python};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Kernel;
use crate::span::Span;
use crate::split::Split;

/// What to run.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// Smaller jobs: 10^7 instead of 10^8 indices, shorter probes.
    pub quick: bool,
    /// Run CPython rows when an interpreter is found.
    pub python: bool,
    /// The interpreters to use instead of `python3` on the PATH: `--python SPEC[,SPEC...]`,
    /// each a path, a version (`2.7`, `3.13t`) or `all`.
    pub python_spec: Option<String>,
    /// How CPython's "processes" rows start their processes: `fork`, `forkserver` or `spawn`
    /// (`--python-start`); `None` for each interpreter's own default, the one a user's
    /// `ProcessPoolExecutor` gets.
    pub python_start: Option<String>,
    /// The backends' settings (the GIL models' intervals, the worker program and start
    /// method of `processes`), from which every parlab row's backend is built.
    pub backends: BackendOptions,
}

impl Default for ReproduceOptions {
    fn default() -> Self {
        ReproduceOptions {
            quick: false,
            python: true,
            python_spec: None,
            python_start: None,
            backends: BackendOptions::default(),
        }
    }
}

/// A table and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// The job every measured row ran.
    pub job: String,
    /// Rows, grouped by family.
    pub rows: Vec<ReproduceRow>,
    /// Plain-words conclusions drawn from the rows.
    pub verdict: Vec<String>,
    /// What the machine's ceiling probes cost, in a section whose rows have one.
    pub probes: Option<ProbeCost>,
}

/// What a section's ceiling probes cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbeCost {
    /// Seconds spent probing.
    pub seconds: f64,
    /// Their share of the section's measuring time (probes included).
    pub share: f64,
}

/// One interpreter that ran rows.
#[derive(Debug, Clone, Serialize)]
pub struct PythonUsed {
    /// As it was run (a path or a name on the PATH).
    pub program: PathBuf,
    /// Who it is: version, implementation, GIL, start methods, subinterpreter module.
    #[serde(flatten)]
    pub info: Info,
    /// How its processes rows started their processes: `--python-start`, or its own default;
    /// `None` when it lacks the method asked for and has no processes row.
    pub processes_start: Option<String>,
}

/// Everything `parlab reproduce` measured.
#[derive(Debug, Clone, Serialize)]
pub struct ReproduceReport {
    /// Why there are no CPython rows, when there are none.
    pub python_missing: Option<String>,
    /// Set when the machine was busy as the run started, with what that does to the verdicts
    /// ([`crate::measure::busy`]).
    pub busy_warning: Option<String>,
    /// Every interpreter that ran rows.
    pub pythons: Vec<PythonUsed>,
    /// Interpreters left out: found by looking but not answering, or failing mid-run.
    pub python_notes: Vec<String>,
    /// Logical CPUs of this machine.
    pub cpus: usize,
    /// The `gil` switch interval used, seconds.
    pub switch_interval_s: f64,
    /// CPU-bound section.
    pub cpu: Section,
    /// I/O-bound section.
    pub io: Section,
    /// The GIL's behaviour, CPython against the model.
    pub inside: Vec<GilComparison>,
    /// Conclusions of the GIL section.
    pub inside_verdict: Vec<String>,
    /// Each GIL model against the interpreters it models.
    pub fidelity: Vec<Fidelity>,
    /// Conclusions of the fidelity section.
    pub fidelity_verdict: Vec<String>,
    /// Each interpreter's speedups at 2 workers.
    pub summary: Vec<SpeedupSummary>,
}

/// How big the experiment is: the seed's sizes, or smaller ones under `--quick`.
struct Sizes {
    /// `count` runs over 0..end.
    end: u64,
    /// Items of the I/O-bound job.
    items: u64,
    /// How long each GIL probe lasts.
    probe: Duration,
    /// How parlab's rows of the CPU-bound section are repeated: they finish in milliseconds.
    parlab: Rounds,
}

/// Rounds of CPython's rows, and of every row of the I/O-bound section: each CPython run takes
/// seconds, and three paired rounds give an interval; a row whose words that leaves undecided
/// gets more, up to nine in all, for half as long again as the three took (`rounds`).
const FEW: Rounds = Rounds {
    least: 3,
    budget: Duration::ZERO,
    most: 9,
};

/// Time slept per item of the I/O-bound job.
const PER_ITEM: Duration = Duration::from_millis(1);

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                end: 10_000_000,
                items: 40,
                probe: Duration::from_millis(300),
                parlab: Rounds {
                    least: 7,
                    budget: Duration::from_millis(1500),
                    most: 200,
                },
            }
        } else {
            Sizes {
                end: SEED_END,
                items: 200,
                probe: Duration::from_millis(1000),
                parlab: Rounds {
                    least: 7,
                    budget: Duration::from_secs(5),
                    most: 200,
                },
            }
        }
    }

    fn count(&self) -> Job {
        Job {
            kernel: Kernel::Count,
            range: Span {
                start: 0,
                end: self.end,
            },
            split: Split::Static,
        }
    }

    fn sleep(&self) -> Job {
        Job {
            kernel: Kernel::Sleep {
                per_item_ns: PER_ITEM.as_nanos() as u64,
            },
            range: Span {
                start: 0,
                end: self.items,
            },
            split: Split::Static,
        }
    }
}

/// The start methods `--python-start` takes, as Python's `multiprocessing` names them.
pub const START_METHODS: [&str; 3] = ["fork", "forkserver", "spawn"];

/// The rows each section measures, in order: fixed before anything runs, so that progress
/// can say how many steps there are.
struct Plan {
    cpython: Vec<Who>,
    cpu: Vec<(Who, Variant)>,
    io: Vec<(Who, Variant)>,
}

impl Plan {
    /// The plan with rows of each of `cpython` (a [`Who::CPython`], whether it makes
    /// subinterpreters, and whether it has the processes rows' start method).
    fn new(cpython: &[(Who, bool, bool)]) -> Plan {
        let threads = [1, 2, 4].map(Variant::Threads);
        let each = |who: &Who, variants: &[Variant]| -> Vec<(Who, Variant)> {
            variants.iter().map(|v| (who.clone(), *v)).collect()
        };
        let two_processes = Variant::Processes(2);
        let mut cpu = Vec::new();
        let mut io = Vec::new();
        for (py, subinterpreters, processes) in cpython {
            cpu.extend(each(py, &threads));
            if *processes {
                cpu.push((py.clone(), two_processes));
            }
            if *subinterpreters {
                cpu.extend(each(py, &[2, 4].map(Variant::Subinterpreters)));
            }
            io.extend(each(py, &threads));
        }
        for kind in [
            BackendKind::Gil,
            BackendKind::GilLegacy,
            BackendKind::Threads,
        ] {
            cpu.extend(each(&Who::Parlab(kind), &threads));
        }
        cpu.extend(each(&Who::Parlab(BackendKind::Processes), &[two_processes]));
        io.extend(each(&Who::Parlab(BackendKind::Gil), &threads));
        let cpython = cpython.iter().map(|(w, _, _)| w.clone()).collect();
        Plan { cpython, cpu, io }
    }

    /// Every run of the least rounds, then the GIL probes of each interpreter and of the two
    /// models; parlab's CPU-bound rows run `parlab` rounds at least.
    fn steps(&self, parlab: Rounds) -> usize {
        let engines = 2 + self.cpython.len();
        let ours = |rows: &[(Who, Variant)]| rows.iter().filter(|r| r.0.is_parlab()).count();
        let (cpu, io) = (ours(&self.cpu), ours(&self.io));
        let cpython = self.cpu.len() - cpu + self.io.len() - io;
        (cpython + io) * FEW.least + cpu * parlab.least + PROBE_STEPS * engines
    }
}

/// Runs the experiment; `progress` hears about every step before it starts, with its number
/// and the number of steps.
pub fn run(
    options: &ReproduceOptions,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<ReproduceReport> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Judged before parlab adds its own load (discovery starts interpreters).
    let busy_warning =
        crate::measure::busy::by_load(crate::measure::busy::load_now(), cpus, "the run");
    if let Some(m) = &options.python_start
        && !START_METHODS.contains(&m.as_str())
    {
        return Err(Error::invalid(
            "--python-start",
            m.clone(),
            format!("one of {}", START_METHODS.join(", ")),
        ));
    }
    let (pythons, mut python_notes, why_none) = find_pythons(options)?;
    let sizes = Sizes::new(options.quick);
    let who: Vec<(Who, bool, bool)> = pythons
        .iter()
        .map(|(p, _)| {
            let who = Who::CPython {
                version: p.version.clone(),
            };
            let start = match &options.python_start {
                Some(m) if !p.info.start_methods.contains(m) => {
                    python_notes.push(format!(
                        "CPython {} has no start method {m} (it has {}): its processes row is \
                         left out",
                        p.version,
                        p.info.start_methods.join(", ")
                    ));
                    false
                }
                _ => true,
            };
            if let Some(why) = p.info.gil_back_on() {
                python_notes.push(format!(
                    "CPython {} is a free-threaded build running with its GIL on: {why}",
                    p.version
                ));
            }
            (who, p.info.subinterpreters.is_some(), start)
        })
        .collect();
    let plan = Plan::new(&who);
    let steps = plan.steps(sizes.parlab);
    let mut lab = ReproduceLab::new(options, &pythons, ReproduceProgress::new(steps, progress));

    let count = sizes.count();
    let mut cpu = row::seed_post();
    let (measured, cpu_probes) = measure_all(&mut lab, &plan.cpu, &count, sizes.parlab, true)?;
    cpu.extend(measured);
    row::add_speedups(&mut cpu);
    let cpu_verdict = verdict::cpu(
        &cpu,
        cpus,
        options.backends.check_interval,
        busy_warning.is_some(),
    );

    // Sleeps take as long on every run, and wait rather than compute: no ceiling bounds them.
    let (mut io, _) = measure_all(&mut lab, &plan.io, &sizes.sleep(), FEW, false)?;
    row::add_speedups(&mut io);
    let io_verdict = verdict::io(&io);

    let threads_row = cpu
        .iter()
        .find(|r| r.who == Who::Parlab(BackendKind::Threads) && r.variant == Variant::Threads(1));
    let (probes, gil, legacy) = lab.probes(&count, threads_row, sizes.probe)?;
    let first_3x = probes.iter().find(|p| p.major >= 3 && p.gil_enabled);
    let inside = measure::comparisons(first_3x, &gil);
    let inside_verdict = verdict::inside(&inside, options.backends.switch_interval);
    let fidelity = fidelity::table(&cpu, &probes, &gil, &legacy);
    let fidelity_verdict = verdict::fidelity(&fidelity);
    python_notes.append(&mut lab.notes);

    Ok(ReproduceReport {
        python_missing: pythons.is_empty().then_some(why_none),
        busy_warning,
        pythons: pythons
            .iter()
            .map(|(p, _)| PythonUsed {
                program: p.program().to_path_buf(),
                info: p.info.clone(),
                processes_start: match &options.python_start {
                    Some(m) => p.info.start_methods.contains(m).then(|| m.clone()),
                    None => Some(p.info.start_method.clone()),
                },
            })
            .collect(),
        python_notes,
        cpus,
        switch_interval_s: options.backends.switch_interval.as_secs_f64(),
        summary: fidelity::summary(&cpu),
        cpu: Section {
            title: "CPU-bound: the seed experiment".into(),
            job: cpu_job(sizes.end),
            rows: cpu,
            verdict: cpu_verdict,
            probes: cpu_probes,
        },
        io: Section {
            title: "I/O-bound: a blocking sleep per item".into(),
            job: format!(
                "{} items of {} ms each, split into equal parts",
                sizes.items,
                PER_ITEM.as_millis()
            ),
            rows: io,
            verdict: io_verdict,
            probes: None,
        },
        inside,
        inside_verdict,
        fidelity,
        fidelity_verdict,
    })
}

/// The interpreters for the CPython rows (each with whether the user named it), notes on
/// those found by looking that did not answer, and why there are none when there are none.
/// What the user named and is not there is an error, before anything is measured.
#[allow(clippy::type_complexity)]
fn find_pythons(options: &ReproduceOptions) -> Result<(Vec<(Python, bool)>, Vec<String>, String)> {
    if !options.python {
        return Ok((
            Vec::new(),
            Vec::new(),
            "CPython rows skipped (--no-python)".into(),
        ));
    }
    let found = discover::chosen(options.python_spec.as_deref())?;
    let why = match &options.python_spec {
        Some(spec) => format!("no interpreter found for --python {spec}: CPython rows skipped"),
        None if found.pythons.is_empty() => "python3 not found: CPython rows skipped".into(),
        None => String::new(),
    };
    Ok((found.pythons, found.notes, why))
}

/// Measures the rows of `plan` running `job`: CPython's rows in [`FEW`] rounds, then parlab's
/// in `parlab` rounds, each group round by round; with the machine's ceiling before each round
/// when `ceiling` (CPU-bound rows), whose cost comes back beside the rows. A row that never ran
/// (its interpreter failed) is left out.
fn measure_all(
    lab: &mut ReproduceLab,
    plan: &[(Who, Variant)],
    job: &Job,
    parlab: Rounds,
    ceiling: bool,
) -> Result<(Vec<ReproduceRow>, Option<ProbeCost>)> {
    let (ours, theirs): (Vec<_>, Vec<_>) = plan.iter().cloned().partition(|r| r.0.is_parlab());
    let mut rows = Vec::new();
    let started = Instant::now();
    let mut probing = Duration::ZERO;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (group, rounds) in [(theirs, FEW), (ours, parlab)] {
        let backends = lab.backends(&group);
        let bound = ceiling.then_some(cpus);
        let (measured, spent) = rounds::measure(&group, rounds, bound, &mut |i, r| {
            let (who, variant) = &group[i];
            let what = format!(
                "round {}: {who}, {variant}: {} {}",
                r + 1,
                job.kernel,
                job.range
            );
            let backend = backends[i].as_deref();
            lab.run_once(who, *variant, job, backend, &what, r < rounds.least)
        })?;
        probing += spent;
        for ((who, variant), m) in group.iter().zip(measured) {
            let Some(m) = m else { continue };
            rows.push(ReproduceRow {
                result: Some(m.last.total),
                wall_s: Some(m.wall_s),
                note: m.last.note,
                gil: m.last.gil,
                spread: Some(m.spread),
                ..ReproduceRow::new(who.clone(), *variant)
            });
        }
    }
    let cost = ceiling.then(|| ProbeCost {
        seconds: probing.as_secs_f64(),
        share: probing.as_secs_f64() / started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE),
    });
    Ok((rows, cost))
}

/// The CPU-bound section's job. The seed post's rows keep the range it counted, so a smaller
/// range is said beside it.
fn cpu_job(end: u64) -> String {
    let job = format!("count over 0..{end}, split into equal parts");
    if end == SEED_END {
        job
    } else {
        format!("{job} (the seed post's rows: 0..{SEED_END})")
    }
}

#[cfg(test)]
mod tests;
