//! Combining part totals in part order, whatever order they finish in.
//!
//! Parts finish out of order (threads race, chunks are pulled dynamically), but totals must be
//! combined in part order: the answer then never depends on scheduling, even for combinations
//! that are not commutative (the first index of the longest Collatz run). Finished totals wait
//! in a small reorder buffer until the parts before them are in, so memory stays proportional
//! to how far out of order parts finish, not to the number of parts.

use std::collections::BTreeMap;

use crate::error::{Error, Prefix, PrefixNote};
use crate::kernels::{Kernel, Total};
use crate::split::Plan;

/// Folds totals in part order.
#[derive(Debug)]
pub struct Combiner {
    acc: Total,
    next: u64,
    parts: u64,
    waiting: BTreeMap<u64, Total>,
}

impl Combiner {
    /// A combiner for `parts` parts of `kernel`.
    pub fn new(kernel: &Kernel, parts: u64) -> Self {
        Combiner {
            acc: kernel.zero(),
            next: 0,
            parts,
            waiting: BTreeMap::new(),
        }
    }

    /// Records the total of part `index`. Panics on a duplicate or out-of-plan index, which
    /// would be a backend bug.
    pub fn push(&mut self, index: u64, total: Total) {
        assert!(
            index >= self.next && index < self.parts && !self.waiting.contains_key(&index),
            "part {index} reported twice or outside the plan of {}",
            crate::units::count(self.parts, "part")
        );
        if index == self.next {
            self.acc = self.acc.then(total);
            self.next += 1;
            while let Some(t) = self.waiting.remove(&self.next) {
                self.acc = self.acc.then(t);
                self.next += 1;
            }
        } else {
            self.waiting.insert(index, total);
        }
    }

    /// Number of parts recorded so far.
    pub fn done(&self) -> u64 {
        self.next + self.waiting.len() as u64
    }

    /// True once every part is recorded.
    pub fn is_complete(&self) -> bool {
        self.next == self.parts
    }

    /// Wraps the error that stopped a run with what had finished by then.
    pub fn incomplete(&self, error: Error, plan: &Plan) -> Error {
        if let Error::Incomplete { .. } = error {
            return error;
        }
        let prefix = (self.next > 0).then(|| Prefix {
            parts: self.next,
            start: plan.range().start,
            end: plan.part(self.next - 1).end,
            headline: self.acc.headline(),
        });
        Error::Incomplete {
            error: Box::new(error),
            finished: self.done(),
            parts: self.parts,
            prefix: PrefixNote(prefix),
        }
    }

    /// The combined total. Panics if a part is missing, which would be a backend bug.
    pub fn finish(self) -> Total {
        assert!(
            self.is_complete(),
            "{} of {} missing",
            self.parts - self.next,
            crate::units::count(self.parts, "part")
        );
        self.acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::collatz::Collatz;

    #[test]
    fn order_of_arrival_does_not_matter() {
        let k = Kernel::Collatz;
        let t = |n: u64| {
            Total::Collatz(Collatz {
                steps: n as u128,
                max_steps: 7,
                argmax: Some(n),
            })
        };
        let mut c = Combiner::new(&k, 4);
        for i in [3, 1, 0, 2] {
            c.push(i, t(i));
        }
        assert!(c.is_complete());
        // Equal maxima: the first part's index wins, as in a sequential run.
        assert_eq!(
            c.finish(),
            Total::Collatz(Collatz {
                steps: 6,
                max_steps: 7,
                argmax: Some(0)
            })
        );
    }

    #[test]
    #[should_panic(expected = "reported twice")]
    fn duplicates_are_bugs() {
        let mut c = Combiner::new(&Kernel::Count, 2);
        c.push(1, Total::Count { count: 1 });
        c.push(1, Total::Count { count: 1 });
    }
}
