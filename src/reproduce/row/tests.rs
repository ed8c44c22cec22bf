//! The rows' figures and their JSON form.

use super::*;

fn timed(who: Who, variant: Variant, wall_s: f64) -> ReproduceRow {
    ReproduceRow {
        wall_s: Some(wall_s),
        ..ReproduceRow::new(who, variant)
    }
}

#[test]
fn variants_in_words() {
    assert_eq!(Variant::Threads(1).to_string(), "1 thread");
    assert_eq!(Variant::Threads(4).to_string(), "4 threads");
    assert_eq!(Variant::Processes(1).to_string(), "1 process");
    assert_eq!(Variant::Processes(2).to_string(), "2 processes");
    assert_eq!(Variant::Subinterpreters(2).to_string(), "2 subinterpreters");
}

#[test]
fn parlab_backends_without_a_gil_share_a_family() {
    let threads = Who::Parlab(BackendKind::Threads);
    let processes = Who::Parlab(BackendKind::Processes);
    assert_eq!(threads.family(), processes.family());
    assert_eq!(processes.to_string(), "parlab processes");
    assert_eq!(
        Who::Parlab(BackendKind::GilLegacy).family(),
        "parlab gil-legacy"
    );
    let py = Who::CPython {
        version: "3.12.1".into(),
    };
    assert_eq!(py.family(), "CPython 3.12.1");
}

#[test]
fn speedups_are_against_the_one_thread_row_of_the_family() {
    let gil = Who::Parlab(BackendKind::Gil);
    let mut rows = vec![
        timed(Who::Parlab(BackendKind::Threads), Variant::Threads(1), 4.0),
        timed(gil.clone(), Variant::Threads(1), 3.0),
        timed(gil, Variant::Threads(2), 6.0),
        timed(
            Who::Parlab(BackendKind::Processes),
            Variant::Processes(2),
            2.0,
        ),
        // A family without a one-thread row has no speedups.
        timed(Who::SeedPost, Variant::Processes(2), 1.0),
    ];
    add_speedups(&mut rows);
    let speedups: Vec<_> = rows.iter().map(|r| r.speedup).collect();
    assert_eq!(speedups, [Some(1.0), Some(1.0), Some(0.5), Some(2.0), None]);
}

#[test]
fn the_seed_post_publishes_two_times_and_its_own_range() {
    let mut rows = seed_post();
    add_speedups(&mut rows);
    assert!(rows.iter().all(|r| r.result == Some(100_000_000)));
    let timed: Vec<_> = rows.iter().filter(|r| r.wall_s.is_some()).collect();
    assert_eq!(timed.len(), 2);
    let two_processes = timed[1].speedup.unwrap();
    assert!((two_processes - 7.474 / 3.767).abs() < 1e-12);
}

#[test]
fn json_shows_rows_and_comparisons_in_the_tables_words() {
    let row = ReproduceRow {
        result: Some(7),
        note: Some("n".into()),
        ..timed(
            Who::Parlab(BackendKind::Processes),
            Variant::Processes(2),
            0.5,
        )
    };
    assert_eq!(
        serde_json::to_value(&row).unwrap(),
        serde_json::json!({
            "family": "parlab", "variant": "2 processes", "workers": 2, "result": 7,
            "wall_s": 0.5, "speedup": null, "speedup_by_clock": null, "cpus": null,
            "ceiling": null, "vs_ceiling": null,
            "verdict": null, "runs": null, "note": "n", "gil": null,
        })
    );
    let c = GilComparison {
        metric: Metric::IoAlone,
        cpython: None,
        parlab: Estimate {
            value: 3.0,
            low: 2.0,
            high: 4.0,
        },
    };
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"metric":"I/O thread alone: write+read pairs","unit":"per s","cpython":null,"parlab":{"value":3.0,"low":2.0,"high":4.0}}"#
    );
}
