//! Unit tests of the baseline comparison on synthetic samples.

use super::*;
use crate::bench::machine::Machine;
use crate::bench::schema::{Run, Settings, describe};
use crate::bench::spec::sample;
use crate::stats::SampleSummary;

/// A cell of `count 0..1000` with the given wall times (and ceiling, for more workers).
pub(crate) fn cell(
    backend: BackendKind,
    workers: usize,
    walls: &[f64],
    ceiling: Option<f64>,
) -> BenchCell {
    BenchCell {
        kernel: "count".into(),
        range: Span::new(0, 1000).unwrap(),
        split: "static".into(),
        backend,
        workers,
        baseline: backend == BackendKind::Sequential && workers == 1,
        expected: "1000".into(),
        runs: walls
            .iter()
            .map(|&w| Run {
                wall_s: w,
                user_s: w,
                sys_s: 0.0,
                peak_rss_kib: None,
                baseline_s: None,
                baseline_cpu_s: None,
                ceiling,
            })
            .collect(),
        wall: Some(SampleSummary::of(walls)),
        user_s: None,
        sys_s: None,
        peak_rss_kib: None,
        speedup: None,
        speedup_by_clock: None,
        noise: None,
        verdict: None,
        efficiency: None,
        ceiling: ceiling.map(|c| Estimate {
            value: c,
            low: c * 0.97,
            high: c * 1.03,
        }),
        vs_ceiling: None,
        artefact: None,
        within_precision: None,
        karp_flatt: None,
        baseline_change: None,
        baseline_speedup: None,
        outliers: 0,
        mismatches: 0,
        errors: Vec::new(),
    }
}

pub(crate) fn report(cells: Vec<BenchCell>) -> BenchReport {
    BenchReport {
        schema: SCHEMA_VERSION,
        parlab_version: "0.1.0".into(),
        started_unix_s: 0.0,
        rounds: 5,
        complete: true,
        interrupted: None,
        machine: Machine {
            cpu_model: "Test CPU".into(),
            available_parallelism: 2,
            os: "linux".into(),
            load_before: [0.0; 3],
            load_after: [0.0; 3],
            busy_warning: None,
            cpu_speeds: Vec::new(),
            unequal_cpus: None,
        },
        gpu_adapter: None,
        gpu: None,
        settings: Settings {
            warmup: 1,
            runs: 5,
            min_time_s: None,
            timeout_s: None,
            start_method: None,
            switch_interval_s: None,
            check_interval: None,
            precision: None,
            max_time_s: None,
        },
        ceilings: Default::default(),
        comparison: None,
        cells,
    }
}

/// Wall times around `median`, spread +-3%.
fn around(median: f64) -> Vec<f64> {
    [1.0, 0.97, 1.03, 0.99, 1.01, 1.02, 0.98]
        .map(|f| median * f)
        .to_vec()
}

#[test]
fn the_same_samples_change_by_one_and_pass_any_gate() {
    let old = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Threads, 2, &around(0.1), Some(1.9)),
    ]);
    let mut new = old.clone();
    annotate(&mut new, &old, "old.json", Some(0.0));
    let c = new.comparison.as_ref().unwrap();
    assert!(!c.failed(), "{c:?}");
    assert!(c.slower.is_empty() && c.machine_differences.is_empty());
    // An interval that holds 1 exactly is "maybe" at a 0% gate, never a failure.
    assert_eq!(c.maybe.len(), 2);
    for cell in &new.cells {
        let e = cell.baseline_change.unwrap();
        assert_eq!(e.value, 1.0);
        assert!(e.low < 1.0 && e.high > 1.0, "{e:?}");
    }
}

#[test]
fn a_clear_slowdown_fails_the_gate_and_names_the_cell() {
    let old = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Threads, 2, &around(0.1), Some(1.9)),
    ]);
    let mut new = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.21), None),
        cell(BackendKind::Threads, 2, &around(0.19), Some(1.9)),
    ]);
    annotate(&mut new, &old, "old.json", Some(0.2));
    let c = new.comparison.unwrap();
    assert!(c.failed());
    assert_eq!(c.slower.len(), 1, "{c:?}");
    let line = c.slower[0].line();
    assert!(
        line.starts_with("threads x2 on count 0..1000: slower: 1.90x ("),
        "{line}"
    );
    assert!(c.slower[0].explained.is_none());
    // The sequential cell's 5% is well inside the 20% allowed: neither slower nor maybe.
    assert!(c.maybe.is_empty(), "{c:?}");
}

#[test]
fn a_change_whose_interval_holds_the_limit_is_maybe() {
    let old = report(vec![cell(BackendKind::Sequential, 1, &around(0.2), None)]);
    let mut new = report(vec![cell(BackendKind::Sequential, 1, &around(0.24), None)]);
    annotate(&mut new, &old, "old.json", Some(0.2));
    let c = new.comparison.unwrap();
    assert!(!c.failed());
    assert_eq!(c.maybe.len(), 1);
    assert_eq!(c.maybe[0].change.side_of(1.2), Side::Holds);
}

#[test]
fn a_fall_of_the_ceiling_explains_a_slowdown_it_accounts_for() {
    let old = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Threads, 2, &around(0.1), Some(1.9)),
    ]);
    // The ceiling fell from 1.9 to 1.2: the parallel cell is 1.9/1.2 = 1.58x slower for it.
    let mut new = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Threads, 2, &around(0.158), Some(1.2)),
    ]);
    annotate(&mut new, &old, "old.json", Some(0.2));
    let c = new.comparison.unwrap();
    assert_eq!(c.slower.len(), 1, "{c:?}");
    let e = c.slower[0].explained.as_deref().unwrap();
    assert!(e.contains("lower ceiling (1.90x then, 1.20x now)"), "{e}");
}

#[test]
fn cells_on_one_side_only_and_machine_differences_are_listed() {
    let mut old = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Pool, 2, &around(0.1), Some(1.9)),
    ]);
    old.machine.cpu_model = "Old CPU".into();
    old.machine.available_parallelism = 8;
    old.parlab_version = "0.0.9".into();
    let mut new = report(vec![
        cell(BackendKind::Sequential, 1, &around(0.2), None),
        cell(BackendKind::Threads, 2, &around(0.1), Some(1.9)),
    ]);
    annotate(&mut new, &old, "old.json", None);
    let c = new.comparison.unwrap();
    assert_eq!(c.only_here, ["threads x2 on count 0..1000"]);
    assert_eq!(c.only_in_baseline, ["pool x2 on count 0..1000"]);
    assert_eq!(
        c.machine_differences,
        [
            "CPU model: Old CPU then, Test CPU now",
            "CPUs: 8 then, 2 now",
            "parlab version: 0.0.9 then, 0.1.0 now"
        ]
    );
    assert!(new.cells[1].baseline_change.is_none());
    assert!(!c.failed(), "no gate asked: nothing fails");
}

#[test]
fn a_baseline_without_a_common_cell_is_refused() {
    let keys = sample().cell_keys();
    assert_eq!(keys.len(), 3);
    let mut old = report(vec![cell(BackendKind::Pool, 3, &around(0.1), None)]);
    let e = check_overlap("old.json", &old, &keys)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid baseline 'old.json': no cell in common"),
        "{e}"
    );
    assert!(e.contains("pool x3 on count 0..1000"), "{e}");
    old.cells
        .push(cell(BackendKind::Threads, 2, &around(0.1), None));
    assert!(check_overlap("old.json", &old, &keys).is_ok());
}

#[test]
fn changes_are_described_either_way() {
    let slower = Estimate {
        value: 1.92,
        low: 1.71,
        high: 2.10,
    };
    assert_eq!(
        describe(&slower),
        "slower: 1.92x (1.71-2.10) the baseline's wall time"
    );
    let faster = Estimate {
        value: 0.5,
        low: 0.4,
        high: 0.625,
    };
    assert_eq!(
        describe(&faster),
        "faster: 2.00x (1.60-2.50) the baseline's speed"
    );
    let either = Estimate {
        value: 1.05,
        low: 0.91,
        high: 1.22,
    };
    assert_eq!(
        describe(&either),
        "no faster: 1.05x (0.91-1.22) the baseline's wall time"
    );
    // Within the 5% margin: the same words as every command gives such an interval.
    let level = Estimate {
        value: 0.98,
        low: 0.97,
        high: 0.99,
    };
    assert_eq!(
        describe(&level),
        "no faster: 0.98x (0.97-0.99) the baseline's wall time (less than 5% apart)"
    );
}

#[test]
fn percentages() {
    assert_eq!(parse_fail_if_slower("20%").unwrap(), 0.2);
    assert_eq!(parse_fail_if_slower("20").unwrap(), 0.2);
    assert_eq!(parse_fail_if_slower("0").unwrap(), 0.0);
    for bad in ["", "-5", "abc", "5000%", "NaN"] {
        let e = parse_fail_if_slower(bad).unwrap_err().to_string();
        assert!(e.contains("a percentage from 0 to 1000"), "{e}");
    }
}

#[test]
fn bad_files_are_one_line_errors() {
    let dir = std::env::temp_dir().join(format!("parlab-baseline-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cases = [
        (
            dir.join("absent.json").display().to_string(),
            "cannot read it",
        ),
        (write("text.json", "not json"), "not JSON"),
        (
            write("schema1.json", r#"{"schema": 1}"#),
            "a report of schema 1",
        ),
        (write("other.json", r#"{"results": []}"#), "no \"schema\""),
        (
            write("partial.json", r#"{"schema": 2}"#),
            "not a complete schema 2",
        ),
    ];
    for (path, says) in cases {
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains(says) && !e.contains('\n'), "{path}: {e}");
    }
    let good = report(vec![cell(BackendKind::Sequential, 1, &around(0.2), None)]);
    let path = write("good.json", &serde_json::to_string(&good).unwrap());
    let back = load(&path).unwrap();
    assert_eq!(back.cells.len(), 1);
    assert_eq!(CellKey::of(&back.cells[0]), CellKey::of(&good.cells[0]));
    std::fs::remove_dir_all(&dir).unwrap();
}
