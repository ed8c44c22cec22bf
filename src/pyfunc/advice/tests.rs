//! The recommendation on hand-made rows: roads, failures, executors and the judge's words.

use super::*;
use crate::stats::Estimate;

fn row(range: &str, road: Road, workers: usize, speedup: (f64, f64, f64)) -> PythonRow {
    let (value, low, high) = speedup;
    PythonRow::measured(
        "3.11.7",
        range,
        road,
        workers,
        Estimate { value, low, high },
    )
}

/// The first interpreter's recommendation.
fn first(rows: &[PythonRow], range: &str) -> Recommendation {
    recommend(rows, range).into_iter().next().unwrap()
}

fn base(range: &str) -> PythonRow {
    row(range, Road::Sequential, 1, (1.0, 1.0, 1.0))
}

fn busy(mut r: PythonRow, cpus: f64) -> PythonRow {
    r.cpus_busy = Some(Estimate {
        value: cpus,
        low: cpus - 0.02,
        high: cpus + 0.02,
    });
    r
}

#[test]
fn threads_that_do_not_scale_are_explained_in_the_recommendation() {
    // A GIL build, threads keeping one CPU busy: the GIL.
    let rows = [
        base("0..100"),
        busy(row("0..100", Road::Threads, 2, (0.97, 0.95, 0.99)), 1.0),
        row("0..100", Road::Processes, 2, (1.86, 1.7, 1.95)),
    ];
    let rec = recommend_on(&rows, "0..100", 2).unwrap();
    assert_eq!(rec.road, Road::Processes);
    assert!(
        rec.reason.starts_with(
            "threads x2: the threads kept 1.00 (0.98-1.02) CPUs busy, about one: they \
             waited on the GIL"
        ),
        "{}",
        rec.reason
    );
    // A free-threaded build, threads keeping both CPUs busy at 1.25x: contention.
    let ft = |mut r: PythonRow| {
        r.python = "3.13.5t".into();
        r
    };
    let rows = [
        ft(base("0..100")),
        ft(busy(
            row("0..100", Road::Threads, 2, (1.25, 1.2, 1.3)),
            1.96,
        )),
        ft(row("0..100", Road::Processes, 2, (1.91, 1.85, 1.95))),
    ];
    let rec = recommend_on(&rows, "0..100", 2).unwrap();
    assert_eq!(rec.road, Road::Processes);
    assert!(
        rec.reason.contains("contended on shared state"),
        "{}",
        rec.reason
    );
    assert!(!rec.reason.contains("GIL"), "{}", rec.reason);
    // No faster anywhere, threads waiting on a lock: said beside the figures.
    let rows = [
        base("0..100"),
        busy(row("0..100", Road::Threads, 2, (0.98, 0.95, 1.01)), 1.01),
    ];
    let rec = recommend_on(&rows, "0..100", 2).unwrap();
    assert_eq!(rec.road, Road::Sequential);
    assert!(
        rec.reason.contains("; threads x2: the threads kept"),
        "{}",
        rec.reason
    );
}

#[test]
fn a_gain_beyond_the_cpus_a_row_kept_busy_is_never_recommended() {
    // A GIL build's threads at 1.19x while keeping one CPU busy, as the baseline did.
    let rows = [
        busy(base("0..100"), 1.0),
        busy(row("0..100", Road::Threads, 2, (1.19, 1.06, 1.25)), 1.0),
    ];
    let rec = recommend_on(&rows, "0..100", 2).unwrap();
    assert_eq!(rec.road, Road::Sequential, "{}", rec.reason);
    // The same speedup on two CPUs busy is a gain.
    let rows = [
        busy(base("0..100"), 1.0),
        busy(row("0..100", Road::Threads, 2, (1.19, 1.06, 1.25)), 1.9),
    ];
    let rec = recommend_on(&rows, "0..100", 2).unwrap();
    assert_eq!(rec.road, Road::Threads, "{}", rec.reason);
}

#[test]
fn processes_win_when_threads_hold_the_gil() {
    let rows = [
        base("0..100"),
        row("0..100", Road::Threads, 2, (0.97, 0.9, 1.05)),
        row("0..100", Road::Processes, 2, (1.86, 1.7, 1.95)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!((rec.road, rec.workers), (Road::Processes, 2));
    // Without the CPUs the threads kept busy, no cause is claimed.
    assert!(
        rec.reason
            .starts_with("threads ran no faster than one thread; separate"),
        "{}",
        rec.reason
    );
    assert!(
        rec.reason
            .contains("threads x2 0.97x (0.90-1.05), processes x2 1.86x (1.70-1.95)"),
        "{}",
        rec.reason
    );
    assert_eq!(rec.smallest_range, None);
    assert!(!rec.reason.contains("busy"), "{}", rec.reason);
}

#[test]
fn a_busy_machine_is_named() {
    let mut threads = row("0..100", Road::Threads, 2, (1.3, 1.1, 1.5));
    threads.ceiling = Some(1.16);
    let rec = first(&[base("0..100"), threads.clone()], "0..100");
    assert!(
        rec.reason
            .contains("busy (a perfectly parallel loop of 2 threads reached at most 1.16x"),
        "{}",
        rec.reason
    );
    // Waiting, not computing: beyond the ceiling, the busy machine is not the point.
    threads.speedup = Some(Estimate {
        value: 3.9,
        low: 3.8,
        high: 4.0,
    });
    let rec = first(&[base("0..100"), threads], "0..100");
    assert!(!rec.reason.contains("busy"), "{}", rec.reason);
}

#[test]
fn the_cheapest_of_rows_that_cannot_be_told_apart_is_chosen() {
    let rows = [
        base("0..100"),
        row("0..100", Road::Threads, 4, (1.8, 1.6, 2.0)),
        row("0..100", Road::Processes, 2, (1.9, 1.7, 2.1)),
        row("0..100", Road::Subinterpreters, 2, (1.85, 1.7, 2.0)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!((rec.road, rec.workers), (Road::Threads, 4));
    assert!(rec.reason.contains("releases the GIL"), "{}", rec.reason);
    assert!(
        rec.reason.contains("the fastest, processes x2"),
        "{}",
        rec.reason
    );
}

#[test]
fn nothing_wins_when_every_interval_reaches_one() {
    let rows = [
        base("0..100"),
        row("0..100", Road::Threads, 2, (0.5, 0.4, 0.6)),
        row("0..100", Road::Processes, 2, (1.2, 0.95, 1.4)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!((rec.road, rec.workers), (Road::Sequential, 1));
    assert!(
        rec.reason.starts_with("no road is faster than one thread"),
        "{}",
        rec.reason
    );
}

#[test]
fn a_gain_within_the_margin_is_not_recommended() {
    // 1.02x (1.01-1.03) lies above 1 but within 5% of it: "no faster" in every command.
    let rows = [
        base("0..100"),
        row("0..100", Road::Processes, 2, (1.02, 1.01, 1.03)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!((rec.road, rec.workers), (Road::Sequential, 1), "{rec:?}");
}

#[test]
fn the_smallest_winning_range_is_named() {
    let rows = [
        base("0..10"),
        row("0..10", Road::Processes, 2, (0.3, 0.2, 0.4)),
        base("0..1000"),
        row("0..1000", Road::Processes, 2, (1.3, 1.1, 1.5)),
        base("0..100000"),
        row("0..100000", Road::Processes, 2, (1.9, 1.8, 2.0)),
    ];
    let rec = first(&rows, "0..100000");
    assert_eq!(rec.road, Road::Processes);
    assert_eq!(rec.smallest_range.as_deref(), Some("0..1000"));
}

#[test]
fn a_road_that_failed_is_named_with_why_and_never_recommended() {
    let raised = Failure::Raised {
        kind: "AttributeError".into(),
        message: "'NoneType' object has no attribute 'link'".into(),
    };
    // Threads would win on their speed, but their other row raised.
    let rows = [
        base("0..100"),
        row("0..100", Road::Threads, 1, (2.5, 2.4, 2.6)),
        PythonRow::failed("3.11.7", "0..100", Road::Threads, 2, raised),
        row("0..100", Road::Processes, 2, (1.8, 1.7, 1.9)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!((rec.road, rec.workers), (Road::Processes, 2), "{rec:?}");
    assert!(
        rec.reason.starts_with(
            "threads x2 raised AttributeError ('NoneType' object has no attribute 'link'): \
             the function shares state between calls; it is not safe on threads; "
        ),
        "{}",
        rec.reason
    );
    assert!(!rec.reason.contains("threads x1"), "{}", rec.reason);
    // Another answer on processes, a livelock past the default limit on threads: nothing
    // is left but one thread.
    let rows = [
        base("0..100"),
        PythonRow::failed(
            "3.11.7",
            "0..100",
            Road::Threads,
            2,
            Failure::TimedOut {
                limit: "the default limit".into(),
                default: true,
            },
        ),
        PythonRow::failed(
            "3.11.7",
            "0..100",
            Road::Processes,
            2,
            Failure::Differs { item: Some(17) },
        ),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!(rec.road, Road::Sequential);
    for want in [
        "threads x2 did not finish within the default limit",
        "it is not safe on threads",
        "processes x2 gave another answer (from item 17 on)",
        "it is not safe on processes",
        "one thread is what remains",
    ] {
        assert!(rec.reason.contains(want), "{want}: {}", rec.reason);
    }
    // A value that cannot be pickled: the road cannot send it, and says so.
    let rows = [
        base("0..100"),
        row("0..100", Road::Threads, 2, (1.9, 1.8, 2.0)),
        PythonRow::failed(
            "3.11.7",
            "0..100",
            Road::Processes,
            2,
            Failure::CannotCross {
                kind: "generator".into(),
            },
        ),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!(rec.road, Road::Threads);
    assert!(
        rec.reason
            .starts_with("processes x2 could not send a generator between interpreters"),
        "{}",
        rec.reason
    );
    // A baseline that failed: nothing to recommend on that interpreter.
    let mut broken = base("0..100");
    broken.error = Some("failed".into());
    assert!(recommend(&[broken], "0..100").is_empty());
}

#[test]
fn several_interpreters_each_get_a_recommendation_and_the_fastest_is_named() {
    let on = |py: &str, mut r: PythonRow, seconds: f64| {
        r.python = py.into();
        r.median_s = Some(seconds);
        r.samples = vec![
            crate::measure::Sample {
                wall_s: seconds,
                ..Default::default()
            };
            5
        ];
        r
    };
    let rows = [
        on("3.13.5t", base("0..100"), 1.0),
        on(
            "3.13.5t",
            row("0..100", Road::Threads, 2, (1.73, 1.65, 1.8)),
            0.58,
        ),
        on("3.12.1", base("0..100"), 0.8),
        on(
            "3.12.1",
            row("0..100", Road::Threads, 2, (0.89, 0.85, 0.93)),
            0.9,
        ),
        on(
            "3.12.1",
            row("0..100", Road::Processes, 2, (1.79, 1.7, 1.9)),
            0.45,
        ),
    ];
    let recs = recommend(&rows, "0..100");
    let each: Vec<(&str, Road)> = recs.iter().map(|r| (r.python.as_str(), r.road)).collect();
    assert_eq!(
        each,
        [("3.13.5t", Road::Threads), ("3.12.1", Road::Processes)]
    );
    let all = overall(&rows, &recs, "0..100").unwrap();
    assert_eq!((all.python.as_str(), all.road), ("3.12.1", Road::Processes));
    assert!(
        all.reason.starts_with(
            "on 3.13.5t, threads x2 at 1.73x; on 3.12.1, processes x2 at 1.79x; fastest \
             overall: processes x2 on 3.12.1, 450.00 ms a run against 580.00 ms for threads \
             x2 on 3.13.5t"
        ),
        "{}",
        all.reason
    );
    // One interpreter: its own recommendation is the overall one.
    let one = recommend(&rows[..2], "0..100");
    assert_eq!(overall(&rows[..2], &one, "0..100"), one.first().cloned());
}

#[test]
fn an_executor_is_recommended_over_parlabs_road_with_what_it_lost_against_it() {
    let rows = vec![
        base("0..100"),
        row("0..100", Road::Processes, 2, (1.8, 1.7, 1.9)),
        row("0..100", Road::ExecutorThread, 2, (0.9, 0.85, 0.95)),
        row("0..100", Road::ExecutorProcess, 2, (1.5, 1.4, 1.6)),
    ];
    let rec = first(&rows, "0..100");
    assert_eq!(
        (rec.road, rec.workers),
        (Road::ExecutorProcess, 2),
        "{}",
        rec.reason
    );
    assert!(
        rec.reason.contains(
            "ProcessPoolExecutor x2 reached 1.50x (1.40-1.60) where parlab's processes x2 \
             reached 1.80x (1.70-1.90) (1.20x as fast, paired): its pickling and queues cost \
             about 17% of its time at this size"
        ),
        "{}",
        rec.reason
    );
    let failures = rec.failures.unwrap();
    assert!(failures.contains("BrokenProcessPool"), "{failures}");
    // The same figures without an executor: parlab's road, and no code promised.
    let own = first(&rows[..2], "0..100");
    assert_eq!((own.road, own.failures), (Road::Processes, None));
}

#[test]
fn where_no_executor_gains_one_thread_is_recommended_with_their_cost_a_task() {
    // One second of work over 1000 items; parlab's processes at 1.0x, the pool in 2 s: a
    // second more, at one CPU's worth, over 1000 tasks.
    let mut exec = row("0..1000", Road::ExecutorProcess, 2, (0.5, 0.45, 0.55));
    exec.chunksize = Some(1);
    let mut own = row("0..1000", Road::Processes, 2, (1.0, 0.97, 1.03));
    own.chunksize = Some(1);
    let mut b = base("0..1000");
    b.median_s = Some(1.0);
    let rec = first(&[b, own, exec], "0..1000");
    assert_eq!(rec.road, Road::Sequential);
    assert!(
        rec.reason.contains(
            "ProcessPoolExecutor x2 cost about 1.00 ms a task against the function's own \
             1.00 ms (1000 tasks of 1 item)"
        ),
        "{}",
        rec.reason
    );
}

#[test]
fn what_the_users_code_meets_on_failure_follows_the_version() {
    let old = failures_on(Road::ExecutorProcess, "3.14.10").unwrap();
    let new = failures_on(Road::ExecutorProcess, "3.15.2").unwrap();
    assert!(old.contains("without saying which worker"), "{old}");
    assert!(new.contains("naming the worker's PID"), "{new}");
    assert!(failures_on(Road::ExecutorInterpreter, "3.14.10").is_some());
    assert!(failures_on(Road::Threads, "3.14.10").is_none());
}

mod judged {
    use super::*;
    use crate::measure::judge;
    use proptest::prelude::*;

    proptest! {
        /// A road is recommended exactly when the judge calls its interval faster (one
        /// road beside the baseline, any interval): no other rule decides.
        #[test]
        fn a_road_is_recommended_only_where_the_judge_says_faster(
            value in 0.2f64..3.0,
            below in 0.0f64..0.5,
            above in 0.0f64..0.5,
            road in prop_oneof![
                Just(Road::Threads),
                Just(Road::Processes),
                Just(Road::ExecutorProcess),
            ],
        ) {
            let speedup = Estimate { value, low: value - below, high: value + above };
            let rows = vec![base("0..100"), PythonRow::measured("3.11.7", "0..100", road, 2, speedup)];
            let rec = first(&rows, "0..100");
            let faster = judge::judge(&speedup, Bounds::default()) == Verdict::Faster;
            prop_assert_eq!(rec.road != Road::Sequential, faster, "{}", rec.reason);
            prop_assert!(rec.reason.contains(&speedup.ratio()), "{}", rec.reason);
        }
    }
}
