//! The ground floor: a half-open range of indices ([`Span`]) and one part of a job ([`Part`]).
//!
//! Everything above (splits, kernels, backends, errors' context) speaks of ranges and parts;
//! this module depends only on number parsing and the error type, so nothing here can loop
//! back to the job or the kernels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, PartAt, PartNote, Result};
use crate::number::parse_u64_as;

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

impl From<Part> for PartAt {
    fn from(p: Part) -> Self {
        PartAt {
            index: p.index,
            start: p.start,
            end: p.end,
        }
    }
}

impl From<Option<Part>> for PartNote {
    fn from(p: Option<Part>) -> Self {
        PartNote(p.map(PartAt::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
