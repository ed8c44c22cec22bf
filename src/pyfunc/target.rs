//! What `parlab python` is asked to measure: `FILE:FUNCTION`, and the roads to run it on.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::named::by_name;

/// A user's function: `FUNCTION` in `FILE`, called as `FUNCTION(start, end)` for a half-open
/// part and returning that part's int.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The Python file.
    pub file: PathBuf,
    /// The function's name in it.
    pub function: String,
}

/// The largest Python file parlab hands an interpreter to read (it reads it whole).
const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// What kind of file `m` is, for a message: "a directory", "a FIFO", ...
fn kind_of(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

impl std::str::FromStr for Target {
    type Err = Error;

    /// Reads `FILE:FUNCTION`, split at the last colon; the file must be a regular file of at
    /// most 64 MiB (never a directory, FIFO or device, which the interpreter would block on).
    fn from_str(s: &str) -> Result<Target> {
        let bad = |why: &str| Error::invalid("python function", s, why.to_string());
        let Some((file, function)) = s.rsplit_once(':') else {
            return Err(bad(
                "FILE:FUNCTION, e.g. examples/python/arith.py:sum_of_squares",
            ));
        };
        if file.is_empty() {
            return Err(bad("FILE:FUNCTION: the file is missing"));
        }
        if !is_identifier(function) {
            return Err(bad("FILE:FUNCTION, FUNCTION a Python name"));
        }
        Ok(Target {
            file: regular_file(file, "Python source", MAX_SOURCE_BYTES).map_err(|why| bad(&why))?,
            function: function.to_string(),
        })
    }
}

/// Whether `name` is a Python identifier (ASCII or not).
pub(crate) fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `file` as a path, where it is a regular file of at most `most` bytes (never a directory,
/// FIFO or device, which the interpreter would block on); else why not, naming it as `what`.
pub(crate) fn regular_file(
    file: &str,
    what: &str,
    most: u64,
) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(file);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("no such file {file}")),
        Err(e) => Err(format!("cannot read {file}: {e}")),
        Ok(m) if !m.is_file() => Err(format!(
            "{file} is {}, not a regular file; FILE is {what}",
            kind_of(&m)
        )),
        Ok(m) if m.len() > most => Err(format!(
            "{file} holds more than {} MiB, more than any {what}",
            most >> 20
        )),
        Ok(_) => Ok(path),
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.function)
    }
}

/// How the parts run: parlab's own roads (what each kind of parallelism can give at best), and
/// the standard library's executors driven as a user's code drives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Road {
    /// One after another in the interpreter's main thread: the baseline.
    #[serde(rename = "sequential")]
    Sequential,
    /// N threads in one interpreter.
    #[serde(rename = "threads")]
    Threads,
    /// N worker interpreters, one part at a time each.
    #[serde(rename = "processes")]
    Processes,
    /// N subinterpreters of one interpreter, each with its own GIL (CPython 3.12+).
    #[serde(rename = "subinterpreters")]
    Subinterpreters,
    /// `concurrent.futures.ThreadPoolExecutor(max_workers=N).map`.
    #[serde(rename = "executor:thread")]
    ExecutorThread,
    /// `concurrent.futures.ProcessPoolExecutor(max_workers=N).map(..., chunksize=C)`, started by
    /// the interpreter's default start method or `--start`'s.
    #[serde(rename = "executor:process")]
    ExecutorProcess,
    /// `concurrent.futures.InterpreterPoolExecutor(max_workers=N).map` (CPython 3.14+).
    #[serde(rename = "executor:interpreter")]
    ExecutorInterpreter,
}

impl Road {
    /// Every road.
    pub const ALL: [Road; 7] = [
        Road::Sequential,
        Road::Threads,
        Road::Processes,
        Road::Subinterpreters,
        Road::ExecutorThread,
        Road::ExecutorProcess,
        Road::ExecutorInterpreter,
    ];

    /// The roads measured where `--roads` is not given: all but the baseline, which always runs.
    pub const DEFAULT: [Road; 6] = [
        Road::Threads,
        Road::Processes,
        Road::Subinterpreters,
        Road::ExecutorThread,
        Road::ExecutorProcess,
        Road::ExecutorInterpreter,
    ];

    /// Its name on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            Road::Sequential => "sequential",
            Road::Threads => "threads",
            Road::Processes => "processes",
            Road::Subinterpreters => "subinterpreters",
            Road::ExecutorThread => "executor:thread",
            Road::ExecutorProcess => "executor:process",
            Road::ExecutorInterpreter => "executor:interpreter",
        }
    }

    /// Whether the road sends items and results between interpreters, pickled (processes,
    /// subinterpreters and their executors), where the others keep them in one interpreter's
    /// memory.
    pub fn sends(self) -> bool {
        matches!(
            self,
            Road::Processes
                | Road::Subinterpreters
                | Road::ExecutorProcess
                | Road::ExecutorInterpreter
        )
    }

    /// Whether the road is one of the standard library's executors.
    pub fn is_executor(self) -> bool {
        self.executor().is_some()
    }

    /// An executor road's entry in [`EXECUTORS`].
    fn executor_entry(self) -> Option<&'static Executor> {
        EXECUTORS.iter().find(|e| e.road == self)
    }

    /// The executor's kind as the worker script names it (`thread`, `process`, `interpreter`),
    /// for an executor road.
    pub(crate) fn executor(self) -> Option<&'static str> {
        self.executor_entry().map(|e| e.kind)
    }

    /// The executor's class in `concurrent.futures`, for an executor road.
    pub fn executor_class(self) -> Option<&'static str> {
        self.executor_entry().map(|e| e.class)
    }

    /// parlab's own road of the same kind of parallelism: what the executor could reach at
    /// best.
    pub fn own(self) -> Road {
        self.executor_entry().map_or(self, |e| e.own)
    }

    /// Reads `threads,executor:process,...`; `sequential`, the baseline, always runs and is not
    /// named.
    pub fn parse_list(s: &str) -> Result<Vec<Road>> {
        let mut roads = Vec::new();
        for word in s.split(',').map(str::trim) {
            let road: Road = word.parse()?;
            if road == Road::Sequential {
                return Err(Error::invalid(
                    "road",
                    word,
                    "threads, processes, subinterpreters, executor:thread, executor:process or \
                     executor:interpreter (the sequential baseline always runs)",
                ));
            }
            if !roads.contains(&road) {
                roads.push(road);
            }
        }
        Ok(roads)
    }
}

by_name!(Road, "road", Road::ALL);

/// An executor road: how the worker script and `concurrent.futures` name it, and parlab's own
/// road of its kind.
struct Executor {
    road: Road,
    kind: &'static str,
    class: &'static str,
    own: Road,
}

/// The executor roads.
const EXECUTORS: [Executor; 3] = [
    Executor {
        road: Road::ExecutorThread,
        kind: "thread",
        class: "ThreadPoolExecutor",
        own: Road::Threads,
    },
    Executor {
        road: Road::ExecutorProcess,
        kind: "process",
        class: "ProcessPoolExecutor",
        own: Road::Processes,
    },
    Executor {
        road: Road::ExecutorInterpreter,
        kind: "interpreter",
        class: "InterpreterPoolExecutor",
        own: Road::Subinterpreters,
    },
];

/// How `executor:process` starts its workers where `--start` says (else by the interpreter's
/// default: `fork` on Linux before 3.14, `forkserver` from 3.14 on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolStart {
    /// `fork`: a copy of the parent.
    Fork,
    /// `forkserver`: forked from a server process started once.
    ForkServer,
    /// `spawn`: a fresh interpreter.
    Spawn,
}

impl PoolStart {
    /// Every start method.
    pub const ALL: [PoolStart; 3] = [PoolStart::Fork, PoolStart::ForkServer, PoolStart::Spawn];

    /// Its name, as `multiprocessing` has it.
    pub fn name(self) -> &'static str {
        match self {
            PoolStart::Fork => "fork",
            PoolStart::ForkServer => "forkserver",
            PoolStart::Spawn => "spawn",
        }
    }
}

by_name!(PoolStart, "start method", PoolStart::ALL);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_an_existing_file_and_a_python_name() {
        let file = std::env::temp_dir().join(format!("parlab-target-{}.py", std::process::id()));
        std::fs::write(&file, "def f(a, b): return 0\n").unwrap();
        let text = format!("{}:f", file.display());
        let t: Target = text.parse().unwrap();
        assert_eq!(t.function, "f");
        assert_eq!(t.to_string(), text);
        for bad in [
            format!("{}", file.display()),
            format!("{}:", file.display()),
            format!("{}:1f", file.display()),
            "/nonexistent/x.py:f".to_string(),
            ":f".to_string(),
        ] {
            let e = bad.parse::<Target>().unwrap_err();
            assert!(e.is_usage() && e.to_string().contains(&bad), "{e}");
        }
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn start_methods_are_named_as_multiprocessing_names_them() {
        crate::named::assert_names_round_trip(&PoolStart::ALL, "vfork", "forkserver");
    }

    #[test]
    fn roads_parse_without_the_baseline() {
        assert_eq!(
            Road::parse_list("threads,processes,threads").unwrap(),
            vec![Road::Threads, Road::Processes]
        );
        assert!(Road::parse_list("sequential").unwrap_err().is_usage());
        let e = Road::parse_list("fibers").unwrap_err();
        assert!(e.to_string().contains("subinterpreters"), "{e}");
        assert_eq!(
            Road::parse_list("executor:process, executor:thread").unwrap(),
            vec![Road::ExecutorProcess, Road::ExecutorThread]
        );
        for road in Road::ALL {
            let json = serde_json::to_string(&road).unwrap();
            assert_eq!(json, format!("\"{road}\""));
            assert_eq!(road.name().parse::<Road>().unwrap(), road);
            assert_eq!(road.is_executor(), road.executor_class().is_some());
            assert!(!road.own().is_executor());
        }
    }
}
