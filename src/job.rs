//! What to compute: a kernel over a half-open range of `u64` ([`Span`]), and how to split it.
//!
//! A [`Job`] is plain data (serde-serialisable) so that it can be written to a file, sent to a
//! worker or printed in a report. Its parts come from its split ([`Plan`]) lazily, so a job of
//! 10^12 one-element chunks costs no memory until it runs.

use serde::{Deserialize, Serialize};

use crate::kernels::Kernel;
use crate::span::Span;
use crate::split::{Plan, Split};

/// A job: a kernel, a range and a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// What is computed for every index.
    pub kernel: Kernel,
    /// The indices.
    pub range: Span,
    /// How the range is cut into parts.
    pub split: Split,
}

impl Job {
    /// The seed experiment: count 0..100,000,000, split statically.
    pub fn seed() -> Self {
        Job {
            kernel: Kernel::Count,
            range: Span {
                start: 0,
                end: 100_000_000,
            },
            split: Split::Static,
        }
    }

    /// The parts this job has when run by `workers` workers.
    pub fn plan(&self, workers: usize) -> Plan {
        self.split.plan(self.range, workers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_count_over_1e8_in_equal_parts() {
        let seed = Job::seed();
        assert_eq!(seed.range.len(), 100_000_000);
        assert_eq!(seed.plan(4).len(), 4);
        assert_eq!(seed.plan(4).part(3).end, 100_000_000);
    }
}
