//! Side-by-side runs of real CPython doing the same jobs.
//!
//! parlab ships its own Python script of the seed experiment (`seed.py` beside this file,
//! embedded in the binary): threads that append their totals to a shared list, processes that
//! put theirs on a `multiprocessing.Queue` drained to a `STOP` sentinel, blocking sleeps, and two
//! probes of the GIL's behaviour (hold time per turn, the convoy effect). Each run prints one JSON
//! object, which [`Python::run`] returns.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::child::wait_limited;
use crate::error::{Error, Result};

/// The script, as shipped.
pub const SEED_SCRIPT: &str = include_str!("seed.py");

/// Longest a single CPython run may take before it is killed.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// A CPython interpreter with the seed script written next to it.
#[derive(Debug)]
pub struct Python {
    program: PathBuf,
    script: PathBuf,
    /// `sys.version` of the interpreter, e.g. `3.11.7`.
    pub version: String,
}

impl Python {
    /// Finds `program` (or `python3` on the PATH) and writes the script to a temporary file.
    /// Returns `Ok(None)` when there is no such interpreter.
    pub fn find(program: Option<&Path>) -> Result<Option<Python>> {
        let program = program.map_or_else(|| PathBuf::from("python3"), Path::to_path_buf);
        let version = match Command::new(&program)
            .args(["-c", "import sys; print(sys.version.split()[0])"])
            .stdin(Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            }
            Ok(_) | Err(_) => return Ok(None),
        };
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let script = std::env::temp_dir().join(format!(
            "parlab-seed-{}-{}.py",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&script, SEED_SCRIPT)
            .map_err(|e| Error::io(format!("writing {}", script.display()), e))?;
        Ok(Some(Python {
            program,
            script,
            version,
        }))
    }

    /// The interpreter's path or name.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs the script with `args` and returns the JSON object it prints.
    pub fn run(&self, args: &[String]) -> Result<serde_json::Value> {
        let what = format!("python3 seed.py {}", args.join(" "));
        let mut child = Command::new(&self.program)
            .arg(&self.script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("starting {what}"), e))?;
        wait_limited(&mut child, Some(RUN_LIMIT), &what)?;
        let out = child
            .wait_with_output()
            .map_err(|e| Error::io(format!("reading {what}"), e))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("no message");
            return Err(Error::io(
                what,
                std::io::Error::other(format!("{}: {last}", out.status)),
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

impl Drop for Python {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
    }
}
