//! Today's Pythons, where `scripts/pythons.sh` has made them: the free-threaded CPython 3.13.5t
//! beside the GIL build of the same source. Each test skips with a one-line note where they are
//! absent (the script's folder: `$PARLAB_PYTHONS`, else `~/.cache/parlab/pythons`). 3.14 and
//! 3.15 live in a chroot and are exercised by `.ci/run`, as root.
//!
//! These tests assert what follows from the builds, never a speed: labels, GIL states, start
//! methods, exact answers, and which explanation a stalled row gets given the figures beside it.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// The folder `scripts/pythons.sh` fills.
fn folder() -> Option<PathBuf> {
    std::env::var_os("PARLAB_PYTHONS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/parlab/pythons"))
        })
}

/// The free-threaded 3.13.5t and its GIL twin, or a note on why the test skips.
fn twins() -> Option<(PathBuf, PathBuf)> {
    let dir = folder()?;
    let ft = dir.join("3.13.5-t/bin/python3.13t");
    let gil = dir.join("3.13.5/bin/python3.13");
    if ft.exists() && gil.exists() {
        Some((ft, gil))
    } else {
        eprintln!(
            "skipped: no 3.13.5t and 3.13.5 under {} (scripts/pythons.sh makes them)",
            dir.display()
        );
        None
    }
}

fn parlab(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.args(args).env_remove("PYTHON_GIL");
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

fn example(name: &str) -> String {
    format!("{}/examples/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_free_threaded_build_and_its_gil_twin_through_reproduce() {
    let Some((ft, gil)) = twins() else { return };
    let spec = format!("{},{}", ft.display(), gil.display());
    let out = parlab(
        &[
            "reproduce",
            "--quick",
            "--json",
            "--python",
            &spec,
            "--python-start",
            "forkserver",
        ],
        &[],
    );
    let r = json_of(&out);
    let pythons = r["pythons"].as_array().unwrap();
    let of = |label: &str| {
        pythons
            .iter()
            .find(|p| p["version"] == "3.13.5" && p["free_threaded"] == (label == "3.13.5t"))
            .unwrap_or_else(|| panic!("no {label} in {pythons:?}"))
    };
    assert_eq!(of("3.13.5t")["gil_enabled"], false);
    assert_eq!(of("3.13.5")["gil_enabled"], true);
    for label in ["3.13.5t", "3.13.5"] {
        assert_eq!(of(label)["processes_start"], "forkserver", "{label}");
        assert_eq!(of(label)["start_method"], "fork", "{label}: 3.13's default");
    }
    // Every CPython row of the CPU-bound job counted every index exactly.
    let end = r["cpu"]["job"]
        .as_str()
        .and_then(|j| j.split("0..").nth(1))
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("the job's range");
    let rows: Vec<&Value> = r["cpu"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["family"].as_str().is_some_and(|w| w.contains("3.13.5")))
        .collect();
    assert!(rows.len() >= 8, "{rows:?}");
    for row in &rows {
        assert_eq!(row["result"].as_u64(), Some(end), "{row}");
    }
    let said = r["cpu"]["verdict"].to_string();
    assert!(
        said.contains("On 3.13.5t (free-threaded, no GIL)"),
        "{said}"
    );
    assert!(
        said.contains("3.13.5t's one thread took") && said.contains("the time of 3.13.5's"),
        "{said}"
    );
}

#[test]
fn a_free_threaded_build_with_its_gil_turned_back_on_says_so() {
    let Some((ft, _)) = twins() else { return };
    let args = [
        "python",
        &example("arith.py:sum_of_squares"),
        "--python",
        ft.to_str().unwrap(),
        "--range",
        "0..1e5",
        "-w",
        "2",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--json",
        "-q",
    ];
    let on = json_of(&parlab(&args, &[("PYTHON_GIL", "1")]));
    assert_eq!(on["pythons"][0]["gil_enabled"], true);
    assert_eq!(on["pythons"][0]["label"], "3.13.5t (GIL on)");
    let notes = on["notes"].to_string();
    assert!(
        notes.contains("running with its GIL on") && notes.contains("PYTHON_GIL=1"),
        "{notes}"
    );
    let off = json_of(&parlab(&args, &[]));
    assert_eq!(off["pythons"][0]["gil_enabled"], false);
    assert_eq!(off["pythons"][0]["label"], "3.13.5t");
    assert!(!off["notes"].to_string().contains("GIL on"));
}

/// `parlab python FILE:FUNCTION` on 3.13.5t at 2 workers: the threads row and the reason.
fn stalled(function: &str, ft: &str) -> (Value, String) {
    let r = json_of(&parlab(
        &[
            "python",
            &example(&format!("contention.py:{function}")),
            "--python",
            ft,
            "--range",
            "0..1e6",
            "-w",
            "2",
            "--roads",
            "threads",
            "--runs",
            "3",
            "--json",
            "-q",
        ],
        &[],
    ));
    let row = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["road"] == "threads")
        .cloned()
        .expect("a threads row");
    (row, r["recommendation"]["reason"].to_string())
}

#[test]
fn threads_that_do_not_scale_are_explained_by_what_they_kept_busy() {
    let Some((ft, _)) = twins() else { return };
    let ft = ft.to_str().unwrap();
    // One lock held for a whole part: one thread runs at a time. Whatever the machine's load,
    // the words must match the figures beside them: a lock only with about one CPU busy, the
    // machine only where its ceiling stayed near one.
    for function in ["one_lock", "shared_reads"] {
        let (row, reason) = stalled(function, ft);
        let busy = row["cpus_busy"]["value"]
            .as_f64()
            .expect("CPUs busy counted");
        let ceiling = row["ceiling"].as_f64().unwrap_or(2.0);
        if reason.contains("waited on") {
            assert!((0.7..=1.3).contains(&busy), "{function}: {busy} {reason}");
            assert!(reason.contains("a lock of the function's own"), "{reason}");
        }
        if reason.contains("contended on shared state") {
            assert!(busy > 1.3, "{function}: {busy} {reason}");
        }
        if reason.contains("the machine allowed no more") {
            assert!(ceiling <= 1.3, "{function}: ceiling {ceiling} {reason}");
        }
        if function == "one_lock" {
            // A lock held for the whole part never looks like contention.
            assert!(!reason.contains("contended"), "{reason}");
            assert!(busy < 1.3, "{function} kept {busy} CPUs busy: {reason}");
        }
    }
}
