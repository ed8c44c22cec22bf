//! Side-by-side runs of real CPython doing the same jobs.
//!
//! parlab ships its own Python script of the seed experiment (`seed.py` beside this file,
//! embedded in the binary): threads that append their totals to a shared list, processes that
//! put theirs on a `multiprocessing.Queue` drained to a `STOP` sentinel, blocking sleeps, and the
//! costs of starting threads and processes, and the GIL's behaviour (hold time per turn, the
//! convoy effect), in Python 2.7 and 3.x alike. Each run prints one JSON object, which
//! [`Python::run`] returns, and [`Python::run_as`] reads into a typed result such as
//! [`Timed`], [`Holds`] or [`Rates`]. [`discover`] finds the interpreters a `--python SPEC`
//! names, on the PATH and in pyenv's versions folder.

pub mod discover;
mod script;

pub(crate) use script::Script;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::child::output_limited;
use crate::error::{Error, Result};

/// The script, as shipped.
pub const SEED_SCRIPT: &str = include_str!("seed.py");

/// Longest a single CPython run may take before it is killed.
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// Longest an interpreter may take to say who it is ([`Python::open`]): a start and a few
/// imports, which take well under a second even on a busy machine. A program on the PATH
/// that hangs costs discovery this much, not the five minutes a run may take.
pub const INFO_LIMIT: Duration = Duration::from_secs(10);

/// What `seed.py threads|processes|subinterpreters|sleep` prints: the job's total and its
/// wall time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Timed {
    /// The total of every part: indices counted, or items slept.
    pub result: u64,
    /// Wall time from the first start to the last join, seconds.
    pub elapsed_s: f64,
    /// The multiprocessing start method, for `processes`.
    #[serde(default)]
    pub start_method: Option<String>,
    /// The module that made the subinterpreters, for `subinterpreters`.
    #[serde(default)]
    pub api: Option<String>,
    /// CPU time of the interpreter's process over the same span (`os.times()`, user and
    /// system), for the modes whose work runs in that process's threads: `threads`,
    /// `subinterpreters` and `sleep`.
    #[serde(default)]
    pub cpu_s: Option<f64>,
}

/// What `seed.py holds` prints: how long a CPU-bound thread kept the GIL per turn. Both are
/// absent when no hand-off was seen.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Holds {
    /// Median turn, seconds.
    pub hold_median_s: Option<f64>,
    /// 90th percentile of the turns, seconds.
    pub hold_p90_s: Option<f64>,
}

/// What `seed.py convoy` prints: write+read pairs per second of an I/O thread.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Rates {
    /// With no other thread.
    pub alone_per_s: f64,
    /// Beside one CPU-bound thread.
    pub beside_cpu_per_s: f64,
}

/// What `seed.py info` prints: who the interpreter is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Info {
    /// `platform.python_version()`, e.g. `3.13.0`.
    pub version: String,
    /// `platform.python_implementation()`, e.g. `CPython`.
    pub implementation: String,
    /// The interpreter's real path (`sys.executable`, links resolved).
    pub executable: PathBuf,
    /// Whether the GIL is enabled: `sys._is_gil_enabled()` where it exists, else true.
    pub gil_enabled: bool,
    /// A free-threaded build (`Py_GIL_DISABLED`).
    pub free_threaded: bool,
    /// The interpreter's default multiprocessing start method (`forkserver` on Linux from 3.14,
    /// `fork` before): what a user's `ProcessPoolExecutor` or `Pool` uses unless told otherwise,
    /// and so what the "processes" rows use unless `--python-start` names another.
    pub start_method: String,
    /// Every start method the interpreter has, its default first.
    #[serde(default)]
    pub start_methods: Vec<String>,
    /// `PYTHON_GIL` in the interpreter's environment, if set (`1` turns a free-threaded
    /// build's GIL back on).
    #[serde(default)]
    pub gil_env: Option<String>,
    /// The `-X gil=...` option the interpreter was started with, if any.
    #[serde(default)]
    pub gil_option: Option<String>,
    /// The module through which subinterpreters with their own GIL are made, if any:
    /// `concurrent.interpreters` (3.14+), `_interpreters` (3.13), `_xxsubinterpreters` (3.12).
    pub subinterpreters: Option<String>,
}

impl Info {
    /// The version as rows show it: `3.13.0`, `3.13.0t` for a free-threaded build, or
    /// `3.13.0t (GIL on)` for one whose GIL was turned back on ([`Info::gil_back_on`]): it runs
    /// as a GIL build does, and its rows are read as such.
    pub fn label(&self) -> String {
        match (self.free_threaded, self.gil_enabled) {
            (true, false) => format!("{}t", self.version),
            (true, true) => format!("{}t (GIL on)", self.version),
            (false, _) => self.version.clone(),
        }
    }

    /// Why a free-threaded build runs with its GIL on, if it does: the cause the interpreter
    /// shows ("PYTHON_GIL=1 in the environment", "-X gil=1"), or that something at start-up
    /// turned it on.
    pub fn gil_back_on(&self) -> Option<String> {
        if !self.free_threaded || !self.gil_enabled {
            return None;
        }
        Some(if let Some(v) = &self.gil_option {
            format!("-X gil={v}")
        } else if let Some(v) = &self.gil_env {
            format!("PYTHON_GIL={v} in the environment")
        } else {
            "a module imported at start-up (site or PYTHONSTARTUP) turned it on".into()
        })
    }

    /// `major.minor` as numbers, for ordering; (0, 0) when unreadable.
    pub fn major_minor(&self) -> (u32, u32) {
        let mut it = self.version.split('.').map(|p| p.parse().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    }
}

/// A CPython interpreter with the seed script written next to it.
#[derive(Debug)]
pub struct Python {
    program: PathBuf,
    script: Script,
    /// The version as rows show it, e.g. `3.11.7` or `3.13.0t` ([`Info::label`]).
    pub version: String,
    /// Who the interpreter is.
    pub info: Info,
}

impl Python {
    /// Finds `program` (or `python3` on the PATH) and writes the script to a temporary file.
    /// Returns `Ok(None)` when there is no such interpreter or it does not run as Python.
    pub fn find(program: Option<&Path>) -> Result<Option<Python>> {
        let program = program.map_or_else(|| PathBuf::from("python3"), Path::to_path_buf);
        Ok(Python::open(&program)?.ok())
    }

    /// Writes the script for `program` and asks it who it is, within [`INFO_LIMIT`];
    /// `Ok(Err(why))` when it cannot be started or does not answer as the seed script would
    /// (not a Python, a crash, a hang). What is not the interpreter's fault is an error: the
    /// script cannot be written (the temporary folder), a limit of this machine is met (open
    /// files, processes), or Ctrl-C.
    pub fn open(program: &Path) -> Result<std::result::Result<Python, String>> {
        let script = Script::write("parlab-seed", SEED_SCRIPT)?;
        let mut py = Python {
            program: program.to_path_buf(),
            script,
            version: String::new(),
            info: Info {
                version: String::new(),
                implementation: String::new(),
                executable: PathBuf::new(),
                gil_enabled: true,
                free_threaded: false,
                start_method: String::new(),
                start_methods: Vec::new(),
                gil_env: None,
                gil_option: None,
                subinterpreters: None,
            },
        };
        match py.run_within::<Info>(&["info".into()], INFO_LIMIT) {
            Ok(info) => {
                py.version = info.label();
                py.info = info;
                Ok(Ok(py))
            }
            Err(e) if e.is_limit() || e.interrupted_by().is_some() => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// The interpreter's path or name.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs the script with `args` and returns the JSON object it prints.
    pub fn run(&self, args: &[String]) -> Result<serde_json::Value> {
        self.run_as(args)
    }

    /// Runs the script with `args` and reads the JSON object it prints as a `T`: an output
    /// without one of `T`'s fields is an error that names the run.
    pub fn run_as<T: DeserializeOwned>(&self, args: &[String]) -> Result<T> {
        self.run_within(args, RUN_LIMIT)
    }

    /// [`Python::run_as`], killed after `limit`.
    fn run_within<T: DeserializeOwned>(&self, args: &[String], limit: Duration) -> Result<T> {
        let what = format!("{} seed.py {}", self.program.display(), args.join(" "));
        let child = Command::new(&self.program)
            .arg(self.script.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| crate::limits::start_error(format!("starting {what}"), e, 0))?;
        let out = output_limited(child, Some(limit), &what)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(Error::io(
                what,
                std::io::Error::other(format!("{}: {}", out.status, gist(&stderr))),
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            Error::io(
                format!("parsing the output of {what}"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }
}

/// The line of an interpreter's standard error that says what went wrong: CPython's "Fatal
/// Python error" line when it could not start (a bad `PYTHONHOME`, say, after which it prints
/// its whole path configuration and a thread dump), else the last line (a traceback's
/// exception).
pub(crate) fn gist(stderr: &str) -> String {
    let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.starts_with("Fatal Python error"))
        .or_else(|| lines().next_back())
        .unwrap_or("no message")
        .to_string()
}

/// The variables of this environment that every CPython reads at start-up and that make one
/// fail to start when wrong (`PYTHONHOME=/nonexistent`), as a note for an interpreter that did
/// not start: "PYTHONHOME=/nonexistent is set in the environment".
pub(crate) fn environment_note() -> Option<String> {
    let set: Vec<String> = ["PYTHONHOME", "PYTHONPATH"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| format!("{k}={}", v.to_string_lossy())))
        .collect();
    (!set.is_empty()).then(|| {
        format!(
            "{} {} set in the environment, which every interpreter reads at start-up",
            set.join(" and "),
            if set.len() == 1 { "is" } else { "are" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gist_of_a_failed_start_is_its_fatal_error_or_its_last_line() {
        let fatal = "Python path configuration:\n  PYTHONHOME = '/x'\nFatal Python error: \
                     init_fs_encoding: failed\nPython runtime state: core initialized\n\n  \
                     <no Python frame>\n";
        assert_eq!(gist(fatal), "Fatal Python error: init_fs_encoding: failed");
        assert_eq!(
            gist("Traceback (most recent call last):\n  x\nValueError: bad\n\n"),
            "ValueError: bad"
        );
        assert_eq!(gist(""), "no message");
    }

    /// An interpreter that answers as `seed.py` would, with fixed figures: `holds` saw no
    /// turn and `convoy` forgot a field.
    fn fake_python(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("parlab-fake-python-{}-{name}", std::process::id()));
        let script = r#"#!/bin/sh
case "$2" in
  info) echo '{"version": "3.99.0", "implementation": "CPython", "executable": "/x/python3.99", "gil_enabled": false, "free_threaded": true, "start_method": "fork", "subinterpreters": "concurrent.interpreters"}' ;;
  threads) echo '{"python": "3.99.0", "result": 1000, "elapsed_s": 0.5}' ;;
  holds) echo '{"python": "3.99.0", "turns": 0}' ;;
  convoy) echo '{"python": "3.99.0", "alone_per_s": 10.0}' ;;
  *) echo "unknown mode $2" >&2; exit 2 ;;
esac
"#;
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// The fake interpreter, once it runs: a process forked elsewhere while the script was
    /// open for writing keeps it busy (ETXTBSY) until that process execs.
    fn found(program: &Path) -> Python {
        for _ in 0..100 {
            if let Some(py) = Python::find(Some(program)).unwrap() {
                return py;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} never ran", program.display());
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn outputs_are_read_into_their_types() {
        let program = fake_python("typed");
        let py = found(&program);
        assert_eq!(py.version, "3.99.0t");
        assert!(!py.info.gil_enabled);
        assert_eq!(py.info.major_minor(), (3, 99));
        let timed: Timed = py.run_as(&args(&["threads", "2", "0", "1000"])).unwrap();
        assert_eq!(
            timed,
            Timed {
                result: 1000,
                elapsed_s: 0.5,
                start_method: None,
                api: None,
                cpu_s: None,
            }
        );
        let holds: Holds = py.run_as(&args(&["holds", "0.1"])).unwrap();
        assert_eq!(holds.hold_median_s, None);
        let missing = py.run_as::<Rates>(&args(&["convoy", "0.1"])).unwrap_err();
        assert!(
            missing.to_string().contains("seed.py convoy 0.1")
                && missing.to_string().contains("beside_cpu_per_s"),
            "{missing}"
        );
        let failed = py.run(&args(&["nonsense"])).unwrap_err();
        assert!(
            failed.to_string().contains("unknown mode nonsense"),
            "{failed}"
        );
        drop(py);
        std::fs::remove_file(program).unwrap();
    }

    #[test]
    fn a_missing_interpreter_is_none() {
        let none = Python::find(Some(Path::new("/nonexistent/python3"))).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn the_seed_script_counts_exactly_in_threads_and_processes() {
        // Needs a real CPython; where there is none, the fake-interpreter tests above still
        // cover the reading of its output.
        let Some(py) = Python::find(None).unwrap() else {
            return;
        };
        for mode in ["threads", "processes"] {
            let t: Timed = py.run_as(&args(&[mode, "3", "5", "1005"])).unwrap();
            assert_eq!(t.result, 1000, "{mode}");
            assert!(t.elapsed_s > 0.0, "{mode}");
            // Threads run in the interpreter's process, whose CPU time counts them; processes
            // report none.
            assert_eq!(t.cpu_s.is_some(), mode == "threads", "{mode}: {t:?}");
        }
        // Three threads counting 3 x 10^6 keep at most one CPU busy under the GIL, and some CPU
        // time is counted (a busy machine may lend them far less than one CPU).
        let t: Timed = py.run_as(&args(&["threads", "3", "0", "3000000"])).unwrap();
        let cpu = t.cpu_s.unwrap();
        assert!(cpu > 0.0 && cpu < 3.5 * t.elapsed_s, "{t:?}");
    }
}
