//! The shape of the GPU's work, as plain arithmetic: the submissions a run sends, the
//! dispatches of a submission, the indices per invocation and the workgroup grid of a dispatch.
//!
//! Nothing here touches a device, so the bounds the shaders rely on (offsets in 32 bits, loop
//! iterations under the cap, grids within the adapter's limits) are checked by unit tests in
//! every build.

use std::ops::Range;

use super::{ITERATION_CAP, MAX_WORKGROUP};
use crate::kernels::Kernel;
use crate::span::Span;
use crate::split::Plan;

/// Most indices one dispatch covers: an invocation's offset within its dispatch is a 32-bit
/// word, and 2^31 leaves room for the last invocation's whole run.
pub const DISPATCH_INDICES: u64 = 1 << 31;
/// Invocations a dispatch aims at once its range is large enough: several waves of the largest
/// GPUs' resident threads (an H100 holds some 270,000).
pub const TARGET_INVOCATIONS: u64 = 1 << 20;
/// Fewest indices per invocation, where the kernel's bound allows that many: fewer would spend
/// more on combining an invocation's total than on computing it.
pub const MIN_ITEMS: u32 = 32;
/// Most dispatches in one submission, which is read back with one map.
pub const MAX_DISPATCHES: usize = 64;
/// 32-bit words of a dispatch's record: its total (words 0-3, least significant first), the
/// longest Collatz run plus one (4), the complement of its first offset (5), how many
/// invocations listed themselves (6), a spare word (7), then the listed invocations.
pub const RECORD_WORDS: u32 = 256;
/// Invocations one record can list (cut at the loop cap, or out of 64 bits).
pub const LISTED: u32 = RECORD_WORDS - 8;
/// Workgroups whose bests `collatz`'s second pass reads, two words each: a `collatz` dispatch
/// launches no more workgroups than this. It needs at most half as many, which leaves room for
/// the few more a grid in three dimensions launches.
pub const SCRATCH_GROUPS: u32 = 1 << 16;

/// Indices per invocation for `kernel` over a range ending at `end`, at most, and the
/// worst-case loop iterations that gives, which must stay under the cap.
pub fn items_per_invocation(kernel: Kernel, end: u64) -> (u32, u32) {
    match kernel {
        Kernel::Count | Kernel::Sum | Kernel::Pi => (4096, 4096),
        Kernel::Primes => {
            // One iteration per number plus up to sqrt(n)/2 odd trial divisors.
            let per_number = ((end.saturating_sub(1)).isqrt() / 2 + 2) as u32;
            let items = (ITERATION_CAP / per_number).max(1);
            (items, items * per_number)
        }
        // No bound is known in advance: the shader lists an invocation that reaches the cap,
        // and the host computes its indices on the CPU.
        Kernel::Collatz => (16, ITERATION_CAP),
        Kernel::Sleep { .. } => unreachable!("the gpu backend refuses sleep before any work"),
    }
}

/// What the adapter allows a dispatch, as the backend uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Invocations per workgroup: a power of two, at most [`MAX_WORKGROUP`].
    pub workgroup: u32,
    /// Most workgroups along one dimension of a dispatch.
    pub per_dimension: u32,
}

/// One dispatch: its indices, how many each invocation takes, and its workgroup grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispatch {
    /// The indices it covers.
    pub span: Span,
    /// Indices per invocation (the last invocation may have fewer).
    pub items: u32,
    /// Invocations that have indices; the grid may launch a few more, which do nothing.
    pub invocations: u32,
    /// Workgroups along x, y and z.
    pub groups: [u32; 3],
}

impl Dispatch {
    /// Workgroups launched.
    pub fn group_count(&self) -> u32 {
        self.groups.iter().product()
    }

    /// The indices of invocation `id`.
    pub fn invocation(&self, id: u32) -> Span {
        let start = self.span.start + id as u64 * self.items as u64;
        Span {
            start,
            end: self.span.end.min(start.saturating_add(self.items as u64)),
        }
    }
}

impl Grid {
    /// The grid an adapter's limits allow: the largest power of two of invocations per
    /// workgroup within [`MAX_WORKGROUP`] and both of the adapter's bounds, and its most
    /// workgroups per dimension.
    pub fn from_limits(max_invocations: u32, max_size_x: u32, per_dimension: u32) -> Grid {
        let cap = MAX_WORKGROUP.min(max_invocations).min(max_size_x).max(1);
        Grid {
            workgroup: 1 << (31 - cap.leading_zeros()),
            per_dimension: per_dimension.max(1),
        }
    }

    /// Most workgroups one dispatch of `kernel` may launch.
    fn max_groups(&self, kernel: Kernel) -> u64 {
        let all = (self.per_dimension as u64).saturating_pow(3);
        match kernel {
            Kernel::Collatz => all.min(SCRATCH_GROUPS as u64 / 2),
            _ => all,
        }
    }

    /// Most indices one dispatch of `kernel` over a range ending at `end` holds.
    pub fn dispatch_indices(&self, kernel: Kernel, end: u64) -> u64 {
        let (items, _) = items_per_invocation(kernel, end);
        let room = (items as u64 * self.workgroup as u64).saturating_mul(self.max_groups(kernel));
        DISPATCH_INDICES.min(room)
    }

    /// Most indices one submission of `kernel` over a range ending at `end` holds.
    pub fn submission_indices(&self, kernel: Kernel, end: u64) -> u64 {
        self.dispatch_indices(kernel, end)
            .saturating_mul(MAX_DISPATCHES as u64)
    }

    /// A grid `[x, y, z]` of at least `groups` workgroups, none of its dimensions above the
    /// adapter's bound, launching fewer than `(y + 1) z` workgroups more (they do nothing).
    pub fn dims(&self, groups: u64) -> [u32; 3] {
        let m = self.per_dimension as u64;
        assert!(
            (1..=m.saturating_pow(3)).contains(&groups),
            "{groups} workgroups do not fit a grid of {m} per dimension"
        );
        let (x, y, z) = if groups <= m {
            (groups, 1, 1)
        } else if groups <= m * m {
            let y = groups.div_ceil(m);
            (groups.div_ceil(y), y, 1)
        } else {
            let z = groups.div_ceil(m * m);
            let rest = groups.div_ceil(z);
            let y = rest.div_ceil(m);
            (rest.div_ceil(y), y, z)
        };
        [x as u32, y as u32, z as u32]
    }

    /// The dispatches of `kernel` over `span`, in order: each of at most
    /// [`Grid::dispatch_indices`], each with as many invocations as it needs to reach
    /// [`TARGET_INVOCATIONS`] without going under [`MIN_ITEMS`] indices or over the kernel's
    /// bound per invocation.
    pub fn dispatches(&self, kernel: Kernel, span: Span) -> Vec<Dispatch> {
        let (most, _) = items_per_invocation(kernel, span.end);
        let limit = self.dispatch_indices(kernel, span.end);
        let room = (self.workgroup as u64).saturating_mul(self.max_groups(kernel));
        let mut out = Vec::new();
        let mut start = span.start;
        while start < span.end {
            let end = span.end.min(start.saturating_add(limit));
            let n = end - start;
            let items = n
                .div_ceil(TARGET_INVOCATIONS)
                .max(MIN_ITEMS as u64)
                .min(most as u64)
                .max(n.div_ceil(room));
            out.push(self.dispatch(Span { start, end }, items as u32));
            start = end;
        }
        out
    }

    /// One dispatch over `span` with `items` indices per invocation.
    fn dispatch(&self, span: Span, items: u32) -> Dispatch {
        let invocations = span.len().div_ceil(items as u64);
        Dispatch {
            span,
            items,
            invocations: invocations as u32,
            groups: self.dims(invocations.div_ceil(self.workgroup as u64).max(1)),
        }
    }

    /// `dispatch` again in pieces of at most [`LISTED`] invocations, the same indices per
    /// invocation: no piece can list more invocations than its record holds.
    pub fn listable(&self, dispatch: &Dispatch) -> Vec<Dispatch> {
        let step = LISTED as u64 * dispatch.items as u64;
        let mut out = Vec::new();
        let mut start = dispatch.span.start;
        while start < dispatch.span.end {
            let end = dispatch.span.end.min(start.saturating_add(step));
            out.push(self.dispatch(Span { start, end }, dispatch.items));
            start = end;
        }
        out
    }

    /// The grid of `collatz`'s second pass, one invocation per workgroup of `dispatch`.
    pub fn argmax_dims(&self, dispatch: &Dispatch) -> [u32; 3] {
        self.dims(
            (dispatch.group_count() as u64)
                .div_ceil(self.workgroup as u64)
                .max(1),
        )
    }
}

/// What one submission covers: a span, and the parts that are finished once it is read back
/// (none for a piece of a part that goes on in the next).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The indices.
    pub span: Span,
    /// Parts finished with it.
    pub parts: Range<u64>,
}

/// The submissions of `plan`, each of at most `most` indices: as many whole consecutive parts
/// as fit, or a piece of one part too large to fit alone. A part is finished with the piece
/// that holds its end, so every piece that finishes parts ends where its last part ends.
pub fn pieces(plan: Plan, most: u64) -> Pieces {
    Pieces {
        plan,
        most: most.max(1),
        next: 0,
        at: plan.range().start,
    }
}

/// The iterator of [`pieces`].
#[derive(Debug, Clone)]
pub struct Pieces {
    plan: Plan,
    most: u64,
    /// The first part not finished yet.
    next: u64,
    /// Where the next piece starts (inside part `next` when a piece cut it).
    at: u64,
}

impl Iterator for Pieces {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        let len = self.plan.len();
        if self.next >= len {
            return None;
        }
        let (plan, most, first, start) = (self.plan, self.most, self.next, self.at);
        let fits = |k: u64| plan.part(k).end - start <= most;
        if !fits(first) {
            // A part larger than a submission: its next piece, finishing nothing yet.
            self.at = start + most;
            return Some(Piece {
                span: Span {
                    start,
                    end: self.at,
                },
                parts: first..first,
            });
        }
        // The last part that still fits: parts end in order, so a binary search finds it.
        let (mut lo, mut hi) = (first, len - 1);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let end = plan.part(lo).end;
        self.next = lo + 1;
        self.at = end;
        Some(Piece {
            span: Span { start, end },
            parts: first..lo + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KERNELS: [Kernel; 5] = [
        Kernel::Count,
        Kernel::Sum,
        Kernel::Pi,
        Kernel::Primes,
        Kernel::Collatz,
    ];

    fn grids() -> [Grid; 4] {
        [
            Grid::from_limits(256, 256, 65535),
            Grid::from_limits(1024, 1024, 65535),
            // A small adapter, and one whose grid needs all three dimensions early.
            Grid::from_limits(64, 64, 65535),
            Grid::from_limits(256, 256, 7),
        ]
    }

    #[test]
    fn no_invocation_can_pass_the_iteration_cap() {
        for kernel in KERNELS {
            for end in [2, 1_000, 1 << 20, 1 << 31, 1 << 32] {
                let (items, worst) = items_per_invocation(kernel, end);
                assert!(
                    items >= 1 && worst <= ITERATION_CAP,
                    "{kernel} to {end}: {items} x -> {worst}"
                );
            }
        }
    }

    #[test]
    fn the_workgroup_follows_the_adapter() {
        assert_eq!(Grid::from_limits(1024, 1024, 65535).workgroup, 256);
        assert_eq!(Grid::from_limits(256, 128, 65535).workgroup, 128);
        assert_eq!(Grid::from_limits(96, 1024, 65535).workgroup, 64);
        assert_eq!(
            Grid::from_limits(0, 0, 0),
            Grid {
                workgroup: 1,
                per_dimension: 1
            }
        );
    }

    #[test]
    fn grids_hold_every_workgroup_within_the_bounds() {
        let g = Grid::from_limits(256, 256, 7);
        for groups in 1..=343u64 {
            let d = g.dims(groups);
            let launched: u64 = d.iter().map(|&v| v as u64).product();
            assert!(d.iter().all(|&v| (1..=7).contains(&v)), "{groups}: {d:?}");
            assert!(launched >= groups, "{groups}: {d:?}");
            assert!(
                launched - groups < (d[1] as u64 + 1) * d[2] as u64,
                "{groups}: {d:?}"
            );
        }
        let g = Grid::from_limits(256, 256, 65535);
        assert_eq!(g.dims(65535), [65535, 1, 1]);
        assert_eq!(g.dims(65536), [32768, 2, 1]);
        let big = 65535u64 * 65535 + 1;
        let d = g.dims(big);
        assert_eq!(d[2], 2, "{d:?}");
        assert!(d.iter().map(|&v| v as u64).product::<u64>() >= big);
    }

    #[test]
    fn a_collatz_grid_never_launches_more_workgroups_than_its_scratch_holds() {
        // The most workgroups a collatz dispatch needs, and a few less, on every bound per
        // dimension an adapter may give up to well past 2^16.
        for m in 1..=70_000u32 {
            let g = Grid::from_limits(256, 256, m);
            let most = g.max_groups(Kernel::Collatz);
            for groups in [most, most - most / 3, most.saturating_sub(1).max(1)] {
                let launched: u64 = g.dims(groups).iter().map(|&v| v as u64).product();
                assert!(
                    launched <= SCRATCH_GROUPS as u64,
                    "{m}: {groups} -> {launched}"
                );
            }
        }
    }

    #[test]
    fn large_ranges_take_several_dimensions_and_dispatches() {
        let g = Grid::from_limits(256, 256, 7);
        let span = Span::new(0, 10_000_000_000).unwrap();
        let ds = g.dispatches(Kernel::Count, span);
        assert!(ds.len() > 1, "{}", ds.len());
        assert!(ds.iter().any(|d| d.groups[2] > 1), "{ds:?}");
        // On a real adapter 1e10 indices are 5 dispatches of 2^31 indices at most.
        let g = Grid::from_limits(256, 256, 65535);
        let ds = g.dispatches(Kernel::Count, span);
        assert_eq!(ds.len(), 5);
        assert!(
            ds.iter()
                .all(|d| d.invocations as u64 <= 2 * TARGET_INVOCATIONS)
        );
        assert_eq!(ds[0].items, 2048);
        // A small range: few invocations, at least MIN_ITEMS each.
        let ds = g.dispatches(Kernel::Count, Span::new(0, 1_000_000).unwrap());
        assert_eq!((ds.len(), ds[0].items, ds[0].invocations), (1, 32, 31_250));
    }

    #[test]
    fn the_listed_pieces_of_a_dispatch_fit_their_records() {
        let g = Grid::from_limits(256, 256, 65535);
        let d = g.dispatches(Kernel::Collatz, Span::new(5, 1_000_005).unwrap())[0];
        let pieces = g.listable(&d);
        assert!(
            pieces
                .iter()
                .all(|p| p.invocations <= LISTED && p.items == d.items)
        );
        assert_eq!(pieces.first().unwrap().span.start, 5);
        assert_eq!(pieces.last().unwrap().span.end, 1_000_005);
        assert!(pieces.windows(2).all(|w| w[0].span.end == w[1].span.start));
    }

    /// Checks that `pieces` of `plan` cover it in order within `most` indices each, finish
    /// every part once, in order, with the piece that holds its end.
    fn check_pieces(plan: Plan, most: u64) -> Vec<Piece> {
        let ps: Vec<Piece> = pieces(plan, most).collect();
        if plan.is_empty() {
            assert!(ps.is_empty());
            return ps;
        }
        assert_eq!(ps.first().unwrap().span.start, plan.range().start);
        assert_eq!(ps.last().unwrap().span.end, plan.range().end);
        assert!(ps.windows(2).all(|w| w[0].span.end == w[1].span.start));
        assert!(ps.iter().all(|p| p.span.len() <= most));
        let finished: Vec<u64> = ps.iter().flat_map(|p| p.parts.clone()).collect();
        assert_eq!(finished, (0..plan.len()).collect::<Vec<_>>());
        for p in ps.iter().filter(|p| !p.parts.is_empty()) {
            assert_eq!(p.span.end, plan.part(p.parts.end - 1).end);
        }
        ps
    }

    #[test]
    fn pieces_hold_as_many_whole_parts_as_fit() {
        // 143 chunks of 7: seven whole chunks (49 indices) fit in 50.
        let plan = Plan::chunks(Span::new(10, 1010).unwrap(), 7);
        let ps = check_pieces(plan, 50);
        assert_eq!(ps[0].parts, 0..7);
        assert_eq!(ps.len(), 143usize.div_ceil(7));
        // Everything fits in one.
        assert_eq!(check_pieces(plan, u64::MAX).len(), 1);
        // Parts larger than a piece are cut, and finished by their last piece.
        let ps = check_pieces(Plan::equal(Span::new(0, 1000).unwrap(), 3), 100);
        assert_eq!(ps.iter().filter(|p| !p.parts.is_empty()).count(), 3);
        assert!(ps.len() >= 10);
        // An empty chunked range has no piece; an equal split of one has one empty piece that
        // finishes every part.
        check_pieces(Plan::chunks(Span::new(3, 3).unwrap(), 5), 9);
        let ps = check_pieces(Plan::equal(Span::new(3, 3).unwrap(), 2), 9);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].parts, 0..2);
        // At the end of the index space.
        check_pieces(
            Plan::equal(Span::new(u64::MAX - 1000, u64::MAX).unwrap(), 7),
            333,
        );
    }

    proptest! {
        #[test]
        fn pieces_cover_any_plan(
            start in 0..1000u64,
            len in 0..5000u64,
            parts in 1..40u64,
            chunk in prop::option::of(1..600u64),
            most in 1..2000u64,
        ) {
            let range = Span::new(start, start + len).unwrap();
            let plan = match chunk {
                Some(size) => Plan::chunks(range, size),
                None => Plan::equal(range, parts),
            };
            check_pieces(plan, most);
        }

        #[test]
        fn dispatches_respect_every_bound(
            kernel in prop::sample::select(KERNELS.to_vec()),
            grid in prop_oneof![
                prop::sample::select(grids().to_vec()),
                (1..70_000u32).prop_map(|m| Grid::from_limits(256, 256, m)),
            ],
            start in any::<u64>(),
            len in prop_oneof![0..5_000_000u64, 0..u64::MAX / 1024],
        ) {
            let mut start = start.min(u64::MAX - len);
            let mut end = start + len;
            if kernel == Kernel::Primes {
                // The backend refuses primes beyond 2^32.
                start %= 1 << 32;
                end = (start + len % (1 << 24)).min(1 << 32);
            }
            let span = Span { start, end };
            let most = grid.submission_indices(kernel, end).min(span.len()).max(1);
            // One submission's worth at most, as the backend sends them.
            let span = Span { start, end: start + most.min(span.len()) };
            let ds = grid.dispatches(kernel, span);
            prop_assert!(ds.len() <= MAX_DISPATCHES);
            let (bound, _) = items_per_invocation(kernel, end);
            let mut at = span.start;
            for d in &ds {
                prop_assert_eq!(d.span.start, at);
                at = d.span.end;
                prop_assert!(!d.span.is_empty() && d.span.len() <= DISPATCH_INDICES);
                prop_assert!(d.items >= 1 && d.items <= bound);
                // Every offset within the dispatch is a 32-bit word.
                prop_assert!(d.invocations as u64 * d.items as u64 <= DISPATCH_INDICES + d.items as u64);
                prop_assert_eq!(d.invocations as u64, d.span.len().div_ceil(d.items as u64));
                let launched = d.group_count() as u64 * grid.workgroup as u64;
                prop_assert!(launched >= d.invocations as u64);
                prop_assert!(d.groups.iter().all(|&v| v >= 1 && v <= grid.per_dimension));
                if kernel == Kernel::Collatz {
                    prop_assert!(d.group_count() <= SCRATCH_GROUPS);
                }
                let last = d.invocation(d.invocations - 1);
                prop_assert_eq!(last.end, d.span.end);
                prop_assert!(!last.is_empty());
            }
            prop_assert_eq!(at, span.end);
        }
    }
}
