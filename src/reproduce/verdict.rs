//! Verdicts: the plain-words conclusions under each table, drawn from its typed rows.
//!
//! Pure functions of the rows and the settings in force, so that every sentence can be checked
//! on hand-made rows. A sentence appears only when every row it speaks of is there.
//!
//! Every word comes from [the judge](crate::measure::judge()), never from a row's point value:
//! faster, no faster, slower, noise hides it, or an artefact, with the one margin of 5%; and
//! every claim a sentence makes beyond its figures (that the GIL stops threads from scaling,
//! that threads without one scale with the cores, that threads help for I/O) is chosen by the
//! verdicts it stands on, so no sentence says what its own figures contradict. Where noise
//! hides the answer, the sentence names the noise seen: how far the machine's ceiling moved,
//! how long the one-thread runs took.
//!
//! A row is settled ([`crate::measure::judge::settled`]) when more rounds would not change its
//! words much; `rounds` runs more rounds for the rows that are not.

use std::time::Duration;

use super::fidelity::{Fidelity, Judgement};
use super::row::{GilComparison, Metric, ReproduceRow, Spread, Variant, Who};
use crate::backend::BackendKind;
use crate::measure::judge::{self, Exceeded, Verdict, no_faster_because};
use crate::measure::stall::{Stall, stall};
use crate::stats::Estimate;
use crate::units::seconds;

/// Whether a row's words are settled: more rounds would not change them much.
pub fn decided(spread: &Spread) -> bool {
    judge::settled(&spread.judged(), spread.bounds())
}

/// Whether the clock's speedup alone gives other words than the speedup at equal CPU speed:
/// the row's runs met faster CPUs than its one-thread runs, by enough to change the verdict.
pub fn clock_misleads(spread: &Spread) -> bool {
    let clock = Spread {
        at_equal_speed: None,
        ..*spread
    };
    spread.at_equal_speed.is_some() && clock.verdict() != spread.verdict()
}

/// What `row` ran against `base` (e.g. "1 thread"), after the word "ran": "faster than 1
/// thread, at 1.92x (1.85-1.97)"; "no faster than 1 thread, at 1.03x (1.01-1.04): less than 5%
/// apart"; "slower than 1 thread, at 0.50x (0.45-0.55)"; "beside 1 thread at a pace the noise
/// hides, 1.10x (0.95-1.60): the ceiling moved between 1.40x and 2.00x, one thread took 170 ms
/// to 340 ms"; or, for a speedup the machine could not give, "faster than the machine allowed
/// beside 1 thread, at 2.40x (2.30-2.50), above its ceiling of 1.90x (1.80-2.00): an artefact
/// (the one-thread runs met a slower moment), not a finding".
///
/// Where the clock's speedup alone would have given other words than the speedup at equal CPU
/// speed, both are shown: "no faster than 1 thread, at 1.01x (0.98-1.03) at equal CPU speed with
/// 1.00 CPUs busy; 1.29x (1.10-1.40) by the clock".
pub fn ran(row: &ReproduceRow, base: &str) -> String {
    let Some(e) = row.judged_estimate() else {
        return format!("beside {base} at an unmeasured pace");
    };
    let mut figures = e.ratio();
    if let Some(s) = row.spread.filter(clock_misleads) {
        figures = format!(
            "{figures} at equal CPU speed{}; {} by the clock",
            s.cpus
                .map_or(String::new(), |c| format!(" with {:.2} CPUs busy", c.value)),
            s.speedup.ratio()
        );
    }
    let verdict = row.verdict().unwrap_or(Verdict::NoFaster);
    match verdict {
        Verdict::Faster | Verdict::Slower => {
            format!("{} than {base}, at {figures}", verdict.word())
        }
        Verdict::NoFaster => match no_faster_because(&e) {
            Some(why) => format!("no faster than {base}, at {figures}: {why}"),
            None => format!("no faster than {base}, at {figures}"),
        },
        Verdict::Hidden => format!(
            "beside {base} at a pace the noise hides, {figures}: {}",
            noise(row)
        ),
        Verdict::Artefact => format!(
            "faster than the machine allowed beside {base}, at {figures}{}: an artefact (the \
             one-thread runs met a slower moment), not a finding",
            row.spread
                .and_then(|s| judge::exceeds(&e, s.bounds()))
                .map_or(String::new(), |bound| match bound {
                    Exceeded::Ceiling(c) => format!(", above its ceiling of {}", c.ratio()),
                    other => format!(", above {}", other.words()),
                })
        ),
    }
}

/// True when `row` was measured faster than its base: the one verdict that supports a claim
/// that it scales.
fn faster(row: &ReproduceRow) -> bool {
    row.verdict().is_some_and(Verdict::is_gain)
}

/// The noise seen around `row`: how far the machine's ceiling moved in its rounds, and how
/// long its family's one-thread runs took.
fn noise(row: &ReproduceRow) -> String {
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

/// " (0.95 (0.90-1.00) of the machine's ceiling of 1.98x (1.90-2.00))": the share of what the
/// machine allowed that `row` reached, when it was measured.
fn of_ceiling(row: &ReproduceRow) -> String {
    let Some((share, ceiling)) = row.spread.and_then(|s| s.vs_ceiling.zip(s.ceiling)) else {
        return String::new();
    };
    format!(
        ", {} of the machine's ceiling of {}",
        share.figure(2, ""),
        ceiling.ratio()
    )
}

/// The rows named by `wanted`, when every one of them is there with a speedup.
fn speeds<'a, const N: usize>(
    rows: &'a [ReproduceRow],
    wanted: [(&Who, Variant); N],
) -> Option<[&'a ReproduceRow; N]> {
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
fn cpythons(rows: &[ReproduceRow]) -> Vec<&Who> {
    let mut out: Vec<&Who> = Vec::new();
    for w in rows.iter().map(|r| &r.who) {
        if matches!(w, Who::CPython { .. }) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The first CPython that ran rows, if one did.
fn cpython(rows: &[ReproduceRow]) -> Option<&Who> {
    cpythons(rows).into_iter().next()
}

const S2: Variant = Variant::Subinterpreters(2);

/// What held a row of threads back, from the CPUs it kept busy ([`stall`]), on a machine of
/// `cpus` CPUs, `loaded` with other work as the run began or not.
fn stalled(row: &ReproduceRow, cpus: usize, loaded: bool) -> Option<Stall> {
    let s = row.spread?;
    stall(
        s.judged(),
        s.cpus?,
        row.variant.workers(),
        cpus,
        s.ceiling,
        loaded,
    )
}

/// What one interpreter's rows say: threads against processes, and subinterpreters where
/// they ran. What the sentence says of the GIL follows from the threads' verdicts: that the
/// GIL makes CPU-bound threads take turns only when neither thread row was faster; that
/// threads run in parallel without it only when both were. Where threads did not scale, the
/// CPUs they kept busy say why ([`stall`]): about one, a lock; all of them, contention.
fn cpython_sentence(rows: &[ReproduceRow], py: &Who, cpus: usize, loaded: bool) -> Option<String> {
    let Who::CPython { version } = py else {
        return None;
    };
    let [t2, t4] = speeds(rows, [(py, T2), (py, T4)])?;
    let p2 = speeds(rows, [(py, P2)]).map(|[p]| p);
    let free_threaded = version.ends_with('t');
    let threads = format!(
        "2 threads ran {}; 4 threads ran {}",
        ran(t2, "1 thread"),
        ran(t4, "1 thread")
    );
    let stall = match stalled(t2, cpus, loaded) {
        Some(s) => Some((2, s)),
        None => stalled(t4, cpus, loaded).map(|s| (4, s)),
    };
    let why = match (free_threaded, faster(t2), faster(t4), stall) {
        (true, true, true, None) => "with the GIL gone, CPU-bound threads run in parallel.".into(),
        (true, true, true, Some((at, s))) => format!(
            "with the GIL gone, CPU-bound threads run in parallel, but not in full here: at {at} \
             threads {}.",
            s.words("a lock of their own")
        ),
        (true, _, _, Some((at, s))) => format!(
            "the build has no GIL, yet its threads did not all run faster: at {at} threads {}.",
            s.words("a lock of their own")
        ),
        (true, _, _, None) => "the build has no GIL, yet its threads did not all run faster: \
                               something else held them back (a lock of their own, shared \
                               state, or a busy machine)."
            .into(),
        (false, false, false, s) => {
            let mut w = "the GIL lets only one thread run Python code at a time, so CPU-bound \
                         threads take turns instead of running in parallel"
                .to_string();
            if let Some((at, s)) = s {
                w.push_str(&format!(" (at {at} threads {})", s.words("the GIL")));
            }
            w.push('.');
            w
        }
        (false, _, _, _) => "threads under a GIL were faster here, which CPU-bound Python code \
                             under one lock should not be: read the CPUs column (a row that \
                             kept one CPU busy ran faster CPUs, not in parallel)."
            .into(),
    };
    let Some(p2) = p2 else {
        return Some(format!("On {}: {threads}: {why}", label(version)));
    };
    let processes = if faster(p2) {
        format!(
            "2 processes ran {}: each has its own interpreter and its own GIL.",
            ran(p2, "1 thread")
        )
    } else {
        format!("2 processes ran {}.", ran(p2, "1 thread"))
    };
    let mut s = format!("On {}: {threads}: {why} {processes}", label(version));
    if let Some([s2]) = speeds(rows, [(py, S2)]) {
        if faster(s2) {
            s.push_str(&format!(
                " Two subinterpreters ran {}: each has its own GIL, in one process.",
                ran(s2, "1 thread")
            ));
        } else {
            s.push_str(&format!(
                " Two subinterpreters ran {}.",
                ran(s2, "1 thread")
            ));
        }
    }
    Some(s)
}

/// Each free-threaded build beside the GIL build of the same version (its twin): what one
/// thread costs without the GIL, "3.13.5t's one thread took 1.38x the time of 3.13.5's (median
/// runs 172 ms against 125 ms; runs of 170-180 ms and 123-130 ms)".
fn single_thread_costs(rows: &[ReproduceRow]) -> Vec<String> {
    const T1: Variant = Variant::Threads(1);
    let one = |version: &str| {
        let who = Who::CPython {
            version: version.to_string(),
        };
        let wall = rows
            .iter()
            .find(|r| r.who == who && r.variant == T1)?
            .wall_s?;
        let seen = rows
            .iter()
            .find(|r| r.who == who && r.spread.is_some())
            .and_then(|r| r.spread)
            .map(|s| s.base_seen);
        Some((wall, seen))
    };
    let mut out = Vec::new();
    for py in cpythons(rows) {
        let Who::CPython { version } = py else {
            continue;
        };
        let Some(twin) = version.strip_suffix('t') else {
            continue;
        };
        let (Some((ft, ft_seen)), Some((gil, gil_seen))) = (one(version), one(twin)) else {
            continue;
        };
        if gil <= 0.0 {
            continue;
        }
        let ranges = match (ft_seen, gil_seen) {
            (Some((a, b)), Some((c, d))) => format!(
                "; runs of {}-{} and {}-{}",
                seconds(a),
                seconds(b),
                seconds(c),
                seconds(d)
            ),
            _ => String::new(),
        };
        out.push(format!(
            "The free-threaded build's own cost: {version}'s one thread took {:.2}x the time of \
             {twin}'s, the GIL build of the same source (median runs {} against {}{ranges}).",
            ft / gil,
            seconds(ft),
            seconds(gil)
        ));
    }
    out
}

/// An interpreter as the sentences name it: `3.13.5t (free-threaded, no GIL)` for a
/// free-threaded build running without its GIL.
fn label(version: &str) -> String {
    if version.ends_with('t') {
        format!("{version} (free-threaded, no GIL)")
    } else {
        version.to_string()
    }
}

const T2: Variant = Variant::Threads(2);
const T4: Variant = Variant::Threads(4);
const P2: Variant = Variant::Processes(2);

/// Conclusions of the CPU-bound section, on a machine of `cpus` CPUs with `gil-legacy`
/// releasing the lock every `check_interval` ticks, `loaded` with other work as the run began
/// ([`crate::measure::busy`]) or not.
pub fn cpu(rows: &[ReproduceRow], cpus: usize, check_interval: u32, loaded: bool) -> Vec<String> {
    let mut v = Vec::new();
    for py in cpythons(rows) {
        v.extend(cpython_sentence(rows, py, cpus, loaded));
    }
    v.extend(single_thread_costs(rows));
    let lock_bound = |a: &ReproduceRow, b: &ReproduceRow, claim: &str| {
        if faster(a) || faster(b) {
            " A lock that lets one thread run at a time should not give that: read the CPUs \
             column (a row that kept one CPU busy ran on faster CPUs, not in parallel)."
                .to_string()
        } else {
            format!(" {claim}")
        }
    };
    let gil = &Who::Parlab(BackendKind::Gil);
    if let Some([g2, g4]) = speeds(rows, [(gil, T2), (gil, T4)]) {
        v.push(format!(
            "parlab's model of CPython 3's GIL, running Rust code: 2 threads ran {}; 4 threads \
             ran {}.{}",
            ran(g2, "1 thread"),
            ran(g4, "1 thread"),
            lock_bound(
                g2,
                g4,
                "The lock alone, with no interpreter around it, is enough to stop threads from \
                 scaling."
            )
        ));
    }
    let legacy = &Who::Parlab(BackendKind::GilLegacy);
    if let Some([l2, l4]) = speeds(rows, [(legacy, T2), (legacy, T4)]) {
        v.push(format!(
            "Python 2's GIL (released and re-taken every {check_interval} ticks, no hand-off): \
             2 threads ran {}; 4 threads ran {}.{}",
            ran(l2, "1 thread"),
            ran(l4, "1 thread"),
            lock_bound(
                l2,
                l4,
                "The releasing thread nearly always wins the lock back, and the others are \
                 woken again and again for nothing."
            )
        ));
    }
    let threads = &Who::Parlab(BackendKind::Threads);
    let processes = &Who::Parlab(BackendKind::Processes);
    if let Some([t2, t4, p2]) = speeds(rows, [(threads, T2), (threads, T4), (processes, P2)]) {
        let lead = if faster(t2) {
            format!(
                "Without a GIL, parlab's threads scale with the cores on this {cpus}-CPU machine"
            )
        } else {
            format!(
                "parlab's threads have no GIL, yet on this {cpus}-CPU machine they did not \
                 scale in this run (a busy machine, or CPUs lent to other work)"
            )
        };
        v.push(format!(
            "{lead}: 2 threads ran {}{}; 4 threads ran {}; 2 worker processes ran {}, their \
             start-up included.",
            ran(t2, "1 thread"),
            of_ceiling(t2),
            ran(t4, "1 thread"),
            ran(p2, "1 thread")
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

/// Conclusion of the I/O-bound section: that threads help for I/O only when a row of them was
/// faster.
pub fn io(rows: &[ReproduceRow]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut any_faster = false;
    if let Some(py) = cpython(rows)
        && let Some([s]) = speeds(rows, [(py, T4)])
    {
        any_faster |= faster(s);
        parts.push(format!("CPython's 4 threads ran {}", ran(s, "1 thread")));
    }
    if let Some([s]) = speeds(rows, [(&Who::Parlab(BackendKind::Gil), T4)]) {
        any_faster |= faster(s);
        parts.push(format!(
            "the gil model's 4 threads ran {}",
            ran(s, "1 thread")
        ));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    let claim = if any_faster {
        "a thread releases the GIL while it waits in a blocking call, so threads do help for I/O."
    } else {
        "a thread releases the GIL while it waits in a blocking call, yet no row of threads ran \
         faster here: the waits were too short to pay for the threads, or the machine too busy."
    };
    let mut text = format!("{}; {claim}", parts.join("; "));
    text[..1].make_ascii_uppercase();
    vec![text]
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
                .map(|f| format!("{} ({})", f.measure, f.ratio.ratio()))
                .collect()
        };
        let (misses, unsure) = (listed(Judgement::Outside), listed(Judgement::CannotTell));
        let meets = of.len() - misses.len() - unsure.len();
        let mut s = if misses.is_empty() && unsure.is_empty() {
            format!(
                "The {model} model meets {python} on {}",
                match of.len() {
                    1 => "its one measure".to_string(),
                    n => format!("all {n} measures"),
                }
            )
        } else {
            format!(
                "The {model} model meets {python} on {meets} of {}",
                crate::units::count(of.len() as u64, "measure")
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

/// A fall and its interval: "61x (40-80)", or "61x" when exact.
fn fall_words(e: &Estimate) -> String {
    e.figure(0, "x")
}

/// Conclusions of the GIL section, the model having run at switch interval `interval`: the
/// hold per turn as measured (the model's and CPython's, beside the interval that sets it), and
/// the convoy's fall.
pub fn inside(comparisons: &[GilComparison], interval: Duration) -> Vec<String> {
    let find = |m: Metric| comparisons.iter().find(|c| c.metric == m);
    let mut v = Vec::new();
    let ms = interval.as_secs_f64() * 1e3;
    if let Some(hold) = find(Metric::HoldMedian) {
        let mut s = format!(
            "With two CPU-bound threads, a turn with the GIL lasted {} in the model",
            hold.parlab.figure(2, "ms")
        );
        if let Some(py) = hold.cpython {
            s.push_str(&format!(" and {} in CPython", py.figure(2, "ms")));
        }
        s.push_str(&format!(
            ", against a switch interval of {ms} ms: the waiting thread asks for the lock only \
             after waiting that long, and the holder lets go at its next check."
        ));
        v.push(s);
    }
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
