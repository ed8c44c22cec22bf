//! Every Python through the command line: real interpreters from pyenv's versions folder where
//! the machine has them (Python 2.7 and one 3.12+; a printed note where not), and fake ones
//! that crash mid-run, named by the user (bad input, exit 2) or found by `all` (a note, the
//! other interpreters' rows kept).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// pyenv's versions folder as parlab looks for it: `$PYENV_ROOT`, else `~/.pyenv`.
fn pyenv_versions() -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))?;
    let versions = root.join("versions");
    versions.is_dir().then_some(versions)
}

/// The `bin/python` of the first pyenv version whose name `wanted` accepts, by name.
fn pyenv_python(wanted: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(pyenv_versions()?)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| wanted(n))
        .collect();
    names.sort();
    let bin = pyenv_versions()?.join(names.first()?).join("bin/python");
    bin.exists().then_some(bin)
}

/// 3.12 or later: subinterpreters with their own GIL.
fn is_312_or_later(name: &str) -> bool {
    let mut it = name.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    major == 3 && minor >= 12 && !name.ends_with('t')
}

fn parlab(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// The CPU-bound rows of `family` (e.g. `CPython 2.7.18`): (variant, result).
fn rows_of(report: &Value, family: &str) -> Vec<(String, Option<u64>)> {
    report["cpu"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["family"] == family)
        .map(|r| {
            (
                r["variant"].as_str().unwrap().to_string(),
                r["result"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn python_27_and_a_312_from_pyenv_through_reproduce_and_probe() {
    let (Some(py2), Some(py3)) = (
        pyenv_python(|n| n.starts_with("2.7")),
        pyenv_python(is_312_or_later),
    ) else {
        eprintln!(
            "skipped: no Python 2.7 and 3.12+ in pyenv's versions folder ({:?}); the fake \
             interpreters below still cover discovery, labels and failures",
            pyenv_versions()
        );
        return;
    };
    let spec = format!("{},{}", py2.display(), py3.display());
    let report = json_of(&parlab(
        &["reproduce", "--quick", "--python", &spec, "--json"],
        &[],
    ));

    let pythons = report["pythons"].as_array().unwrap();
    let versions: Vec<&str> = pythons
        .iter()
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{pythons:?}");
    assert!(versions[0].starts_with("2.7."), "{versions:?}");
    assert!(versions[1].starts_with("3.1"), "{versions:?}");
    assert_eq!(pythons[0]["implementation"], "CPython");
    assert_eq!(pythons[0]["gil_enabled"], true);
    assert_eq!(pythons[0]["start_method"], "fork");
    assert!(pythons[0]["subinterpreters"].is_null());
    assert!(
        pythons[1]["subinterpreters"].is_string(),
        "{:?}",
        pythons[1]
    );

    // Every CPython row counted exactly (--quick: 0..1e7), subinterpreter rows on 3.12+ only.
    let two = rows_of(&report, &format!("CPython {}", versions[0]));
    let three = rows_of(&report, &format!("CPython {}", versions[1]));
    for (variant, result) in two.iter().chain(&three) {
        assert_eq!(*result, Some(10_000_000), "{variant}");
    }
    let variants = |rows: &[(String, Option<u64>)]| -> Vec<String> {
        rows.iter().map(|(v, _)| v.clone()).collect()
    };
    assert_eq!(
        variants(&two),
        ["1 thread", "2 threads", "4 threads", "2 processes"]
    );
    assert_eq!(
        variants(&three),
        [
            "1 thread",
            "2 threads",
            "4 threads",
            "2 processes",
            "2 subinterpreters",
            "4 subinterpreters"
        ]
    );

    // Fidelity: gil-legacy against 2.7, gil against the 3.x, four measures each, every
    // figure consistent with its ratio and target.
    let fidelity = report["fidelity"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = fidelity
        .iter()
        .map(|f| (f["model"].as_str().unwrap(), f["python"].as_str().unwrap()))
        .collect();
    let legacy = format!("CPython {}", versions[0]);
    let new = format!("CPython {}", versions[1]);
    assert_eq!(
        pairs,
        [("gil-legacy", legacy.as_str()); 4]
            .into_iter()
            .chain([("gil", new.as_str()); 4])
            .collect::<Vec<_>>()
    );
    for f in fidelity {
        let (m, c, ratio) = (
            f["model_value"]["value"].as_f64().unwrap(),
            f["python_value"]["value"].as_f64().unwrap(),
            f["ratio"]["value"].as_f64().unwrap(),
        );
        assert!(m > 0.0 && c > 0.0, "{f}");
        assert!((ratio - m / c).abs() <= 1e-9 * ratio.abs(), "{f}");
        assert!(f["within_target"].is_boolean(), "{f}");
        assert!(f["measure"].is_string(), "{f}");
    }

    // probe: CPython rows for each interpreter, labelled by version.
    let probe = json_of(&parlab(
        &[
            "probe", "--quick", "--python", &spec, "--json", "spawn", "message",
        ],
        &[],
    ));
    let whats: Vec<String> = probe
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["rows"].as_array().unwrap().clone())
        .map(|r| r["what"].as_str().unwrap().to_string())
        .collect();
    for v in &versions {
        for what in [
            "CPython threading.Thread start + join",
            "CPython multiprocessing.Queue, 1 producer process",
        ] {
            let label = format!("{what} ({v})");
            assert!(whats.contains(&label), "{label} not in {whats:?}");
        }
    }
}

/// A fake interpreter in `dir/versions/NAME/bin/python`, as pyenv lays them out: it answers
/// `info` as the seed script would (version `version`), and every other mode with fixed
/// figures, or by crashing (SIGSEGV) if `crash`.
fn fake(dir: &Path, version: &str, crash: bool) -> PathBuf {
    let bin = dir.join("versions").join(version).join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("python");
    let work = if crash {
        "kill -SEGV $$".to_string()
    } else {
        r#"case "$mode" in
  threads|processes|subinterpreters|sleep) echo "{\"result\": $(($end - $start)), \"elapsed_s\": 0.5, \"api\": \"_interpreters\"}" ;;
  holds) echo '{"turns": 40, "hold_median_s": 0.005, "hold_p90_s": 0.006}' ;;
  convoy) echo '{"alone_per_s": 5000.0, "beside_cpu_per_s": 500.0}' ;;
  spawn) echo '{"thread": {"median_s": 0.0001, "min_s": 0.0001, "max_s": 0.0001, "n": 3}}' ;;
  queue) echo '{"messages": 10, "elapsed_s": 0.001, "per_s": 10000.0}' ;;
  *) exit 2 ;;
esac"#
            .to_string()
    };
    let script = format!(
        r#"#!/bin/sh
mode=$2
start=$4; end=$5
if [ "$mode" = info ]; then
  echo '{{"version": "{version}", "implementation": "CPython", "executable": "/x/python{version}", "gil_enabled": true, "free_threaded": false, "start_method": "fork", "subinterpreters": "_interpreters"}}'
  exit 0
fi
{work}
"#
    );
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A scratch pyenv root with a working fake 3.98.0 and a crashing fake 3.99.0, and an empty
/// folder for the PATH, so that `all` finds exactly those two.
struct Scratch {
    root: PathBuf,
    crasher: PathBuf,
    empty: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let root =
            std::env::temp_dir().join(format!("parlab-it-pythons-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        fake(&root, "3.98.0", false);
        let crasher = fake(&root, "3.99.0", true);
        let empty = root.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        Scratch {
            root,
            crasher,
            empty,
        }
    }

    fn env(&self) -> [(&str, &Path); 2] {
        [("PYENV_ROOT", &self.root), ("PATH", &self.empty)]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn assert_bad_interpreter(out: &Output, path: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains(&path.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("panicked"));
}

#[test]
fn an_interpreter_that_crashes_mid_run_is_bad_input_when_named() {
    let s = Scratch::new("named");
    let crasher = s.crasher.to_str().unwrap();
    let out = parlab(
        &["reproduce", "--quick", "--python", crasher, "--json"],
        &s.env(),
    );
    assert_bad_interpreter(&out, &s.crasher);
    let out = parlab(
        &["probe", "--quick", "--python", crasher, "spawn"],
        &s.env(),
    );
    assert_bad_interpreter(&out, &s.crasher);
    // Named by its version, it is named all the same.
    let out = parlab(&["reproduce", "--quick", "--python", "3.99"], &s.env());
    assert_bad_interpreter(&out, &s.crasher);
}

#[test]
fn an_interpreter_found_by_all_that_crashes_is_a_note_and_the_others_keep_their_rows() {
    let s = Scratch::new("all");
    let report = json_of(&parlab(
        &["reproduce", "--quick", "--python", "all", "--json"],
        &s.env(),
    ));
    let notes: Vec<&str> = report["python_notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("3.99.0") && n.contains("failed")),
        "{notes:?}"
    );
    assert!(
        rows_of(&report, "CPython 3.99.0")
            .iter()
            .all(|(_, r)| r.is_none())
    );
    let kept = rows_of(&report, "CPython 3.98.0");
    assert!(kept.len() >= 4, "{kept:?}");
    assert!(kept.iter().all(|(_, r)| *r == Some(10_000_000)), "{kept:?}");
    // The fidelity section holds gil against the one that ran, not the one that failed.
    let fidelity = report["fidelity"].as_array().unwrap();
    assert!(!fidelity.is_empty());
    assert!(
        fidelity.iter().all(|f| f["python"] == "CPython 3.98.0"),
        "{fidelity:?}"
    );

    let probe = json_of(&parlab(
        &["probe", "--quick", "--python", "all", "--json", "message"],
        &s.env(),
    ));
    let message = &probe.as_array().unwrap()[0];
    let rows: Vec<&str> = message["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert!(
        rows.contains(&"CPython multiprocessing.Queue, 1 producer process (3.98.0)"),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|r| r.contains("3.99.0")), "{rows:?}");
    assert!(
        message["conclusion"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("3.99.0")),
        "{message}"
    );
}
