//! The order of a round and which runs are paired: every cell runs right next to a run of its
//! baseline, and a one-worker cell runs with its baseline on one CPU.
//!
//! A cell with more than one worker runs unpinned beside an unpinned baseline run, as a user's
//! program would. A one-worker cell is compared with a one-worker baseline, and there the
//! machine itself can decide the answer: on a VM whose two vCPUs run at different speeds, the
//! baseline may land on the fast one and the cell's thread on the slow one (the `threads`
//! backend runs its one worker on a thread of its own, which the OS may place anywhere). So each
//! one-worker cell gets a baseline run of its own just before it, and both run held to the same
//! CPU, a different one each round so that every CPU takes its turn, each on a new thread (see
//! the engine's `measure`): the pair then compares the backends, not the CPUs.
//!
//! On a loaded machine the first run held to a CPU after the free runs is the slower one,
//! whichever backend it is: measured, the pairs gave 1.35x with the baseline first and 0.75x
//! with the cell first. So a settling run of the baseline, held to the same CPU and not used,
//! comes first (B' B' a1). The pinned baseline runs are partners only, not kept as the
//! baseline's own runs.

use super::matrix::Entry;

/// One run of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// The cell (index of its entry).
    pub entry: usize,
    /// Runs held to the round's CPU, paired with the slot beside it.
    pub pinned: bool,
}

impl Slot {
    fn free(entry: usize) -> Slot {
        Slot {
            entry,
            pinned: false,
        }
    }

    fn pinned(entry: usize) -> Slot {
        Slot {
            entry,
            pinned: true,
        }
    }
}

/// The order of one round: for each baseline, the baseline run, then its cells of more than
/// one worker two at a time, each two followed by another baseline run (B c1 c2 B c3 c4 B ...),
/// then each one-worker cell after a settling baseline run and a baseline run of its own, all
/// three pinned (B' B' a1 B' B' a2).
/// `workers[i]` is cell `i`'s worker count.
pub(super) fn round_order(entries: &[Entry], workers: &[usize]) -> Vec<Slot> {
    let mut order = Vec::new();
    for (b, _) in entries.iter().enumerate().filter(|(i, e)| e.baseline == *i) {
        let cells = |one: bool| -> Vec<usize> {
            (0..entries.len())
                .filter(|&i| i != b && entries[i].baseline == b && (workers[i] == 1) == one)
                .collect()
        };
        order.push(Slot::free(b));
        for two in cells(false).chunks(2) {
            order.extend(two.iter().map(|&i| Slot::free(i)));
            order.push(Slot::free(b));
        }
        for i in cells(true) {
            order.extend([Slot::pinned(b), Slot::pinned(b), Slot::pinned(i)]);
        }
    }
    order
}

/// The position in `order` of the baseline run paired with the run at `at`: for a pinned cell,
/// the pinned baseline run just before it; for another cell, the unpinned baseline run just
/// before it, else the one just after; for a baseline run, the baseline run before it.
pub(super) fn partner(order: &[Slot], entries: &[Entry], at: usize) -> Option<usize> {
    let slot = order[at];
    let b = entries[slot.entry].baseline;
    if slot.entry == b {
        return order[..at].iter().rposition(|s| s.entry == b);
    }
    let near: &[Option<usize>] = if slot.pinned {
        &[at.checked_sub(1)]
    } else {
        &[at.checked_sub(1), Some(at + 1)]
    };
    near.iter().flatten().copied().find(|&p| {
        order.get(p)
            == Some(&Slot {
                entry: b,
                pinned: slot.pinned,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::matrix;
    use crate::bench::spec::{BenchOptions, sample};

    /// Cells: sequential x1 (the baseline), threads x1, threads x2, threads x4.
    fn four() -> BenchOptions {
        BenchOptions {
            workers: vec![1, 2, 4],
            ..sample()
        }
    }

    #[test]
    fn every_cell_runs_beside_a_baseline_run_it_is_paired_with() {
        let (cells, entries) = matrix::build(&four()).unwrap();
        let workers: Vec<usize> = cells.iter().map(|c| c.workers).collect();
        let order = round_order(&entries, &workers);
        let shown: Vec<(usize, bool)> = order.iter().map(|s| (s.entry, s.pinned)).collect();
        assert_eq!(
            shown,
            [
                (0, false),
                (2, false),
                (3, false),
                (0, false),
                (0, true),
                (0, true),
                (1, true)
            ]
        );
        let partners: Vec<Option<usize>> = (0..order.len())
            .map(|at| partner(&order, &entries, at))
            .collect();
        // threads x2 pairs with the baseline before it, threads x4 with the one after; threads x1
        // with the pinned baseline run just before it, not the settling run before that; each
        // baseline run after the first with the one before it.
        assert_eq!(
            partners,
            [None, Some(0), Some(3), Some(0), Some(3), Some(4), Some(5)]
        );
    }

    #[test]
    fn a_free_cell_never_pairs_with_a_pinned_baseline_run() {
        let (cells, entries) = matrix::build(&four()).unwrap();
        // As if every cell had more than one worker but the baseline: no pinned runs at all.
        let workers: Vec<usize> = cells
            .iter()
            .map(|c| if c.baseline { 1 } else { 2 })
            .collect();
        let order = round_order(&entries, &workers);
        assert!(order.iter().all(|s| !s.pinned), "{order:?}");
        assert_eq!(order.len(), 6);
        for at in 0..order.len() {
            if let Some(p) = partner(&order, &entries, at) {
                assert!(!order[p].pinned);
            }
        }
    }
}
