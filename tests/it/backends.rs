//! The same tests for every backend: known answers, edge ranges, and a property test that
//! every backend and split gives the sequential answer.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use parlab::backend::gil::legacy::GilLegacy;
use parlab::backend::gil::new::Gil;
use parlab::backend::pool::Pool;
use parlab::backend::sequential::Sequential;
use parlab::backend::threads::Threads;
use parlab::backend::{Backend, MAX_WORKERS};
use parlab::job::Job;
use parlab::kernels::collatz::Collatz;
use parlab::kernels::{Kernel, Total};
use parlab::observer::{Observer, Silent};
use parlab::span::{Part, Span};
use parlab::split::Split;
use proptest::prelude::*;

fn job(kernel: &str, range: &str, split: &str) -> Job {
    Job {
        kernel: kernel.parse().unwrap(),
        range: range.parse().unwrap(),
        split: split.parse().unwrap(),
    }
}

/// Records what a backend reports.
#[derive(Default)]
struct Recorder {
    started: AtomicU64,
    parts: Mutex<Vec<Part>>,
}

impl Observer for Recorder {
    fn worker_started(&self, _worker: usize, _pid: Option<u32>) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }
    fn part_done(&self, part: Part, _worker: usize, _done: u64, _total: u64) {
        self.parts.lock().unwrap().push(part);
    }
}

/// Ranges that stress the split arithmetic: near zero, anywhere, and ending at u64::MAX.
fn range_strategy(max_len: u64) -> impl Strategy<Value = Span> {
    prop_oneof![
        (0..1000u64, 0..=max_len).prop_map(|(s, l)| Span {
            start: s,
            end: s + l
        }),
        (any::<u64>(), 0..=max_len).prop_map(|(s, l)| {
            let s = s.min(u64::MAX - l);
            Span {
                start: s,
                end: s + l,
            }
        }),
        (0..=max_len).prop_map(|l| Span {
            start: u64::MAX - l,
            end: u64::MAX
        }),
    ]
}

/// Kernels with a range length that keeps one case well under a second in a debug build.
fn kernel_strategy() -> impl Strategy<Value = (Kernel, u64)> {
    prop_oneof![
        Just((Kernel::Count, 100_000)),
        Just((Kernel::Sum, 100_000)),
        Just((Kernel::Pi, 20_000)),
        Just((Kernel::Primes, 2_000)),
        Just((Kernel::Collatz, 2_000)),
        Just((Kernel::Sleep { per_item_ns: 0 }, 200)),
    ]
}

fn split_strategy(len: u64) -> impl Strategy<Value = Split> {
    prop_oneof![
        Just(Split::Static),
        (1..=len.max(1) + 1).prop_map(Split::Chunks)
    ]
}

macro_rules! backend_tests {
    ($($name:ident => $make:expr, cases = $cases:expr;)*) => {$(
        mod $name {
            use super::*;

            fn backend() -> Box<dyn Backend> {
                Box::new($make)
            }

            #[test]
            fn seed_job_counts_to_one_hundred_million() {
                for w in [1, 2, 4] {
                    let t = backend().run(&Job::seed(), w, &Silent).unwrap();
                    assert_eq!(t, Total::Count { count: 100_000_000 }, "{w} workers");
                }
            }

            #[test]
            fn known_answers_with_both_splits() {
                let cases: [(&str, &str, Total); 6] = [
                    ("count", "0..1e6", Total::Count { count: 1_000_000 }),
                    ("sum", "0..1e6", Total::Sum { sum: 499_999_500_000 }),
                    ("primes", "0..1e7", Total::Primes { primes: 664_579 }),
                    // From SplitMix64's published first outputs: point 0 lies outside, 1 and 2 inside.
                    ("pi", "0..3", Total::Pi { hits: 2, points: 3 }),
                    ("sleep:1ms", "0..20", Total::Sleep { items: 20 }),
                    ("count", "7..7", Total::Count { count: 0 }),
                ];
                for (kernel, range, want) in cases {
                    // A backend that refuses a job by design (the GPU cannot sleep) says so
                    // through `supports`, which verify reads too.
                    if !backend().supports(&job(kernel, range, "static")) {
                        continue;
                    }
                    for split in ["static", "chunks:99991"] {
                        for w in [1, 3] {
                            let got = backend().run(&job(kernel, range, split), w, &Silent).unwrap();
                            assert_eq!(got, want, "{kernel} {range} {split} {w} workers");
                        }
                    }
                }
                // OEIS A006877: the longest Collatz run below 10^6 is 524 steps, at 837799.
                let got = backend().run(&job("collatz", "0..1e6", "chunks:65536"), 2, &Silent).unwrap();
                match got {
                    Total::Collatz(Collatz { max_steps, argmax, .. }) => {
                        assert_eq!((max_steps, argmax), (524, Some(837_799)))
                    }
                    other => panic!("{other:?}"),
                }
            }

            #[test]
            fn reports_every_part_once_and_every_worker() {
                let rec = Recorder::default();
                let j = job("primes", "0..100000", "chunks:777");
                backend().run(&j, 3, &rec).unwrap();
                let mut parts = rec.parts.into_inner().unwrap();
                parts.sort_by_key(|p| p.index);
                let want: Vec<Part> = j.plan(3).parts().collect();
                assert_eq!(parts, want);
                assert!(rec.started.load(Ordering::Relaxed) >= 1);
            }

            #[test]
            fn bad_worker_counts_are_refused() {
                for w in [0, MAX_WORKERS + 1] {
                    let e = backend().run(&Job::seed(), w, &Silent).unwrap_err();
                    assert!(e.is_usage(), "{e}");
                    assert!(e.to_string().contains(&format!("'{w}'")), "{e}");
                }
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases($cases))]
                #[test]
                fn matches_sequential(
                    (kernel, split, range) in kernel_strategy().prop_flat_map(|(k, max)| {
                        range_strategy(max).prop_flat_map(move |r| {
                            split_strategy(r.len()).prop_map(move |s| (k, s, r))
                        })
                    }),
                    workers in 1usize..=17,
                ) {
                    let j = Job { kernel, range, split };
                    prop_assume!(backend().supports(&j));
                    let reference = Job { kernel, range, split: Split::Static };
                    let want = Sequential::default().run(&reference, 1, &Silent).unwrap();
                    let got = backend().run(&j, workers, &Silent).unwrap();
                    prop_assert_eq!(got, want);
                }
            }
        }
    )*};
}

backend_tests! {
    sequential => Sequential::default(), cases = 64;
    threads => Threads::default(), cases = 64;
    pool => Pool::default(), cases = 64;
    processes => crate::processes_backend(), cases = 32;
    processes_forkserver => crate::forkserver_backend(), cases = 32;
    gil => Gil::default(), cases = 64;
    gil_legacy => GilLegacy::default(), cases = 64;
}

// The GPU on whatever adapter the machine has (lavapipe where there is none): the same tests,
// less the kernel it refuses by design.
#[cfg(feature = "gpu")]
backend_tests! {
    gpu => parlab::backend::gpu::Gpu, cases = 24;
}
