//! Repetitions, the seed script's arguments and the hold probe's size.

use super::*;
use crate::split::Split;

fn count(n: u64) -> Total {
    Total::Count { count: n }
}

#[test]
fn a_repetition_with_another_total_is_a_wrong_answer() {
    let mut n = 0;
    let err = repeated(
        "parlab threads, 2 threads",
        Duration::from_secs(10),
        || {
            n += 1;
            Ok(count(if n < 3 { 100 } else { 99 }))
        },
        |t| *t,
    )
    .unwrap_err();
    assert!(!err.is_usage(), "a failed run, not bad input: {err}");
    match err {
        Error::WrongAnswer {
            what,
            got,
            expected,
        } => {
            assert_eq!(what, "repetition 3 of parlab threads, 2 threads");
            assert_eq!((got.as_str(), expected.as_str()), ("99", "100"));
        }
        other => panic!("{other}"),
    }
}

#[test]
fn repetitions_stop_at_the_budget_or_the_cap() {
    let (_, once, last) = repeated("x", Duration::ZERO, || Ok(count(5)), |t| *t).unwrap();
    assert_eq!((once, last), (1, count(5)));
    let (median, capped, _) =
        repeated("x", Duration::from_secs(3600), || Ok(count(5)), |t| *t).unwrap();
    assert_eq!(capped, MAX_REPETITIONS);
    assert!(median >= 0.0);
}

#[test]
fn a_failing_run_stops_the_repetitions() {
    let mut runs = 0;
    let err = repeated(
        "x",
        Duration::from_secs(3600),
        || {
            runs += 1;
            Err::<Total, _>(Error::invalid("workers", "0", "at least 1"))
        },
        |t| *t,
    )
    .unwrap_err();
    assert!(err.is_usage());
    assert_eq!(runs, 1);
}

#[test]
fn seed_arguments_follow_the_script_usage() {
    let job = |kernel, end| Job {
        kernel,
        range: Span { start: 0, end },
        split: Split::Static,
    };
    assert_eq!(
        seed_args(&job(Kernel::Count, 1000), Variant::Processes(2)).unwrap(),
        ["processes", "2", "0", "1000"]
    );
    let sleep = Kernel::Sleep {
        per_item_ns: 1_000_000,
    };
    assert_eq!(
        seed_args(&job(sleep, 40), Variant::Threads(4)).unwrap(),
        ["sleep", "4", "0", "40", "0.001"]
    );
    assert!(seed_args(&job(Kernel::Primes, 10), Variant::Threads(1)).is_err());
    assert!(seed_args(&job(sleep, 40), Variant::Processes(2)).is_err());
}

#[test]
fn the_hold_job_lasts_about_the_probe_at_the_measured_speed() {
    let count = Job {
        kernel: Kernel::Count,
        range: Span {
            start: 0,
            end: 1_000_000,
        },
        split: Split::Static,
    };
    let row = Row {
        wall_s: Some(0.01),
        ..Row::new(Who::Parlab(BackendKind::Threads), Variant::Threads(1))
    };
    let job = hold_job(&count, Some(&row), Duration::from_millis(500));
    assert_eq!(job.range.end, 50_000_000);
    let guess = hold_job(&count, None, Duration::from_millis(500));
    assert_eq!(guess.range.end, 2_000_000_000);
}
