//! The seed experiment, reproduced: the published figures, real CPython on this machine, the
//! GIL models and parlab's own backends, side by side.
//!
//! Three sections:
//! 1. CPU-bound: `count` over 0..10^8 on 1, 2 and 4 threads and 2 processes.
//! 2. I/O-bound: one blocking sleep per item on 1, 2 and 4 threads.
//! 3. Inside the GIL: how long a CPU-bound thread keeps the lock per turn, and the convoy
//!    effect on a thread doing short blocking calls.
//!
//! [`run`] returns plain data ([`Report`]); the command line prints it. Every row of sections 1
//! and 2 carries its result, so a wrong answer is visible next to its time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::backend::Backend;
use crate::backend::gil::legacy::GilLegacy;
use crate::backend::gil::new::Gil;
use crate::backend::gil::{GilStats, convoy};
use crate::backend::processes::Processes;
use crate::backend::threads::Threads;
use crate::cpython::Python;
use crate::error::{Error, Result};
use crate::job::{Job, Span};
use crate::kernels::Kernel;
use crate::observer::Silent;
use crate::split::Split;

/// The seed's published figures (a 2017 laptop, CPython 3).
pub const SEED_ONE_THREAD_S: f64 = 7.474;
/// The seed's published time for 2 processes.
pub const SEED_TWO_PROCESSES_S: f64 = 3.767;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Smaller jobs: 10^7 instead of 10^8 indices, shorter probes.
    pub quick: bool,
    /// Run CPython rows when an interpreter is found.
    pub python: bool,
    /// The interpreter to use instead of `python3` on the PATH.
    pub python_program: Option<PathBuf>,
    /// `gil`'s switch interval.
    pub switch_interval: Duration,
    /// `gil-legacy`'s check interval.
    pub check_interval: u32,
    /// The `processes` backend to use (its worker program).
    pub processes: Processes,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            processes: Processes::default(),
            quick: false,
            python: true,
            python_program: None,
            switch_interval: crate::backend::gil::new::DEFAULT_SWITCH_INTERVAL,
            check_interval: crate::backend::gil::legacy::DEFAULT_CHECK_INTERVAL,
        }
    }
}

/// One row of a table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Who ran it: "seed post", "CPython 3.11.7", "parlab gil", ...
    pub family: String,
    /// "1 thread", "2 processes", ...
    pub variant: String,
    /// Threads or processes.
    pub workers: usize,
    /// The job's answer, when the row ran (or was published with one).
    pub result: Option<u128>,
    /// Wall time, seconds.
    pub wall_s: Option<f64>,
    /// Speed against the family's one-worker row (its time divided by this row's).
    pub speedup: Option<f64>,
    /// A remark, e.g. for figures published only as a screenshot.
    pub note: Option<String>,
    /// What the GIL model saw, for `gil` and `gil-legacy` rows.
    pub gil: Option<GilStats>,
}

/// A table and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// The job every row ran.
    pub job: String,
    /// Rows, grouped by family.
    pub rows: Vec<Row>,
    /// Plain-words conclusions drawn from the rows.
    pub verdict: Vec<String>,
}

/// One measured property of the GIL, in CPython and in the model.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// What is measured.
    pub metric: String,
    /// Unit of the figures.
    pub unit: String,
    /// CPython's figure, when CPython ran.
    pub cpython: Option<f64>,
    /// The `gil` model's figure.
    pub parlab: f64,
}

/// Everything `parlab reproduce` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// CPython's version, or why there are no CPython rows.
    pub python: std::result::Result<String, String>,
    /// Logical CPUs of this machine.
    pub cpus: usize,
    /// The `gil` switch interval used, seconds.
    pub switch_interval_s: f64,
    /// CPU-bound section.
    pub cpu: Section,
    /// I/O-bound section.
    pub io: Section,
    /// The GIL's behaviour, CPython against the model.
    pub inside: Vec<Comparison>,
    /// Conclusions of the GIL section.
    pub inside_verdict: Vec<String>,
}

/// Runs the experiment; `progress` hears about every step before it starts, with its number
/// and the number of steps.
pub fn run(options: &Options, progress: &mut dyn FnMut(&str, usize, usize)) -> Result<Report> {
    let python = if options.python {
        Python::find(options.python_program.as_deref())?.ok_or_else(|| {
            format!(
                "{} not found: CPython rows skipped",
                options
                    .python_program
                    .as_deref()
                    .map_or("python3".into(), |p| p.display().to_string())
            )
        })
    } else {
        Err("CPython rows skipped (--no-python)".to_string())
    };
    let cpython = python.as_ref().ok();
    let family_py = cpython.map(|p| format!("CPython {}", p.version));

    let end: u64 = if options.quick {
        10_000_000
    } else {
        100_000_000
    };
    let items: u64 = if options.quick { 40 } else { 200 };
    let probe = Duration::from_millis(if options.quick { 300 } else { 1000 });
    let per_item = Duration::from_millis(1);
    let gil = Gil {
        switch_interval: options.switch_interval,
        ..Gil::default()
    };
    let legacy = GilLegacy {
        check_interval: options.check_interval,
        ..GilLegacy::default()
    };

    let steps = 15 + if cpython.is_some() { 9 } else { 0 };
    // parlab's rows finish in milliseconds, where CPython's take seconds: each is repeated
    // until it has run this long, and its median time is shown.
    let budget = Duration::from_millis(if options.quick { 100 } else { 400 });
    let mut step = 0;
    let mut say = |what: &str| {
        step += 1;
        progress(what, step, steps);
    };

    // Section 1: CPU-bound.
    let count = Job {
        kernel: Kernel::Count,
        range: Span { start: 0, end },
        split: Split::Static,
    };
    let mut cpu = vec![
        published("1 thread", 1, Some(SEED_ONE_THREAD_S), None),
        published(
            "2 threads",
            2,
            None,
            Some("slower than 1 thread (published only as a screenshot)"),
        ),
        published(
            "4 threads",
            4,
            None,
            Some("slower again (published only as a screenshot)"),
        ),
        published("2 processes", 2, Some(SEED_TWO_PROCESSES_S), None),
    ];
    if let (Some(py), Some(family)) = (cpython, &family_py) {
        for w in [1, 2, 4] {
            say(&format!("{family}, {w} thread(s), count 0..{end}"));
            cpu.push(python_row(
                py,
                family,
                "threads",
                w,
                &[w.to_string(), "0".into(), end.to_string()],
            )?);
        }
        say(&format!("{family}, 2 processes, count 0..{end}"));
        cpu.push(python_row(
            py,
            family,
            "processes",
            2,
            &["2".into(), "0".into(), end.to_string()],
        )?);
    }
    for w in [1, 2, 4] {
        say(&format!("parlab gil, {w} thread(s)"));
        cpu.push(gil_row("parlab gil", w, budget, || {
            gil.run_instrumented(&count, w, &Silent)
        })?);
    }
    for w in [1, 2, 4] {
        say(&format!("parlab gil-legacy, {w} thread(s)"));
        cpu.push(gil_row("parlab gil-legacy", w, budget, || {
            legacy.run_instrumented(&count, w, &Silent)
        })?);
    }
    for w in [1, 2, 4] {
        say(&format!("parlab threads, {w} thread(s)"));
        cpu.push(backend_row(
            "parlab",
            "threads",
            &Threads::default(),
            &count,
            w,
            budget,
        )?);
    }
    say("parlab processes, 2 processes");
    cpu.push(backend_row(
        "parlab",
        "processes",
        &options.processes,
        &count,
        2,
        budget,
    )?);
    add_speedups(&mut cpu, &[("parlab", "1 thread")]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu_verdict = cpu_verdict(&cpu, family_py.as_deref(), cpus);

    // Section 2: I/O-bound.
    let sleep = Job {
        kernel: Kernel::Sleep {
            per_item_ns: per_item.as_nanos() as u64,
        },
        range: Span {
            start: 0,
            end: items,
        },
        split: Split::Static,
    };
    let mut io = Vec::new();
    if let (Some(py), Some(family)) = (cpython, &family_py) {
        for w in [1, 2, 4] {
            say(&format!("{family}, {w} thread(s), time.sleep"));
            io.push(python_row(
                py,
                family,
                "sleep",
                w,
                &[
                    w.to_string(),
                    "0".into(),
                    items.to_string(),
                    format!("{}", per_item.as_secs_f64()),
                ],
            )?);
        }
    }
    for w in [1, 2, 4] {
        say(&format!("parlab gil, {w} thread(s), sleep"));
        io.push(gil_row("parlab gil", w, Duration::ZERO, || {
            gil.run_instrumented(&sleep, w, &Silent)
        })?);
    }
    add_speedups(&mut io, &[]);
    let io_verdict = io_verdict(&io, family_py.as_deref());

    // Section 3: inside the GIL.
    let mut inside = Vec::new();
    let (mut py_hold, mut py_convoy) = (None, None);
    if let Some(py) = cpython {
        say("CPython, two CPU-bound threads: hold time per turn");
        py_hold = Some(py.run(&["holds".into(), format!("{}", probe.as_secs_f64())])?);
        say("CPython, convoy: write+read pairs alone and beside a CPU-bound thread");
        py_convoy = Some(py.run(&["convoy".into(), format!("{}", probe.as_secs_f64())])?);
    }
    say("parlab gil, two CPU-bound threads: hold time per turn");
    let holds = hold_job(&count, &cpu, probe);
    let (_, hold_stats) = gil.run_instrumented(&holds, 2, &Silent)?;
    say("parlab gil, convoy: write+read pairs alone and beside a CPU-bound thread");
    let conv = convoy::measure(options.switch_interval, probe)?;
    let f = |v: &Option<serde_json::Value>, key: &str| v.as_ref().and_then(|v| v[key].as_f64());
    inside.push(Comparison {
        metric: "GIL hold per turn, 2 CPU-bound threads, median".into(),
        unit: "ms".into(),
        cpython: f(&py_hold, "hold_median_s").map(|s| s * 1e3),
        parlab: hold_stats.hold_median_s * 1e3,
    });
    inside.push(Comparison {
        metric: "GIL hold per turn, 2 CPU-bound threads, p90".into(),
        unit: "ms".into(),
        cpython: f(&py_hold, "hold_p90_s").map(|s| s * 1e3),
        parlab: hold_stats.hold_p90_s * 1e3,
    });
    inside.push(Comparison {
        metric: "I/O thread alone: write+read pairs".into(),
        unit: "per s".into(),
        cpython: f(&py_convoy, "alone_per_s"),
        parlab: conv.alone_per_s,
    });
    inside.push(Comparison {
        metric: "I/O thread beside 1 CPU-bound thread: write+read pairs".into(),
        unit: "per s".into(),
        cpython: f(&py_convoy, "beside_cpu_per_s"),
        parlab: conv.beside_cpu_per_s,
    });
    let inside_verdict = inside_verdict(&inside, options.switch_interval);

    Ok(Report {
        python: python
            .as_ref()
            .map(|p| p.version.clone())
            .map_err(Clone::clone),
        cpus,
        switch_interval_s: options.switch_interval.as_secs_f64(),
        cpu: Section {
            title: "CPU-bound: the seed experiment".into(),
            job: format!("count over 0..{end}, split into equal parts"),
            rows: cpu,
            verdict: cpu_verdict,
        },
        io: Section {
            title: "I/O-bound: a blocking sleep per item".into(),
            job: format!(
                "{items} items of {} ms each, split into equal parts",
                per_item.as_millis()
            ),
            rows: io,
            verdict: io_verdict,
        },
        inside,
        inside_verdict,
    })
}

fn published(variant: &str, workers: usize, wall: Option<f64>, note: Option<&str>) -> Row {
    Row {
        family: "seed post (2017 laptop)".into(),
        variant: variant.into(),
        workers,
        result: Some(100_000_000),
        wall_s: wall,
        speedup: None,
        note: note.map(String::from),
        gil: None,
    }
}

fn variant(kind: &str, w: usize) -> String {
    let noun = if kind == "processes" {
        "process"
    } else {
        "thread"
    };
    match (w, noun) {
        (1, n) => format!("1 {n}"),
        (w, "process") => format!("{w} processes"),
        (w, n) => format!("{w} {n}s"),
    }
}

fn python_row(py: &Python, family: &str, mode: &str, w: usize, args: &[String]) -> Result<Row> {
    let mut all = vec![mode.to_string()];
    all.extend_from_slice(args);
    let v = py.run(&all)?;
    let bad = |what: &str| {
        Error::io(
            format!("reading CPython's {mode} run"),
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("no {what} in {v}")),
        )
    };
    Ok(Row {
        family: family.into(),
        variant: variant(mode, w),
        workers: w,
        result: Some(v["result"].as_u64().ok_or_else(|| bad("result"))? as u128),
        wall_s: Some(v["elapsed_s"].as_f64().ok_or_else(|| bad("elapsed_s"))?),
        speedup: None,
        note: None,
        gil: None,
    })
}

/// Runs `f` until `budget` has passed (at least once, at most 200 times); returns the median
/// wall time, the number of runs and the last run's output. Every run must give the same total.
fn repeated<T>(
    budget: Duration,
    mut f: impl FnMut() -> Result<T>,
    total_of: impl Fn(&T) -> crate::kernels::Total,
) -> Result<(f64, usize, T)> {
    let started = Instant::now();
    let mut times = Vec::new();
    let mut last: Option<T> = None;
    while times.is_empty() || (started.elapsed() < budget && times.len() < 200) {
        let t0 = Instant::now();
        let out = f()?;
        times.push(t0.elapsed().as_secs_f64());
        if let Some(prev) = &last {
            let (a, b) = (total_of(prev), total_of(&out));
            if a != b {
                return Err(Error::invalid(
                    "repeated run",
                    format!("{b:?}"),
                    format!("every run must give the same total, the first gave {a:?}"),
                ));
            }
        }
        last = Some(out);
    }
    let median = crate::stats::median(&times);
    Ok((median, times.len(), last.expect("ran at least once")))
}

fn runs_note(runs: usize) -> Option<String> {
    (runs > 1).then(|| format!("median of {runs} runs"))
}

fn gil_row(
    family: &str,
    w: usize,
    budget: Duration,
    run: impl FnMut() -> Result<(crate::kernels::Total, GilStats)>,
) -> Result<Row> {
    let (wall, runs, (total, stats)) = repeated(budget, run, |out| out.0)?;
    Ok(Row {
        family: family.into(),
        variant: variant("threads", w),
        workers: w,
        result: Some(total.headline()),
        wall_s: Some(wall),
        speedup: None,
        note: runs_note(runs),
        gil: Some(stats),
    })
}

fn backend_row(
    family: &str,
    kind: &str,
    backend: &dyn Backend,
    job: &Job,
    w: usize,
    budget: Duration,
) -> Result<Row> {
    let (wall, runs, total) = repeated(budget, || backend.run(job, w, &Silent), |t| *t)?;
    Ok(Row {
        family: family.into(),
        variant: variant(kind, w),
        workers: w,
        result: Some(total.headline()),
        wall_s: Some(wall),
        speedup: None,
        note: runs_note(runs),
        gil: None,
    })
}

/// Speedup of every row against the one-thread row of its family; `base_override` names the
/// baseline variant for families whose first row is not it.
fn add_speedups(rows: &mut [Row], base_override: &[(&str, &str)]) {
    let bases: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| {
            let want = base_override
                .iter()
                .find(|(f, _)| *f == r.family)
                .map_or("1 thread", |(_, v)| v);
            r.variant == want
        })
        .filter_map(|r| r.wall_s.map(|w| (r.family.clone(), w)))
        .collect();
    for r in rows.iter_mut() {
        if let (Some(wall), Some((_, base))) =
            (r.wall_s, bases.iter().find(|(f, _)| *f == r.family))
        {
            r.speedup = Some(base / wall);
        }
    }
}

fn speed(rows: &[Row], family: &str, variant: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.family == family && r.variant == variant)
        .and_then(|r| r.speedup)
}

/// "1.02x as fast", "2.3x slower", in plain words.
fn pace(s: f64) -> String {
    if s >= 1.15 {
        format!("{s:.2}x faster than")
    } else if s >= 0.87 {
        format!("about as fast as ({s:.2}x)")
    } else {
        format!("{:.2}x slower than", 1.0 / s)
    }
}

fn cpu_verdict(rows: &[Row], python: Option<&str>, cpus: usize) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(py) = python
        && let (Some(t2), Some(t4), Some(p2)) = (
            speed(rows, py, "2 threads"),
            speed(rows, py, "4 threads"),
            speed(rows, py, "2 processes"),
        )
    {
        v.push(format!(
            "CPython: 2 threads ran {} 1 thread and 4 threads {} 1 thread: the GIL lets only \
                 one thread run Python code at a time, so CPU-bound threads take turns instead \
                 of running in parallel. 2 processes ran {} 1 thread: each has its own \
                 interpreter and its own GIL.",
            pace(t2),
            pace(t4),
            pace(p2)
        ));
    }
    if let (Some(g2), Some(g4)) = (
        speed(rows, "parlab gil", "2 threads"),
        speed(rows, "parlab gil", "4 threads"),
    ) {
        v.push(format!(
            "parlab's model of CPython 3's GIL, running Rust code: 2 threads ran {} 1 thread and \
             4 threads {} 1 thread. The lock alone, with no interpreter around it, is enough to \
             stop threads from scaling.",
            pace(g2),
            pace(g4)
        ));
    }
    if let (Some(l2), Some(l4)) = (
        speed(rows, "parlab gil-legacy", "2 threads"),
        speed(rows, "parlab gil-legacy", "4 threads"),
    ) {
        v.push(format!(
            "Python 2's GIL (released and re-taken every 100 ticks, no hand-off): 2 threads ran {} \
             1 thread and 4 threads {} 1 thread; the releasing thread nearly always wins the lock \
             back, and the others are woken again and again for nothing.",
            pace(l2),
            pace(l4)
        ));
    }
    if let (Some(t2), Some(t4), Some(p2)) = (
        speed(rows, "parlab", "2 threads"),
        speed(rows, "parlab", "4 threads"),
        speed(rows, "parlab", "2 processes"),
    ) {
        v.push(format!(
            "Without a GIL, parlab's threads scale with the cores: on this {cpus}-CPU machine 2 \
             threads ran {} 1 thread and 4 threads {} 1 thread; 2 worker processes ran {} 1 \
             thread, their start-up included.",
            pace(t2),
            pace(t4),
            pace(p2)
        ));
    }
    v
}

fn io_verdict(rows: &[Row], python: Option<&str>) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(py) = python
        && let Some(s) = speed(rows, py, "4 threads")
    {
        parts.push(format!("CPython's 4 threads ran {} 1 thread", pace(s)));
    }
    if let Some(s) = speed(rows, "parlab gil", "4 threads") {
        parts.push(format!(
            "the gil model's 4 threads ran {} 1 thread",
            pace(s)
        ));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    let mut text = format!(
        "{}: a thread releases the GIL while it waits in a blocking call, so threads do help \
         for I/O.",
        parts.join(" and ")
    );
    text[..1].make_ascii_uppercase();
    vec![text]
}

fn inside_verdict(inside: &[Comparison], interval: Duration) -> Vec<String> {
    let mut v = vec![format!(
        "With two CPU-bound threads, a thread keeps the GIL for about one switch interval ({} ms) \
         per turn: the waiting thread asks for it only after waiting that long.",
        interval.as_secs_f64() * 1e3
    )];
    if let (Some(alone), Some(beside)) = (inside.get(2), inside.get(3)) {
        let fall = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
        let mut s = format!(
            "The convoy effect: a thread doing short blocking calls must take the GIL back after \
             each one, and beside a CPU-bound thread it often waits for it. In the model its rate \
             falls {:.0}x",
            fall(alone.parlab, beside.parlab)
        );
        if let (Some(a), Some(b)) = (alone.cpython, beside.cpython) {
            s.push_str(&format!(", in CPython {:.0}x", fall(a, b)));
        }
        s.push('.');
        v.push(s);
    }
    v
}

/// A `count` job for two threads that lasts about `probe` at the speed the one-thread parlab
/// row measured.
fn hold_job(count: &Job, rows: &[Row], probe: Duration) -> Job {
    let rate = rows
        .iter()
        .find(|r| r.family == "parlab" && r.variant == "1 thread")
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
mod tests {
    use super::*;

    #[test]
    fn pace_words() {
        assert_eq!(pace(2.0), "2.00x faster than");
        assert_eq!(pace(1.0), "about as fast as (1.00x)");
        assert_eq!(pace(0.5), "2.00x slower than");
    }
}
