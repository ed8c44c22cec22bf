//! `parlab reproduce` as a library call and on the command line.

use std::path::PathBuf;
use std::time::Duration;

use parlab::backend::BackendKind;
use parlab::cpython::Python;
use parlab::reproduce::{ReproduceOptions, ReproduceReport, Variant, Who, run};

use crate::processes_backend;
use parlab::backend::BackendOptions;

/// Runs the experiment, checking that progress numbers its steps 1, 2, ... (a round past the
/// planned ones repeating the number before it) and that the total it announces is the last
/// step's number. Returns the report and that number.
fn run_counting_steps(options: &ReproduceOptions) -> (ReproduceReport, usize) {
    let mut steps = Vec::new();
    let r = run(options, &mut |what, i, n| {
        steps.push((what.to_string(), i, n))
    })
    .unwrap();
    let announced = steps.first().map_or(0, |s| s.2);
    // Rounds past the least planned repeat the step number they follow.
    let mut last = 0;
    for (what, i, n) in &steps {
        assert_eq!(*n, announced, "step {what}");
        assert!(
            *i == last + 1 || (*i == last && last > 0),
            "step {what}: {i} after {last}"
        );
        last = *i;
    }
    assert_eq!(last, announced, "{steps:?}");
    (r, announced)
}

#[test]
fn quick_run_without_python_gets_every_answer_right() {
    let options = ReproduceOptions {
        quick: true,
        python: false,
        backends: BackendOptions {
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..ReproduceOptions::default()
    };
    let (r, _) = run_counting_steps(&options);
    assert_eq!(
        r.python_missing.as_deref(),
        Some("CPython rows skipped (--no-python)")
    );
    let parlab_rows: Vec<_> = r
        .cpu
        .rows
        .iter()
        .filter(|r| matches!(r.who, Who::Parlab(_)))
        .collect();
    assert_eq!(parlab_rows.len(), 10);
    for row in parlab_rows {
        assert_eq!(row.result, Some(10_000_000), "{row:?}");
        assert!(row.speedup.is_some(), "{row:?}");
        let modelled = matches!(
            row.who,
            Who::Parlab(BackendKind::Gil | BackendKind::GilLegacy)
        );
        assert_eq!(row.gil.is_some(), modelled, "{row:?}");
    }
    assert_eq!(r.io.rows.len(), 3);
    for row in &r.io.rows {
        assert_eq!(row.result, Some(40), "{row:?}");
    }
    assert_eq!(r.inside.len(), 5);
    assert!(
        r.inside
            .iter()
            .all(|c| c.cpython.is_none() && c.parlab.low > 0.0)
    );
    assert!(r.cpu.verdict.len() >= 3, "{:?}", r.cpu.verdict);
    assert!(!r.io.verdict.is_empty());
}

#[test]
fn a_named_interpreter_that_is_not_there_is_bad_input() {
    let options = ReproduceOptions {
        quick: true,
        python_spec: Some("/nonexistent/python3".into()),
        backends: BackendOptions {
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..ReproduceOptions::default()
    };
    let mut steps = 0;
    let err = run(&options, &mut |_, _, _| steps += 1).unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert!(err.to_string().contains("/nonexistent/python3"), "{err}");
    assert_eq!(steps, 0, "nothing is measured");
}

/// An interpreter that answers as the seed script would, with fixed times: 1 s for `threads`
/// however many, 0.5 s for processes, 0.1 s for `sleep`.
fn fake_python() -> PathBuf {
    let path = std::env::temp_dir().join(format!("parlab-it-fake-python-{}", std::process::id()));
    let script = r#"#!/bin/sh
mode=$2
case "$mode" in
  info) echo '{"version": "3.99.0", "implementation": "CPython", "executable": "/x/python3.99", "gil_enabled": true, "free_threaded": false, "start_method": "fork", "subinterpreters": "concurrent.interpreters"}' ;;
  subinterpreters) echo "{\"result\": $(($5 - $4)), \"elapsed_s\": 0.625, \"api\": \"concurrent.interpreters\"}" ;;
  threads) echo "{\"result\": $(($5 - $4)), \"elapsed_s\": 1.0}" ;;
  processes) echo "{\"result\": $(($5 - $4)), \"elapsed_s\": 0.5}" ;;
  sleep) echo "{\"result\": $(($5 - $4)), \"elapsed_s\": 0.1}" ;;
  holds) echo '{"turns": 40, "hold_median_s": 0.25, "hold_p90_s": 0.5}' ;;
  convoy) echo '{"alone_per_s": 5000.0, "beside_cpu_per_s": 500.0}' ;;
  *) exit 2 ;;
esac
"#;
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A worker forked by another test while the script was open for writing keeps it busy
    // (ETXTBSY) until that worker execs: wait until the script runs (up to 10 s, for a busy
    // machine).
    for _ in 0..500 {
        if Python::find(Some(&path)).unwrap().is_some() {
            return path;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never ran", path.display());
}

fn py_who() -> Who {
    Who::CPython {
        version: "3.99.0".into(),
    }
}

#[test]
fn cpython_rows_are_read_placed_and_judged() {
    let program = fake_python();
    let options = ReproduceOptions {
        quick: true,
        python_spec: Some(program.display().to_string()),
        backends: BackendOptions {
            check_interval: 250,
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..ReproduceOptions::default()
    };
    let (r, steps) = run_counting_steps(&options);
    // Every CPython row ran three times, interleaved across the rows, with the same answer; up
    // to nine times where a row was undecided (on a busy machine the fake's exact 2.0x for
    // processes can lie above the machine's ceiling: an artefact, measured further).
    for row in r
        .cpu
        .rows
        .iter()
        .chain(&r.io.rows)
        .filter(|r| r.who == py_who())
    {
        let spread = row.spread.unwrap();
        assert!((3..=9).contains(&spread.runs), "{row:?}");
        assert!(spread.speedup.low <= spread.speedup.value, "{row:?}");
        assert!(spread.speedup.value <= spread.speedup.high, "{row:?}");
    }
    let (_, steps_without) = run_counting_steps(&ReproduceOptions {
        python: false,
        ..options.clone()
    });
    std::fs::remove_file(program).unwrap();
    assert_eq!(r.python_missing, None);
    assert_eq!(r.pythons[0].info.version, "3.99.0");

    let py = Who::CPython {
        version: "3.99.0".into(),
    };
    let of =
        |rows: &[parlab::reproduce::ReproduceRow]| -> Vec<(Variant, Option<u128>, Option<f64>)> {
            rows.iter()
                .filter(|r| r.who == py)
                .map(|r| (r.variant, r.result, r.speedup))
                .collect()
        };
    assert_eq!(
        of(&r.cpu.rows),
        [
            (Variant::Threads(1), Some(10_000_000), Some(1.0)),
            (Variant::Threads(2), Some(10_000_000), Some(1.0)),
            (Variant::Threads(4), Some(10_000_000), Some(1.0)),
            (Variant::Processes(2), Some(10_000_000), Some(2.0)),
            (Variant::Subinterpreters(2), Some(10_000_000), Some(1.6)),
            (Variant::Subinterpreters(4), Some(10_000_000), Some(1.6)),
        ]
    );
    let sub = r
        .cpu
        .rows
        .iter()
        .find(|r| r.who == py && r.variant == Variant::Subinterpreters(2));
    assert_eq!(
        sub.unwrap().note.as_deref(),
        Some("one GIL each, through concurrent.interpreters")
    );
    assert_eq!(r.pythons.len(), 1);
    assert_eq!(r.pythons[0].info.start_method, "fork");
    // The fidelity section holds the gil model against 3.99.0 on every measure.
    assert_eq!(r.fidelity.len(), 4, "{:?}", r.fidelity);
    assert!(
        r.fidelity
            .iter()
            .all(|f| f.model == "gil" && f.python == "CPython 3.99.0")
    );
    assert_eq!(r.summary.len(), 1);
    assert_eq!(r.summary[0].subinterpreters, Some(1.6));
    assert_eq!(of(&r.io.rows).len(), 3);
    assert!(
        of(&r.io.rows)
            .iter()
            .all(|(_, result, _)| *result == Some(40))
    );
    // Each of CPython's rows and probes was one more step.
    assert!(
        steps > steps_without,
        "{steps} steps, {steps_without} without CPython"
    );

    assert!(
        r.cpu.verdict[0].starts_with(
            "On 3.99.0: 2 threads ran no faster than 1 thread, at 1.00x; 4 threads ran no \
             faster than 1 thread, at 1.00x"
        ),
        "{:?}",
        r.cpu.verdict
    );
    assert!(r.cpu.verdict.iter().any(|v| v.contains("every 250 ticks")));
    assert!(r.io.verdict[0].starts_with("CPython's 4 threads ran"));
    // Every round of the fake probes gave the same figures: exact intervals.
    let cpython: Vec<_> = r
        .inside
        .iter()
        .map(|c| c.cpython.filter(|e| e.low == e.high).map(|e| e.value))
        .collect();
    assert_eq!(
        cpython,
        [
            Some(250.0),
            Some(500.0),
            Some(5000.0),
            Some(500.0),
            Some(10.0)
        ]
    );
    assert!(
        r.inside_verdict[1].ends_with(", in CPython 10x."),
        "{:?}",
        r.inside_verdict
    );
}

/// A speedup object of the JSON: `{value, low, high}` with low <= value <= high.
fn interval(v: &serde_json::Value, what: &str) -> (f64, f64, f64) {
    let f = |k: &str| {
        v[k].as_f64()
            .unwrap_or_else(|| panic!("{what}: no {k} in {v}"))
    };
    let (value, low, high) = (f("value"), f("low"), f("high"));
    assert!(low <= value && value <= high, "{what}: {v}");
    (value, low, high)
}

#[test]
fn reproduce_json_gives_every_measured_row_an_interval_and_w_above_1_a_ceiling() {
    let out = assert_cmd::Command::cargo_bin("parlab")
        .unwrap()
        .args(["reproduce", "--quick", "--no-python", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        crate::intervals::assert_interval_json(&v, "reproduce") > 0,
        "{v}"
    );
    let words = [
        "faster",
        "no faster",
        "slower",
        "noise hides it",
        "an artefact",
    ];
    for (section, cpu_bound) in [("cpu", true), ("io", false)] {
        // What the ceiling probes cost: said for the section whose rows have a ceiling only.
        let probes = &v[section]["probes"];
        assert_eq!(!probes.is_null(), cpu_bound, "{section}: {probes}");
        if cpu_bound {
            let seconds = probes["seconds"].as_f64().unwrap();
            let share = probes["share"].as_f64().unwrap();
            assert!(seconds > 0.0 && share > 0.0 && share < 1.0, "{probes}");
        }
        for row in v[section]["rows"].as_array().unwrap() {
            let what = format!("{section}: {} {}", row["family"], row["variant"]);
            if row["family"].as_str().unwrap().starts_with("seed post") {
                // Published, not measured: an exact ratio where there are two times.
                if !row["speedup"].is_null() {
                    let (value, low, high) = interval(&row["speedup"], &what);
                    assert!(low == value && value == high, "{what}");
                }
                assert!(row["runs"].is_null(), "{what}");
                continue;
            }
            let (value, _, _) = interval(&row["speedup"], &what);
            assert!(value > 0.0, "{what}");
            assert!(row["runs"].as_u64().unwrap() >= 3, "{what}");
            // CPU-bound rows of this process's threads count their CPU time and are judged at
            // equal CPU speed, never above the clock; worker processes' CPU time is not
            // counted here, and sleeping rows keep no CPU busy: the clock's figure stands.
            let (clock, _, _) = interval(&row["speedup_by_clock"], &what);
            let threads = row["family"] != "parlab" || row["variant"] != "2 processes";
            assert_eq!(
                !row["cpus"].is_null(),
                cpu_bound && threads,
                "{what}: {row}"
            );
            if row["cpus"].is_null() {
                assert_eq!(value, clock, "{what}: {row}");
            } else {
                // Busy CPUs: more than none, and no more than the row's threads (a loaded
                // machine lends a thread a small share of a CPU).
                let (cpus, _, _) = interval(&row["cpus"], &what);
                let threads = row["workers"].as_u64().unwrap() as f64;
                assert!(cpus > 0.0 && cpus <= threads * 1.05, "{what}: {row}");
                assert!(value <= clock, "{what}: {row}");
            }
            let workers = row["workers"].as_u64().unwrap();
            // A ceiling only where one applies; it may be missing there too, when every sample
            // read above what the CPUs allow and was dropped (a busy machine).
            let with_ceiling = cpu_bound && workers > 1 && !row["ceiling"].is_null();
            if !(cpu_bound && workers > 1) {
                assert!(row["ceiling"].is_null(), "{what}: {row}");
            }
            assert_eq!(!row["vs_ceiling"].is_null(), with_ceiling, "{what}: {row}");
            if with_ceiling {
                let (ceiling, _, _) = interval(&row["ceiling"], &what);
                let (share, _, _) = interval(&row["vs_ceiling"], &what);
                assert!(ceiling > 0.0 && share > 0.0, "{what}");
            }
            if workers == 1 {
                assert_eq!(value, 1.0, "{what}: the one-thread row is its own base");
                assert!(row["verdict"].is_null(), "{what}");
            } else {
                let word = row["verdict"].as_str().unwrap();
                assert!(words.contains(&word), "{what}: {word}");
                // Only a gain the machine's ceiling could not give is an artefact.
                if word == "an artefact" {
                    assert!(with_ceiling && value > 1.0, "{what}: {row}");
                }
            }
        }
    }
}
