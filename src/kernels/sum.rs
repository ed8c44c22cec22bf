//! `sum`: the sum of the indices, exact in `u128`.
//!
//! The largest possible sum, of 0..u64::MAX, is below 2^127, so `u128` never overflows. The loop
//! is real (one addition per index), as in `count`: the point is the work, not the closed form,
//! which tests use as the known answer.

use super::{NoTicks, Ticker, in_blocks};

/// Indices per check point at `Ticker::SCALE` 1 (see `count`).
const TICK_EVERY: u64 = 256;

/// Sums the indices in `start..end`.
pub fn sum(start: u64, end: u64) -> u128 {
    sum_with(start, end, &mut NoTicks)
}

/// [`sum`] with a check point every `TICK_EVERY` x `T::SCALE` indices.
pub fn sum_with<T: Ticker>(start: u64, end: u64, ticker: &mut T) -> u128 {
    let mut total: u128 = 0;
    in_blocks(start, end, TICK_EVERY, ticker, |from, to| {
        let mut i = from;
        while i < to {
            total += i as u128;
            i += 1;
        }
    });
    total
}

/// Gauss's closed form of the same sum, the known answer the loop is checked against.
pub fn closed_form(start: u64, end: u64) -> u128 {
    let tri = |n: u64| {
        let n = n as u128;
        // n*(n-1)/2 without overflow: one of n, n-1 is even.
        if n.is_multiple_of(2) {
            (n / 2) * n.saturating_sub(1)
        } else {
            n * ((n.saturating_sub(1)) / 2)
        }
    };
    tri(end) - tri(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_gauss() {
        assert_eq!(sum(0, 101), 5050);
        assert_eq!(closed_form(0, 101), 5050);
        assert_eq!(sum(1000, 1_000_000), closed_form(1000, 1_000_000));
        assert_eq!(sum(u64::MAX - 2, u64::MAX), 2 * (u64::MAX as u128) - 3);
        assert_eq!(
            closed_form(u64::MAX - 2, u64::MAX),
            2 * (u64::MAX as u128) - 3
        );
        // The whole u64 range: (2^64-1)(2^64-2)/2.
        let n = u64::MAX as u128;
        assert_eq!(closed_form(0, u64::MAX), n * (n - 1) / 2);
    }
}
