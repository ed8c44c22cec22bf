//! The worker protocol: compact, versioned, length-prefixed binary frames over pipes.
//!
//! See `README.md` beside this file for the exchange. Every frame is
//!
//! ```text
//! length: u32 LE  (bytes that follow: type + payload, 1..=MAX_FRAME)
//! type:   u8
//! payload
//! ```
//!
//! All integers are little-endian. The decoder never trusts a length prefix: a length beyond
//! [`MAX_FRAME`] is an error before any allocation, and every frame type has an exact payload
//! size (or a bounded one for messages), so a corrupt stream gives a clear [`ProtocolError`],
//! never a panic or a huge allocation.

use crate::kernels::collatz::Collatz;
use crate::kernels::{Kernel, Total};

/// Protocol version; bumped on any change of the frames below.
pub const VERSION: u16 = 1;
/// Magic bytes at the start of a worker's `Hello`.
pub const MAGIC: [u8; 4] = *b"PLAB";
/// Largest frame body (type + payload) accepted.
pub const MAX_FRAME: usize = 4096;
/// Size of each side's read buffer: room for several whole frames of the largest size, and for
/// a whole window of chunk answers. Kept small because it is zeroed, page by page, in every
/// worker and for every worker.
pub const READ_BUFFER: usize = 4 * MAX_FRAME;
/// Longest failure message a worker may send, in bytes.
pub const MAX_MESSAGE: usize = 1024;

const HELLO: u8 = 1;
const SETUP: u8 = 2;
const PART: u8 = 3;
const DONE: u8 = 4;
const FAILED: u8 = 5;
const SHUTDOWN: u8 = 6;

/// One protocol frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Worker -> parent, first frame: who is speaking, and which protocol.
    Hello {
        /// Protocol version the worker speaks.
        version: u16,
        /// The worker's process id.
        pid: u32,
    },
    /// Parent -> worker, first frame: the protocol version and the kernel every part uses.
    Setup {
        /// Protocol version the parent speaks.
        version: u16,
        /// The kernel.
        kernel: Kernel,
    },
    /// Parent -> worker: compute this part.
    Part {
        /// Part index.
        index: u64,
        /// First index, included.
        start: u64,
        /// End, excluded.
        end: u64,
    },
    /// Worker -> parent: the total of a part.
    Done {
        /// Part index.
        index: u64,
        /// Its total.
        total: Total,
    },
    /// Worker -> parent: a part failed (a panic or a kernel error).
    Failed {
        /// Part index.
        index: u64,
        /// True for a panic, false for a kernel error.
        panic: bool,
        /// What happened.
        message: String,
    },
    /// Parent -> worker: no more parts; exit with code 0.
    Shutdown,
}

/// Why a byte stream is not a valid frame sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The length prefix is zero or larger than [`MAX_FRAME`].
    #[error("frame length {len} out of bounds (1..={MAX_FRAME})")]
    BadLength {
        /// The length found.
        len: u32,
    },
    /// Unknown frame type.
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// A frame's payload has the wrong size for its type.
    #[error("{frame} frame has a {len}-byte payload; expected {expected}")]
    BadPayload {
        /// Frame type name.
        frame: &'static str,
        /// Payload length found.
        len: usize,
        /// What was expected.
        expected: String,
    },
    /// A tag inside a payload (kernel, total) is unknown.
    #[error("unknown {what} tag {tag}")]
    BadTag {
        /// What the tag was for.
        what: &'static str,
        /// The tag.
        tag: u8,
    },
    /// `Hello` did not start with [`MAGIC`]: the peer is not a parlab worker.
    #[error("bad magic {0:02x?}: the peer is not a parlab worker")]
    BadMagic([u8; 4]),
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {got}, this build speaks {VERSION}")]
    Version {
        /// The peer's version.
        got: u16,
    },
    /// A failure message is not UTF-8.
    #[error("failure message is not UTF-8")]
    BadMessage,
    /// The stream ended inside a frame.
    #[error("truncated frame: stream ended after {have} of {need} bytes")]
    Truncated {
        /// Bytes received of the frame.
        have: usize,
        /// Bytes the frame needed.
        need: usize,
    },
    /// A valid frame arrived where the protocol does not allow it.
    #[error("unexpected {got} frame: {context}")]
    Unexpected {
        /// The frame's type name.
        got: &'static str,
        /// What was expected instead.
        context: String,
    },
}

impl Frame {
    /// The frame type's name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "Hello",
            Frame::Setup { .. } => "Setup",
            Frame::Part { .. } => "Part",
            Frame::Done { .. } => "Done",
            Frame::Failed { .. } => "Failed",
            Frame::Shutdown => "Shutdown",
        }
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        match self {
            Frame::Hello { version, pid } => {
                out.push(HELLO);
                out.extend_from_slice(&MAGIC);
                out.extend_from_slice(&version.to_le_bytes());
                out.extend_from_slice(&pid.to_le_bytes());
            }
            Frame::Setup { version, kernel } => {
                out.push(SETUP);
                out.extend_from_slice(&version.to_le_bytes());
                let (tag, param) = kernel_code(kernel);
                out.push(tag);
                out.extend_from_slice(&param.to_le_bytes());
            }
            Frame::Part { index, start, end } => {
                out.push(PART);
                for v in [index, start, end] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            Frame::Done { index, total } => {
                out.push(DONE);
                out.extend_from_slice(&index.to_le_bytes());
                encode_total(total, out);
            }
            Frame::Failed {
                index,
                panic,
                message,
            } => {
                out.push(FAILED);
                out.extend_from_slice(&index.to_le_bytes());
                out.push(u8::from(*panic));
                let mut cut = message.len().min(MAX_MESSAGE);
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.extend_from_slice(&message.as_bytes()[..cut]);
            }
            Frame::Shutdown => out.push(SHUTDOWN),
        }
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// `frames` encoded one after another, as they go down a pipe.
    pub fn stream<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            frame.encode(&mut out);
        }
        out
    }

    /// Decodes every frame of a stream that has ended; a partial frame at its end is an error.
    pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<Frame>, ProtocolError> {
        let mut frames = Vec::new();
        while let Some((frame, used)) = Frame::decode(bytes)? {
            frames.push(frame);
            bytes = &bytes[used..];
        }
        check_end(bytes)?;
        Ok(frames)
    }

    /// Decodes the first frame of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds only the beginning of a frame (read more), or the
    /// frame and how many bytes it used.
    pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
        let Some(head) = buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes"));
        if len == 0 || len as usize > MAX_FRAME {
            return Err(ProtocolError::BadLength { len });
        }
        let Some(body) = buf.get(4..4 + len as usize) else {
            return Ok(None);
        };
        let (kind, p) = (body[0], &body[1..]);
        let exact = |frame: &'static str, n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(ProtocolError::BadPayload {
                    frame,
                    len: p.len(),
                    expected: format!("{n} bytes"),
                })
            }
        };
        let frame = match kind {
            HELLO => {
                exact("Hello", 10)?;
                let magic: [u8; 4] = p[..4].try_into().expect("4 bytes");
                if magic != MAGIC {
                    return Err(ProtocolError::BadMagic(magic));
                }
                Frame::Hello {
                    version: u16_at(p, 4),
                    pid: u32::from_le_bytes(p[6..10].try_into().expect("4 bytes")),
                }
            }
            SETUP => {
                exact("Setup", 11)?;
                Frame::Setup {
                    version: u16_at(p, 0),
                    kernel: kernel_from_code(p[2], u64_at(p, 3))?,
                }
            }
            PART => {
                exact("Part", 24)?;
                Frame::Part {
                    index: u64_at(p, 0),
                    start: u64_at(p, 8),
                    end: u64_at(p, 16),
                }
            }
            DONE => {
                if p.len() < 9 {
                    return Err(ProtocolError::BadPayload {
                        frame: "Done",
                        len: p.len(),
                        expected: "at least 9 bytes".into(),
                    });
                }
                Frame::Done {
                    index: u64_at(p, 0),
                    total: decode_total(&p[8..])?,
                }
            }
            FAILED => {
                if p.len() < 9 || p.len() > 9 + MAX_MESSAGE {
                    return Err(ProtocolError::BadPayload {
                        frame: "Failed",
                        len: p.len(),
                        expected: format!("9 to {} bytes", 9 + MAX_MESSAGE),
                    });
                }
                Frame::Failed {
                    index: u64_at(p, 0),
                    panic: p[8] != 0,
                    message: String::from_utf8(p[9..].to_vec())
                        .map_err(|_| ProtocolError::BadMessage)?,
                }
            }
            SHUTDOWN => {
                exact("Shutdown", 0)?;
                Frame::Shutdown
            }
            other => return Err(ProtocolError::UnknownType(other)),
        };
        Ok(Some((frame, 4 + len as usize)))
    }
}

/// Checks that a stream that just ended holds no partial frame.
pub fn check_end(rest: &[u8]) -> Result<(), ProtocolError> {
    if rest.is_empty() {
        return Ok(());
    }
    let need = match rest.get(..4) {
        Some(h) => 4 + u32::from_le_bytes(h.try_into().expect("4 bytes")) as usize,
        None => 4,
    };
    Err(ProtocolError::Truncated {
        have: rest.len(),
        need,
    })
}

fn u16_at(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(p[at..at + 2].try_into().expect("2 bytes"))
}

fn u64_at(p: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(p[at..at + 8].try_into().expect("8 bytes"))
}

fn u128_at(p: &[u8], at: usize) -> u128 {
    u128::from_le_bytes(p[at..at + 16].try_into().expect("16 bytes"))
}

fn kernel_code(k: &Kernel) -> (u8, u64) {
    match *k {
        Kernel::Count => (1, 0),
        Kernel::Sum => (2, 0),
        Kernel::Primes => (3, 0),
        Kernel::Pi => (4, 0),
        Kernel::Collatz => (5, 0),
        Kernel::Sleep { per_item_ns } => (6, per_item_ns),
    }
}

fn kernel_from_code(tag: u8, param: u64) -> Result<Kernel, ProtocolError> {
    Ok(match tag {
        1 => Kernel::Count,
        2 => Kernel::Sum,
        3 => Kernel::Primes,
        4 => Kernel::Pi,
        5 => Kernel::Collatz,
        6 => Kernel::Sleep { per_item_ns: param },
        tag => {
            return Err(ProtocolError::BadTag {
                what: "kernel",
                tag,
            });
        }
    })
}

fn encode_total(t: &Total, out: &mut Vec<u8>) {
    match *t {
        Total::Count { count } => {
            out.push(1);
            out.extend_from_slice(&count.to_le_bytes());
        }
        Total::Sum { sum } => {
            out.push(2);
            out.extend_from_slice(&sum.to_le_bytes());
        }
        Total::Primes { primes } => {
            out.push(3);
            out.extend_from_slice(&primes.to_le_bytes());
        }
        Total::Pi { hits, points } => {
            out.push(4);
            out.extend_from_slice(&hits.to_le_bytes());
            out.extend_from_slice(&points.to_le_bytes());
        }
        Total::Collatz(c) => {
            out.push(5);
            out.extend_from_slice(&c.steps.to_le_bytes());
            out.extend_from_slice(&c.max_steps.to_le_bytes());
            out.push(u8::from(c.argmax.is_some()));
            out.extend_from_slice(&c.argmax.unwrap_or(0).to_le_bytes());
        }
        Total::Sleep { items } => {
            out.push(6);
            out.extend_from_slice(&items.to_le_bytes());
        }
    }
}

fn decode_total(p: &[u8]) -> Result<Total, ProtocolError> {
    let (tag, v) = (p[0], &p[1..]);
    let want = match tag {
        1 | 3 | 6 => 8,
        2 => 16,
        4 => 16,
        5 => 29,
        tag => return Err(ProtocolError::BadTag { what: "total", tag }),
    };
    if v.len() != want {
        return Err(ProtocolError::BadPayload {
            frame: "Done",
            len: p.len() + 8,
            expected: format!("{} bytes for total tag {tag}", want + 9),
        });
    }
    Ok(match tag {
        1 => Total::Count {
            count: u64_at(v, 0),
        },
        2 => Total::Sum { sum: u128_at(v, 0) },
        3 => Total::Primes {
            primes: u64_at(v, 0),
        },
        4 => Total::Pi {
            hits: u64_at(v, 0),
            points: u64_at(v, 8),
        },
        5 => Total::Collatz(Collatz {
            steps: u128_at(v, 0),
            max_steps: u32::from_le_bytes(v[16..20].try_into().expect("4 bytes")),
            argmax: match v[20] {
                0 => None,
                1 => Some(u64_at(v, 21)),
                tag => {
                    return Err(ProtocolError::BadTag {
                        what: "argmax",
                        tag,
                    });
                }
            },
        }),
        _ => Total::Sleep {
            items: u64_at(v, 0),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Hello {
                version: VERSION,
                pid: 4242,
            },
            Frame::Setup {
                version: VERSION,
                kernel: Kernel::Sleep {
                    per_item_ns: 1_000_000,
                },
            },
            Frame::Setup {
                version: VERSION,
                kernel: Kernel::Collatz,
            },
            Frame::Part {
                index: 7,
                start: u64::MAX - 5,
                end: u64::MAX,
            },
            Frame::Done {
                index: 7,
                total: Total::Sum { sum: u128::MAX },
            },
            Frame::Done {
                index: 1,
                total: Total::Pi { hits: 3, points: 4 },
            },
            Frame::Done {
                index: 2,
                total: Total::Collatz(Collatz {
                    steps: 9,
                    max_steps: 524,
                    argmax: Some(837_799),
                }),
            },
            Frame::Done {
                index: 3,
                total: Total::Collatz(Collatz::default()),
            },
            Frame::Failed {
                index: 3,
                panic: true,
                message: "boom ✓".into(),
            },
            Frame::Shutdown,
        ]
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = samples();
        assert_eq!(Frame::decode_all(&Frame::stream(&frames)).unwrap(), frames);
    }

    #[test]
    fn a_stream_cut_short_does_not_decode() {
        let mut bytes = Frame::stream(&samples());
        bytes.pop();
        assert!(matches!(
            Frame::decode_all(&bytes),
            Err(ProtocolError::Truncated { .. })
        ));
    }

    #[test]
    fn partial_frames_ask_for_more_and_truncation_is_reported() {
        let mut buf = Vec::new();
        Frame::Part {
            index: 1,
            start: 2,
            end: 3,
        }
        .encode(&mut buf);
        for cut in 0..buf.len() {
            assert_eq!(Frame::decode(&buf[..cut]).unwrap(), None);
        }
        assert_eq!(
            check_end(&buf[..10]),
            Err(ProtocolError::Truncated { have: 10, need: 29 })
        );
        assert_eq!(check_end(&[]), Ok(()));
    }

    #[test]
    fn hostile_length_prefixes_are_refused_before_allocating() {
        let huge = u32::MAX.to_le_bytes();
        assert_eq!(
            Frame::decode(&huge),
            Err(ProtocolError::BadLength { len: u32::MAX })
        );
        assert_eq!(
            Frame::decode(&[0, 0, 0, 0]),
            Err(ProtocolError::BadLength { len: 0 })
        );
        assert_eq!(
            Frame::decode(&[1, 0, 0, 0, 99]),
            Err(ProtocolError::UnknownType(99))
        );
        let mut bad_magic = Vec::new();
        Frame::Hello { version: 1, pid: 1 }.encode(&mut bad_magic);
        bad_magic[5] = b'X';
        assert!(matches!(
            Frame::decode(&bad_magic),
            Err(ProtocolError::BadMagic(_))
        ));
    }

    fn arb_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            (any::<u16>(), any::<u32>()).prop_map(|(version, pid)| Frame::Hello { version, pid }),
            (any::<u64>(), any::<u64>(), any::<u64>())
                .prop_map(|(index, start, end)| Frame::Part { index, start, end }),
            (any::<u64>(), any::<u128>()).prop_map(|(index, sum)| Frame::Done {
                index,
                total: Total::Sum { sum }
            }),
            (any::<u64>(), any::<bool>(), ".{0,40}").prop_map(|(index, panic, message)| {
                Frame::Failed {
                    index,
                    panic,
                    message,
                }
            }),
            Just(Frame::Shutdown),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(frame in arb_frame()) {
            let mut buf = Vec::new();
            frame.encode(&mut buf);
            let (got, used) = Frame::decode(&buf).unwrap().unwrap();
            prop_assert_eq!(got, frame);
            prop_assert_eq!(used, buf.len());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Frame::decode(&bytes);
            let _ = check_end(&bytes);
        }

        #[test]
        fn mutated_frames_never_panic(frame in arb_frame(), at in any::<usize>(), byte in any::<u8>()) {
            let mut buf = Vec::new();
            frame.encode(&mut buf);
            let i = at % buf.len();
            buf[i] = byte;
            if let Ok(Some((decoded, used))) = Frame::decode(&buf) {
                prop_assert!(used <= buf.len());
                // Whatever decodes encodes back to a frame that decodes the same.
                let mut again = Vec::new();
                decoded.encode(&mut again);
                prop_assert_eq!(Frame::decode(&again).unwrap().unwrap().0, decoded);
            }
        }
    }
}
