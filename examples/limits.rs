//! Measures every in-process and process backend at 1 to 1024 workers on a small job: the time
//! until the last worker has started and the time until the run is done, medians of a few
//! runs, as a Markdown table (the limit table in BENCHMARKS.md).
//!
//! "Started" is the backend's own `worker_started` event: a thread running, a worker process
//! forked or spawned by parlab (its `exec` and greeting may still be under way).
//!
//! Run it with `cargo run --release --example limits [RUNS]` (default 5 runs per cell).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use parlab::backend::processes::StartMethod;
use parlab::backend::{BackendKind, BackendOptions};
use parlab::job::Job;
use parlab::observer::Observer;
use parlab::span::Part;

/// Records when the last worker started.
struct Clock {
    t0: Instant,
    last: Mutex<Duration>,
}

impl Observer for Clock {
    fn worker_started(&self, _: usize, _: Option<u32>) {
        let at = self.t0.elapsed();
        let mut last = self.last.lock().unwrap();
        *last = (*last).max(at);
    }

    fn part_done(&self, _: Part, _: usize, _: u64, _: u64) {}
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() -> Result<(), parlab::Error> {
    // Must come first: in a worker process this never returns.
    parlab::worker::init();
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let job = Job {
        kernel: "count".parse()?,
        range: "0..1e6".parse()?,
        split: "static".parse()?,
    };
    let cells = [
        (
            "sequential",
            BackendKind::Sequential,
            StartMethod::default(),
        ),
        ("threads", BackendKind::Threads, StartMethod::default()),
        ("pool", BackendKind::Pool, StartMethod::default()),
        (
            "processes (forkserver)",
            BackendKind::Processes,
            StartMethod::ForkServer,
        ),
        (
            "processes (spawn)",
            BackendKind::Processes,
            StartMethod::Spawn,
        ),
        ("gil", BackendKind::Gil, StartMethod::default()),
        ("gil-legacy", BackendKind::GilLegacy, StartMethod::default()),
    ];
    println!("| backend | workers | started (median) | finished (median) |");
    println!("|---|---:|---:|---:|");
    for (name, kind, start) in cells {
        let options = BackendOptions {
            start,
            ..BackendOptions::default()
        };
        let backend = kind.create_with(&options);
        for workers in [1, 64, 256, 1024] {
            let (mut started, mut finished) = (Vec::new(), Vec::new());
            // One run more than measured: the first starts the fork server.
            for run in 0..=runs {
                let clock = Clock {
                    t0: Instant::now(),
                    last: Mutex::new(Duration::ZERO),
                };
                let total = backend.run(&job, workers, &clock)?;
                let took = clock.t0.elapsed();
                assert_eq!(total.headline(), 1_000_000);
                if run > 0 {
                    started.push(*clock.last.lock().unwrap());
                    finished.push(took);
                }
            }
            println!(
                "| {name} | {workers} | {:.1} ms | {:.1} ms |",
                median(started).as_secs_f64() * 1e3,
                median(finished).as_secs_f64() * 1e3
            );
        }
    }
    parlab::backend::processes::shut_down();
    Ok(())
}
