//! Measured on the engine `bench` and `reproduce` share ([`crate::measure`]): every cell
//! (interpreter × range × road × workers, in map mode interpreter × road × workers × chunk
//! size) is started once, with its start-up timed apart; then the engine's warm-up and
//! measured rounds ([`Measurement`] with a [`Fixed`] number), each running every interpreter's
//! sequential baseline and its cells (one baseline run a round, the order turned in odd rounds,
//! the baseline included), so that each cell's time is paired with a baseline run of the same
//! round. The first round runs the baseline first: its answer is the reference. Every answer is checked against the first
//! sequential answer of its interpreter (in map mode, every item's result, in item order, by
//! the helper where the bytes differ: `helper.rs`).
//!
//! Once the baseline's first run is timed, every run of its interpreter may take at most
//! [`DEFAULT_LIMIT_TIMES`] that long, or [`DEFAULT_LIMIT_FLOOR`], whichever is longer, unless
//! `--timeout` says otherwise: a function that livelocks on threads ends its row, not the
//! command.
//!
//! A cell that fails (the function raised, hung past the timeout, answered wrongly) keeps its
//! error, and what kind of failure it was ([`Failure`], for the recommendation), and leaves the
//! rounds; the others go on. Only Ctrl-C or SIGTERM ends the whole measurement, and every
//! worker is killed and reaped on the way out.

use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigInt;

use super::cell::{Answer, Cell, RunLimit};
use super::conn::Launch;
use super::forms::Forms;
use super::helper::Helper;
use super::row::{Failure, PythonRow};
use super::{Interpreter, PythonOptions, Road};
use crate::error::{Error, Result, WorkerCause};
use crate::measure::Figures;
use crate::measure::ceiling::Probe;
use crate::measure::rounds::{Measurement, Pairing, Timing};
use crate::measure::stop::Fixed;
use crate::span::Span;
use crate::split::Plan;
use crate::stats::{Estimate, median};
use crate::units::seconds;

/// Without `--timeout`, a run may take this many times the sequential run...
pub const DEFAULT_LIMIT_TIMES: u32 = 10;
/// ... or this long, whichever is longer.
pub const DEFAULT_LIMIT_FLOOR: Duration = Duration::from_secs(10);

/// Map mode's chunk size where `--chunksize` is not given: about four chunks per worker, as
/// `multiprocessing.Pool.map` chooses.
pub fn default_chunksize(items: u64, workers: usize) -> u64 {
    items.div_ceil(4 * workers.max(1) as u64).max(1)
}

/// What the rounds tell, as they go.
#[derive(Debug, Clone)]
pub struct PythonProgress {
    /// Runs done.
    pub done: usize,
    /// Runs in all.
    pub total: usize,
    /// What runs now, e.g. `processes x4 on 3.11.7`.
    pub what: String,
}

/// What was measured.
#[derive(Debug)]
pub(crate) struct Measured {
    /// Rows in the order interpreter, range, road, workers (and chunk size).
    pub rows: Vec<PythonRow>,
    /// Range mode: each interpreter's baseline answer at each range (interpreter-major).
    pub answers: Vec<Option<BigInt>>,
    /// Map mode: how many items each interpreter's SOURCE gave.
    pub items: Vec<u64>,
}

/// One interpreter at one range (in map mode, over its items): a baseline and its cells.
struct Group {
    reference: Option<Answer>,
    /// Map mode's helper.
    helper: Option<Helper>,
}

struct Slot {
    /// The group: its baseline is its first slot.
    group: usize,
    cell: Cell,
    row: PythonRow,
}

/// Why `road` cannot run on `py` (with these settings), in words for a note; `None` where it
/// can.
fn left_out(road: Road, py: &Interpreter, settings: &PythonOptions) -> Option<&'static str> {
    match road {
        Road::Subinterpreters if py.subinterpreters.is_none() => {
            Some("no subinterpreters with their own GIL (CPython 3.12 or later has them)")
        }
        Road::ExecutorInterpreter
            if py.subinterpreters.as_deref() != Some("concurrent.interpreters") =>
        {
            Some("no InterpreterPoolExecutor (CPython 3.14 or later has it)")
        }
        Road::ExecutorProcess
            if settings.start.is_some()
                && super::code::version(&py.label).is_some_and(|v| v < (3, 7)) =>
        {
            Some(
                "executor:process is left out: ProcessPoolExecutor takes a start method \
                 (--start) from CPython 3.7 on",
            )
        }
        _ => None,
    }
}

/// Runs the measurement. `source` (SOURCE as the user wrote it) is given in map mode, whose
/// launches carry it.
pub(crate) fn measure(
    settings: &PythonOptions,
    pythons: &[Interpreter],
    launches: &[Launch],
    source: Option<&str>,
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(&PythonProgress),
) -> Result<Measured> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut counts = Vec::new();
    for (p, py) in pythons.iter().enumerate() {
        // Map mode: the helper loads the items once for every road of this interpreter.
        let mut helper = None;
        let mut items = None;
        let spans = match source {
            Some(shown) => {
                progress(&PythonProgress {
                    done: 0,
                    total: 0,
                    what: format!("loading the items on {}", py.label),
                });
                let mut h = Helper::start(&launches[p], shown.to_string())?;
                let forms = h.items()?;
                counts.push(forms.len() as u64);
                let span = Span::new(0, forms.len() as u64)?;
                items = Some(Arc::new(forms));
                helper = Some(h);
                vec![span]
            }
            None => settings.ranges.clone(),
        };
        for (k, &range) in spans.iter().enumerate() {
            let g = groups.len();
            groups.push(Group {
                reference: None,
                helper: if k == 0 { helper.take() } else { None },
            });
            let mut add = |road: Road, workers: usize, plan: Plan, chunksize: Option<u64>| {
                let mut cell = Cell::new(
                    road,
                    workers,
                    launches[p].clone(),
                    plan,
                    settings.timeout,
                    settings.retries,
                    items.clone(),
                );
                if road.is_executor() {
                    cell = cell.with_pool(settings.start, chunksize.unwrap_or(1));
                }
                slots.push(Slot {
                    group: g,
                    cell,
                    row: PythonRow::new(&py.label, range, road, workers, chunksize),
                });
            };
            // The chunk sizes of the parallel cells, by worker count.
            let sizes = |w: usize| -> Vec<u64> {
                match settings.chunksizes.as_slice() {
                    [] => vec![default_chunksize(range.len(), w)],
                    some => some.to_vec(),
                }
            };
            // The baseline maps every item in one part, as `[f(x) for x in items]` does: a
            // chunk costs a hand-out of its own (two lines to parlab), which only the parallel
            // roads must pay.
            let base_plan = match source {
                Some(_) => Plan::chunks(range, range.len().max(1)),
                None => settings.split.plan(range, 1),
            };
            add(Road::Sequential, 1, base_plan, None);
            for &road in &settings.roads {
                if let Some(why) = left_out(road, py, settings) {
                    if k == 0 {
                        notes.push(format!("{}: {why}", py.label));
                    }
                    continue;
                }
                for &w in &settings.workers {
                    match source {
                        // Their map takes one item a task whatever the chunk size: one row, its
                        // results reported in chunks of the default size.
                        Some(_) if road.is_executor() && road != Road::ExecutorProcess => {
                            let c = default_chunksize(range.len(), w);
                            add(road, w, Plan::chunks(range, c), Some(1));
                        }
                        Some(_) => {
                            for c in sizes(w) {
                                add(road, w, Plan::chunks(range, c), Some(c));
                            }
                        }
                        None => add(road, w, settings.split.plan(range, w), None),
                    }
                }
            }
        }
    }
    let rounds = settings.warmup + settings.runs;
    let total = slots.len() * (1 + rounds);
    let mut done = 0;
    for slot in &mut slots {
        progress(&PythonProgress {
            done,
            total,
            what: format!("starting {}", slot.row.name()),
        });
        match slot.cell.start() {
            Ok(t) => {
                slot.row.startup_s = Some(t.as_secs_f64());
                slot.row.start_method = slot.cell.start_method.clone();
            }
            Err(e) => fail(&mut slot.row, &mut slot.cell, e)?,
        }
        done += 1;
    }
    // The shared engine's rounds: every group's baseline is its first slot, one baseline run
    // a round (runs take seconds), the order turned in odd rounds; each run paired with its
    // group's baseline run of the same round.
    // Each group's slots, its baseline first.
    let members: Vec<Vec<usize>> = (0..groups.len())
        .map(|g| (0..slots.len()).filter(|&s| slots[s].group == g).collect())
        .collect();
    let bases: Vec<usize> = members.iter().map(|m| m[0]).collect();
    let pairing: Vec<Pairing> = slots
        .iter()
        .map(|slot| Pairing {
            baseline: bases[slot.group],
            workers: slot.row.workers,
            pinned: false,
        })
        .collect();
    let mut rounds_of = Measurement::new(
        pairing,
        None,
        settings.warmup,
        Some(Probe::new(&settings.workers)),
    );
    rounds_of.run(
        &mut Fixed {
            rounds: settings.runs,
        },
        &mut |_, slot, _| {
            let s = slot.row;
            done += 1;
            if slots[s].row.error.is_some() {
                return Ok(None);
            }
            progress(&PythonProgress {
                done,
                total,
                what: slots[s].row.name(),
            });
            let g = slots[s].group;
            let base = bases[g];
            let mine = &members[g];
            let group = &mut groups[g];
            let first = group.reference.is_none();
            let t = run_checked(&mut slots[s], group)?;
            if first && s == base && t.is_some() {
                first_baseline(settings, group, &mut slots, mine, t, notes)?;
            }
            // A failed baseline, or a changed answer, leaves nothing to compare with.
            if s == base && t.is_none() {
                for &k in &mine[1..] {
                    if slots[k].row.error.is_none() {
                        let why = "the sequential baseline failed, so nothing to check against";
                        slots[k].row.error = Some(why.to_string());
                        slots[k].row.failure = Some(Failure::Baseline);
                        slots[k].cell.stop();
                    }
                }
            }
            Ok(t.map(|wall_s| Timing {
                wall_s,
                cpu_s: slots[s].cell.last_cpu_s,
            }))
        },
    )?;
    for (s, slot) in slots.iter_mut().enumerate() {
        slot.row.samples = rounds_of.samples(s).to_vec();
    }
    for group in &mut groups {
        if let Some(h) = &mut group.helper {
            h.stop();
        }
    }
    // How each interpreter's process pool started its workers, once.
    let mut named: Vec<&str> = Vec::new();
    for slot in &slots {
        let row = &slot.row;
        if let Some(m) = &row.start_method
            && !named.contains(&row.python.as_str())
        {
            named.push(&row.python);
            notes.push(format!(
                "{}: executor:process starts its workers by {m}{}",
                row.python,
                match settings.start {
                    Some(_) => " (--start)".to_string(),
                    None => format!(", {}'s default (--start to choose)", row.python),
                }
            ));
        }
    }
    let mut rows = Vec::new();
    for mut slot in slots {
        slot.cell.stop();
        let left = slot.cell.left();
        if left > 0 {
            notes.push(format!(
                "{}: the function left {} running; {} killed when the row ended",
                slot.row.name(),
                super::processes(left),
                if left == 1 { "it was" } else { "they were" }
            ));
        }
        let row = &mut slot.row;
        row.runs = row.samples.len();
        if !row.samples.is_empty() {
            let f = Figures::of(&row.samples);
            row.median_s = Some(median(&row.times()));
            // The sequential baseline is judged against no ceiling.
            row.ceiling = f
                .ceiling
                .filter(|_| row.road != Road::Sequential)
                .map(|c| c.value);
            // Every run said, or the figure would stand on some runs only.
            row.cpus_busy = f.busy;
            // By the clock: a Python function may wait rather than compute.
            row.speedup = if row.road == Road::Sequential {
                Some(Estimate::exact(1.0))
            } else {
                f.speedup
            };
        }
        rows.push(slot.row);
    }
    let answers = groups
        .into_iter()
        .map(|g| match g.reference {
            Some(Answer::Int(a)) => Some(a),
            _ => None,
        })
        .collect();
    Ok(Measured {
        rows,
        answers,
        items: counts,
    })
}

/// Once a group's baseline has run once: the default limit for every run of the group, and in
/// map mode what the sequential results hold that `==` cannot compare, said in a note.
fn first_baseline(
    settings: &PythonOptions,
    group: &mut Group,
    slots: &mut [Slot],
    mine: &[usize],
    took: Option<f64>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let python = slots[mine[0]].row.python.clone();
    if let Some(t) = took.filter(|_| settings.default_limit) {
        let limit =
            Duration::from_secs_f64(t * f64::from(DEFAULT_LIMIT_TIMES)).max(DEFAULT_LIMIT_FLOOR);
        let why = format!(
            "the default limit ({DEFAULT_LIMIT_TIMES}x the sequential run of {}, at least {}; \
             --timeout sets a limit per part instead, --timeout none turns it off)",
            seconds(t),
            seconds(DEFAULT_LIMIT_FLOOR.as_secs_f64())
        );
        for &s in mine {
            slots[s].cell.limit_runs(RunLimit {
                limit,
                why: why.clone(),
            });
        }
    }
    if let (Some(Answer::Forms(reference)), Some(helper)) = (&group.reference, &mut group.helper) {
        let n = reference.len();
        let seen = helper.self_check(reference)?;
        if seen.unequal > 0 {
            notes.push(format!(
                "{python}: {} of {n} results are unequal to a copy of themselves ({}: NaN, or a \
                 type without ==); they are compared by their pickled bytes, else their repr",
                seen.unequal,
                seen.first_unequal.unwrap_or_default()
            ));
        }
        if seen.unpicklable > 0 {
            notes.push(format!(
                "{python}: {} of {n} results cannot be pickled ({}): the sequential and threads \
                 rows are compared by their repr, and processes and subinterpreters cannot send \
                 them",
                seen.unpicklable,
                seen.first_unpicklable.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Runs one round of `slot`, checks its answer against its group's reference (setting it on
/// the first answer) and returns its seconds; `None` when it failed (the row keeps why). Only
/// an interruption is an error.
fn run_checked(slot: &mut Slot, group: &mut Group) -> Result<Option<f64>> {
    let (answer, took) = match slot.cell.round() {
        Ok(done) => done,
        Err(e) => {
            fail(&mut slot.row, &mut slot.cell, e)?;
            return Ok(None);
        }
    };
    let what = || {
        if slot.row.road == Road::Sequential {
            "the sequential run (the answer changed between runs)".to_string()
        } else {
            slot.row.name()
        }
    };
    // The error, and the first item that differs (map mode).
    let wrong = match (&group.reference, &answer) {
        (None, _) => None,
        (Some(Answer::Int(r)), Answer::Int(a)) if r == a => None,
        (Some(Answer::Int(r)), Answer::Int(a)) => Some((
            Error::WrongAnswer {
                what: what(),
                got: a.to_string(),
                expected: r.to_string(),
            },
            None,
        )),
        (Some(Answer::Forms(r)), Answer::Forms(a)) => {
            let helper = group.helper.as_mut().expect("map mode has a helper");
            match compare(helper, r, a) {
                Ok(None) => None,
                Ok(Some((item, got, expected))) => Some((
                    Error::WrongAnswer {
                        what: format!("{}, item {item}", what()),
                        got,
                        expected,
                    },
                    Some(item),
                )),
                Err(e) => Some((e, None)),
            }
        }
        _ => Some((
            Error::WrongAnswer {
                what: what(),
                got: "an answer of another kind".to_string(),
                expected: "the sequential one's kind".to_string(),
            },
            None,
        )),
    };
    if let Some((e, item)) = wrong {
        let differs = matches!(e, Error::WrongAnswer { .. });
        fail(&mut slot.row, &mut slot.cell, e)?;
        if differs {
            slot.row.failure = Some(Failure::Differs { item });
        }
        return Ok(None);
    }
    slot.row.result = match &answer {
        Answer::Int(a) => Some(a.to_string()),
        Answer::Forms(_) => None,
    };
    if group.reference.is_none() {
        group.reference = Some(answer);
    }
    Ok(Some(took.as_secs_f64()))
}

/// The first item whose result differs, with both values' reprs, where any does.
fn compare(
    helper: &mut Helper,
    reference: &Forms,
    other: &Forms,
) -> Result<Option<(u64, String, String)>> {
    if reference.len() != other.len() {
        return Ok(Some((
            reference.len().min(other.len()) as u64,
            format!("{} results", other.len()),
            format!("{}", reference.len()),
        )));
    }
    Ok(helper
        .compare(reference, other)?
        .map(|d| (d.item, d.got, d.expected)))
}

/// Records `e` as the row's failure and stops its workers; an interruption is passed on.
fn fail(row: &mut PythonRow, cell: &mut Cell, e: Error) -> Result<()> {
    if e.interrupted_by().is_some() {
        return Err(e); // the workers are killed as the cells are dropped
    }
    row.failure = Some(match &e {
        Error::WrongAnswer { .. } => Failure::Differs { item: None },
        Error::Worker {
            cause: WorkerCause::TimedOut(limit),
            ..
        } => Failure::TimedOut {
            limit: format!("the timeout of {limit:?}"),
            default: false,
        },
        _ if cell.limited => Failure::TimedOut {
            limit: "the default limit".to_string(),
            default: true,
        },
        _ => match &cell.last_fault {
            Some(f) => match &f.cross {
                Some(kind) => Failure::CannotCross { kind: kind.clone() },
                None => Failure::Raised {
                    kind: f.kind.clone(),
                    message: f.message.clone(),
                },
            },
            None => Failure::Crashed,
        },
    });
    cell.stop();
    row.error = Some(format!("{}: {e}", row.name()));
    Ok(())
}
