//! The one statistics module: medians, summaries, outliers and bootstrap intervals, for
//! `bench`, `probe` and `reproduce` alike, so every median in parlab means the same thing.

use serde::{Deserialize, Serialize};

use crate::kernels::pi::splitmix64;

/// Summary of a sample of wall times, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Median.
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub stddev: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

/// The median of `xs` (the mean of the middle two for an even count); 0 for none.
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Summary {
    /// Summary of `xs` (at least one value).
    pub fn of(xs: &[f64]) -> Summary {
        assert!(!xs.is_empty(), "no runs to summarise");
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 {
            xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Summary {
            median: median(xs),
            mean,
            stddev: var.sqrt(),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The `p`-quantile (0..=1) of `xs` by linear interpolation between the closest ranks (the
/// median for `p` = 0.5, the same as [`median`]); 0 for none.
pub fn quantile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, p)
}

/// [`quantile`] of a sample already sorted in ascending order.
fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    let at = p.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

/// Runs farther than 1.5 interquartile ranges outside the quartiles (Tukey's fences).
pub fn outliers(xs: &[f64]) -> usize {
    if xs.len() < 4 {
        return 0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile_sorted(&v, 0.25), quantile_sorted(&v, 0.75));
    let iqr = q3 - q1;
    v.iter()
        .filter(|&&x| x < q1 - 1.5 * iqr || x > q3 + 1.5 * iqr)
        .count()
}

/// A ratio with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The ratio of the medians.
    pub value: f64,
    /// 2.5th percentile of the bootstrap distribution.
    pub low: f64,
    /// 97.5th percentile of the bootstrap distribution.
    pub high: f64,
}

/// Speedup `median(base) / median(cell)` with a 95% percentile-bootstrap interval: both samples
/// are resampled with replacement `rounds` times. Deterministic (a fixed counter-based
/// generator), so the same runs always give the same interval.
pub fn speedup(base: &[f64], cell: &[f64], rounds: usize) -> Estimate {
    let value = median(base) / median(cell);
    if base.len() < 2 && cell.len() < 2 {
        return Estimate {
            value,
            low: value,
            high: value,
        };
    }
    let mut counter = 0u64;
    let mut draw = |n: usize| {
        counter += 1;
        (splitmix64(counter) % n as u64) as usize
    };
    let mut ratios = Vec::with_capacity(rounds);
    let (mut b, mut c) = (vec![0.0; base.len()], vec![0.0; cell.len()]);
    for _ in 0..rounds {
        for x in b.iter_mut() {
            *x = base[draw(base.len())];
        }
        for x in c.iter_mut() {
            *x = cell[draw(cell.len())];
        }
        ratios.push(median(&b) / median(&c));
    }
    ratios.sort_by(f64::total_cmp);
    let at = |p: f64| ratios[((ratios.len() - 1) as f64 * p).round() as usize];
    Estimate {
        value,
        low: at(0.025),
        high: at(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_and_the_half_is_the_median() {
        let xs = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&xs, 0.5), median(&xs));
        assert_eq!(quantile(&xs, 0.5), 2.5);
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert!((quantile(&xs, 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn summary_figures() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.median, s.mean, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        assert!((s.stddev - 1.290_994).abs() < 1e-6);
        assert_eq!(Summary::of(&[5.0]).stddev, 0.0);
    }

    #[test]
    fn tukey_fences() {
        assert_eq!(outliers(&[1.0, 1.1, 0.9, 1.0, 1.05, 9.0]), 1);
        assert_eq!(outliers(&[1.0, 1.02, 0.98, 1.01]), 0);
    }

    #[test]
    fn bootstrap_brackets_the_ratio_and_is_repeatable() {
        let base = [2.0, 2.1, 1.9, 2.05, 1.95];
        let cell = [1.0, 1.05, 0.95, 1.02, 0.98];
        let e = speedup(&base, &cell, 2000);
        assert!((e.value - 2.0).abs() < 1e-9);
        assert!(e.low <= e.value && e.value <= e.high, "{e:?}");
        assert!(e.low > 1.7 && e.high < 2.3, "{e:?}");
        assert_eq!(e, speedup(&base, &cell, 2000));
    }
}
