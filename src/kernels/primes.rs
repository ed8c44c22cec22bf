//! `primes`: how many primes lie in the range.
//!
//! Two exact methods, chosen per part by what is cheaper:
//! - a segmented sieve of Eratosthenes over odd numbers when the part is long compared with the
//!   square root of its end (the base primes up to that root are sieved first, so a part's cost
//!   grows with where it lies, not only with its length);
//! - a deterministic Miller-Rabin test per number otherwise, e.g. for short parts near
//!   `u64::MAX`, where sieving the base primes up to 2^32 would dwarf the part itself.
//!
//! Both give the same count; tests cross-check them. Cost per index grows with the index, so
//! equal contiguous parts are unbalanced: the case dynamic scheduling (`chunks:SIZE`) is for.

use super::{NoTicks, Ticker};

/// Largest square root for which the sieve is used; beyond it the base sieve itself would need
/// more than 32 MiB.
const SIEVE_ROOT_CAP: u64 = 1 << 26;
/// Odd numbers per sieve segment: 64 KiB of flags, which stays in L2 cache.
const SEGMENT: usize = 1 << 16;

/// Counts the primes in `start..end`.
pub fn primes(start: u64, end: u64) -> u64 {
    primes_with(start, end, &mut NoTicks)
}

/// [`primes`] with check points: one per base prime of each sieve segment, or one per number
/// tested by Miller-Rabin.
pub fn primes_with(start: u64, end: u64, ticker: &mut impl Ticker) -> u64 {
    if start >= end {
        return 0;
    }
    let root = (end - 1).isqrt();
    if root <= SIEVE_ROOT_CAP && root <= end - start {
        sieve_count(start, end, root, ticker)
    } else {
        (start..end)
            .filter(|&n| {
                ticker.tick();
                is_prime(n)
            })
            .count() as u64
    }
}

/// All primes up to and including `limit`, by a plain sieve.
fn small_primes(limit: u64) -> Vec<u64> {
    let limit = limit as usize;
    let mut composite = vec![false; limit + 1];
    let mut out = Vec::new();
    for n in 2..=limit {
        if !composite[n] {
            out.push(n as u64);
            let mut m = n * n;
            while m <= limit {
                composite[m] = true;
                m += n;
            }
        }
    }
    out
}

/// Segmented odd-only sieve of `start..end`; `root` = isqrt(end - 1) <= SIEVE_ROOT_CAP, so
/// every value here is below 2^53 and no arithmetic can overflow.
fn sieve_count(start: u64, end: u64, root: u64, ticker: &mut impl Ticker) -> u64 {
    let base = small_primes(root);
    let mut count = u64::from(start <= 2 && 2 < end);
    // First odd number >= max(start, 3).
    let mut lo = start.max(3) | 1;
    let mut flags = vec![true; SEGMENT];
    while lo < end {
        let hi = end.min(lo + 2 * SEGMENT as u64);
        let n = (hi - lo).div_ceil(2) as usize;
        let seg = &mut flags[..n];
        seg.fill(true);
        for &p in base.iter().skip(1) {
            if p * p >= hi {
                break;
            }
            let mut m = (p * p).max(lo.div_ceil(p) * p);
            if m % 2 == 0 {
                m += p;
            }
            let mut j = ((m - lo) / 2) as usize;
            while j < n {
                seg[j] = false;
                j += p as usize;
            }
            ticker.tick();
        }
        count += seg.iter().filter(|&&f| f).count() as u64;
        lo = hi;
    }
    count
}

/// Deterministic primality test for any `u64` (Miller-Rabin with the first twelve prime bases,
/// which is exact below 3.3 * 10^24).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let d = (n - 1) >> (n - 1).trailing_zeros();
    let s = (n - 1).trailing_zeros();
    let mul = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let pow = |mut b: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mul(r, b);
            }
            b = mul(b, b);
            e >>= 1;
        }
        r
    };
    'bases: for a in BASES {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul(x, x);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pi(10^k), k = 1..=9 (OEIS A006880).
    const PI_POWERS_OF_TEN: [u64; 9] = [4, 25, 168, 1229, 9592, 78498, 664579, 5761455, 50847534];

    #[test]
    fn matches_pi_of_powers_of_ten() {
        // 10^9 takes about a second in an optimised build; the rest are quick.
        for (k, &want) in PI_POWERS_OF_TEN.iter().enumerate() {
            let n = 10u64.pow(k as u32 + 1);
            assert_eq!(primes(0, n), want, "pi(10^{})", k + 1);
        }
    }

    #[test]
    fn primes_just_below_two_to_the_64() {
        // The ten largest primes below 2^64 are 2^64 - {59, 83, 95, 179, 189, 257, 279, 323,
        // 353, 363} (Caldwell, "primes just less than a power of two").
        assert_eq!(primes(u64::MAX - 362, u64::MAX), 10);
        assert_eq!(primes(u64::MAX - 57, u64::MAX), 0);
        assert!(is_prime(u64::MAX - 58));
    }

    #[test]
    fn sieve_and_miller_rabin_agree() {
        for (a, b) in [(0, 3000), (999_000, 1_001_000), (1 << 40, (1 << 40) + 5000)] {
            let mr = (a..b).filter(|&n| is_prime(n)).count() as u64;
            assert_eq!(
                sieve_count(a, b, (b - 1).isqrt(), &mut NoTicks),
                mr,
                "{a}..{b}"
            );
            assert_eq!(primes(a, b), mr);
        }
    }

    #[test]
    fn tiny_ranges() {
        assert_eq!(primes(0, 0), 0);
        assert_eq!(primes(0, 2), 0);
        assert_eq!(primes(2, 3), 1);
        assert_eq!(primes(3, 4), 1);
        assert_eq!(primes(4, 5), 0);
        assert_eq!(primes(9, 10), 0);
    }
}
