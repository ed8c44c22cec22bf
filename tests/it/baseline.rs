//! `parlab bench --baseline OLD.json --fail-if-slower PCT`: bad baselines refused before
//! measuring, and the gate on crafted baselines (a file made far faster or far slower than
//! any run of this machine), so no outcome depends on how fast the machine is today.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-baseline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The small benchmark every test runs: the baseline cell and threads x2 on count 0..1e6.
const MATRIX: &str = "-b threads -w 2 -r 0..1e6 --runs 3 --warmup 0";

/// `parlab bench MATRIX ARGS --quiet` (ARGS split at spaces), in `dir`.
fn bench(dir: &Path, args: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parlab"))
        .current_dir(dir)
        .arg("bench")
        .args(MATRIX.split_whitespace())
        .args(args.split_whitespace())
        .arg("--quiet")
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A report of this machine: one benchmark run, kept in `dir/run.json`.
fn measured(dir: &Path) -> Value {
    let out = bench(dir, "--export-json run.json");
    assert!(out.status.success(), "{:?}", text(&out));
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// `report` with every run's wall time set to `wall_s`, written to `dir/name`. Crafted walls
/// are the same in every run, since a measured report of a busy machine may hold one run many
/// times slower than the others, and a scaled copy carries that spread into the comparison.
fn crafted(dir: &Path, report: &Value, wall_s: f64, name: &str) -> String {
    let mut r = report.clone();
    for cell in r["cells"].as_array_mut().unwrap() {
        for run in cell["runs"].as_array_mut().unwrap() {
            run["wall_s"] = wall_s.into();
        }
    }
    std::fs::write(dir.join(name), serde_json::to_string(&r).unwrap()).unwrap();
    name.to_string()
}

/// A wall time no run of the matrix can beat: a nanosecond (a run of count over 0..1e6 takes
/// hundreds of microseconds).
const FASTER_THAN_ANY_RUN: f64 = 1e-9;
/// A wall time no run of the matrix comes near, however busy the machine: a thousand seconds.
const SLOWER_THAN_ANY_RUN: f64 = 1e3;

#[test]
fn bad_baselines_and_gates_are_refused_before_measuring() {
    let dir = tempdir("bad");
    std::fs::write(dir.join("text.json"), "not json at all").unwrap();
    std::fs::write(dir.join("old.json"), r#"{"schema": 1, "cells": []}"#).unwrap();
    std::fs::write(dir.join("hyperfine.json"), r#"{"results": []}"#).unwrap();
    let mut other = measured(&dir);
    for cell in other["cells"].as_array_mut().unwrap() {
        cell["kernel"] = "sum".into();
    }
    std::fs::write(dir.join("other.json"), other.to_string()).unwrap();
    for (args, says) in [
        (
            "--baseline absent.json",
            "invalid baseline 'absent.json': cannot read it",
        ),
        (
            "--baseline text.json",
            "invalid baseline 'text.json': not JSON",
        ),
        ("--baseline old.json", "a report of schema 1"),
        ("--baseline hyperfine.json", "not a parlab bench report"),
        (
            "--baseline other.json",
            "no cell in common with this benchmark",
        ),
        ("--fail-if-slower 20%", "needs --baseline"),
        (
            "--baseline run.json --fail-if-slower lots",
            "invalid --fail-if-slower 'lots'",
        ),
        (
            "--baseline run.json --fail-if-slower -5%",
            "a percentage from 0 to 1000",
        ),
    ] {
        let out = bench(&dir, &format!("{args} --export-json new.json"));
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args}: {stderr}");
        assert!(stdout.is_empty(), "{args}: nothing measured: {stdout}");
        assert!(!dir.join("new.json").exists(), "{args}: nothing measured");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_far_slower_than_its_baseline_fails_the_gate_naming_the_cells() {
    let dir = tempdir("slower");
    let run = measured(&dir);
    // A baseline far faster than this machine can be.
    let fast = crafted(&dir, &run, FASTER_THAN_ANY_RUN, "fast.json");
    let out = bench(
        &dir,
        &format!("--baseline {fast} --fail-if-slower 20% --export-json new.json"),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for cell in [
        "sequential x1 on count 0..1000000",
        "threads x2 on count 0..1000000",
    ] {
        assert!(
            stderr.contains(&format!("slower: {cell}: ")),
            "{cell}: {stderr}"
        );
    }
    assert!(stderr.contains(": slower: "), "{stderr}");
    assert!(
        stderr.contains("error: 2 cells slower than the baseline by more than 20%"),
        "{stderr}"
    );
    assert!(stdout.contains("Compared with fast.json"), "{stdout}");
    let new: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("new.json")).unwrap()).unwrap();
    assert_eq!(new["comparison"]["slower"].as_array().unwrap().len(), 2);
    assert_eq!(new["comparison"]["fail_if_slower"], 0.2);
    for cell in new["cells"].as_array().unwrap() {
        assert!(
            cell["baseline_change"]["low"].as_f64().unwrap() > 1.2,
            "{cell}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_no_slower_than_its_baseline_passes_and_every_export_carries_the_change() {
    let dir = tempdir("passes");
    let run = measured(&dir);
    // A baseline far slower than any run, with a cell this benchmark does not measure.
    let mut slow: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(crafted(&dir, &run, SLOWER_THAN_ANY_RUN, "slow.json")))
            .unwrap(),
    )
    .unwrap();
    let mut extra = slow["cells"][1].clone();
    extra["backend"] = "pool".into();
    slow["cells"].as_array_mut().unwrap().push(extra);
    std::fs::write(dir.join("slow.json"), slow.to_string()).unwrap();
    let out = bench(
        &dir,
        "--baseline slow.json --fail-if-slower 30% --export-json new.json --export-csv new.csv \
         --export-markdown new.md --export-html new.html --plot new.svg",
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("vs baseline"), "{stdout}");
    // Notes, wrapped to the width.
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("In the baseline only: pool x2 on count 0..1000000"),
        "{stdout}"
    );
    assert!(flat.contains("No cell slower by more than 30%"), "{stdout}");
    let new: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("new.json")).unwrap()).unwrap();
    let cells = new["cells"].as_array().unwrap();
    for cell in cells {
        assert!(
            cell["baseline_change"]["high"].as_f64().unwrap() < 1.0,
            "{cell}"
        );
    }
    assert!(cells[1]["karp_flatt"]["value"].is_number(), "{}", cells[1]);
    assert!(
        cells[1]["baseline_speedup"]["value"].is_number(),
        "{}",
        cells[1]
    );
    let csv = std::fs::read_to_string(dir.join("new.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for column in ["karp_flatt", "baseline_change", "baseline_change_ci_high"] {
        assert!(header.split(',').any(|h| h == column), "{header}");
    }
    let md = std::fs::read_to_string(dir.join("new.md")).unwrap();
    assert!(md.contains("| wall vs baseline |") && md.contains("Compared with slow.json"));
    let html = std::fs::read_to_string(dir.join("new.html")).unwrap();
    assert!(html.contains("serial fraction (Karp-Flatt)") && html.contains("In the baseline only"));
    let svg = std::fs::read_to_string(dir.join("new.svg")).unwrap();
    assert!(
        svg.contains("threads, baseline"),
        "dashed baseline line in the legend"
    );
    assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() > 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
