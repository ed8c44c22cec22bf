//! How a range is cut into parts ([`Plan`]) and how parts reach workers.
//!
//! - `static`: as many equal contiguous parts as there are workers, by the seed's formula
//!   `start + (end-start)*k/N`; worker k gets part k. Cheap, but a kernel whose cost grows with
//!   the index (`primes`) leaves the first workers idle while the last one finishes.
//! - `chunks:SIZE`: fixed-size chunks on a queue that idle workers pull from (dynamic
//!   scheduling), which balances uneven kernels at the price of one hand-out per chunk.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::number::parse_u64_as;
use crate::span::{Part, Span};

/// A way to cut a range into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Split {
    /// One equal contiguous part per worker.
    Static,
    /// Chunks of this many indices, pulled by idle workers. Never zero.
    Chunks(u64),
}

impl Split {
    /// The plan of parts for `range` run by `workers` workers.
    pub fn plan(&self, range: Span, workers: usize) -> Plan {
        match *self {
            Split::Static => Plan::equal(range, workers.max(1) as u64),
            Split::Chunks(size) => Plan::chunks(range, size),
        }
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

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Split::Static => f.write_str("static"),
            Split::Chunks(size) => write!(f, "chunks:{size}"),
        }
    }
}

impl FromStr for Split {
    type Err = Error;

    /// Parses `static` or `chunks:SIZE` (SIZE in any number form, at least 1).
    fn from_str(s: &str) -> Result<Self> {
        let allowed = "expected 'static' or 'chunks:SIZE' with SIZE >= 1 (e.g. chunks:100000)";
        match s.trim() {
            "static" => Ok(Split::Static),
            other => match other.strip_prefix("chunks:") {
                Some(size) => match parse_u64_as("chunk size", size) {
                    Ok(0) => Err(Error::invalid("chunk size", size, "must be at least 1")),
                    Ok(size) => Ok(Split::Chunks(size)),
                    Err(e) => Err(e),
                },
                None => Err(Error::invalid("split", s, allowed)),
            },
        }
    }
}

crate::named::string_form!(Split);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in ["static", "chunks:1", "chunks:100000"] {
            assert_eq!(s.parse::<Split>().unwrap().to_string(), s);
        }
        assert_eq!(
            "chunks:1e5".parse::<Split>().unwrap(),
            Split::Chunks(100_000)
        );
    }

    #[test]
    fn rejects_zero_and_unknown() {
        for bad in [
            "chunks:0",
            "chunks:",
            "chunks:x",
            "dynamic",
            "",
            "chunks:-1",
        ] {
            let e = bad.parse::<Split>().unwrap_err();
            assert!(e.is_usage(), "{bad}: {e}");
        }
    }

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
    fn static_plan_has_one_part_per_worker() {
        let plan = Split::Static.plan(Span::new(0, 10).unwrap(), 4);
        assert_eq!(plan.len(), 4);
        assert!(!plan.is_dynamic());
    }
}
