//! A program that uses parlab as a library and serves as its own worker processes.
//!
//! The `processes` backend re-executes the current program with a marker in the environment;
//! `parlab::worker::init()` at the top of `main` turns that child into a worker that serves
//! parts and exits (or, with the default `forkserver` start method, into the server that forks
//! the workers), so the rest of `main` only ever runs in the parent.
//!
//! Run it with `cargo run --release --example own_worker`.

use parlab::backend::Backend;
use parlab::backend::processes::Processes;
use parlab::job::Job;
use parlab::kernels::{Kernel, Total};
use parlab::observer::Silent;

fn main() -> Result<(), parlab::Error> {
    // Must come first: in a worker process this never returns.
    parlab::worker::init();

    let job = Job {
        kernel: Kernel::Primes,
        range: "0..1e7".parse()?,
        split: "chunks:100000".parse()?,
    };
    let total = Processes::default().run(&job, 2, &Silent);
    // Reaps the fork server rather than leaving it to the system.
    parlab::backend::processes::shut_down();
    let total = total?;
    assert_eq!(total, Total::Primes { primes: 664_579 });
    println!(
        "{} primes below 10^7, counted by 2 worker processes of this program",
        total.headline()
    );
    Ok(())
}
