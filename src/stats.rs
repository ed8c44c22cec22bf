//! The one statistics module: medians, summaries, outliers and bootstrap intervals, for
//! `bench`, `probe` and `reproduce` alike, so every median in parlab means the same thing.

use serde::{Deserialize, Serialize};

use crate::kernels::pi::splitmix64;

/// Summary of a sample of wall times, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSummary {
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

impl SampleSummary {
    /// Summary of `xs` (at least one value).
    pub fn of(xs: &[f64]) -> SampleSummary {
        assert!(!xs.is_empty(), "no runs to summarise");
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 {
            xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        SampleSummary {
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
        return Estimate::exact(value);
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

/// The median of `xs` with a 95% percentile-bootstrap interval over `rounds` resamples
/// (deterministic, like [`speedup`]). One value gives a zero-width interval.
pub fn median_interval(xs: &[f64], rounds: usize) -> Estimate {
    let value = median(xs);
    if xs.len() < 2 {
        return Estimate::exact(value);
    }
    let mut counter = 0u64;
    let mut sample = vec![0.0; xs.len()];
    let mut medians = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        for x in sample.iter_mut() {
            counter += 1;
            *x = xs[(splitmix64(counter) % xs.len() as u64) as usize];
        }
        medians.push(median(&sample));
    }
    medians.sort_by(f64::total_cmp);
    Estimate {
        value,
        low: quantile_sorted(&medians, 0.025),
        high: quantile_sorted(&medians, 0.975),
    }
}

/// Speedup from paired runs: `base[i]` and `cell[i]` ran back to back, so each pair's ratio
/// `base[i] / cell[i]` already cancels what the machine did at that moment (a slow episode
/// slows both); the estimate is the median ratio with a bootstrap interval over the pairs.
/// A pair hit by a burst on one side only is an outlier of its own ratio, not of the cell.
pub fn paired_speedup(base: &[f64], cell: &[f64], rounds: usize) -> Estimate {
    assert_eq!(
        base.len(),
        cell.len(),
        "pairs need one base run per cell run"
    );
    let ratios: Vec<f64> = base.iter().zip(cell).map(|(b, c)| b / c).collect();
    median_interval(&ratios, rounds)
}

/// Where an interval lies against a reference value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The whole interval lies above the reference.
    Above,
    /// The interval holds the reference: the data cannot tell the two apart.
    Holds,
    /// The whole interval lies below the reference.
    Below,
}

impl Estimate {
    /// A value known exactly: a zero-width interval.
    pub fn exact(value: f64) -> Estimate {
        Estimate {
            value,
            low: value,
            high: value,
        }
    }

    /// Where the interval lies against `reference`.
    pub fn side_of(&self, reference: f64) -> Side {
        if self.low > reference {
            Side::Above
        } else if self.high < reference {
            Side::Below
        } else {
            Side::Holds
        }
    }

    /// Half the interval's width as a share of the value: 0.05 is "within +-5%".
    pub fn relative_half_width(&self) -> f64 {
        if self.value == 0.0 {
            return f64::INFINITY;
        }
        (self.high - self.low) / 2.0 / self.value.abs()
    }

    /// The one way parlab writes a ratio with its interval: `1.92x (1.85-1.97)`, or `1.92x`
    /// when it is exact. Every command's text uses it (JSON gives `{value, low, high}`).
    pub fn ratio(&self) -> String {
        self.figure(2, "x")
    }

    /// A figure with its interval at `digits` decimals and `unit` after the value:
    /// `0.95 (0.90-1.00)`, `9.04 ms (8.80-9.30)`, or the value alone when exact (or when an end
    /// is not finite). Where an end is negative, the ends are joined by " to ".
    pub fn figure(&self, digits: usize, unit: &str) -> String {
        let unit = if unit.is_empty() || unit == "x" || unit == "%" {
            unit.to_string()
        } else {
            format!(" {unit}")
        };
        let value = format!("{:.digits$}{unit}", self.value);
        self.written_as(value, |x| format!("{x:.digits$}"))
    }

    /// The interval in the one style with each end written by `write`, after `value` already
    /// written: `value (low-high)`, or `value` alone when the ends read the same or one is not
    /// finite.
    pub fn written_as(&self, value: String, write: impl Fn(f64) -> String) -> String {
        let (low, high) = (write(self.low), write(self.high));
        if low == high || !self.low.is_finite() || !self.high.is_finite() {
            return value;
        }
        let join = if self.low < 0.0 || self.high < 0.0 {
            " to "
        } else {
            "-"
        };
        format!("{value} ({low}{join}{high})")
    }

    /// The estimate scaled by `factor` (e.g. a speedup over workers gives an efficiency).
    pub fn scaled(&self, factor: f64) -> Estimate {
        Estimate {
            value: self.value * factor,
            low: self.low * factor,
            high: self.high * factor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bimodal machine: every other pair ran in a slow episode that halved both sides' speed.
    fn bimodal_pairs(ratio: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
        let base: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { 0.17 } else { 0.34 })
            .collect();
        let cell = base.iter().map(|b| b / ratio).collect();
        (base, cell)
    }

    #[test]
    fn paired_ratios_cancel_a_bimodal_machine_that_unpaired_medians_do_not() {
        let (base, cell) = bimodal_pairs(1.9, 20);
        let paired = paired_speedup(&base, &cell, 2000);
        assert!((paired.value - 1.9).abs() < 1e-9, "{paired:?}");
        assert!(paired.relative_half_width() < 1e-9, "{paired:?}");
        // Unpaired, the two modes make the bootstrap wander between them.
        let unpaired = speedup(&base, &cell, 2000);
        assert!(unpaired.relative_half_width() > 0.2, "{unpaired:?}");
    }

    #[test]
    fn a_burst_on_one_side_is_an_outlier_of_its_own_pair_only() {
        let (mut base, cell) = bimodal_pairs(1.5, 21);
        base[7] *= 3.0; // the baseline of one pair ran during a burst
        let e = paired_speedup(&base, &cell, 2000);
        assert!((e.value - 1.5).abs() < 1e-9, "{e:?}");
        assert_eq!(e.side_of(1.0), Side::Above);
    }

    #[test]
    fn intervals_are_placed_against_a_reference() {
        let aa = paired_speedup(
            &[1.0, 1.1, 0.9, 1.05, 0.95],
            &[1.02, 1.0, 0.93, 1.0, 1.0],
            2000,
        );
        assert_eq!(aa.side_of(1.0), Side::Holds, "{aa:?}");
        let e = Estimate {
            value: 1.8,
            low: 1.7,
            high: 1.9,
        };
        assert_eq!(e.side_of(1.0), Side::Above);
        assert_eq!(e.side_of(2.0), Side::Below);
        assert_eq!(e.side_of(1.85), Side::Holds);
        assert!((e.relative_half_width() - 0.1 / 1.8).abs() < 1e-12);
    }

    #[test]
    fn the_median_interval_brackets_the_median_and_is_repeatable() {
        let xs: Vec<f64> = (1..=31).map(f64::from).collect();
        let a = median_interval(&xs, 2000);
        assert_eq!(a.value, 16.0);
        assert!(
            a.low < 16.0 && a.high > 16.0 && a.low >= 1.0 && a.high <= 31.0,
            "{a:?}"
        );
        assert_eq!(a, median_interval(&xs, 2000));
        assert_eq!(median_interval(&[3.0], 2000), Estimate::exact(3.0));
    }

    #[test]
    fn intervals_are_written_one_way() {
        let e = Estimate {
            value: 1.921,
            low: 1.849,
            high: 1.97,
        };
        assert_eq!(e.ratio(), "1.92x (1.85-1.97)");
        assert_eq!(Estimate::exact(1.0).ratio(), "1.00x");
        assert_eq!(e.figure(1, "ms"), "1.9 ms (1.8-2.0)");
        assert_eq!(e.scaled(50.0).figure(0, "%"), "96% (92-98)");
        assert_eq!(e.scaled(0.5).figure(2, ""), "0.96 (0.92-0.98)");
        let negative = Estimate {
            value: -0.01,
            low: -0.02,
            high: 0.01,
        };
        assert_eq!(negative.figure(2, ""), "-0.01 (-0.02 to 0.01)");
        let open = Estimate {
            value: 3.0,
            low: 2.0,
            high: f64::INFINITY,
        };
        assert_eq!(open.ratio(), "3.00x");
    }

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
        let s = SampleSummary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.median, s.mean, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        assert!((s.stddev - 1.290_994).abs() < 1e-6);
        assert_eq!(SampleSummary::of(&[5.0]).stddev, 0.0);
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
