//! `parlab reproduce` as a library call and on the command line.

use parlab::reproduce::{Options, run};

use crate::processes_backend;

#[test]
fn quick_run_without_python_gets_every_answer_right() {
    let options = Options {
        quick: true,
        python: false,
        processes: processes_backend(),
        ..Options::default()
    };
    let mut steps = Vec::new();
    let r = run(&options, &mut |what, i, n| {
        steps.push((what.to_string(), i, n))
    })
    .unwrap();
    assert_eq!(steps.len(), 15);
    assert!(
        steps
            .iter()
            .enumerate()
            .all(|(k, (_, i, n))| *i == k + 1 && *n == 15)
    );
    assert_eq!(
        r.python,
        Err("CPython rows skipped (--no-python)".to_string())
    );
    let parlab_rows: Vec<_> = r
        .cpu
        .rows
        .iter()
        .filter(|r| r.family.starts_with("parlab"))
        .collect();
    assert_eq!(parlab_rows.len(), 10);
    for row in parlab_rows {
        assert_eq!(row.result, Some(10_000_000), "{row:?}");
        assert!(row.speedup.is_some(), "{row:?}");
        assert_eq!(row.gil.is_some(), row.family.contains("gil"), "{row:?}");
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
fn a_missing_interpreter_is_reported_not_fatal() {
    let options = Options {
        quick: true,
        python_program: Some("/nonexistent/python3".into()),
        processes: processes_backend(),
        ..Options::default()
    };
    let r = run(&options, &mut |_, _, _| {}).unwrap();
    assert_eq!(
        r.python,
        Err("/nonexistent/python3 not found: CPython rows skipped".to_string())
    );
    assert!(r.cpu.rows.iter().all(|r| !r.family.starts_with("CPython")));
}
