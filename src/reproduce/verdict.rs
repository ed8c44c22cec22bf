//! Verdicts: the plain-words conclusions under each table, drawn from its typed rows.
//!
//! Pure functions of the rows and the settings in force, so that every sentence can be checked
//! on hand-made rows. A sentence appears only when every row it speaks of is there.
//!
//! The words come from each row's interval, never from its point value ([`Pace::of`]):
//! "faster" only when the whole interval lies above 1, "slower" only when it lies below 1 by
//! more than the margin (below), "no faster" when it holds 1; and when it holds 1 but reaches
//! far enough above it that a real gain could hide in it, the sentence says that noise hides
//! the answer, and names the noise seen: how far the machine's ceiling moved, how long the
//! one-thread runs took.
//!
//! One margin stands beside that rule: an interval lying wholly within [`EQUAL_WITHIN`] (5%) of
//! 1 is "no faster" even when it leaves 1 out. Two runs of the same job on this kind of machine
//! differ by more than that from one minute to the next, a lock-bound model runs at 0.97x or
//! 1.03x of one thread as the noise falls, and no one parallelises work for 3%: a row at 1.0
//! should say so every time, not "faster" in one run and "slower" in the next. For the same
//! reason "slower" needs the whole interval more than the margin below 1 (under 1/1.05): an
//! interval below 1 that reaches within the margin (0.77-0.97x) shows a row no faster, and
//! perhaps slower by less than anyone would notice; the sentence says both. The words answer
//! whether splitting the job pays: "faster", or not ("no faster"), and "slower" when the loss
//! is larger than the machine's margin.
//!
//! A row is [`decided`] when more rounds would not change its words much: its interval lies
//! above 1, or more than the margin below it, or within the margin, or holds 1 (or reaches
//! within the margin from below) and is narrow. `rounds` runs more rounds for the rows that
//! are not.

use std::time::Duration;

use super::fidelity::{Fidelity, Judgement};
use super::row::{Comparison, Metric, Row, Spread, Variant, Who};
use crate::backend::BackendKind;
use crate::stats::{Estimate, Side};
use crate::units::seconds;

/// An interval that holds 1 but reaches above this could hide a real gain: noise hides the
/// answer rather than showing "no faster".
pub const HIDDEN_ABOVE: f64 = 1.25;

/// An interval lying wholly within this share of 1 (from 1/1.05 to 1.05) is "no faster", even
/// when it leaves 1 out: the margin of practical equivalence.
pub const EQUAL_WITHIN: f64 = 0.05;

/// An interval that holds 1 and is no wider than this share of its value either side is
/// decided: more rounds would not move it off "no faster" by much.
pub const NARROW: f64 = 0.05;

/// Whether `speedup`'s interval lies wholly within [`EQUAL_WITHIN`] of 1.
pub fn within_margin(speedup: &Estimate) -> bool {
    speedup.low >= 1.0 / (1.0 + EQUAL_WITHIN) && speedup.high <= 1.0 + EQUAL_WITHIN
}

/// Whether a row's words are settled: its pace is faster or slower, or no faster within the
/// margin or by a narrow interval (one that holds 1, or lies below 1 and reaches within the
/// margin). A row the noise hides is not.
pub fn decided(spread: &Spread) -> bool {
    let e = spread.judged();
    match Pace::of_spread(spread) {
        Pace::Faster | Pace::Slower => true,
        Pace::NoFaster => within_margin(&e) || e.relative_half_width() <= NARROW,
        Pace::Hidden => false,
    }
}

/// What a speedup's interval says against 1 (the pace of one thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// The whole interval lies above 1, and not within [`EQUAL_WITHIN`] of it.
    Faster,
    /// The interval holds 1, and reaches no higher than [`HIDDEN_ABOVE`]; or it lies wholly
    /// within [`EQUAL_WITHIN`] of 1; or it lies below 1 but reaches within [`EQUAL_WITHIN`] of
    /// it (slower, perhaps by less than the margin: not a loss this machine reproduces).
    NoFaster,
    /// The whole interval lies more than [`EQUAL_WITHIN`] below 1 (under 1/1.05).
    Slower,
    /// The interval holds 1 and reaches above [`HIDDEN_ABOVE`]: noise hides the answer.
    Hidden,
}

impl Pace {
    /// The pace `speedup`'s interval shows.
    pub fn of(speedup: &Estimate) -> Pace {
        if within_margin(speedup) {
            return Pace::NoFaster;
        }
        match speedup.side_of(1.0) {
            Side::Above => Pace::Faster,
            Side::Below if speedup.high < 1.0 / (1.0 + EQUAL_WITHIN) => Pace::Slower,
            Side::Below => Pace::NoFaster,
            Side::Holds if speedup.high > HIDDEN_ABOVE => Pace::Hidden,
            Side::Holds => Pace::NoFaster,
        }
    }

    /// The pace a measured row shows: as [`Pace::of`] its speedup at equal CPU speed (where
    /// the CPU times were counted: [`Spread::judged`]), except that a speedup whose whole
    /// interval lies above the machine's ceiling's is an artefact of the measurement (the
    /// one-thread runs met a slower moment than the row's), never "faster": noise hides the
    /// answer.
    pub fn of_spread(spread: &Spread) -> Pace {
        let e = spread.judged();
        match (Pace::of(&e), spread.ceiling) {
            (Pace::Faster, Some(c)) if e.low > c.high => Pace::Hidden,
            (pace, _) => pace,
        }
    }

    /// The verdict's word: "faster", "no faster", "slower", "noise hides it".
    pub fn word(self) -> &'static str {
        match self {
            Pace::Faster => "faster",
            Pace::NoFaster => "no faster",
            Pace::Slower => "slower",
            Pace::Hidden => "noise hides it",
        }
    }
}

/// Whether the clock's speedup alone gives other words than the speedup at equal CPU speed:
/// the row's runs met faster CPUs than its one-thread runs, by enough to change the verdict.
pub fn clock_misleads(spread: &Spread) -> bool {
    let clock = Spread {
        at_equal_speed: None,
        ..*spread
    };
    spread.at_equal_speed.is_some() && Pace::of_spread(&clock) != Pace::of_spread(spread)
}

/// `row`'s pace against one thread, to stand between "ran" and "1 thread": "faster (1.92x,
/// 1.85-1.97x) than", "no faster (...) than" ("no faster (1.03x, 1.01-1.04x: less than 5%
/// apart) than" when the margin decides it), "slower (...) than", or "at a pace the noise
/// hides (0.95-1.60x; the ceiling moved between 1.40x and 2.00x, one thread took 170 ms to
/// 340 ms) beside".
///
/// Where the clock's speedup alone would have given other words than the speedup at equal CPU
/// speed, both are shown: "no faster (1.29x, 1.10-1.40x by the clock; 1.01x, 0.98-1.03x at
/// equal CPU speed, 1.00 CPUs busy) than".
pub fn pace(row: &Row) -> String {
    let Some(e) = row.judged_estimate() else {
        return "at an unmeasured pace beside".into();
    };
    let words = |e: Estimate| ratio_words(e.value, [e.low, e.high]);
    let mut figures = words(e);
    let pace = row.spread.as_ref().map_or(Pace::of(&e), Pace::of_spread);
    if let Some(s) = row.spread.filter(clock_misleads) {
        figures = format!(
            "{} by the clock; {figures} at equal CPU speed{}",
            words(s.speedup),
            s.cpus
                .map_or(String::new(), |c| format!(", {:.2} CPUs busy", c.value))
        );
    }
    match pace {
        Pace::Hidden => format!(
            "at a pace the noise hides ({:.2}-{:.2}x; {}) beside",
            e.low,
            e.high,
            noise(row)
        ),
        Pace::NoFaster if within_margin(&e) && e.side_of(1.0) != Side::Holds => format!(
            "no faster ({figures}: less than {:.0}% apart) than",
            EQUAL_WITHIN * 100.0
        ),
        Pace::NoFaster if e.side_of(1.0) == Side::Below => format!(
            "no faster ({figures}: slower, but perhaps by less than {:.0}%) than",
            EQUAL_WITHIN * 100.0
        ),
        _ => format!("{} ({figures}) than", pace.word()),
    }
}

/// The noise seen around `row`: how far the machine's ceiling moved in its rounds, and how
/// long its family's one-thread runs took.
fn noise(row: &Row) -> String {
    let Some(s) = row.spread else {
        return "one run each".into();
    };
    let (a, b) = s.base_seen;
    let base = format!("one thread took {} to {}", seconds(a), seconds(b));
    match s.ceiling_seen {
        Some((lo, hi)) => format!("the ceiling moved between {lo:.2}x and {hi:.2}x, {base}"),
        None => base,
    }
}

/// ", 0.95 (0.90-1.00) of the machine's ceiling of 1.98x": the share of what the machine
/// allowed that `row` reached, when it was measured.
fn of_ceiling(row: &Row) -> String {
    let Some((share, ceiling)) = row.spread.and_then(|s| s.vs_ceiling.zip(s.ceiling)) else {
        return String::new();
    };
    format!(
        ", {:.2} ({:.2}-{:.2}) of the machine's ceiling of {:.2}x",
        share.value, share.low, share.high, ceiling.value
    )
}

/// The rows named by `wanted`, when every one of them is there with a speedup.
fn speeds<'a, const N: usize>(
    rows: &'a [Row],
    wanted: [(&Who, Variant); N],
) -> Option<[&'a Row; N]> {
    let mut out = Vec::with_capacity(N);
    for (who, variant) in wanted {
        let row = rows
            .iter()
            .find(|r| r.who == *who && r.variant == variant && r.judged_estimate().is_some())?;
        out.push(row);
    }
    out.try_into().ok()
}

/// Every CPython that ran rows, in the rows' order.
fn cpythons(rows: &[Row]) -> Vec<&Who> {
    let mut out: Vec<&Who> = Vec::new();
    for w in rows.iter().map(|r| &r.who) {
        if matches!(w, Who::CPython { .. }) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The first CPython that ran rows, if one did.
fn cpython(rows: &[Row]) -> Option<&Who> {
    cpythons(rows).into_iter().next()
}

const S2: Variant = Variant::Subinterpreters(2);

/// What one interpreter's rows say: threads against processes, and subinterpreters where
/// they ran.
fn cpython_sentence(rows: &[Row], py: &Who) -> Option<String> {
    let Who::CPython { version } = py else {
        return None;
    };
    let [t2, t4, p2] = speeds(rows, [(py, T2), (py, T4), (py, P2)])?;
    let free_threaded = version.ends_with('t');
    let mut s = if free_threaded {
        format!(
            "On {version} (free-threaded, no GIL): 2 threads ran {} 1 thread and 4 threads {} \
             1 thread: with the GIL gone, CPU-bound threads run in parallel. 2 processes ran {} \
             1 thread.",
            pace(t2),
            pace(t4),
            pace(p2)
        )
    } else {
        format!(
            "On {version}: 2 threads ran {} 1 thread and 4 threads {} 1 thread: the GIL lets \
             only one thread run Python code at a time, so CPU-bound threads take turns \
             instead of running in parallel. 2 processes ran {} 1 thread: each has its own \
             interpreter and its own GIL.",
            pace(t2),
            pace(t4),
            pace(p2)
        )
    };
    if let Some([s2]) = speeds(rows, [(py, S2)]) {
        s.push_str(&format!(
            " Two subinterpreters ran {} 1 thread: each has its own GIL, in one process.",
            pace(s2)
        ));
    }
    Some(s)
}

const T2: Variant = Variant::Threads(2);
const T4: Variant = Variant::Threads(4);
const P2: Variant = Variant::Processes(2);

/// Conclusions of the CPU-bound section, on a machine of `cpus` CPUs with `gil-legacy`
/// releasing the lock every `check_interval` ticks.
pub fn cpu(rows: &[Row], cpus: usize, check_interval: u32) -> Vec<String> {
    let mut v = Vec::new();
    for py in cpythons(rows) {
        v.extend(cpython_sentence(rows, py));
    }
    let gil = &Who::Parlab(BackendKind::Gil);
    if let Some([g2, g4]) = speeds(rows, [(gil, T2), (gil, T4)]) {
        v.push(format!(
            "parlab's model of CPython 3's GIL, running Rust code: 2 threads ran {} 1 thread and \
             4 threads {} 1 thread. The lock alone, with no interpreter around it, is enough to \
             stop threads from scaling.",
            pace(g2),
            pace(g4)
        ));
    }
    let legacy = &Who::Parlab(BackendKind::GilLegacy);
    if let Some([l2, l4]) = speeds(rows, [(legacy, T2), (legacy, T4)]) {
        v.push(format!(
            "Python 2's GIL (released and re-taken every {check_interval} ticks, no hand-off): \
             2 threads ran {} 1 thread and 4 threads {} 1 thread; the releasing thread nearly \
             always wins the lock back, and the others are woken again and again for nothing.",
            pace(l2),
            pace(l4)
        ));
    }
    let threads = &Who::Parlab(BackendKind::Threads);
    let processes = &Who::Parlab(BackendKind::Processes);
    if let Some([t2, t4, p2]) = speeds(rows, [(threads, T2), (threads, T4), (processes, P2)]) {
        v.push(format!(
            "Without a GIL, parlab's threads scale with the cores: on this {cpus}-CPU machine 2 \
             threads ran {} 1 thread{} and 4 threads {} 1 thread; 2 worker processes ran {} 1 \
             thread, their start-up included.",
            pace(t2),
            of_ceiling(t2),
            pace(t4),
            pace(p2)
        ));
    }
    if rows
        .iter()
        .any(|r| r.spread.is_some_and(|s| clock_misleads(&s)))
    {
        v.push(
            "At equal CPU speed: where a row's runs did the one-thread runs' work in less CPU \
             time, its CPUs ran faster than theirs (on a shared VM one vCPU can run slower than \
             the other), and its speedup is divided by that much; it then never exceeds the CPUs \
             it kept busy."
                .into(),
        );
    }
    v
}

/// Conclusion of the I/O-bound section.
pub fn io(rows: &[Row]) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(py) = cpython(rows)
        && let Some([s]) = speeds(rows, [(py, T4)])
    {
        parts.push(format!("CPython's 4 threads ran {} 1 thread", pace(s)));
    }
    if let Some([s]) = speeds(rows, [(&Who::Parlab(BackendKind::Gil), T4)]) {
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

/// A ratio and its interval: "1.18x, 1.05-1.30x", or "1.18x" when it is exact.
fn ratio_words(value: f64, [low, high]: [f64; 2]) -> String {
    if low == high {
        format!("{value:.2}x")
    } else {
        format!("{value:.2}x, {low:.2}-{high:.2}x")
    }
}

/// Conclusions of the fidelity section: which measures each model meets, which it misses, and
/// which the rounds cannot tell (the ratio's interval straddles an edge of the target).
pub fn fidelity(lines: &[Fidelity]) -> Vec<String> {
    let mut v = Vec::new();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for f in lines {
        if !pairs.contains(&(f.model.as_str(), f.python.as_str())) {
            pairs.push((&f.model, &f.python));
        }
    }
    for (model, python) in pairs {
        let of: Vec<&Fidelity> = lines
            .iter()
            .filter(|f| f.model == model && f.python == python)
            .collect();
        let listed = |j: Judgement| -> Vec<String> {
            of.iter()
                .filter(|f| f.judgement == j)
                .map(|f| format!("{} ({})", f.measure, ratio_words(f.ratio, f.ratio_interval)))
                .collect()
        };
        let (misses, unsure) = (listed(Judgement::Outside), listed(Judgement::CannotTell));
        let meets = of.len() - misses.len() - unsure.len();
        let mut s = if misses.is_empty() && unsure.is_empty() {
            format!(
                "The {model} model meets {python} on all {} measures",
                of.len()
            )
        } else {
            format!(
                "The {model} model meets {python} on {meets} of {} measures",
                of.len()
            )
        };
        if !misses.is_empty() {
            s.push_str(&format!("; it misses {}", misses.join(", ")));
        }
        if !unsure.is_empty() {
            s.push_str(&format!(
                "; the rounds cannot tell on {} (the interval straddles the target)",
                unsure.join(", ")
            ));
        }
        s.push('.');
        v.push(s);
    }
    v
}

/// A figure and its interval in words: "61x (40-80x)", or "61x" when exact.
fn fall_words(e: &Estimate) -> String {
    if e.low == e.high || !e.high.is_finite() {
        format!("{:.0}x", e.value)
    } else {
        format!("{:.0}x ({:.0}-{:.0}x)", e.value, e.low, e.high)
    }
}

/// Conclusions of the GIL section, the model having run at switch interval `interval`.
pub fn inside(comparisons: &[Comparison], interval: Duration) -> Vec<String> {
    let mut v = vec![format!(
        "With two CPU-bound threads, a thread keeps the GIL for about one switch interval ({} ms) \
         per turn: the waiting thread asks for it only after waiting that long.",
        interval.as_secs_f64() * 1e3
    )];
    let find = |m: Metric| comparisons.iter().find(|c| c.metric == m);
    if let Some(fall) = find(Metric::ConvoyFall) {
        // Each round's fall, the median over the rounds: the figure the fidelity table judges.
        let mut s = format!(
            "The convoy effect: a thread doing short blocking calls must take the GIL back after \
             each one, and beside a CPU-bound thread it often waits for it. In the model its rate \
             falls {}",
            fall_words(&fall.parlab)
        );
        if let Some(py) = fall.cpython {
            s.push_str(&format!(", in CPython {}", fall_words(&py)));
        }
        s.push('.');
        v.push(s);
    }
    v
}

#[cfg(test)]
mod tests;
