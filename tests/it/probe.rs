//! `parlab probe`: every probe runs in quick mode, orders what physics orders, and leaves no
//! child behind.

use std::process::Command;

use parlab::probe::{ProbeKind, ProbeOptions, ProbeReport, run};

use crate::processes_backend;

/// The median the probe reported for the first row starting with `prefix`.
fn median(r: &ProbeReport, prefix: &str) -> Option<f64> {
    r.rows
        .iter()
        .find(|row| row.what.starts_with(prefix))
        .and_then(|row| row.median())
}

/// The fastest repetition: what the machine can do when nothing else gets in the way, so that
/// comparisons hold on a busy machine too (medians there include waits for a CPU).
fn fastest(r: &ProbeReport, prefix: &str) -> Option<f64> {
    r.rows
        .iter()
        .find(|row| row.what.starts_with(prefix))
        .and_then(|row| row.value.as_ref().ok())
        .map(|s| s.min)
}

/// Why the rows starting with `prefix` were not measured, for a skip that says so.
fn why_not_measured(r: &ProbeReport, prefix: &str) -> String {
    r.rows
        .iter()
        .filter(|row| row.what.starts_with(prefix))
        .filter_map(|row| {
            row.value
                .as_ref()
                .err()
                .map(|why| format!("{}: {why}", row.what))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The fork-rss series: one per way of starting a child, each with a point per size measured
/// (rows not refused), at increasing parent RSS, every latency positive and finite; refused
/// sizes are named in the conclusion.
fn check_fork_rss(fork: &ProbeReport) {
    let measured: Vec<_> = fork
        .rows
        .iter()
        .filter(|r| r.what.starts_with("fork + _exit + waitpid, parent +"))
        .filter(|r| r.value.is_ok())
        .collect();
    let labels: Vec<_> = fork.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "fork + _exit",
            "fork + child writes every page",
            "posix_spawn /bin/true"
        ]
    );
    if measured.is_empty() {
        eprintln!(
            "skipped: fork-rss measured no size: {}",
            why_not_measured(fork, "fork + _exit + waitpid, parent +")
        );
    }
    for s in &fork.series {
        assert_eq!(s.points.len(), measured.len(), "{s:?}");
        assert!(
            s.points.windows(2).all(|w| w[0].0 < w[1].0),
            "x not increasing: {s:?}"
        );
        assert!(
            s.points
                .iter()
                .all(|&(x, y)| x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite()),
            "{s:?}"
        );
    }
    // The first series is the fork row's median at every size measured.
    for (row, point) in measured.iter().zip(&fork.series[0].points) {
        assert_eq!(row.median(), Some(point.1), "{row:?}");
    }
    let refused = fork.rows.iter().any(|r| r.value.is_err());
    assert_eq!(
        refused,
        fork.conclusion
            .iter()
            .any(|c| c.contains("want of free memory")),
        "{fork:?}"
    );
}

fn quick(probes: &[ProbeKind]) -> Vec<ProbeReport> {
    let options = ProbeOptions {
        quick: true,
        pythons: Vec::new(),
        processes: processes_backend(),
    };
    let mut seen = Vec::new();
    let reports = run(probes, &options, &mut |p| seen.push(p)).unwrap();
    assert_eq!(seen, probes);
    reports
}

#[test]
#[ignore = "run by probes_in_quick_mode_are_sane_and_reap_every_child in a process of its own"]
fn probes_inner() {
    let reports = quick(&ProbeKind::ALL);
    assert_eq!(reports.len(), 5);
    for r in &reports {
        assert!(!r.conclusion.is_empty(), "{r:?}");
        for row in &r.rows {
            if let Ok(s) = &row.value {
                assert!(
                    s.min > 0.0 && s.min <= s.median && s.median <= s.max,
                    "{row:?}"
                );
            }
        }
    }
    let spawn = &reports[0];
    let thread = fastest(spawn, "thread:").unwrap();
    let fork_exec = fastest(spawn, "process: fork + exec").unwrap();
    assert!(
        thread < fork_exec,
        "a thread must start faster than a fork+exec: {spawn:?}"
    );
    for start in ["spawn", "forkserver"] {
        let worker = median(spawn, &format!("parlab worker ({start})"));
        assert!(worker.is_some_and(|us| us > 0.0), "{start}: {spawn:?}");
    }
    assert!(
        spawn
            .rows
            .iter()
            .filter(|r| r.what.starts_with("CPython"))
            .all(|r| r.value.is_err())
    );

    let fork = &reports[2];
    check_fork_rss(fork);
    match (
        fastest(fork, "fork + child writes every page, parent +0 MiB"),
        fastest(fork, "fork + child writes every page, parent +256 MiB"),
    ) {
        // A child that writes every page of a 256 MiB parent copies 256 MiB: far slower however
        // loaded the machine (a bare fork's page-table copy is too small to order under load).
        (Some(small), Some(big)) => assert!(
            big > small,
            "a child writing every page of a 256 MiB parent must be slower: {fork:?}"
        ),
        _ => eprintln!(
            "skipped: fork at +0 and +256 MiB not compared: {}",
            why_not_measured(fork, "fork + _exit + waitpid, parent +")
        ),
    }

    let memory = &reports[4];
    let per_thread = median(memory, "idle thread").unwrap();
    let per_process = median(memory, "idle parlab worker (spawn): RSS").unwrap();
    assert!(per_thread < per_process, "{memory:?}");
    // Forked workers are measured too (pages shared with the server count in their RSS).
    assert!(median(memory, "idle parlab worker (forkserver): PSS").is_some_and(|k| k > 0.0));

    // Every child was reaped: none is left, not even a zombie.
    let children = crate::children(std::process::id());
    assert!(children.is_empty(), "children left: {children:?}");
}

#[test]
fn probes_in_quick_mode_are_sane_and_reap_every_child() {
    crate::run_isolated("probe::probes_inner");
}

#[test]
fn cli_prints_tables_json_and_a_plot() {
    let bin = env!("CARGO_BIN_EXE_parlab");
    let out = Command::new(bin)
        .args(["probe", "--quick", "--no-python", "spawn", "memory"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("What workers cost on this machine (CPython rows skipped (--no-python))"),
        "{text}"
    );
    assert!(text.contains("spawn: create and reap one worker"), "{text}");
    assert!(
        text.contains("memory: resident memory per idle worker"),
        "{text}"
    );
    assert!(!text.contains("fork-rss:"), "{text}");

    let out = Command::new(bin)
        .args(["probe", "--quick", "--no-python", "--json", "switch"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["probe"], "switch");
    assert_eq!(v[0]["rows"].as_array().unwrap().len(), 4);
    for row in v[0]["rows"].as_array().unwrap() {
        assert!(
            row["median"].is_number() || row["error"].is_string(),
            "{row}"
        );
    }
    crate::cli::assert_no_rust_internals(&v);

    let dir = std::env::temp_dir().join(format!("parlab-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("fork.svg");
    let out = Command::new(bin)
        .args(["probe", "--quick", "--no-python", "fork-rss", "--plot"])
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.starts_with("<svg") && plot.contains("posix_spawn"),
        "{plot}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a temporary file was left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
