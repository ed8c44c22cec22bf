//! `parlab reproduce` as a library call and on the command line.

use std::path::PathBuf;
use std::time::Duration;

use parlab::backend::BackendKind;
use parlab::cpython::Python;
use parlab::reproduce::{Options, Report, Variant, Who, run};

use crate::processes_backend;
use parlab::backend::BackendOptions;

/// Runs the experiment, checking that progress numbers its steps 1, 2, ... and that the
/// total it announces is the number of steps taken. Returns the report and that number.
fn run_counting_steps(options: &Options) -> (Report, usize) {
    let mut steps = Vec::new();
    let r = run(options, &mut |what, i, n| {
        steps.push((what.to_string(), i, n))
    })
    .unwrap();
    let announced = steps.first().map_or(0, |s| s.2);
    for (k, (what, i, n)) in steps.iter().enumerate() {
        assert_eq!((*i, *n), (k + 1, announced), "step {what}");
    }
    assert_eq!(steps.len(), announced, "{steps:?}");
    (r, announced)
}

#[test]
fn quick_run_without_python_gets_every_answer_right() {
    let options = Options {
        quick: true,
        python: false,
        backends: BackendOptions {
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..Options::default()
    };
    let (r, _) = run_counting_steps(&options);
    assert_eq!(
        r.python,
        Err("CPython rows skipped (--no-python)".to_string())
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
    assert_eq!(r.inside.len(), 4);
    assert!(
        r.inside
            .iter()
            .all(|c| c.cpython.is_none() && c.parlab > 0.0)
    );
    assert!(r.cpu.verdict.len() >= 3, "{:?}", r.cpu.verdict);
    assert!(!r.io.verdict.is_empty());
}

#[test]
fn a_named_interpreter_that_is_not_there_is_bad_input() {
    let options = Options {
        quick: true,
        python_spec: Some("/nonexistent/python3".into()),
        backends: BackendOptions {
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..Options::default()
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
[ "$1" = -c ] && mode=$3  # the GIL probes come as -c SOURCE MODE SECONDS
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
    // (ETXTBSY) until that worker execs: wait until the script runs.
    for _ in 0..100 {
        if Python::find(Some(&path)).unwrap().is_some() {
            return path;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never ran", path.display());
}

#[test]
fn cpython_rows_are_read_placed_and_judged() {
    let program = fake_python();
    let options = Options {
        quick: true,
        python_spec: Some(program.display().to_string()),
        backends: BackendOptions {
            check_interval: 250,
            processes: processes_backend(),
            ..BackendOptions::default()
        },
        ..Options::default()
    };
    let (r, steps) = run_counting_steps(&options);
    let (_, steps_without) = run_counting_steps(&Options {
        python: false,
        ..options.clone()
    });
    std::fs::remove_file(program).unwrap();
    assert_eq!(r.python, Ok("3.99.0".to_string()));

    let py = Who::CPython {
        version: "3.99.0".into(),
    };
    let of = |rows: &[parlab::reproduce::Row]| -> Vec<(Variant, Option<u128>, Option<f64>)> {
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
            "On 3.99.0: 2 threads ran about as fast as (1.00x) 1 thread and 4 threads about as \
             fast as (1.00x) 1 thread"
        ),
        "{:?}",
        r.cpu.verdict
    );
    assert!(r.cpu.verdict.iter().any(|v| v.contains("every 250 ticks")));
    assert!(r.io.verdict[0].starts_with("CPython's 4 threads ran"));
    let cpython: Vec<_> = r.inside.iter().map(|c| c.cpython).collect();
    assert_eq!(
        cpython,
        [Some(250.0), Some(500.0), Some(5000.0), Some(500.0)]
    );
    assert!(
        r.inside_verdict[1].ends_with(", in CPython 10x."),
        "{:?}",
        r.inside_verdict
    );
}
