//! Map mode's values as they cross between interpreters: *forms*, one record per value, in
//! item order.
//!
//! A record is a tag byte, a little-endian u32 length and that many bytes: tag `P`, the value
//! pickled (as `ProcessPoolExecutor` sends it); tag `R`, `TYPE\n` and the value's repr, for a
//! value that cannot be pickled, which only the roads that never send one (sequential, threads)
//! may give (any address in it left out). The worker script writes and reads the same format.
//!
//! A road's results are checked against the sequential ones record by record: equal bytes are
//! the same value (pickling is deterministic within one interpreter version); the records that
//! differ go to the helper interpreter (`helper.rs`), which unpickles both and compares them with
//! `==`, as the user's program would (a set of str pickles in another order in another process,
//! and is still equal).

/// The tag of a pickled value.
pub(crate) const PICKLED: u8 = b'P';
/// The tag of a value that could not be pickled: its type and repr.
pub(crate) const REPR: u8 = b'R';

/// A sequence of records, checked whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Forms {
    data: Vec<u8>,
    /// Where each record begins, and the end: one more than there are records.
    starts: Vec<usize>,
}

impl Forms {
    /// Reads `data` as records; `Err` says where it is not (a worker that broke the protocol).
    pub(crate) fn parse(data: Vec<u8>) -> std::result::Result<Forms, String> {
        let mut starts = vec![0];
        let mut at = 0usize;
        while at < data.len() {
            let tag = data[at];
            let len = data
                .get(at + 1..at + 5)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
            match len {
                Some(len) if (tag == PICKLED || tag == REPR) && at + 5 + len <= data.len() => {
                    at += 5 + len;
                    starts.push(at);
                }
                _ => {
                    return Err(format!(
                        "sent values that do not read as records (record {} at byte {at})",
                        starts.len() - 1
                    ));
                }
            }
        }
        Ok(Forms { data, starts })
    }

    /// The records of several chunks, in order.
    pub(crate) fn joined(chunks: Vec<Forms>) -> Forms {
        let mut out = Forms {
            data: Vec::with_capacity(chunks.iter().map(|c| c.data.len()).sum()),
            starts: vec![0],
        };
        for chunk in chunks {
            let base = out.data.len();
            out.starts
                .extend(chunk.starts[1..].iter().map(|s| s + base));
            out.data.extend_from_slice(&chunk.data);
        }
        out
    }

    /// How many values.
    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Value `i`'s whole record.
    pub(crate) fn record(&self, i: usize) -> &[u8] {
        &self.data[self.starts[i]..self.starts[i + 1]]
    }

    /// Values `a..b`'s records, as one run of bytes.
    pub(crate) fn slice(&self, a: usize, b: usize) -> &[u8] {
        &self.data[self.starts[a]..self.starts[b]]
    }

    /// Every record, as one run of bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The first value that could not be pickled: its position and type.
    pub(crate) fn first_unpicklable(&self) -> Option<(usize, String)> {
        (0..self.len()).find_map(|i| {
            let r = self.record(i);
            (r[0] == REPR).then(|| {
                let text = String::from_utf8_lossy(&r[5..]);
                (i, text.split('\n').next().unwrap_or("").to_string())
            })
        })
    }

    /// The positions whose records differ from `other`'s (both of the same length).
    pub(crate) fn differing(&self, other: &Forms) -> Vec<usize> {
        (0..self.len().min(other.len()))
            .filter(|&i| self.record(i) != other.record(i))
            .collect()
    }

    /// The helper's `judge` payload: for each of `at`, its position (u64) and the records of
    /// `self` (the reference) and `other`.
    pub(crate) fn pairs(&self, other: &Forms, at: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for &i in at {
            out.extend_from_slice(&(i as u64).to_le_bytes());
            out.extend_from_slice(self.record(i));
            out.extend_from_slice(other.record(i));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![tag];
        r.extend_from_slice(&(body.len() as u32).to_le_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn records_read_whole_join_and_compare() {
        let a = [rec(PICKLED, b"one"), rec(REPR, b"generator\n<g>")].concat();
        let f = Forms::parse(a.clone()).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.record(0), rec(PICKLED, b"one").as_slice());
        assert_eq!(f.first_unpicklable(), Some((1, "generator".to_string())));
        let b = Forms::parse(rec(PICKLED, b"two")).unwrap();
        let both = Forms::joined(vec![f.clone(), b.clone()]);
        assert_eq!(both.len(), 3);
        assert_eq!(both.slice(1, 3), &both.bytes()[f.record(0).len()..]);
        let other = Forms::joined(vec![f.clone(), Forms::parse(rec(PICKLED, b"tw0")).unwrap()]);
        assert_eq!(both.differing(&other), vec![2]);
        let pairs = both.pairs(&other, &[2]);
        assert_eq!(&pairs[..8], &2u64.to_le_bytes());
        assert_eq!(pairs.len(), 8 + 2 * 8);
        assert!(Forms::parse(Vec::new()).unwrap().len() == 0);
        // A record cut short, and a tag that is no tag.
        assert!(Forms::parse(a[..a.len() - 1].to_vec()).is_err());
        assert!(Forms::parse(rec(b'X', b"")).is_err());
    }
}
