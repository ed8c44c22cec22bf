//! Before anything is measured: each interpreter runs the worker script once in `check` mode,
//! which compiles the file, imports it and looks at the function, so that a syntax error, a
//! missing function or one that cannot take `(start, end)` is bad input (exit 2) with one line.
//! In map mode (`check-map`) the function must take one argument, and SOURCE's items are loaded
//! once, so that a SOURCE that is missing, empty, not iterable, endless or raising half way is
//! bad input too.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::Target;
use crate::child::output_limited;
use crate::error::{Error, Result};

/// The longest a check may take (importing the user's file included).
const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// What `worker.py check` prints.
#[derive(Debug, Clone, Deserialize)]
struct Answer {
    error: Option<String>,
    /// Whether the GIL was on once FILE was imported (3.13+; absent where the import failed).
    #[serde(default)]
    gil_after_import: Option<bool>,
    /// Map mode: how many items SOURCE gave.
    #[serde(default)]
    items: Option<u64>,
    /// Map mode: why SOURCE gave none.
    #[serde(default)]
    source_error: Option<String>,
}

/// What the check saw, once the function was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Whether the GIL was on after FILE was imported, where the interpreter can say.
    pub gil_after_import: Option<bool>,
    /// Map mode: how many items SOURCE gave.
    pub items: Option<u64>,
}

/// Map mode's SOURCE for the check: the words the worker reads, and SOURCE as the user wrote
/// it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceArg<'a> {
    /// What follows FILE FUNCTION on the worker's command line.
    pub words: &'a [String],
    /// `--items` as given.
    pub shown: &'a str,
}

/// Runs `program script check FILE FUNCTION` (`check-map FILE FUNCTION SOURCE...` with a
/// `source`); an interpreter that cannot run it, or a file, function or SOURCE it finds wrong,
/// is an [`Error::Invalid`].
pub(crate) fn check(
    program: &Path,
    script: &Path,
    target: &Target,
    source: Option<SourceArg<'_>>,
) -> Result<Checked> {
    let shown = target.to_string();
    let what = format!("{} checking {shown}", program.display());
    let child = Command::new(program)
        .arg(script)
        .arg(if source.is_some() {
            "check-map"
        } else {
            "check"
        })
        .arg(&target.file)
        .arg(&target.function)
        .args(source.iter().flat_map(|s| s.words))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::invalid(
                "python",
                program.display().to_string(),
                format!("an interpreter that runs ({e})"),
            )
        })?;
    let out = output_limited(child, Some(CHECK_LIMIT), &what)?;
    let answer: Option<Answer> = serde_json::from_slice(&out.stdout).ok();
    match answer {
        Some(Answer {
            error: None,
            source_error: Some(why),
            ..
        }) => Err(Error::invalid(
            "items",
            source.map_or("", |s| s.shown).to_string(),
            why,
        )),
        Some(Answer {
            error: None,
            gil_after_import,
            items,
            ..
        }) if out.status.success() => Ok(Checked {
            gil_after_import,
            items,
        }),
        Some(Answer {
            error: Some(why), ..
        }) => Err(Error::invalid("python function", shown, why)),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("no message");
            Err(Error::invalid(
                "python",
                program.display().to_string(),
                format!(
                    "an interpreter that runs parlab's Python 3 script ({}: {last})",
                    out.status
                ),
            ))
        }
    }
}
