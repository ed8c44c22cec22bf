//! Verdict sentences on hand-made rows: words from intervals, the noise named.

use super::*;
use crate::measure::judge::{self, Bounds};
use crate::reproduce::row::Spread;
use crate::stats;

fn row(who: &Who, variant: Variant, speedup: f64) -> ReproduceRow {
    ReproduceRow {
        speedup: Some(speedup),
        ..ReproduceRow::new(who.clone(), variant)
    }
}

fn py() -> Who {
    Who::CPython {
        version: "3.12.1".into(),
    }
}

/// A measured row whose per-round paired ratios were `ratios`, with the ceiling `ceiling` in
/// every round.
fn measured(
    who: &Who,
    variant: Variant,
    ratios: &[f64],
    ceiling: Option<(f64, f64)>,
) -> ReproduceRow {
    let speedup = stats::median_interval(ratios, 2000);
    ReproduceRow {
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
            cpu_count: None,
        }),
        ..ReproduceRow::new(who.clone(), variant)
    }
}

#[test]
fn pace_words_of_exact_speedups() {
    let threads = Who::Parlab(BackendKind::Threads);
    let ran1 = |x| ran(&row(&threads, T2, x), "1 thread");
    assert_eq!(ran1(2.0), "faster than 1 thread, at 2.00x");
    assert_eq!(ran1(1.0), "no faster than 1 thread, at 1.00x");
    assert_eq!(ran1(0.5), "slower than 1 thread, at 0.50x");
}

#[test]
fn words_come_from_the_interval_not_the_value() {
    let pace_of =
        |ratios: &[f64]| judge::judge(&stats::median_interval(ratios, 2000), Bounds::default());
    // Tight around 1.9: faster; tight around 0.9: slower.
    assert_eq!(pace_of(&[1.88, 1.9, 1.92, 1.91, 1.89]), Verdict::Faster);
    assert_eq!(pace_of(&[0.9, 0.91, 0.89, 0.92, 0.9]), Verdict::Slower);
    // Around 1 either way, never far above it: no faster, whatever the median says.
    assert_eq!(pace_of(&[0.97, 1.02, 1.05, 0.99, 1.03]), Verdict::NoFaster);
    assert_eq!(pace_of(&[0.8, 0.9, 1.01, 0.85, 1.1]), Verdict::NoFaster);
    // A median of 1.04 whose interval lies above 1 but within 5% of it is no faster: the
    // margin; just past it, faster.
    assert_eq!(pace_of(&[1.03, 1.04, 1.05, 1.04, 1.03]), Verdict::NoFaster);
    assert_eq!(pace_of(&[1.04, 1.05, 1.06, 1.05, 1.04]), Verdict::Faster);
    // Three rounds, one of them far off: the interval holds 1 and reaches 1.9.
    assert_eq!(pace_of(&[0.95, 1.9, 1.0]), Verdict::Hidden);
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
    assert_eq!(r.spread.unwrap().verdict(), Verdict::Hidden);
    let p = ran(&r, "1 thread");
    assert!(
        p.starts_with("beside 1 thread at a pace the noise hides, "),
        "{p}"
    );
    assert!(
        p.contains("the ceiling moved between 1.40x and 2.00x, one thread took 170"),
        "{p}"
    );
    // Without a ceiling (a one-worker or I/O row), the one-thread runs are the noise named.
    let io = measured(&gil, T4, &ratios, None);
    assert!(
        !ran(&io, "1 thread").contains("ceiling"),
        "{}",
        ran(&io, "1 thread")
    );
    // The same machine with the pairs in step: every round's ratio 1.7, whatever the mode.
    let paired = measured(&gil, T2, &[1.7; 10], Some((1.4, 2.0)));
    assert_eq!(ran(&paired, "1 thread"), "faster than 1 thread, at 1.70x");
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
    let v = cpu(&rows, 2, 100, false);
    assert!(
        v[0].contains("2 threads ran faster than 1 thread, at 1.80x (")
            && v[0].contains("of the machine's ceiling of 1.95x (1.90-2.00); 4 threads"),
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
    let v = cpu(&rows, 8, 100, false);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].starts_with(
            "On 3.12.1: 2 threads ran slower than 1 thread, at 0.50x; 4 threads ran slower \
             than 1 thread, at 0.25x: the GIL lets only one thread"
        ),
        "{}",
        v[0]
    );
    assert!(
        v[0].contains("2 processes ran faster than 1 thread, at 1.90x: each has its own"),
        "{}",
        v[0]
    );
}

#[test]
fn a_sentence_needs_every_row_it_speaks_of() {
    let gil = Who::Parlab(BackendKind::Gil);
    assert!(cpu(&[row(&gil, T2, 1.0)], 2, 100, false).is_empty());
    let threads = Who::Parlab(BackendKind::Threads);
    // Without the processes row, the no-GIL sentence is left out.
    assert!(
        cpu(
            &[row(&threads, T2, 2.0), row(&threads, T4, 3.0)],
            4,
            100,
            false
        )
        .is_empty()
    );
}

#[test]
fn the_legacy_sentence_states_the_check_interval_in_force() {
    let legacy = Who::Parlab(BackendKind::GilLegacy);
    let rows = [row(&legacy, T2, 1.0), row(&legacy, T4, 1.0)];
    let v = cpu(&rows, 2, 250, false);
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
    let v = cpu(&rows, 4, 100, false);
    assert_eq!(v.len(), 1);
    assert!(v[0].contains("on this 4-CPU machine"), "{}", v[0]);
    assert!(
        v[0].contains("2 worker processes ran faster than 1 thread, at 1.50x"),
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
            "The gil model's 4 threads ran faster than 1 thread, at 3.90x; a thread releases \
          the GIL while it waits in a blocking call, so threads do help for I/O."
        ]
    );
    let both = io(&[row(&py(), T4, 1.0), row(&gil, T4, 3.9)]);
    assert!(
        both[0].starts_with("CPython's 4 threads ran no faster than 1 thread, at 1.00x; the gil")
    );
    assert!(io(&[]).is_empty());
}

#[test]
fn inside_verdict_gives_the_interval_and_the_convoy_fall() {
    let c = |metric, cpython: Option<f64>, parlab| GilComparison {
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
    // The hold is the one measured, beside the interval that sets it; not a fixed claim.
    assert!(
        v[0].contains("lasted 5.00 ms in the model, against a switch interval of 2.5 ms"),
        "{}",
        v[0]
    );
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
        v[1].ends_with("In the model its rate falls 90x (50-125)."),
        "{}",
        v[1]
    );
    let without_fall = inside(&comparisons[..3], Duration::from_millis(5));
    assert_eq!(without_fall.len(), 1, "no convoy sentence without the fall");
    assert!(inside(&comparisons[1..3], Duration::from_millis(5)).is_empty());
}

#[test]
fn a_speedup_above_the_ceiling_is_an_artefact_never_faster() {
    // CPython's 2 threads at 1.50x (1.13-2.35) while the machine allowed 0.93-0.99x: the
    // one-thread runs met slower moments than the row's.
    let py = py();
    let mut r = measured(&py, T2, &[1.13, 1.5, 2.35], Some((0.93, 0.99)));
    assert_eq!(
        judge::judge(&r.spread.unwrap().speedup, Bounds::default()),
        Verdict::Faster
    );
    assert_eq!(r.spread.unwrap().verdict(), Verdict::Artefact);
    let p = ran(&r, "1 thread");
    assert!(
        p.starts_with(
            "faster than the machine allowed beside 1 thread, at 1.50x (1.13-2.35), above \
             its ceiling of 0.96x (0.93-0.99): an artefact"
        ),
        "{p}"
    );
    // Within the ceiling's reach, the interval's word stands.
    r.spread.as_mut().unwrap().ceiling = Some(Estimate {
        value: 1.9,
        low: 1.8,
        high: 2.0,
    });
    assert_eq!(r.spread.unwrap().verdict(), Verdict::Faster);
}

#[test]
fn the_margin_is_said_in_the_sentence() {
    let gil = Who::Parlab(BackendKind::Gil);
    let r = measured(&gil, T2, &[1.02, 1.03, 1.03, 1.04, 1.03], None);
    assert_eq!(
        ran(&r, "1 thread"),
        "no faster than 1 thread, at 1.03x (1.02-1.04): less than 5% apart"
    );
    // Holding 1, nothing to explain.
    let r = measured(&gil, T2, &[0.99, 1.0, 1.01], None);
    assert_eq!(
        ran(&r, "1 thread"),
        "no faster than 1 thread, at 1.00x (0.99-1.01)"
    );
    // Below 1, reaching within the margin: both said.
    let r = measured(&gil, T2, &[0.8, 0.9, 0.97], None);
    assert_eq!(
        ran(&r, "1 thread"),
        "no faster than 1 thread, at 0.90x (0.80-0.97): slower, but perhaps by less than 5%"
    );
    assert!(
        !decided(&r.spread.unwrap()),
        "a wide interval gets more rounds"
    );
}

#[test]
fn every_claim_follows_from_the_verdicts_it_stands_on() {
    // The fixed claims of the sentences, each with the verdicts that allow it.
    let threads = Who::Parlab(BackendKind::Threads);
    let procs = Who::Parlab(BackendKind::Processes);
    let scale = |t2: f64| {
        cpu(
            &[
                row(&threads, T2, t2),
                row(&threads, T4, t2),
                row(&procs, P2, 1.5),
            ],
            2,
            100,
            false,
        )
        .join(" ")
    };
    assert!(scale(1.9).contains("Without a GIL, parlab's threads scale with the cores"));
    // 0.99x: the threads did not scale, and the sentence does not say they do.
    let flat = scale(0.99);
    assert!(!flat.contains("scale with the cores"), "{flat}");
    assert!(flat.contains("did not scale in this run"), "{flat}");
    // A GIL model: "the lock stops threads from scaling" only when neither row was faster.
    let gil = Who::Parlab(BackendKind::Gil);
    let model = |x: f64| cpu(&[row(&gil, T2, x), row(&gil, T4, 1.0)], 2, 100, false).join(" ");
    assert!(model(1.0).contains("is enough to stop threads from scaling"));
    assert!(!model(1.3).contains("is enough to stop"), "{}", model(1.3));
    // CPython with a GIL whose threads came out faster: the GIL claim is not made.
    let py = py();
    let gil_claim = "the GIL lets only one thread run Python code at a time";
    let on = |t2: f64| {
        cpu(
            &[row(&py, T2, t2), row(&py, T4, 1.0), row(&py, P2, 1.9)],
            2,
            100,
            false,
        )
        .join(" ")
    };
    assert!(on(1.0).contains(gil_claim));
    assert!(!on(1.4).contains(gil_claim), "{}", on(1.4));
    // I/O: "threads do help" only when a row of threads was faster.
    assert!(io(&[row(&gil, T4, 3.9)])[0].contains("so threads do help for I/O"));
    assert!(!io(&[row(&gil, T4, 1.0)])[0].contains("so threads do help"));
}

#[test]
fn every_sentence_template_is_chosen_by_the_judges_words() {
    // `ran` has one template per verdict: each verdict's sentence differs from the others'.
    let gil = Who::Parlab(BackendKind::Gil);
    let cases = [
        (
            Verdict::Faster,
            measured(&gil, T2, &[1.8, 1.9, 1.85], Some((1.8, 2.0))),
        ),
        (
            Verdict::NoFaster,
            measured(&gil, T2, &[0.99, 1.0, 1.01], None),
        ),
        (Verdict::Slower, measured(&gil, T2, &[0.5, 0.55, 0.6], None)),
        (Verdict::Hidden, measured(&gil, T2, &[0.95, 1.9, 1.0], None)),
        (
            Verdict::Artefact,
            measured(&gil, T2, &[2.4, 2.5, 2.45], Some((1.8, 2.0))),
        ),
    ];
    let mut heads = Vec::new();
    for (verdict, r) in &cases {
        assert_eq!(r.verdict(), Some(*verdict), "{r:?}");
        let text = ran(r, "1 thread");
        let head: String = text.split(',').next().unwrap().to_string();
        heads.push(head);
    }
    let mut unique = heads.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), Verdict::ALL.len(), "{heads:?}");
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
    assert_eq!(s.verdict(), Verdict::Faster);
    s.at_equal_speed = Some(stats::median_interval(&[0.99, 1.0, 1.01], 2000));
    s.cpus = Some(Estimate::exact(1.0));
    assert_eq!(s.verdict(), Verdict::NoFaster);
    assert!(decided(s));
    assert_eq!(
        ran(&r, "1 thread"),
        "no faster than 1 thread, at 1.00x (0.99-1.01) at equal CPU speed with 1.00 CPUs \
         busy; 1.20x (1.10-1.30) by the clock"
    );
    // Where both give the same words, the sentence shows the figure the words came from.
    let mut both = measured(&gil, T2, &[1.8, 1.9, 2.0], None);
    let s = both.spread.as_mut().unwrap();
    s.at_equal_speed = Some(stats::median_interval(&[1.7, 1.8, 1.9], 2000));
    assert_eq!(
        ran(&both, "1 thread"),
        "faster than 1 thread, at 1.80x (1.70-1.90)"
    );
}

/// `measured`, with the CPUs the row kept busy in every round about `busy`.
fn busy_row(who: &Who, variant: Variant, ratios: &[f64], busy: f64) -> ReproduceRow {
    let mut r = measured(who, variant, ratios, Some((1.9, 2.0)));
    if let Some(s) = r.spread.as_mut() {
        s.cpus = Some(Estimate {
            value: busy,
            low: busy - 0.02,
            high: busy + 0.02,
        });
    }
    r
}

#[test]
fn threads_that_do_not_scale_are_explained_by_the_cpus_they_kept_busy() {
    let ft = Who::CPython {
        version: "3.13.5t".into(),
    };
    // Free-threaded threads keeping both CPUs busy at 1.25x: contention on shared state.
    let rows = [
        busy_row(&ft, T2, &[1.24, 1.25, 1.26, 1.25, 1.25], 1.96),
        busy_row(&ft, T4, &[1.2, 1.22, 1.21, 1.2, 1.22], 1.97),
        busy_row(&ft, P2, &[1.9, 1.91, 1.92, 1.9, 1.91], 1.0),
    ];
    let v = cpu(&rows, 2, 100, false).join(" ");
    assert!(v.contains("On 3.13.5t (free-threaded, no GIL)"), "{v}");
    assert!(
        v.contains("at 2 threads they kept 1.96 (1.94-1.98) CPUs busy yet ran only"),
        "{v}"
    );
    assert!(v.contains("contended on shared state"), "{v}");
    assert!(!v.contains("waited on"), "{v}");
    // The same build with threads keeping one CPU busy: a lock of their own.
    let rows = [
        busy_row(&ft, T2, &[1.0, 0.99, 1.01, 1.0, 1.0], 1.01),
        busy_row(&ft, T4, &[0.98, 0.99, 1.0, 0.99, 0.98], 1.02),
    ];
    let v = cpu(&rows, 2, 100, false).join(" ");
    assert!(v.contains("waited on a lock of their own"), "{v}");
    assert!(!v.contains("contended"), "{v}");
    // A GIL build whose threads kept one CPU busy: the GIL, with the figure.
    let gil = py();
    let rows = [
        busy_row(&gil, T2, &[0.98, 0.99, 1.0, 0.99, 0.98], 1.0),
        busy_row(&gil, T4, &[0.97, 0.98, 0.99, 0.98, 0.97], 1.0),
    ];
    let v = cpu(&rows, 2, 100, false).join(" ");
    assert!(
        v.contains("take turns instead of running in parallel (at 2 threads they kept"),
        "{v}"
    );
    assert!(v.contains("waited on the GIL"), "{v}");
    // Threads that scaled are not explained.
    let rows = [
        busy_row(&ft, T2, &[1.9, 1.92, 1.91, 1.9, 1.93], 1.97),
        busy_row(&ft, T4, &[1.88, 1.9, 1.89, 1.9, 1.91], 1.98),
    ];
    let v = cpu(&rows, 2, 100, false).join(" ");
    assert!(
        v.contains("with the GIL gone") && !v.contains("CPUs busy"),
        "{v}"
    );
}

#[test]
fn a_free_threaded_build_beside_its_gil_twin_gets_its_single_thread_cost() {
    let (ft, gil) = (
        Who::CPython {
            version: "3.13.5t".into(),
        },
        Who::CPython {
            version: "3.13.5".into(),
        },
    );
    let one = |who: &Who, wall: f64| ReproduceRow {
        wall_s: Some(wall),
        ..ReproduceRow::new(who.clone(), Variant::Threads(1))
    };
    let v = cpu(&[one(&ft, 0.345), one(&gil, 0.25)], 2, 100, false).join(" ");
    assert!(
        v.contains("3.13.5t's one thread took 1.38x the time of 3.13.5's"),
        "{v}"
    );
    // Without the twin, no such line.
    assert!(
        !cpu(&[one(&ft, 0.345)], 2, 100, false)
            .join(" ")
            .contains("own cost")
    );
}

mod every_sentence {
    use super::*;
    use proptest::prelude::*;

    /// What the pace sentence of a row begins with, for each of the judge's words.
    fn opening(verdict: Verdict) -> &'static str {
        match verdict {
            Verdict::Faster => "faster than 1 thread, at ",
            Verdict::NoFaster => "no faster than 1 thread, at ",
            Verdict::Slower => "slower than 1 thread, at ",
            Verdict::Hidden => "beside 1 thread at a pace the noise hides, ",
            Verdict::Artefact => "faster than the machine allowed beside 1 thread, at ",
        }
    }

    proptest! {
        /// Whatever the rounds measured (any spread, with or without a ceiling), the sentence
        /// is the one of the word the judge gives the row's interval and bounds, and it quotes
        /// that interval: no template is chosen by anything else.
        #[test]
        fn the_words_are_the_judges(
            ratios in proptest::collection::vec(0.3f64..3.0, 3..12),
            ceiling in proptest::option::of((0.5f64..2.0, 0.0f64..0.5)),
            which in 0usize..3,
        ) {
            let who = [Who::Parlab(BackendKind::Threads), Who::Parlab(BackendKind::Gil), py()];
            let ceiling = ceiling.map(|(lo, width)| (lo, lo + width));
            let row = measured(&who[which], T2, &ratios, ceiling);
            let spread = row.spread.unwrap();
            let verdict = row.verdict().expect("a measured row has a verdict");
            prop_assert_eq!(verdict, judge::judge(&spread.speedup, spread.bounds()));
            let said = ran(&row, "1 thread");
            prop_assert!(said.starts_with(opening(verdict)), "{:?}: {}", verdict, said);
            prop_assert!(said.contains(&spread.speedup.ratio()), "{}", said);
        }
    }
}
