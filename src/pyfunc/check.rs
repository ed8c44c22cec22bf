//! Before anything is measured: each interpreter runs the worker script once in `check` mode,
//! which compiles the file, imports it and looks at the function, so that a syntax error, a
//! missing function or one that cannot take `(start, end)` is bad input (exit 2) with one line.
//! In map mode (`check-map`) the function must take one argument, and SOURCE's items are loaded
//! once, so that a SOURCE that is missing, empty, not iterable, endless or raising half way is
//! bad input too.
//!
//! The interpreter says `loading` before it reads the user's file, so what goes wrong is put
//! where it belongs: before that, the interpreter cannot run parlab's script (Python 2, a
//! broken installation); after it, the user's file ended it (`os._exit` at import) or took
//! longer to import than `--timeout` allows. It then waits until parlab has killed whatever
//! the import left running, and counted it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::Target;
use super::cell::START_LIMIT;
use super::conn::{Interp, Launch, WorkerMode, wait_readable};
use super::event::{CheckOutcome, Event};
use crate::error::{Error, Result};
use crate::interrupt;

/// The longest a wait goes without looking at the interrupt flag.
const TICK: Duration = Duration::from_millis(100);

/// What a check found, when the function can be measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Processes the import left running (killed).
    pub left: usize,
    /// Whether the GIL was on after FILE was imported, where the interpreter can say (3.13+):
    /// an extension module without free-threading support turns it back on as it loads.
    pub gil_after_import: Option<bool>,
    /// Map mode: how many items SOURCE gave.
    pub items: Option<u64>,
}

/// Runs `launch` in `check` mode (`check-map` where it has a SOURCE, `source` as the user wrote
/// it); the import may take `timeout` (else [`START_LIMIT`]). An interpreter that cannot run
/// the script, or a file, function or SOURCE it finds wrong, is an [`Error::Invalid`]; an
/// import past the timeout is a failure (exit 1); Ctrl-C and a limit met are passed on as they
/// are.
pub(crate) fn check(
    launch: &Launch,
    target: &Target,
    source: Option<&str>,
    timeout: Option<Duration>,
) -> Result<Checked> {
    let program = launch.program.display().to_string();
    let file = launch.file.display().to_string();
    let left = Arc::new(AtomicUsize::new(0));
    let mut interp = Interp::start(launch, WorkerMode::Check, &left).map_err(|e| {
        if e.is_limit() {
            e
        } else {
            Error::invalid(
                "python",
                program.clone(),
                format!("an interpreter that runs ({e})"),
            )
        }
    })?;
    let cannot_run = |interp: &mut Interp, how: String| {
        let printed = interp.printed();
        Error::invalid(
            "python",
            program.clone(),
            format!(
                "an interpreter that runs parlab's Python 3 script ({how}: {})",
                crate::cpython::gist(&printed)
            ),
        )
    };
    let import_limit = timeout.unwrap_or(START_LIMIT);
    let mut events = Vec::new();
    let verdict = loop {
        if let Some(signal) = interrupt::requested() {
            interp.kill();
            return Err(interrupt::error(signal));
        }
        match interp.loading {
            None if interp.started.elapsed() > START_LIMIT => {
                interp.kill();
                let how = format!("it did not start the script within {START_LIMIT:?}");
                return Err(cannot_run(&mut interp, how));
            }
            Some(t) if t.elapsed() > import_limit => {
                interp.kill();
                let within = match timeout {
                    Some(t) => format!("within the timeout of {t:?}"),
                    None => format!("within {import_limit:?}"),
                };
                return Err(Error::io(
                    format!("checking {target} on {program}"),
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "importing {file} did not finish {within}; the interpreter (pid {}) \
                             was killed",
                            interp.pid()
                        ),
                    ),
                ));
            }
            _ => {}
        }
        if wait_readable(&[&interp], TICK)?.is_empty() {
            match interp.gone() {
                None => continue,
                Some(cause) => break Err(cause.to_string()),
            }
        }
        let read = interp.receive(&mut events);
        if let Some(verdict) = events.iter().find_map(|e| match e {
            Event::Checked(v) => Some(v.clone()),
            _ => None,
        }) {
            break Ok(verdict);
        }
        events.clear();
        if let Err(why) = read {
            break Err(why);
        }
    };
    match verdict {
        Ok(CheckOutcome {
            error: Some(why), ..
        }) => {
            interp.quit();
            Err(Error::invalid("python function", target.to_string(), why))
        }
        Ok(CheckOutcome {
            source_error: Some(why),
            ..
        }) => {
            interp.quit();
            Err(Error::invalid("items", source.unwrap_or(""), why))
        }
        Ok(CheckOutcome {
            gil_after_import,
            items,
            ..
        }) => {
            interp.quit();
            Ok(Checked {
                left: left.load(Ordering::Relaxed),
                gil_after_import,
                items,
            })
        }
        // The interpreter ended, or closed its events, without a verdict.
        Err(how) if interp.loading.is_some() => {
            interp.kill();
            let printed = interp.printed();
            let said = crate::cpython::gist(&printed);
            let said = if said == "no message" {
                String::new()
            } else {
                format!("; it said: {said}")
            };
            Err(Error::invalid(
                "python function",
                target.to_string(),
                format!("importing {file} ended the interpreter: {how}{said}"),
            ))
        }
        Err(how) => {
            interp.kill();
            Err(cannot_run(&mut interp, how))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    /// A fake interpreter at a path of this test's own: a shell script that speaks the
    /// protocol on descriptor 4 (or does not), as a real one running worker.py would.
    fn fake(name: &str, body: &str) -> (PathBuf, Launch, Target) {
        let dir = std::env::temp_dir().join(format!("parlab-check-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("python3");
        std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("f.py");
        std::fs::write(&file, "def f(a, b):\n    return b - a\n").unwrap();
        let launch = Launch {
            program,
            script: dir.join("worker.py"),
            file: file.clone(),
            function: "f".into(),
            source: None,
        };
        let target = Target {
            file,
            function: "f".into(),
        };
        (dir, launch, target)
    }

    /// The check, again while another test's fork holds the just-written script (ETXTBSY).
    fn checked(launch: &Launch, target: &Target, timeout: Option<Duration>) -> Result<Checked> {
        for _ in 0..100 {
            match check(launch, target, None, timeout) {
                Err(e) if e.to_string().contains("busy") => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other,
            }
        }
        check(launch, target, None, timeout)
    }

    #[test]
    fn an_interpreter_that_cannot_run_the_script_is_blamed_with_its_message() {
        let (dir, launch, target) = fake(
            "cannot",
            "echo '  File \"x\", line 1' >&2; echo 'SyntaxError: invalid syntax' >&2; exit 1",
        );
        let e = checked(&launch, &target, None).unwrap_err();
        let text = e.to_string();
        assert!(e.is_usage(), "{text}");
        assert!(
            text.starts_with("invalid python '")
                && text.contains("exited with code 1: SyntaxError: invalid syntax"),
            "{text}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_that_ends_the_interpreter_at_import_is_named() {
        let (dir, launch, target) = fake("exits", "echo loading >&4; echo bye; exit 3");
        let e = checked(&launch, &target, None).unwrap_err();
        let text = e.to_string();
        assert!(e.is_usage(), "{text}");
        assert!(
            text.starts_with("invalid python function '")
                && text.contains("importing ")
                && text.contains("f.py ended the interpreter: the interpreter exited with code 3")
                && text.ends_with("it said: bye"),
            "{text}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_import_past_the_timeout_is_killed_and_named() {
        let (dir, launch, target) = fake("slow", "echo loading >&4; exec sleep 60");
        let t0 = std::time::Instant::now();
        let e = checked(&launch, &target, Some(Duration::from_millis(300))).unwrap_err();
        let text = e.to_string();
        assert!(!e.is_usage(), "{text}");
        assert!(
            text.contains("f.py did not finish within the timeout of 300ms; the interpreter"),
            "{text}"
        );
        assert!(t0.elapsed() < Duration::from_secs(30));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_passing_check_counts_what_the_import_left_running() {
        // Two sleeps, one of them in a session of its own after a double fork; then the
        // verdict, and a wait for "quit" as worker.py does.
        let (dir, launch, target) = fake(
            "leaves",
            "sleep 60 & (setsid sleep 60 &); echo loading >&4; \
             echo 'checked {\"error\": null}' >&4; read line <&3",
        );
        let found = checked(&launch, &target, None).unwrap();
        assert_eq!(
            found,
            Checked {
                left: 2,
                gil_after_import: None,
                items: None,
            }
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_verdict_against_the_function_is_bad_input() {
        let (dir, launch, target) = fake(
            "verdict",
            "echo loading >&4; echo 'checked {\"error\": \"f.py has no function f\"}' >&4; \
             read line <&3",
        );
        let e = checked(&launch, &target, None).unwrap_err();
        assert!(e.is_usage());
        assert!(e.to_string().ends_with("': f.py has no function f"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
