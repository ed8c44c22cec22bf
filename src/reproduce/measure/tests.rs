//! The seed script's arguments and the hold probe's size.

use super::*;
use crate::split::Split;

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
    let row = ReproduceRow {
        wall_s: Some(0.01),
        ..ReproduceRow::new(Who::Parlab(BackendKind::Threads), Variant::Threads(1))
    };
    let job = hold_job(&count, Some(&row), Duration::from_millis(500));
    assert_eq!(job.range.end, 50_000_000);
    let guess = hold_job(&count, None, Duration::from_millis(500));
    assert_eq!(guess.range.end, 2_000_000_000);
}
