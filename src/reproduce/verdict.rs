//! Verdicts: the plain-words conclusions under each table, drawn from its typed rows.
//!
//! Pure functions of the rows and the settings in force, so that every sentence can be checked
//! on hand-made rows. A sentence appears only when every row it speaks of is there.

use std::time::Duration;

use super::fidelity::Fidelity;
use super::row::{Comparison, Metric, Row, Variant, Who};
use crate::backend::BackendKind;

/// "2.00x faster than", "about as fast as (1.02x)", "2.30x slower than".
pub fn pace(s: f64) -> String {
    if s >= 1.15 {
        format!("{s:.2}x faster than")
    } else if s >= 0.87 {
        format!("about as fast as ({s:.2}x)")
    } else {
        format!("{:.2}x slower than", 1.0 / s)
    }
}

/// The speedups of the rows named by `wanted`, when every one of them has one.
fn speeds<const N: usize>(rows: &[Row], wanted: [(&Who, Variant); N]) -> Option<[f64; N]> {
    let mut out = [0.0; N];
    for (slot, (who, variant)) in out.iter_mut().zip(wanted) {
        *slot = rows
            .iter()
            .find(|r| r.who == *who && r.variant == variant)?
            .speedup?;
    }
    Some(out)
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
            "On {version} (free-threaded, no GIL): 2 threads ran {} 1 thread and 4 threads {}              1 thread: with the GIL gone, CPU-bound threads run in parallel. 2 processes ran {}              1 thread.",
            pace(t2),
            pace(t4),
            pace(p2)
        )
    } else {
        format!(
            "On {version}: 2 threads ran {} 1 thread and 4 threads {} 1 thread: the GIL lets              only one thread run Python code at a time, so CPU-bound threads take turns              instead of running in parallel. 2 processes ran {} 1 thread: each has its own              interpreter and its own GIL.",
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
             threads ran {} 1 thread and 4 threads {} 1 thread; 2 worker processes ran {} 1 \
             thread, their start-up included.",
            pace(t2),
            pace(t4),
            pace(p2)
        ));
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

/// Conclusions of the fidelity section: which measures each model meets, and which it misses.
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
        let misses: Vec<String> = of
            .iter()
            .filter(|f| !f.within_target)
            .map(|f| format!("{} ({:.2}x)", f.measure, f.ratio))
            .collect();
        v.push(if misses.is_empty() {
            format!(
                "The {model} model meets {python} on all {} measures.",
                of.len()
            )
        } else {
            format!(
                "The {model} model meets {python} on {} of {} measures; it misses {}.",
                of.len() - misses.len(),
                of.len(),
                misses.join(", ")
            )
        });
    }
    v
}

/// Conclusions of the GIL section, the model having run at switch interval `interval`.
pub fn inside(comparisons: &[Comparison], interval: Duration) -> Vec<String> {
    let mut v = vec![format!(
        "With two CPU-bound threads, a thread keeps the GIL for about one switch interval ({} ms) \
         per turn: the waiting thread asks for it only after waiting that long.",
        interval.as_secs_f64() * 1e3
    )];
    let find = |m: Metric| comparisons.iter().find(|c| c.metric == m);
    if let (Some(alone), Some(beside)) = (find(Metric::IoAlone), find(Metric::IoBesideCpu)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(who: &Who, variant: Variant, speedup: f64) -> Row {
        Row {
            speedup: Some(speedup),
            ..Row::new(who.clone(), variant)
        }
    }

    fn py() -> Who {
        Who::CPython {
            version: "3.12.1".into(),
        }
    }

    #[test]
    fn pace_words() {
        assert_eq!(pace(2.0), "2.00x faster than");
        assert_eq!(pace(1.0), "about as fast as (1.00x)");
        assert_eq!(pace(0.5), "2.00x slower than");
    }

    #[test]
    fn cpython_sentence_reads_its_own_rows() {
        let py = py();
        let rows = [
            row(&py, T2, 0.5),
            row(&py, T4, 0.25),
            row(&py, P2, 1.9),
            // Another family's rows at the same variants must not be read.
            row(&Who::SeedPost, T2, 9.0),
        ];
        let v = cpu(&rows, 8, 100);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with(
                "On 3.12.1: 2 threads ran 2.00x slower than 1 thread and 4 threads 4.00x slower \
                 than 1 thread"
            ),
            "{}",
            v[0]
        );
        assert!(
            v[0].contains("2 processes ran 1.90x faster than 1 thread"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn a_sentence_needs_every_row_it_speaks_of() {
        let gil = Who::Parlab(BackendKind::Gil);
        assert!(cpu(&[row(&gil, T2, 1.0)], 2, 100).is_empty());
        let threads = Who::Parlab(BackendKind::Threads);
        // Without the processes row, the no-GIL sentence is left out.
        assert!(cpu(&[row(&threads, T2, 2.0), row(&threads, T4, 3.0)], 4, 100).is_empty());
    }

    #[test]
    fn the_legacy_sentence_states_the_check_interval_in_force() {
        let legacy = Who::Parlab(BackendKind::GilLegacy);
        let rows = [row(&legacy, T2, 1.0), row(&legacy, T4, 1.0)];
        let v = cpu(&rows, 2, 250);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("every 250 ticks"), "{}", v[0]);
    }

    #[test]
    fn parlab_processes_count_with_its_threads() {
        let threads = Who::Parlab(BackendKind::Threads);
        let rows = [
            row(&threads, T2, 1.9),
            row(&threads, T4, 3.5),
            row(&Who::Parlab(BackendKind::Processes), P2, 1.5),
        ];
        let v = cpu(&rows, 4, 100);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("on this 4-CPU machine"), "{}", v[0]);
        assert!(
            v[0].contains("2 worker processes ran 1.50x faster"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn io_verdict_starts_with_a_capital_either_way() {
        let gil = Who::Parlab(BackendKind::Gil);
        let only_model = io(&[row(&gil, T4, 3.9)]);
        assert_eq!(
            only_model,
            [
                "The gil model's 4 threads ran 3.90x faster than 1 thread: a thread releases the \
              GIL while it waits in a blocking call, so threads do help for I/O."
            ]
        );
        let both = io(&[row(&py(), T4, 1.0), row(&gil, T4, 3.9)]);
        assert!(
            both[0].starts_with(
                "CPython's 4 threads ran about as fast as (1.00x) 1 thread and the gil"
            )
        );
        assert!(io(&[]).is_empty());
    }

    #[test]
    fn inside_verdict_gives_the_interval_and_the_convoy_fall() {
        let c = |metric, cpython, parlab| Comparison {
            metric,
            cpython,
            parlab,
        };
        let comparisons = [
            c(Metric::HoldMedian, None, 5.0),
            c(Metric::IoBesideCpu, Some(100.0), 10.0),
            c(Metric::IoAlone, Some(300.0), 1000.0),
        ];
        let v = inside(&comparisons, Duration::from_micros(2500));
        assert_eq!(v.len(), 2);
        assert!(v[0].contains("(2.5 ms)"), "{}", v[0]);
        assert!(
            v[1].ends_with("In the model its rate falls 100x, in CPython 3x."),
            "{}",
            v[1]
        );
        let model_only = inside(&comparisons[..2], Duration::from_millis(5));
        assert_eq!(
            model_only.len(),
            1,
            "no convoy sentence without the alone rate"
        );
    }
}
