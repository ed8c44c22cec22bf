//! What to compute: a kernel over a half-open range of `u64`, and how to split it.
//!
//! A [`Job`] is plain data (serde-serialisable) so that it can be written to a file, sent to a
//! worker or printed in a report. The parts of a job are computed lazily from the split, so a
//! job of 10^12 one-element chunks costs no memory until it runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::Kernel;
use crate::number::parse_u64_as;
use crate::split::Split;

/// A half-open range `start..end` of `u64` indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First index, included.
    pub start: u64,
    /// End, excluded.
    pub end: u64,
}

impl Span {
    /// A checked range; `start > end` is an error, `start == end` is an empty range.
    pub fn new(start: u64, end: u64) -> Result<Self> {
        if start > end {
            return Err(Error::invalid(
                "range",
                format!("{start}..{end}"),
                "the start must not be greater than the end (an empty range start..start is allowed)",
            ));
        }
        Ok(Span { start, end })
    }

    /// Number of indices in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the range holds no index.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for Span {
    type Err = Error;

    /// Parses `START..END`, each side in any form [`crate::number::parse_u64`] accepts.
    fn from_str(s: &str) -> Result<Self> {
        let Some((a, b)) = s.split_once("..") else {
            return Err(Error::invalid(
                "range",
                s,
                "expected START..END (half-open), such as 0..1e8",
            ));
        };
        let start = parse_u64_as("range start", a)?;
        let end = parse_u64_as("range end", b)?;
        if start > end {
            return Err(Error::invalid(
                "range",
                s,
                "the start must not be greater than the end (an empty range start..start is allowed)",
            ));
        }
        Ok(Span { start, end })
    }
}

/// One part of a job: a sub-range with its position in part order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Part {
    /// Position of the part; totals are combined in this order.
    pub index: u64,
    /// First index of the part, included.
    pub start: u64,
    /// End of the part, excluded.
    pub end: u64,
}

impl Part {
    /// The part's range.
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
        }
    }
}

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

/// The parts of a job, computed on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    range: Span,
    kind: PlanKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlanKind {
    /// `parts` equal contiguous parts by the seed's formula.
    Equal { parts: u64 },
    /// Fixed-size chunks, the last one possibly shorter.
    Chunks { size: u64, parts: u64 },
}

impl Plan {
    /// `parts` equal contiguous parts: part k is
    /// `start + len*k/parts .. start + len*(k+1)/parts`, exactly the seed's formula,
    /// computed in 128-bit arithmetic so it never overflows.
    pub fn equal(range: Span, parts: u64) -> Self {
        assert!(parts > 0, "a plan needs at least one part");
        Plan {
            range,
            kind: PlanKind::Equal { parts },
        }
    }

    /// Chunks of `size` indices (the last may be shorter); an empty range has no chunk.
    pub fn chunks(range: Span, size: u64) -> Self {
        assert!(size > 0, "chunk size must be positive");
        let parts = range.len().div_ceil(size);
        Plan {
            range,
            kind: PlanKind::Chunks { size, parts },
        }
    }

    /// The whole range.
    pub fn range(&self) -> Span {
        self.range
    }

    /// True when parts are handed out dynamically to idle workers.
    pub fn is_dynamic(&self) -> bool {
        matches!(self.kind, PlanKind::Chunks { .. })
    }

    /// Number of parts.
    pub fn len(&self) -> u64 {
        match self.kind {
            PlanKind::Equal { parts } | PlanKind::Chunks { parts, .. } => parts,
        }
    }

    /// True when the plan has no part (a chunked empty range).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Part `k`. Panics if `k >= self.len()`.
    pub fn part(&self, k: u64) -> Part {
        assert!(k < self.len(), "part {k} out of {}", self.len());
        let Span { start, end } = self.range;
        match self.kind {
            PlanKind::Equal { parts } => {
                let len = (end - start) as u128;
                let at = |k: u64| start + (len * k as u128 / parts as u128) as u64;
                Part {
                    index: k,
                    start: at(k),
                    end: at(k + 1),
                }
            }
            PlanKind::Chunks { size, .. } => {
                let lo = start + k * size;
                Part {
                    index: k,
                    start: lo,
                    end: lo.saturating_add(size).min(end),
                }
            }
        }
    }

    /// All parts, in order.
    pub fn parts(&self) -> impl ExactSizeIterator<Item = Part> + '_ {
        (0..self.len() as usize).map(|k| self.part(k as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_parts_follow_the_seed_formula() {
        let plan = Plan::equal(Span::new(0, 100_000_000).unwrap(), 3);
        let parts: Vec<_> = plan.parts().map(|p| (p.start, p.end)).collect();
        assert_eq!(
            parts,
            [
                (0, 33_333_333),
                (33_333_333, 66_666_666),
                (66_666_666, 100_000_000)
            ]
        );
    }

    #[test]
    fn equal_parts_do_not_overflow_at_the_top_of_u64() {
        let plan = Plan::equal(Span::new(1, u64::MAX).unwrap(), 7);
        let parts: Vec<_> = plan.parts().collect();
        assert_eq!(parts[0].start, 1);
        assert_eq!(parts[6].end, u64::MAX);
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }

    #[test]
    fn chunks_cover_the_range_and_stop_at_its_end() {
        let plan = Plan::chunks(Span::new(u64::MAX - 10, u64::MAX).unwrap(), 4);
        let parts: Vec<_> = plan
            .parts()
            .map(|p| (p.start - (u64::MAX - 10), p.end - (u64::MAX - 10)))
            .collect();
        assert_eq!(parts, [(0, 4), (4, 8), (8, 10)]);
        assert!(Plan::chunks(Span::new(5, 5).unwrap(), 3).is_empty());
    }

    #[test]
    fn ranges_parse_and_reject_reversed_bounds() {
        assert_eq!(
            "0..1e8".parse::<Span>().unwrap(),
            Span::new(0, 100_000_000).unwrap()
        );
        assert!("5..5".parse::<Span>().unwrap().is_empty());
        for bad in ["5..4", "1e8", "a..b", "0..", "..5", "0..1e20"] {
            assert!(bad.parse::<Span>().unwrap_err().is_usage(), "{bad}");
        }
    }
}
