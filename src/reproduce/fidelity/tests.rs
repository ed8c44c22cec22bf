//! The fidelity table and the summary on made-up rows and probes.

use super::*;
use crate::reproduce::row::Spread;

fn row(who: &Who, variant: Variant, speedup: f64) -> ReproduceRow {
    ReproduceRow {
        speedup: Some(speedup),
        ..ReproduceRow::new(who.clone(), variant)
    }
}

fn stats(hold_ms: f64) -> GilStats {
    GilStats {
        model: "gil",
        threads: 2,
        elapsed_s: 1.0,
        acquisitions: 10,
        handoffs: 9,
        handoffs_per_s: 9.0,
        hold_median_s: hold_ms / 1e3,
        hold_p90_s: hold_ms / 1e3,
        hold_max_s: hold_ms / 1e3,
        forced_drops: 9,
        voluntary_drops: 0,
        drop_requests: 9,
        wait_s: 0.5,
        violations: 0,
    }
}

/// A model whose every round measured the same.
fn model(hold_ms: f64, alone: f64, beside: f64) -> ModelProbe {
    models(&[(hold_ms, alone, beside); 3])
}

/// A model with one `(hold ms, alone, beside)` a round.
fn models(rounds: &[(f64, f64, f64)]) -> ModelProbe {
    ModelProbe {
        stats: rounds.iter().map(|r| stats(r.0)).collect(),
        convoy: rounds
            .iter()
            .map(|r| Convoy {
                alone_per_s: r.1,
                beside_cpu_per_s: r.2,
            })
            .collect(),
    }
}

fn probe(
    python: &str,
    major: u32,
    gil: bool,
    hold_ms: f64,
    alone: f64,
    beside: f64,
) -> PythonProbe {
    probes(python, major, gil, &[(hold_ms, alone, beside); 3])
}

/// An interpreter with one `(hold ms, alone, beside)` a round.
fn probes(python: &str, major: u32, gil: bool, rounds: &[(f64, f64, f64)]) -> PythonProbe {
    PythonProbe {
        python: python.into(),
        major,
        gil_enabled: gil,
        holds: rounds
            .iter()
            .map(|r| Holds {
                hold_median_s: Some(r.0 / 1e3),
                hold_p90_s: None,
            })
            .collect(),
        rates: rounds
            .iter()
            .map(|r| Rates {
                alone_per_s: r.1,
                beside_cpu_per_s: r.2,
            })
            .collect(),
    }
}

fn py(v: &str) -> Who {
    Who::CPython { version: v.into() }
}

#[test]
fn each_interpreter_meets_its_own_model() {
    let gil = Who::Parlab(BackendKind::Gil);
    let legacy = Who::Parlab(BackendKind::GilLegacy);
    let rows = [
        row(&gil, Variant::Threads(2), 1.0),
        row(&gil, Variant::Threads(4), 0.5),
        row(&legacy, Variant::Threads(2), 0.5),
        row(&py("3.12.1"), Variant::Threads(2), 0.9),
        row(&py("2.7.18"), Variant::Threads(2), 0.8),
        row(&py("3.13.0t"), Variant::Threads(2), 1.9),
    ];
    let pythons = [
        probe("2.7.18", 2, true, 0.3, 100.0, 50.0),
        probe("3.12.1", 3, true, 5.0, 1000.0, 1.0),
        probe("3.13.0t", 3, false, 5.0, 1.0, 1.0),
    ];
    let t = table(
        &rows,
        &pythons,
        &model(5.2, 1000.0, 10.0),
        &model(0.3, 100.0, 10.0),
    );
    let pick = |python: &str, m: Measure| {
        t.iter()
            .find(|f| f.python == format!("CPython {python}") && f.measure == m.describe())
    };
    // 2.7 meets gil-legacy: 2.0 against 1.25 is a miss.
    let t2 = pick("2.7.18", Measure::T2).unwrap();
    assert_eq!(t2.model, "gil-legacy");
    assert!(
        (t2.model_value.value - 2.0).abs() < 1e-9 && (t2.python_value.value - 1.25).abs() < 1e-9
    );
    assert!((t2.ratio.value - 1.6).abs() < 1e-9 && !t2.within_target);
    assert_eq!(t2.judgement, Judgement::Outside);
    // Rows without rounds are exact: so is their ratio.
    assert_eq!(t2.ratio, Estimate::exact(t2.ratio.value));
    // No 4-thread row of 2.7 or of gil-legacy: no T4 line.
    assert!(pick("2.7.18", Measure::T4).is_none());
    let hold = pick("2.7.18", Measure::Hold).unwrap();
    assert!(hold.within_target, "{hold:?}");
    // Convoy: the model falls 10x, 2.7 falls 2x: a 5x miss.
    assert!(!pick("2.7.18", Measure::Convoy).unwrap().within_target);
    // 3.12 meets gil: hold 5.2 against 5.0 is within 10%, convoy 100x against 1000x is not.
    let h = pick("3.12.1", Measure::Hold).unwrap();
    assert_eq!(h.model, "gil");
    assert!(h.within_target);
    assert!(!pick("3.12.1", Measure::Convoy).unwrap().within_target);
    assert!(pick("3.12.1", Measure::T2).unwrap().within_target);
    // A free-threaded build has no GIL to model.
    assert!(t.iter().all(|f| f.python != "CPython 3.13.0t"));
}

/// Whether an exact ratio `ratio` is within `measure`'s target.
fn within(measure: Measure, ratio: f64) -> bool {
    measure.judge(&Estimate::exact(ratio)) == Judgement::Within
}

#[test]
fn targets_are_15_percent_10_percent_and_2x() {
    assert!(within(Measure::T2, 1.15) && !within(Measure::T2, 1.16));
    assert!(within(Measure::T4, 0.85) && !within(Measure::T4, 0.84));
    assert!(within(Measure::Hold, 1.1) && !within(Measure::Hold, 1.11));
    assert!(within(Measure::Convoy, 0.5) && within(Measure::Convoy, 2.0));
    assert!(!within(Measure::Convoy, 2.01) && !within(Measure::Convoy, 0.49));
}

fn est(value: f64, low: f64, high: f64) -> Estimate {
    Estimate { value, low, high }
}

#[test]
fn an_interval_is_within_outside_or_cannot_tell() {
    assert_eq!(Measure::T2.judge(&est(1.0, 0.9, 1.1)), Judgement::Within);
    assert_eq!(Measure::T2.judge(&est(1.3, 1.2, 1.4)), Judgement::Outside);
    assert_eq!(Measure::T2.judge(&est(0.5, 0.4, 0.6)), Judgement::Outside);
    // A point within, an interval across the edge: the rounds cannot tell.
    assert_eq!(
        Measure::T2.judge(&est(1.1, 1.0, 1.2)),
        Judgement::CannotTell
    );
    assert_eq!(
        Measure::Hold.judge(&est(1.0, 0.5, 2.0)),
        Judgement::CannotTell
    );
    // Exactly on the edges counts as within.
    assert_eq!(
        Measure::Convoy.judge(&est(1.0, 0.5, 2.0)),
        Judgement::Within
    );
    assert_eq!(
        serde_json::to_value(Judgement::CannotTell).unwrap(),
        "cannot tell"
    );
}

#[test]
fn the_ratio_interval_is_the_sides_extremes_crossed() {
    let r = ratio(&est(2.0, 1.5, 3.0), &est(1.0, 0.5, 2.0));
    assert_eq!((r.value, r.low, r.high), (2.0, 0.75, 6.0));
    // Nothing to divide by: the ratio is unbounded, never a division by zero's NaN.
    let open = ratio(&est(1.0, 1.0, 1.0), &est(1.0, 0.0, 1.0));
    assert_eq!(open.high, f64::INFINITY);
}

#[test]
fn the_thread_ratios_take_the_rows_intervals() {
    let gil = Who::Parlab(BackendKind::Gil);
    let spread = |s: Estimate| Spread {
        speedup: s,
        ceiling: None,
        vs_ceiling: None,
        ceiling_seen: None,
        base_seen: (1.0, 1.0),
        runs: 6,
        cpus: None,
        at_equal_speed: None,
        cpu_count: None,
    };
    let measured = |who: &Who, s: Estimate| ReproduceRow {
        speedup: Some(s.value),
        spread: Some(spread(s)),
        ..ReproduceRow::new(who.clone(), Variant::Threads(2))
    };
    // The model's 2 threads at 1.0x (0.8-1.25x), 3.12's at 1.0x exactly: T2/T1 1.0 (0.8-1.25),
    // which straddles 15%.
    let rows = [
        measured(&gil, est(1.0, 0.8, 1.25)),
        row(&py("3.12.1"), Variant::Threads(2), 1.0),
    ];
    let pythons = [probe("3.12.1", 3, true, 5.0, 1000.0, 1.0)];
    let m = model(5.0, 1000.0, 1.0);
    let t = table(&rows, &pythons, &m, &m);
    let t2 = t
        .iter()
        .find(|f| f.measure == Measure::T2.describe())
        .unwrap();
    assert_eq!([t2.model_value.low, t2.model_value.high], [0.8, 1.25]);
    assert_eq!(t2.judgement, Judgement::CannotTell);
    assert!(!t2.within_target);
    // The same row, surely within: 0.95-1.05x.
    let rows = [
        measured(&gil, est(1.0, 0.95, 1.05)),
        row(&py("3.12.1"), Variant::Threads(2), 1.0),
    ];
    let t = table(&rows, &pythons, &m, &m);
    assert!(t[0].within_target && t[0].judgement == Judgement::Within);
}

#[test]
fn a_bimodal_probe_cannot_tell_and_a_steady_one_can() {
    // Python 2's turns: two rounds met microsecond turns (a CPU free), one met 4 ms scheduler
    // ticks (CPUs busy). The model met microseconds every round.
    let two_seven = probes(
        "2.7.18",
        2,
        true,
        &[(0.02, 1e6, 1e5), (4.0, 1e6, 1e5), (0.022, 1e6, 1e5)],
    );
    let steady = models(&[(0.021, 1e6, 1.2e5), (0.02, 1e6, 1.2e5), (0.019, 1e6, 1.2e5)]);
    let t = table(&[], &[two_seven], &steady, &steady);
    let hold = t
        .iter()
        .find(|f| f.measure == Measure::Hold.describe())
        .unwrap();
    // The median is the microsecond rounds', and the ratio's point is within 10%...
    assert!((hold.python_value.value - 0.022).abs() < 1e-12, "{hold:?}");
    assert!(within(Measure::Hold, hold.ratio.value), "{hold:?}");
    // ...but the interval reaches the 4 ms round: the rounds cannot tell.
    assert_eq!([hold.python_value.low, hold.python_value.high], [0.02, 4.0]);
    assert_eq!(hold.judgement, Judgement::CannotTell);
    assert!(!hold.within_target);
    // The convoy fell 10x every round in 2.7 and 8.3x in the model: within 2x, surely.
    let convoy = t
        .iter()
        .find(|f| f.measure == Measure::Convoy.describe())
        .unwrap();
    assert_eq!(convoy.judgement, Judgement::Within, "{convoy:?}");
    assert!((convoy.python_value.value - 10.0).abs() < 1e-9);
    // A model that met the ticks in every round is outside, whatever 2.7's rounds met.
    let ticks = models(&[(4.0, 1e6, 1e5); 3]);
    let micro = probes("2.7.18", 2, true, &[(0.02, 1e6, 1e5); 3]);
    let t = table(&[], &[micro], &ticks, &ticks);
    let hold = t
        .iter()
        .find(|f| f.measure == Measure::Hold.describe())
        .unwrap();
    assert_eq!(hold.judgement, Judgement::Outside);
}

#[test]
fn figures_are_medians_of_the_rounds_that_saw_something() {
    let mut p = probes("3.12.1", 3, true, &[(5.0, 100.0, 1.0), (5.2, 300.0, 2.0)]);
    // A round that saw no hand-off has no hold time; its convoy still counts.
    p.holds.push(Holds {
        hold_median_s: None,
        hold_p90_s: None,
    });
    p.rates.push(Rates {
        alone_per_s: 200.0,
        beside_cpu_per_s: 0.0,
    });
    let hold = p.figure(Metric::HoldMedian).unwrap();
    assert!((hold.value - 5.1).abs() < 1e-9 && hold.low == 5.0 && hold.high == 5.2);
    assert_eq!(p.figure(Metric::IoAlone).unwrap().value, 200.0);
    assert_eq!(p.figure(Metric::HoldP90), None);
    // A round whose I/O thread never ran beside the CPU-bound one has no fall.
    assert_eq!(p.figure(Metric::ConvoyFall).unwrap().value, 125.0);
}

#[test]
fn summary_gives_each_interpreter_its_speedups_at_two_workers() {
    let rows = [
        row(&py("3.12.1"), Variant::Threads(1), 1.0),
        row(&py("3.12.1"), Variant::Threads(2), 0.9),
        row(&py("3.12.1"), Variant::Processes(2), 1.8),
        row(&py("3.12.1"), Variant::Subinterpreters(2), 1.7),
        row(&py("2.7.18"), Variant::Threads(2), 0.8),
        row(&Who::Parlab(BackendKind::Threads), Variant::Threads(2), 2.0),
    ];
    let s = summary(&rows);
    assert_eq!(
        s,
        [
            SpeedupSummary {
                python: "CPython 3.12.1".into(),
                threads: Some(0.9),
                processes: Some(1.8),
                subinterpreters: Some(1.7),
            },
            SpeedupSummary {
                python: "CPython 2.7.18".into(),
                threads: Some(0.8),
                processes: None,
                subinterpreters: None,
            },
        ]
    );
}

#[test]
fn the_verdict_names_misses_and_what_the_rounds_cannot_tell() {
    let line = |measure: Measure, ratio: Estimate| {
        Fidelity::of(
            "gil-legacy",
            "CPython 2.7.18".into(),
            measure,
            ratio,
            Estimate::exact(1.0),
        )
    };
    let lines = [
        line(Measure::T2, est(1.18, 1.05, 1.3)),
        line(Measure::T4, est(1.0, 0.95, 1.05)),
        line(Measure::Convoy, est(9.3, 8.0, 11.0)),
    ];
    let v = crate::reproduce::verdict::fidelity(&lines);
    assert_eq!(
        v,
        [
            "The gil-legacy model meets CPython 2.7.18 on 1 of 3 measures; it misses convoy: I/O \
          rate alone / beside CPU (9.30x (8.00-11.00)); the rounds cannot tell on T2/T1 (wall, \
          2 threads over 1) (1.18x (1.05-1.30)) (the interval straddles the target)."
        ]
    );
    let all = crate::reproduce::verdict::fidelity(&lines[1..2]);
    assert_eq!(
        all,
        ["The gil-legacy model meets CPython 2.7.18 on its one measure."]
    );
}
