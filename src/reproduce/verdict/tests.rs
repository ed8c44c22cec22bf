//! Verdict sentences on hand-made rows: words from intervals, the noise named.

use super::*;
use crate::reproduce::row::Spread;
use crate::stats;

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

/// A measured row whose per-round paired ratios were `ratios`, with the ceiling `ceiling` in
/// every round.
fn measured(who: &Who, variant: Variant, ratios: &[f64], ceiling: Option<(f64, f64)>) -> Row {
    let speedup = stats::median_interval(ratios, 2000);
    Row {
        speedup: Some(speedup.value),
        spread: Some(Spread {
            speedup,
            ceiling: ceiling.map(|(lo, hi)| Estimate {
                value: (lo + hi) / 2.0,
                low: lo,
                high: hi,
            }),
            vs_ceiling: ceiling.map(|(lo, hi)| speedup.scaled(2.0 / (lo + hi))),
            ceiling_seen: ceiling,
            base_seen: (0.17, 0.34),
            runs: ratios.len(),
            cpus: None,
            at_equal_speed: None,
        }),
        ..Row::new(who.clone(), variant)
    }
}

#[test]
fn pace_words_of_exact_speedups() {
    let threads = Who::Parlab(BackendKind::Threads);
    assert_eq!(pace(&row(&threads, T2, 2.0)), "faster (2.00x) than");
    assert_eq!(pace(&row(&threads, T2, 1.0)), "no faster (1.00x) than");
    assert_eq!(pace(&row(&threads, T2, 0.5)), "slower (0.50x) than");
}

#[test]
fn words_come_from_the_interval_not_the_value() {
    let pace_of = |ratios: &[f64]| Pace::of(&stats::median_interval(ratios, 2000));
    // Tight around 1.9: faster; tight around 0.9: slower.
    assert_eq!(pace_of(&[1.88, 1.9, 1.92, 1.91, 1.89]), Pace::Faster);
    assert_eq!(pace_of(&[0.9, 0.91, 0.89, 0.92, 0.9]), Pace::Slower);
    // Around 1 either way, never far above it: no faster, whatever the median says.
    assert_eq!(pace_of(&[0.97, 1.02, 1.05, 0.99, 1.03]), Pace::NoFaster);
    assert_eq!(pace_of(&[0.8, 0.9, 1.01, 0.85, 1.1]), Pace::NoFaster);
    // A median of 1.04 whose interval lies above 1 but within 5% of it is no faster: the
    // margin; just past it, faster.
    assert_eq!(pace_of(&[1.03, 1.04, 1.05, 1.04, 1.03]), Pace::NoFaster);
    assert_eq!(pace_of(&[1.04, 1.05, 1.06, 1.05, 1.04]), Pace::Faster);
    // Three rounds, one of them far off: the interval holds 1 and reaches 1.9.
    assert_eq!(pace_of(&[0.95, 1.9, 1.0]), Pace::Hidden);
}

#[test]
fn a_bimodal_machine_hides_the_answer_and_the_verdict_names_the_noise() {
    // Half the rounds' ratios near 0.6 (the one-thread run had the fast vCPU, the row the slow
    // one), half near 1.7: the interval holds 1 and reaches far above it.
    let ratios: Vec<f64> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                0.6 + 0.01 * i as f64
            } else {
                1.7
            }
        })
        .collect();
    let gil = Who::Parlab(BackendKind::Gil);
    let r = measured(&gil, T2, &ratios, Some((1.4, 2.0)));
    assert_eq!(Pace::of(&r.spread.unwrap().speedup), Pace::Hidden);
    let p = pace(&r);
    assert!(p.starts_with("at a pace the noise hides ("), "{p}");
    assert!(
        p.contains("the ceiling moved between 1.40x and 2.00x, one thread took 170"),
        "{p}"
    );
    // Without a ceiling (a one-worker or I/O row), the one-thread runs are the noise named.
    let io = measured(&gil, T4, &ratios, None);
    assert!(!pace(&io).contains("ceiling"), "{}", pace(&io));
    // The same machine with the pairs in step: every round's ratio 1.7, whatever the mode.
    let paired = measured(&gil, T2, &[1.7; 10], Some((1.4, 2.0)));
    assert_eq!(pace(&paired), "faster (1.70x) than");
}

#[test]
fn the_threads_sentence_gives_the_share_of_the_ceiling() {
    let threads = Who::Parlab(BackendKind::Threads);
    let rows = [
        measured(
            &threads,
            T2,
            &[1.8, 1.82, 1.78, 1.81, 1.79],
            Some((1.9, 2.0)),
        ),
        row(&threads, T4, 1.9),
        row(&Who::Parlab(BackendKind::Processes), P2, 1.5),
    ];
    let v = cpu(&rows, 2, 100);
    assert!(
        v[0].contains("2 threads ran faster (1.80x, ")
            && v[0].contains("of the machine's ceiling of 1.95x and 4 threads"),
        "{}",
        v[0]
    );
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
            "On 3.12.1: 2 threads ran slower (0.50x) than 1 thread and 4 threads slower \
             (0.25x) than 1 thread"
        ),
        "{}",
        v[0]
    );
    assert!(
        v[0].contains("2 processes ran faster (1.90x) than 1 thread"),
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
        v[0].contains("2 worker processes ran faster (1.50x)"),
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
            "The gil model's 4 threads ran faster (3.90x) than 1 thread: a thread releases \
          the GIL while it waits in a blocking call, so threads do help for I/O."
        ]
    );
    let both = io(&[row(&py(), T4, 1.0), row(&gil, T4, 3.9)]);
    assert!(
        both[0].starts_with("CPython's 4 threads ran no faster (1.00x) than 1 thread and the gil")
    );
    assert!(io(&[]).is_empty());
}

#[test]
fn inside_verdict_gives_the_interval_and_the_convoy_fall() {
    let c = |metric, cpython: Option<f64>, parlab| Comparison {
        metric,
        cpython: cpython.map(Estimate::exact),
        parlab: Estimate::exact(parlab),
    };
    // The fall is its own figure (each round's alone over beside, the median over rounds), not
    // the ratio of the two rates' medians: here those would say 100x and 3x.
    let comparisons = [
        c(Metric::HoldMedian, None, 5.0),
        c(Metric::IoBesideCpu, Some(100.0), 10.0),
        c(Metric::IoAlone, Some(300.0), 1000.0),
        c(Metric::ConvoyFall, Some(3.2), 90.0),
    ];
    let v = inside(&comparisons, Duration::from_micros(2500));
    assert_eq!(v.len(), 2);
    assert!(v[0].contains("(2.5 ms)"), "{}", v[0]);
    assert!(
        v[1].ends_with("In the model its rate falls 90x, in CPython 3x."),
        "{}",
        v[1]
    );
    // With an interval over the rounds, the sentence gives it.
    let mut rounds = comparisons;
    rounds[3].parlab = Estimate {
        value: 90.0,
        low: 50.0,
        high: 125.0,
    };
    rounds[3].cpython = None;
    let v = inside(&rounds, Duration::from_millis(5));
    assert!(
        v[1].ends_with("In the model its rate falls 90x (50-125x)."),
        "{}",
        v[1]
    );
    let without_fall = inside(&comparisons[..3], Duration::from_millis(5));
    assert_eq!(without_fall.len(), 1, "no convoy sentence without the fall");
}

#[test]
fn a_speedup_above_the_ceiling_is_never_faster() {
    // CPython's 2 threads at 1.50x (1.13-2.35) while the machine allowed 0.93-0.99x: the
    // one-thread runs met slower moments than the row's. Noise hides it.
    let py = py();
    let mut r = measured(&py, T2, &[1.13, 1.5, 2.35], Some((0.93, 0.99)));
    assert_eq!(Pace::of(&r.spread.unwrap().speedup), Pace::Faster);
    assert_eq!(Pace::of_spread(&r.spread.unwrap()), Pace::Hidden);
    assert!(pace(&r).starts_with("at a pace the noise hides (1.13-2.35x; the ceiling moved"));
    // Within the ceiling's reach, the interval's word stands.
    r.spread.as_mut().unwrap().ceiling = Some(Estimate {
        value: 1.9,
        low: 1.8,
        high: 2.0,
    });
    assert_eq!(Pace::of_spread(&r.spread.unwrap()), Pace::Faster);
    // Only "faster" is in question: one thread's pace above a ceiling under 1 is no faster.
    let level = measured(&py, T4, &[1.0, 1.0, 1.0], Some((0.9, 0.95)));
    assert_eq!(Pace::of_spread(&level.spread.unwrap()), Pace::NoFaster);
}

#[test]
fn the_margin_of_equivalence_at_its_edges() {
    let e = |low: f64, high: f64| Estimate {
        value: (low + high) / 2.0,
        low,
        high,
    };
    // Wholly within 1/1.05 .. 1.05, on either side of 1 or holding it: no faster.
    for (low, high) in [(1.01, 1.05), (1.0 / 1.05, 0.99), (0.97, 1.03), (1.0, 1.0)] {
        assert!(within_margin(&e(low, high)), "{low}-{high}");
        assert_eq!(Pace::of(&e(low, high)), Pace::NoFaster, "{low}-{high}");
    }
    // Reaching past the upper edge from above 1: faster.
    assert_eq!(Pace::of(&e(1.01, 1.051)), Pace::Faster);
    // Below 1 but reaching within the margin: no faster, perhaps slower by less than 5%; wholly
    // more than 5% below 1: slower.
    assert_eq!(Pace::of(&e(0.95, 0.99)), Pace::NoFaster);
    assert_eq!(Pace::of(&e(0.77, 0.96)), Pace::NoFaster);
    assert_eq!(Pace::of(&e(0.77, 0.95)), Pace::Slower);
    assert_eq!(Pace::of(&e(0.94, 1.04)), Pace::NoFaster);
    assert!(!within_margin(&e(0.94, 1.04)));
}

#[test]
fn the_margin_is_said_in_the_sentence() {
    let gil = Who::Parlab(BackendKind::Gil);
    let r = measured(&gil, T2, &[1.02, 1.03, 1.03, 1.04, 1.03], None);
    assert_eq!(
        pace(&r),
        "no faster (1.03x, 1.02-1.04x: less than 5% apart) than"
    );
    // Holding 1, nothing to explain.
    let r = measured(&gil, T2, &[0.99, 1.0, 1.01], None);
    assert_eq!(pace(&r), "no faster (1.00x, 0.99-1.01x) than");
    // Below 1, reaching within the margin: both said.
    let r = measured(&gil, T2, &[0.8, 0.9, 0.97], None);
    assert_eq!(
        pace(&r),
        "no faster (0.90x, 0.80-0.97x: slower, but perhaps by less than 5%) than"
    );
    assert!(
        !decided(&r.spread.unwrap()),
        "a wide interval gets more rounds"
    );
}

#[test]
fn a_row_is_decided_when_more_rounds_would_not_change_its_words() {
    let spread = |ratios: &[f64], ceiling: Option<(f64, f64)>| {
        measured(&py(), T2, ratios, ceiling).spread.unwrap()
    };
    // Above 1, below 1, within the margin: decided.
    assert!(decided(&spread(&[1.8, 1.9, 1.85], None)));
    assert!(decided(&spread(&[0.83, 0.9, 0.95], None)));
    assert!(decided(&spread(&[0.97, 1.02, 1.0], None)));
    // Holding 1 and narrow (within 5% either side): decided, though past the margin's edge.
    assert!(decided(&spread(&[0.95, 0.99, 1.02, 0.98, 1.0], None)));
    // Holding 1 and wide: the three-round CPython row of 0.83-1.08 is not.
    assert!(!decided(&spread(&[0.83, 0.93, 1.08], None)));
    // Hidden by noise, or above the ceiling: not decided.
    assert!(!decided(&spread(&[0.95, 1.9, 1.0], None)));
    assert!(!decided(&spread(&[2.5, 2.6, 2.55], Some((1.9, 2.1)))));
    // A bimodal row (every other round at half speed on one side only) holds 1 widely.
    assert!(!decided(&spread(&[0.6, 1.2, 0.6, 1.2, 0.6, 1.2], None)));
}

#[test]
fn a_row_faster_only_by_the_clock_is_no_faster() {
    // The gil model's 2 threads at 1.20x by the clock, with one CPU busy and the one-thread runs
    // on a slower CPU: level at equal speed. The words follow equal speed, and say why.
    let gil = Who::Parlab(BackendKind::Gil);
    let mut r = measured(&gil, T2, &[1.1, 1.2, 1.3], None);
    let s = r.spread.as_mut().unwrap();
    assert_eq!(Pace::of_spread(s), Pace::Faster);
    s.at_equal_speed = Some(stats::median_interval(&[0.99, 1.0, 1.01], 2000));
    s.cpus = Some(Estimate::exact(1.0));
    assert_eq!(Pace::of_spread(s), Pace::NoFaster);
    assert!(decided(s));
    assert_eq!(
        pace(&r),
        "no faster (1.20x, 1.10-1.30x by the clock; 1.00x, 0.99-1.01x at equal CPU speed, \
         1.00 CPUs busy) than"
    );
    // Where both give the same words, the sentence shows the figure the words came from.
    let mut both = measured(&gil, T2, &[1.8, 1.9, 2.0], None);
    let s = both.spread.as_mut().unwrap();
    s.at_equal_speed = Some(stats::median_interval(&[1.7, 1.8, 1.9], 2000));
    assert_eq!(pace(&both), "faster (1.80x, 1.70-1.90x) than");
}
