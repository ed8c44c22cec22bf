//! Which interpreters a `--python SPEC[,SPEC...]` names.
//!
//! A SPEC is `all` (every interpreter on the PATH and in pyenv's versions folder), a version
//! (`2.7`, `3.13`, `3.13t` for a free-threaded build, or a full `3.12.1`), or a program: a path,
//! or a name looked up on the PATH. Interpreters are told apart by their real path, as each one
//! reports it, so a link, a pyenv shim and the versions folder's copy count once.
//!
//! What the user named must be there and run as Python, or the answer is an
//! [`Error::Invalid`]; an interpreter only found by looking that does not answer is a note.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Python;
use crate::error::{Error, Result};

/// One item of a `--python` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpreterSpec {
    /// Every interpreter found.
    All,
    /// An interpreter of this version: a prefix of its version, `t` for free-threaded.
    Version {
        /// `3.13`, `2.7`, `3.12.1`.
        prefix: String,
        /// Asked for a free-threaded build (`3.13t`).
        free_threaded: bool,
    },
    /// A path, or a program name looked up on the PATH.
    Program(PathBuf),
}

impl InterpreterSpec {
    /// Reads one SPEC: `all`, a version such as `3.13t`, or a program.
    pub fn parse(s: &str) -> Result<InterpreterSpec> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid(
                "python",
                s,
                "a path, a version (2.7, 3.13, 3.13t) or all",
            ));
        }
        if s == "all" {
            return Ok(InterpreterSpec::All);
        }
        let (digits, free_threaded) = match s.strip_suffix('t') {
            Some(d) => (d, true),
            None => (s, false),
        };
        let is_version = !digits.is_empty()
            && digits
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        Ok(if is_version {
            InterpreterSpec::Version {
                prefix: digits.to_string(),
                free_threaded,
            }
        } else {
            InterpreterSpec::Program(PathBuf::from(s))
        })
    }

    /// Reads a comma-separated list of SPECs.
    pub fn parse_list(s: &str) -> Result<Vec<InterpreterSpec>> {
        s.split(',').map(InterpreterSpec::parse).collect()
    }

    fn matches(&self, py: &Python) -> bool {
        match self {
            InterpreterSpec::All => true,
            InterpreterSpec::Version {
                prefix,
                free_threaded,
            } => {
                let v = &py.info.version;
                (v == prefix || v.starts_with(&format!("{prefix}.")))
                    && py.info.free_threaded == *free_threaded
            }
            InterpreterSpec::Program(_) => false,
        }
    }
}

/// Where interpreters are looked for: a PATH and pyenv's root (`$PYENV_ROOT`, else
/// `~/.pyenv`). Tests point both at temporary folders.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// The PATH to search.
    pub path: Option<OsString>,
    /// pyenv's root; its `versions/*/bin` are searched.
    pub pyenv_root: Option<PathBuf>,
}

impl Places {
    /// The PATH and pyenv root of this process's environment.
    pub fn from_env() -> Places {
        let pyenv_root = std::env::var_os("PYENV_ROOT")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
        Places {
            path: std::env::var_os("PATH"),
            pyenv_root,
        }
    }

    /// Every program that may be an interpreter, in search order: `python2.7`, `python3`,
    /// `python3.N` and `python3.Nt` in each PATH folder, then `bin/python` of each pyenv
    /// version, sorted by name.
    pub fn candidates(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in self.path.iter().flat_map(std::env::split_paths) {
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| is_python_name(n))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|n| dir.join(n)));
        }
        if let Some(root) = &self.pyenv_root {
            let mut versions: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("bin").join("python"))
                .filter(|p| p.exists())
                .collect();
            versions.sort();
            out.extend(versions);
        }
        out
    }

    /// `name` looked up on this PATH (as is when it has a `/`).
    fn which(&self, name: &Path) -> Option<PathBuf> {
        if name.components().count() > 1 || name.is_absolute() {
            return Some(name.to_path_buf());
        }
        self.path
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }
}

/// `python2.7`, `python3`, `python3.12`, `python3.13t`: the names interpreters go by.
fn is_python_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("python") else {
        return false;
    };
    let rest = rest.strip_suffix('t').unwrap_or(rest);
    let mut parts = rest.split('.');
    let major = parts.next().unwrap_or("");
    let minor: Vec<&str> = parts.collect();
    matches!(major, "2" | "3")
        && minor.len() <= 1
        && minor
            .iter()
            .all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        && (minor.len() == 1 || !name.ends_with('t'))
}

/// The interpreters a list of SPECs names, in the order named (and, for `all` and versions,
/// by version), each once; and notes on those found by looking that did not answer.
#[derive(Debug)]
pub struct Found {
    /// The interpreters, each with whether the user named it (a path or a version) rather
    /// than `all` finding it.
    pub pythons: Vec<(Python, bool)>,
    /// Why an interpreter found by looking was left out.
    pub notes: Vec<String>,
}

/// The interpreters to run beside parlab: those `--python SPEC[,SPEC...]` names in the places
/// of the environment ([`resolve`]), or without it `python3` on the PATH where it runs as
/// Python (not named by the user: its failures are notes, not bad input).
pub fn chosen(spec: Option<&str>) -> Result<Found> {
    match spec {
        Some(spec) => resolve(&InterpreterSpec::parse_list(spec)?, &Places::from_env()),
        None => Ok(Found {
            pythons: Python::find(None)?
                .map(|p| (p, false))
                .into_iter()
                .collect(),
            notes: Vec::new(),
        }),
    }
}

/// Finds what `specs` name in `places`. A program or version the user named that is not
/// there, or does not run as Python, is an [`Error::Invalid`] before anything is measured.
pub fn resolve(specs: &[InterpreterSpec], places: &Places) -> Result<Found> {
    let mut found = Found {
        pythons: Vec::new(),
        notes: Vec::new(),
    };
    let mut discovered: Option<Vec<Python>> = None;
    for spec in specs {
        match spec {
            InterpreterSpec::Program(p) => {
                let shown = p.display().to_string();
                let Some(path) = places.which(p) else {
                    return Err(not_python(&shown, "not found on the PATH"));
                };
                if !path.exists() {
                    return Err(not_python(&shown, "no such file"));
                }
                let py = Python::open(&path)?.map_err(|why| not_python(&shown, &why))?;
                add(&mut found.pythons, py, true);
            }
            InterpreterSpec::All | InterpreterSpec::Version { .. } => {
                if discovered.is_none() {
                    let (pys, notes) = discover(places)?;
                    found.notes.extend(notes);
                    discovered = Some(pys);
                }
                let all = discovered.as_mut().expect("discovered just now");
                let named = !matches!(spec, InterpreterSpec::All);
                // A version already served (`3.12,3.12`, `3.12.1,3.12`, `all,3.12`) is not
                // looked for again: one interpreter answers it, now as one the user named.
                if named && found.pythons.iter().any(|(p, _)| spec.matches(p)) {
                    for (p, was_named) in found.pythons.iter_mut() {
                        if spec.matches(p) {
                            *was_named = true;
                        }
                    }
                    continue;
                }
                let mut hits: Vec<usize> =
                    (0..all.len()).filter(|&i| spec.matches(&all[i])).collect();
                if let InterpreterSpec::Version {
                    prefix,
                    free_threaded,
                } = spec
                {
                    if hits.is_empty() {
                        let t = if *free_threaded { "t" } else { "" };
                        return Err(no_such_version(&format!("{prefix}{t}"), all, &found.notes));
                    }
                    hits.truncate(1); // the first found of that version
                }
                let mut rest = Vec::new();
                for (i, py) in std::mem::take(all).into_iter().enumerate() {
                    if hits.contains(&i) {
                        add(&mut found.pythons, py, named);
                    } else {
                        rest.push(py);
                    }
                }
                *all = rest;
            }
        }
    }
    Ok(found)
}

/// The error for a version not among `found`, listing the versions that are, and why those
/// that did not answer were left out (when none answered, that is the cause to name: a bad
/// `PYTHONHOME` stops every interpreter).
fn no_such_version(value: &str, found: &[Python], left_out: &[String]) -> Error {
    let mut versions: Vec<&str> = Vec::new();
    for p in found {
        if !versions.contains(&p.version.as_str()) {
            versions.push(&p.version);
        }
    }
    let mut allowed = if versions.is_empty() && left_out.is_empty() {
        "no interpreter was found on the PATH or in pyenv's versions folder; give the path of \
         one"
        .to_string()
    } else if versions.is_empty() {
        format!(
            "no interpreter there answered: none of the {} found started ({}); give the path \
             of one that does",
            left_out.len(),
            left_out[0]
        )
    } else {
        format!(
            "no interpreter of that version on the PATH or in pyenv's versions folder, which \
             hold {}; give one of those versions, all, or an interpreter's path",
            versions.join(", ")
        )
    };
    if !left_out.is_empty() && !versions.is_empty() {
        allowed += &format!("; {} more did not start ({})", left_out.len(), left_out[0]);
    }
    if let Some(env) = super::environment_note().filter(|_| !left_out.is_empty()) {
        allowed += &format!("; {env}");
    }
    Error::invalid("python", value, allowed)
}

fn add(pythons: &mut Vec<(Python, bool)>, py: Python, named: bool) {
    if !pythons
        .iter()
        .any(|(p, _)| p.info.executable == py.info.executable)
    {
        pythons.push((py, named));
    }
}

fn not_python(value: &str, why: &str) -> Error {
    let env = super::environment_note().map_or(String::new(), |e| format!("; {e}"));
    Error::invalid(
        "python",
        value,
        format!("an interpreter that runs as Python ({why}){env}"),
    )
}

/// Interpreters asked at once who they are: enough that a PATH of hanging programs costs a
/// few [`super::INFO_LIMIT`]s, few enough that the open files and threads they need (six
/// descriptors and two threads each) fit any sane limit.
const AT_ONCE: usize = 8;

/// Every interpreter in `places` that answers, once each by real path, in version order;
/// and a note for each that did not answer (save a version manager's shim for a version not
/// selected, which exits 127 as a missing command does). Candidates are asked eight at
/// a time, each within [`super::INFO_LIMIT`]. What is not a candidate's fault is an error: the
/// script cannot be written, a limit of this machine is met, or Ctrl-C.
pub fn discover(places: &Places) -> Result<(Vec<Python>, Vec<String>)> {
    let candidates = places.candidates();
    crate::limits::make_room_for(AT_ONCE * 3);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let answers: Vec<Option<std::result::Result<Python, String>>> = {
        let answers = std::sync::Mutex::new(
            (0..candidates.len())
                .map(|_| None)
                .collect::<Vec<Option<Result<std::result::Result<Python, String>>>>>(),
        );
        let ask = || {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(c) = candidates.get(i) else { break };
                let answer = Python::open(c);
                let stop = answer.is_err();
                answers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(answer);
                if stop {
                    // The others are not asked: the same cause would meet them.
                    next.store(candidates.len(), std::sync::atomic::Ordering::Relaxed);
                }
            }
        };
        let started = std::thread::scope(|s| {
            let mut askers = Vec::new();
            for k in 0..AT_ONCE.min(candidates.len()) {
                match crate::limits::spawn_scoped(s, &format!("parlab-discover-{k}"), ask) {
                    Ok(h) => askers.push(h),
                    // The askers already started finish the list (each answer is bounded).
                    Err(e) if askers.is_empty() => return Err(e),
                    Err(_) => break,
                }
            }
            for h in askers {
                let _ = h.join();
            }
            Ok(())
        });
        started?;
        let mut out = Vec::with_capacity(candidates.len());
        for answer in answers
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            out.push(answer.transpose()?);
        }
        out
    };
    let mut pythons: Vec<Python> = Vec::new();
    let mut notes = Vec::new();
    for (c, answer) in candidates.iter().zip(answers) {
        match answer {
            Some(Ok(py))
                if !pythons
                    .iter()
                    .any(|p| p.info.executable == py.info.executable) =>
            {
                pythons.push(py);
            }
            Some(Err(why)) if !why.contains("exit status: 127") => {
                notes.push(format!("{} left out: {why}", c.display()));
            }
            _ => {}
        }
    }
    pythons.sort_by_key(|p| (p.info.major_minor(), p.info.free_threaded));
    Ok((pythons, notes))
}

#[cfg(test)]
mod tests;
