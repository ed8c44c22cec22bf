//! `pi`: Monte Carlo hits inside the quarter circle, one point per index.
//!
//! Point i is the i-th output (0-based) of SplitMix64 seeded with 0, a counter-based generator:
//! the point depends on the index alone, never on which worker drew it or in what order, so
//! every backend and split gets the same count. Its high 32 bits are x, its low 32 bits y, and
//! the point is a hit when x^2 + y^2 < 2^64: an exact integer test, no floating point.
//! hits / points estimates pi / 4.

use super::{NoTicks, Ticker, in_blocks};

/// SplitMix64's increment (the golden ratio in 64-bit fixed point).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The i-th output (0-based) of SplitMix64 seeded with 0 (Steele, Lea and Flood, 2014).
#[inline]
pub fn splitmix64(i: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// True when point `i` lies inside the quarter circle.
#[inline]
pub fn hit(i: u64) -> bool {
    let z = splitmix64(i);
    let (x, y) = (z >> 32, z & 0xFFFF_FFFF);
    // x, y < 2^32, so each square is below 2^64 and their sum below 2^65: u128 is exact.
    (x * x) as u128 + (y * y) as u128 <= u64::MAX as u128
}

/// Points per check point at `Ticker::SCALE` 1: about 30 ns of work (see `count`).
const TICK_EVERY: u64 = 8;

/// Counts the hits among the points `start..end`.
pub fn pi(start: u64, end: u64) -> u64 {
    pi_with(start, end, &mut NoTicks)
}

/// [`pi`] with a check point every `TICK_EVERY` x `T::SCALE` points.
pub fn pi_with<T: Ticker>(start: u64, end: u64, ticker: &mut T) -> u64 {
    let mut hits = 0;
    in_blocks(start, end, TICK_EVERY, ticker, |from, to| {
        hits += (from..to).map(|i| hit(i) as u64).sum::<u64>();
    });
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        // First outputs of the reference splitmix64.c with x = 0.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(1), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(splitmix64(2), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn estimates_pi() {
        let n = 1_000_000;
        let hits = pi(0, n);
        let estimate = 4.0 * hits as f64 / n as f64;
        // Standard error of the estimate is about 4 * sqrt(p(1-p)/n) = 0.0016.
        assert!((estimate - std::f64::consts::PI).abs() < 0.01, "{estimate}");
    }

    #[test]
    fn splits_add_up() {
        assert_eq!(pi(0, 1000) + pi(1000, 5000), pi(0, 5000));
        assert_eq!(
            pi(u64::MAX - 10, u64::MAX),
            (u64::MAX - 10..u64::MAX).filter(|&i| hit(i)).count() as u64
        );
    }
}
