//! How a range is cut into parts and how parts reach workers.
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
use crate::job::{Plan, Span};
use crate::number::parse_u64_as;

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

impl TryFrom<String> for Split {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Split> for String {
    fn from(s: Split) -> String {
        s.to_string()
    }
}

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
    fn static_plan_has_one_part_per_worker() {
        let plan = Split::Static.plan(Span::new(0, 10).unwrap(), 4);
        assert_eq!(plan.len(), 4);
        assert!(!plan.is_dynamic());
    }
}
