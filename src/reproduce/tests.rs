//! The plan of rows and steps, and the CPU-bound section's job in words.

use super::*;

#[test]
fn cpython_rows_come_first_and_add_their_steps() {
    let without = Plan::new(&[]);
    assert!(
        without
            .cpu
            .iter()
            .chain(&without.io)
            .all(|(who, _)| matches!(who, Who::Parlab(_)))
    );
    let py = Who::CPython {
        version: "3.12.1".into(),
    };
    let with = Plan::new(&[(py.clone(), true, true)]);
    let cpython_rows = |rows: &[(Who, Variant)]| rows.iter().take_while(|(w, _)| *w == py).count();
    let (cpu, io) = (cpython_rows(&with.cpu), cpython_rows(&with.io));
    assert!(cpu > 0 && io > 0);
    assert!(
        with.cpu
            .contains(&(py.clone(), Variant::Subinterpreters(4)))
    );
    // Past CPython's rows, the same parlab rows as without it.
    assert_eq!(with.cpu[cpu..], without.cpu[..]);
    assert_eq!(with.io[io..], without.io[..]);
    let parlab = Sizes::new(true).parlab;
    assert_eq!(
        with.steps(parlab),
        without.steps(parlab) + (cpu + io) * FEW.least + PROBE_STEPS
    );
}

#[test]
fn a_quick_run_says_the_seed_post_counted_more() {
    assert_eq!(
        cpu_job(SEED_END),
        "count over 0..100000000, split into equal parts"
    );
    let quick = cpu_job(Sizes::new(true).end);
    assert!(
        quick.starts_with("count over 0..10000000, split"),
        "{quick}"
    );
    assert!(
        quick.ends_with("(the seed post's rows: 0..100000000)"),
        "{quick}"
    );
}

#[test]
fn every_measured_row_has_a_distinct_who_and_variant() {
    let plan = Plan::new(&[(
        Who::CPython {
            version: "3.13.0".into(),
        },
        true,
        true,
    )]);
    for rows in [&plan.cpu, &plan.io] {
        for (i, a) in rows.iter().enumerate() {
            assert!(!rows[i + 1..].contains(a), "{a:?} twice");
        }
    }
}

#[test]
fn an_interpreter_without_the_start_method_asked_for_has_no_processes_row() {
    let py = Who::CPython {
        version: "2.7.18".into(),
    };
    let plan = Plan::new(&[(py.clone(), false, false)]);
    let mine: Vec<Variant> = plan
        .cpu
        .iter()
        .filter(|(w, _)| *w == py)
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(mine, [1, 2, 4].map(Variant::Threads));
}

#[test]
fn a_start_method_python_lacks_a_name_for_is_bad_input() {
    let options = ReproduceOptions {
        python_start: Some("vfork".into()),
        ..ReproduceOptions::default()
    };
    let e = run(&options, &mut |_, _, _| {}).unwrap_err();
    assert!(e.is_usage(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("vfork") && text.contains("fork, forkserver, spawn"),
        "{text}"
    );
}
