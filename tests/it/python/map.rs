//! `parlab python FILE:FUNCTION --items SOURCE` (map mode): results of every kind checked on
//! every road, chunk sizes each their own rows, bad SOURCEs and functions refused before any
//! measuring, and the faults of one road (it raises, answers otherwise, cannot pickle an item or
//! a result, shares state between threads until it livelocks) failing that road only, named in
//! the recommendation, with no process left behind. The default limit on a run (10 times the
//! sequential run, at least 10 s) ends a livelock in range mode as in map mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use super::{have_python, leftovers, record, rows_of, stderr_of};

const MAP_FIXTURE: &str = r#"
import os, time
BAD = os.environ.get("PARLAB_ROAD") == os.environ.get("FAIL_ON")

def none():
    return 0

def two(a, b):
    return a

def raises(x):
    if BAD and x == 7:
        raise ValueError("boom at %d" % x)
    return x

def wrong(x):
    return x + (1 if BAD else 0)

def nan(x):
    return float("nan") if x % 3 == 0 else [x / 2, float("nan")]

def gen(x):
    return (i for i in range(x))

def call(item):
    return item()

def lambdas():
    return [lambda i=i: i * i for i in range(20)]

class Node(object):
    def __init__(self, link):
        self.link = link

head = None

def unsafe(x):
    # A module-level "current" object, as pyperformance's richards keeps: another thread
    # replaces it while this one sleeps.
    global head
    head = Node(Node(None))
    time.sleep(0.002)
    node = head.link
    head = None
    return (x, node.link)

owner = [None]

def livelock(x):
    # Each call takes the module's one "owner" slot and waits to see itself there: a second
    # thread takes it meanwhile, and the first waits for ever.
    owner[0] = x
    time.sleep(0.002)
    while owner[0] != x:
        pass
    return x

EMPTY = []
NUMBER = 3

def halfway():
    yield 1
    yield 2
    raise RuntimeError("the source broke")

def endless():
    i = 0
    while True:
        yield i
        i += 1

def source_raises():
    raise KeyError("no data")
"#;

/// The map fixture in a folder of the test's own, so that its path marks its processes.
fn map_fixture(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-pymap-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mapfix.py");
    std::fs::write(&file, MAP_FIXTURE).unwrap();
    file
}

/// The repository's map examples, copied to a folder of the test's own (whose path marks its
/// processes).
fn examples(test: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python");
    let dir = std::env::temp_dir().join(format!("parlab-pymapex-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["map_examples.py", "words.txt"] {
        std::fs::copy(from.join(name), dir.join(name)).unwrap();
    }
    dir
}

/// `parlab python FILE:FUNCTION --items ITEMS`, 2 workers, one measured round, threads and
/// processes unless `extra` names other roads.
fn map_cmd(file: &Path, function: &str, items: &str, extra: &[&str], fail_on: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.arg("python")
        .arg(format!("{}:{function}", file.display()))
        .args(["--items", items, "--runs", "1", "--warmup", "0", "--quiet"])
        .args(extra)
        .env("FAIL_ON", fail_on);
    for (flag, default) in [("--roads", "threads,processes"), ("--workers", "2")] {
        if !extra.contains(&flag) {
            cmd.args([flag, default]);
        }
    }
    cmd
}

fn map_run(file: &Path, function: &str, items: &str, extra: &[&str], fail_on: &str) -> Output {
    map_cmd(file, function, items, extra, fail_on)
        .output()
        .unwrap()
}

/// The record of a run that must have succeeded, every row checked.
fn all_ok(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(out));
    let v = record(out);
    assert_eq!(v["mode"], "map", "{v}");
    for row in v["rows"].as_array().unwrap() {
        assert!(row["error"].is_null(), "{row}");
        assert_eq!(row["runs"], 1, "{row}");
        assert!(row["speedup"].is_object(), "{row}");
    }
    v
}

fn reason(v: &Value) -> String {
    v["recommendation"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn results_of_every_kind_are_checked_on_every_road() {
    if !have_python() {
        return;
    }
    let ex = examples("kinds");
    let words = ex.join("words.txt");
    let grid = format!("{}:grid", ex.join("map_examples.py").display());
    let words = words.to_str().unwrap();
    for (function, items, count) in [
        ("shout", words, 143),         // str
        ("collatz", "1..301", 300),    // tuple
        ("harmonic", "0..200", 200),   // float
        ("letter_counts", words, 143), // dict
        ("word_stats", words, 143),    // dataclass
        ("describe", grid.as_str(), 1600),
    ] {
        let out = map_run(
            &ex.join("map_examples.py"),
            function,
            items,
            &["--json", "--roads", "threads,processes,subinterpreters"],
            "",
        );
        let v = all_ok(&out);
        assert_eq!(v["items"]["count"], count, "{function}: {v}");
        assert_eq!(v["items"]["source"], items);
        let roads: Vec<&str> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["road"].as_str().unwrap())
            .collect();
        assert!(
            roads.starts_with(&["sequential", "threads", "processes"]),
            "{roads:?}"
        );
        for row in rows_of(&v, "processes") {
            let c = row["chunksize"].as_u64().unwrap();
            assert_eq!(c, (count as u64).div_ceil(8), "{row}");
        }
        assert!(rows_of(&v, "sequential")[0]["chunksize"].is_null());
        assert_eq!(v["recommendations"].as_array().unwrap().len(), 1);
        assert_eq!(v["recommendation"], v["recommendations"][0]);
        assert!(v["result"].is_null());
    }
    assert!(leftovers(&ex.join("map_examples.py")).is_empty());
}

#[test]
fn subinterpreters_receive_items_and_send_results_pickled_where_there_are_some() {
    if !have_python() {
        return;
    }
    let ex = examples("subs");
    let words = ex.join("words.txt");
    for function in ["word_stats", "letter_counts"] {
        let out = map_run(
            &ex.join("map_examples.py"),
            function,
            words.to_str().unwrap(),
            &[
                "--json",
                "--python",
                "3.12",
                "--roads",
                "subinterpreters",
                "--chunksize",
                "7",
            ],
            "",
        );
        if stderr_of(&out).contains("invalid python '3.12'") {
            eprintln!("skipped: no CPython 3.12 found");
            return;
        }
        let v = all_ok(&out);
        let rows = rows_of(&v, "subinterpreters");
        assert_eq!(rows.len(), 1, "{v}");
        assert_eq!(rows[0]["chunksize"], 7);
    }
    // A result that cannot be pickled cannot come back from a subinterpreter.
    let file = map_fixture("subs-gen");
    let out = map_run(
        &file,
        "gen",
        "0..20",
        &["--json", "--python", "3.12", "--roads", "subinterpreters"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v = record(&out);
    let error = rows_of(&v, "subinterpreters")[0]["error"].as_str().unwrap();
    assert!(
        error.contains("the result is a generator, which cannot be pickled"),
        "{error}"
    );
    assert!(leftovers(&file).is_empty());
}

#[test]
fn each_chunk_size_of_a_sweep_has_its_own_rows() {
    if !have_python() {
        return;
    }
    let ex = examples("sweep");
    let out = map_run(
        &ex.join("map_examples.py"),
        "collatz",
        "1..1001",
        &["--json", "--chunksize", "1,16,256,16"],
        "",
    );
    let v = all_ok(&out);
    assert_eq!(v["chunksize"], serde_json::json!([1, 16, 256]));
    for road in ["threads", "processes"] {
        let sizes: Vec<u64> = rows_of(&v, road)
            .iter()
            .map(|r| r["chunksize"].as_u64().unwrap())
            .collect();
        assert_eq!(sizes, [1, 16, 256], "{road}");
    }
    assert!(leftovers(&ex.join("map_examples.py")).is_empty());
    // The text names each size in its own column, and so do the exports.
    let (csv, md) = (ex.join("r.csv"), ex.join("r.md"));
    let out = map_run(
        &ex.join("map_examples.py"),
        "collatz",
        "1..201",
        &[
            "--chunksize",
            "3,50",
            "--export-csv",
            csv.to_str().unwrap(),
            "--export-markdown",
            md.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    let chunks: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("threads ") || l.contains("processes "))
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert!(chunks.starts_with(&["3", "50", "3", "50"]), "{text}");
    assert!(text.contains("over 200 items of 1..201"), "{text}");
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",mode,chunksize"),
        "{csv}"
    );
    let sizes: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(sizes, ["", "3", "50", "3", "50"], "{csv}");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.starts_with("# `") && md.contains("over 200 items of `1..201`"),
        "{md}"
    );
    assert!(
        md.contains("| chunk | road |") && md.contains("| 50 | processes | 2 |"),
        "{md}"
    );
}

#[test]
fn results_unequal_to_themselves_are_compared_by_their_canonical_form() {
    if !have_python() {
        return;
    }
    let file = map_fixture("nan");
    let out = map_run(&file, "nan", "0..30", &["--json"], "");
    let v = all_ok(&out);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("30 of 30 results are unequal to a copy of themselves (item 0, nan"),
        "{notes}"
    );
    assert!(notes.contains("compared by their pickled bytes"), "{notes}");
    assert!(leftovers(&file).is_empty());
}

#[test]
fn bad_functions_and_sources_are_one_line_and_exit_2_before_measuring() {
    if !have_python() {
        return;
    }
    let file = map_fixture("bad");
    let dir = file.parent().unwrap();
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let latin = dir.join("latin.txt");
    std::fs::write(&latin, b"ok\n\xe9t\xe9\n").unwrap();
    let at = |name: &str| format!("{}:{name}", file.display());
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "none",
            "0..10".into(),
            vec![],
            "cannot be called with one argument",
        ),
        ("two", "0..10".into(), vec![], "two(a, b)"),
        ("raises", at("MISSING"), vec![], "has no MISSING"),
        ("raises", at("EMPTY"), vec![], "EMPTY holds no items"),
        (
            "raises",
            at("NUMBER"),
            vec![],
            "is of type int, which is not iterable",
        ),
        (
            "raises",
            at("halfway"),
            vec![],
            "iterating halfway() raised RuntimeError: the source broke",
        ),
        (
            "raises",
            at("endless"),
            vec!["--max-items", "1000"],
            "gave more than 1000 items (--max-items)",
        ),
        (
            "raises",
            at("source_raises"),
            vec![],
            "source_raises() raised KeyError",
        ),
        (
            "raises",
            "0..2000".into(),
            vec!["--max-items", "1000"],
            "more than --max-items 1000",
        ),
        ("raises", "5..5".into(), vec![], "holds no items"),
        (
            "raises",
            dir.join("gone.txt").display().to_string(),
            vec![],
            "no such file",
        ),
        (
            "raises",
            empty.display().to_string(),
            vec![],
            "holds no lines",
        ),
        (
            "raises",
            latin.display().to_string(),
            vec![],
            "line 2 is not UTF-8",
        ),
        ("raises", file.display().to_string(), vec![], ":ITEMS"),
        (
            "raises",
            "0..10".into(),
            vec!["--chunksize", "0"],
            "chunksize",
        ),
        ("raises", "0..10".into(), vec!["--range", "0..5"], "--range"),
        (
            "raises",
            "0..10".into(),
            vec!["--max-items", "0"],
            "max items",
        ),
    ];
    for (function, items, extra, want) in cases {
        let t0 = Instant::now();
        let out = map_run(&file, function, &items, &extra, "");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{function} {items}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(want), "{want}: {stderr}");
        assert!(out.stdout.is_empty(), "measured anyway: {stderr}");
        assert!(t0.elapsed() < Duration::from_secs(30));
    }
    // --chunksize belongs to map mode.
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["python", &format!("{}:raises", file.display())])
        .args(["--chunksize", "4", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--items"), "{}", stderr_of(&out));
    assert!(leftovers(&file).is_empty(), "{:?}", leftovers(&file));
}

/// Runs `function` failing on `road`; checks exit 1, the failed row, the other roads' rows
/// finished, the recommendation naming the failure, and no process left.
fn map_fails_on(road: &str, function: &str, items: &str, extra: &[&str], wants: &[&str]) -> Value {
    let file = map_fixture(&format!("{function}-{road}"));
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = map_run(&file, function, items, &args, road);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(last.contains(&format!("{road} x2")), "{stderr}");
    let v = record(&out);
    let error = rows_of(&v, road)[0]["error"].as_str().unwrap().to_string();
    for want in wants {
        assert!(error.contains(want), "{want}: {error}");
    }
    let other = if road == "threads" {
        "processes"
    } else {
        "threads"
    };
    for row in rows_of(&v, other)
        .into_iter()
        .chain(rows_of(&v, "sequential"))
    {
        assert!(row["error"].is_null(), "{row}");
        assert!(row["speedup"].is_object(), "{row}");
    }
    assert_ne!(v["recommendation"]["road"], road, "{v}");
    assert!(
        reason(&v).starts_with(&format!("{road} x2 ")),
        "{}",
        reason(&v)
    );
    assert!(leftovers(&file).is_empty(), "{:?}", leftovers(&file));
    v
}

#[test]
fn a_raise_on_one_road_fails_that_road_and_the_recommendation_says_so() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        let v = map_fails_on(
            road,
            "raises",
            "0..40",
            &[],
            &["ValueError: boom at 7 (on item 7: 7, at mapfix.py:"],
        );
        assert!(
            reason(&v).contains(&format!(
                "{road} x2 raised ValueError (boom at 7): the function"
            )),
            "{}",
            reason(&v)
        );
        assert!(
            reason(&v).contains(&format!("it is not safe on {road}")),
            "{}",
            reason(&v)
        );
    }
}

#[test]
fn another_answer_on_one_road_fails_that_road_at_its_first_item() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        let v = map_fails_on(road, "wrong", "0..40", &[], &[", item 0: 1 (expected 0)"]);
        assert!(
            reason(&v).contains(&format!("{road} x2 gave another answer (from item 0 on)")),
            "{}",
            reason(&v)
        );
    }
}

#[test]
fn an_item_that_cannot_be_pickled_fails_processes_and_not_threads() {
    if !have_python() {
        return;
    }
    let file = map_fixture("lambdas");
    let out = map_run(
        &file,
        "call",
        &format!("{}:lambdas", file.display()),
        &["--json"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v = record(&out);
    let error = rows_of(&v, "processes")[0]["error"].as_str().unwrap();
    assert!(
        error.contains("item 0 is a function, which cannot be pickled, and processes receive"),
        "{error}"
    );
    for row in rows_of(&v, "threads")
        .into_iter()
        .chain(rows_of(&v, "sequential"))
    {
        assert!(row["error"].is_null(), "{row}");
    }
    assert!(
        reason(&v).starts_with("processes x2 could not send a function between interpreters"),
        "{}",
        reason(&v)
    );
    assert!(leftovers(&file).is_empty());
}

#[test]
fn a_result_that_cannot_be_pickled_fails_processes_and_threads_compare_its_repr() {
    if !have_python() {
        return;
    }
    let file = map_fixture("gen");
    let out = map_run(&file, "gen", "0..20", &["--json"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v = record(&out);
    let error = rows_of(&v, "processes")[0]["error"].as_str().unwrap();
    assert!(
        error.contains("the result is a generator, which cannot be pickled, and processes send"),
        "{error}"
    );
    assert!(rows_of(&v, "threads")[0]["error"].is_null(), "{v}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("20 of 20 results cannot be pickled (item 0, a generator)"),
        "{notes}"
    );
    assert!(leftovers(&file).is_empty());
}

#[test]
fn state_shared_between_threads_that_raises_is_named_not_safe_on_threads() {
    if !have_python() {
        return;
    }
    let v = map_fails_on(
        "threads",
        "unsafe",
        "0..100",
        &[],
        &["AttributeError: 'NoneType' object has no attribute 'link'"],
    );
    assert!(
        reason(&v).starts_with(
            "threads x2 raised AttributeError ('NoneType' object has no attribute 'link'): the \
             function shares state between calls; it is not safe on threads"
        ),
        "{}",
        reason(&v)
    );
}

#[test]
fn a_livelock_on_threads_ends_within_the_default_limit_and_is_explained() {
    if !have_python() {
        return;
    }
    let t0 = Instant::now();
    let v = map_fails_on(
        "threads",
        "livelock",
        "0..100",
        &[],
        &["the run did not finish within", "the default limit (10x"],
    );
    // The limit is 10 s here (the sequential run takes well under 1 s): far below a hang.
    assert!(
        t0.elapsed() < Duration::from_secs(120),
        "{:?}",
        t0.elapsed()
    );
    assert!(
        reason(&v).starts_with(
            "threads x2 did not finish within the default limit (10x the sequential run, at \
             least 10 s): the function shares state between calls; it is not safe on threads"
        ),
        "{}",
        reason(&v)
    );
    // --timeout sets a limit per part instead.
    let v = map_fails_on(
        "threads",
        "livelock",
        "0..100",
        &["--timeout", "1s"],
        &["within the timeout of 1s"],
    );
    assert!(
        reason(&v).starts_with("threads x2 did not finish within the timeout of 1s"),
        "{}",
        reason(&v)
    );
}

#[test]
fn the_default_limit_ends_a_hang_in_range_mode_too_and_timeout_none_lifts_it() {
    if !have_python() {
        return;
    }
    let file = super::fixture("default-limit");
    let out = super::run(&file, "hangs", &["--json", "--warmup", "0"], "threads");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v = record(&out);
    let error = rows_of(&v, "threads")[0]["error"].as_str().unwrap();
    assert!(
        error.contains("the default limit (10x the sequential run"),
        "{error}"
    );
    assert!(rows_of(&v, "processes")[0]["error"].is_null(), "{v}");
    assert!(leftovers(&file).is_empty());
    let out = super::run(&file, "count", &["--timeout", "none", "--json"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(leftovers(&file).is_empty());
}

#[test]
fn several_interpreters_get_a_recommendation_each_and_one_overall() {
    if !have_python() {
        return;
    }
    let ex = examples("several");
    let out = map_run(
        &ex.join("map_examples.py"),
        "collatz",
        "1..2001",
        &["--json", "--python", "3.11,3.12"],
        "",
    );
    if stderr_of(&out).contains("invalid python") {
        eprintln!("skipped: CPython 3.11 and 3.12 are not both found");
        return;
    }
    let v = all_ok(&out);
    let recs = v["recommendations"].as_array().unwrap();
    let pythons: Vec<&str> = recs.iter().map(|r| r["python"].as_str().unwrap()).collect();
    assert_eq!(pythons.len(), 2, "{v}");
    assert!(pythons[0].starts_with("3.11") && pythons[1].starts_with("3.12"));
    let overall = reason(&v);
    assert!(
        overall.starts_with(&format!("on {}, ", pythons[0])),
        "{overall}"
    );
    assert!(
        overall.contains(&format!("; on {}, ", pythons[1])),
        "{overall}"
    );
    assert!(overall.contains("; fastest overall: "), "{overall}");
    assert!(pythons.contains(&v["recommendation"]["python"].as_str().unwrap()));
    assert!(leftovers(&ex.join("map_examples.py")).is_empty());
}

#[test]
fn ctrl_c_stops_a_livelock_and_leaves_no_interpreter() {
    use std::os::unix::process::CommandExt;
    if !have_python() {
        return;
    }
    let file = map_fixture("ctrl-c");
    let child = map_cmd(&file, "livelock", "0..100", &["--timeout", "none"], "")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // The helper, the baseline, the threads' interpreter and two processes, all loaded.
    while leftovers(&file).len() < 5 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!leftovers(&file).is_empty(), "no interpreter started");
    kill(Pid::from_raw(-(child.id() as i32)), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(leftovers(&file).is_empty(), "{:?}", leftovers(&file));
}
