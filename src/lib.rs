//! parlab runs one CPU-bound job, split into parts, on interchangeable execution backends,
//! checks that every backend gets exactly the sequential answer, and measures how each scales.
//!
//! The modules follow the pipeline:
//!
//! - [`kernels`]: the work per index, each with an exact integer answer ([`kernels::Total`]);
//! - [`span`]: ranges and parts, the ground floor;
//! - [`job`] and [`split`]: a kernel over a range, cut into parts ([`split::Plan`]);
//! - [`backend`]: sequential, threads, a rayon pool, worker processes and two models of
//!   CPython's GIL, behind one trait;
//! - [`verify`]: every backend against the sequential answer;
//! - [`measure`]: the judge and the rules that `bench`, `reproduce` and `python` share;
//! - [`reproduce`]: the seed experiment beside real CPython ([`cpython`]).
//!
//! The library never prints: progress goes to an [`observer::Observer`].
//!
//! # Example
//!
//! ```
//! use parlab::backend::{Backend, BackendKind};
//! use parlab::job::Job;
//! use parlab::observer::Silent;
//!
//! let mut job = Job::seed();
//! job.range = "0..1e6".parse()?;
//! let total = BackendKind::Threads.create().run(&job, 4, &Silent)?;
//! assert_eq!(total.headline(), 1_000_000);
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! A program that uses the `processes` backend with its own executable as the worker calls
//! [`worker::init`] first thing in `main`, and [`backend::processes::shut_down`] at its end to
//! reap the fork server that starts the workers (the default start method on Linux).

#![deny(missing_docs)]

pub mod backend;
pub mod bench;
mod child;
pub mod cpython;
pub mod error;
pub mod escape;
pub mod fault;
mod input;
pub mod interrupt;
pub mod job;
pub mod kernels;
mod limits;
pub mod measure;
mod named;
pub mod number;
pub mod observer;
pub mod probe;
pub mod pyfunc;
pub mod report;
pub mod reproduce;
pub mod span;
pub mod split;
pub mod stats;
pub mod units;
pub mod verify;

pub use backend::processes::worker;
pub use error::{Error, Result};

/// README.md's Rust example, compiled and run by `cargo test --doc`, so the page a newcomer
/// reads first cannot drift from the library.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// docs/library.md's Rust example, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../docs/library.md")]
pub struct LibraryDoctests;
