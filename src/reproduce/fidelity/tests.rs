//! The fidelity table and the summary on made-up rows and probes.

use super::*;

fn row(who: &Who, variant: Variant, speedup: f64) -> Row {
    Row {
        speedup: Some(speedup),
        ..Row::new(who.clone(), variant)
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

fn model(hold_ms: f64, alone: f64, beside: f64) -> ModelProbe {
    ModelProbe {
        stats: stats(hold_ms),
        convoy: Convoy {
            alone_per_s: alone,
            beside_cpu_per_s: beside,
        },
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
    PythonProbe {
        python: python.into(),
        major,
        gil_enabled: gil,
        holds: Holds {
            hold_median_s: Some(hold_ms / 1e3),
            hold_p90_s: None,
        },
        rates: Rates {
            alone_per_s: alone,
            beside_cpu_per_s: beside,
        },
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
    assert!((t2.model_value - 2.0).abs() < 1e-9 && (t2.python_value - 1.25).abs() < 1e-9);
    assert!((t2.ratio - 1.6).abs() < 1e-9 && !t2.within_target);
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

#[test]
fn targets_are_15_percent_10_percent_and_2x() {
    assert!(Measure::T2.within(1.15) && !Measure::T2.within(1.16));
    assert!(Measure::T4.within(0.85) && !Measure::T4.within(0.84));
    assert!(Measure::Hold.within(1.1) && !Measure::Hold.within(1.11));
    assert!(Measure::Convoy.within(0.5) && Measure::Convoy.within(2.0));
    assert!(!Measure::Convoy.within(2.01) && !Measure::Convoy.within(0.49));
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
            Summary {
                python: "CPython 3.12.1".into(),
                threads: Some(0.9),
                processes: Some(1.8),
                subinterpreters: Some(1.7),
            },
            Summary {
                python: "CPython 2.7.18".into(),
                threads: Some(0.8),
                processes: None,
                subinterpreters: None,
            },
        ]
    );
}
