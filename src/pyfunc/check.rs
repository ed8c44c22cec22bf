//! Before anything is measured: each interpreter runs the worker script once in `check` mode,
//! which compiles the file, imports it and looks at the function, so that a syntax error, a
//! missing function or one that cannot take `(start, end)` is bad input (exit 2) with one line.
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
use super::conn::{Event, Interp, Launch, Mode, wait_readable};
use crate::error::{Error, Result};
use crate::interrupt;

/// The longest a wait goes without looking at the interrupt flag.
const TICK: Duration = Duration::from_millis(100);

/// What a check found, when the function can be measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Processes the import left running (killed).
    pub left: usize,
}

/// Runs `launch` in `check` mode; the import may take `timeout` (else [`START_LIMIT`]). An
/// interpreter that cannot run the script, or a file or function it finds wrong, is an
/// [`Error::Invalid`]; an import past the timeout is a failure (exit 1); Ctrl-C and a limit
/// met are passed on as they are.
pub(crate) fn check(
    launch: &Launch,
    target: &Target,
    timeout: Option<Duration>,
) -> Result<Checked> {
    let program = launch.program.display().to_string();
    let file = launch.file.display().to_string();
    let left = Arc::new(AtomicUsize::new(0));
    let mut interp = Interp::start(launch, Mode::Check, &left).map_err(|e| {
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
        Ok(None) => {
            interp.quit();
            Ok(Checked {
                left: left.load(Ordering::Relaxed),
            })
        }
        Ok(Some(why)) => {
            interp.quit();
            Err(Error::invalid("python function", target.to_string(), why))
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
