//! The hostile-input catalogue: exports aimed at parlab's own program or at a file the same
//! command reads, inputs that never end or never start, baselines no benchmark could have
//! written, text that would drive the terminal, and values at the edges of what is allowed.
//! Each is bad input refused before any work (exit 2, one line naming the value), or a stop
//! that ends as its signal, and nothing the user had is lost.
//!
//! Commands that are refused run a matrix that would take hours had they started, under a
//! generous deadline: a refusal that came too late fails the test instead of passing it.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::have_python;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// A matrix no machine finishes in a test's time: refused commands must end long before it.
const FOREVER: [&str; 10] = [
    "-b", "threads", "-w", "2", "-r", "0..1e13", "--runs", "1", "--warmup", "0",
];

/// A matrix finished in moments: the baseline cell and threads x2 on count 0..1e4.
const TINY: [&str; 11] = [
    "-b", "threads", "-w", "2", "-r", "0..1e4", "--runs", "2", "--warmup", "0", "-q",
];

/// How long any refused command may take: far more than a refusal needs on a busy machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// A fresh folder under the target folder, on the file system of the parlab binary, so that
/// hard links to the binary can be made there.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// How a command ended.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs parlab with `args` in `dir`, standard input empty, and waits for it up to `DEADLINE`
/// (a command still running then is killed and fails the test: it hung, or it did work
/// it should have refused).
fn parlab(dir: &Path, args: &[String]) -> Ended {
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still ran after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ended {
        code: status.code(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// Asserts that `args` is bad input: exit 2, one line on stderr naming `value` and saying
/// `says`, nothing on stdout.
fn refused(dir: &Path, args: &[String], value: &str, says: &str) {
    let out = parlab(dir, args);
    let stderr = &out.stderr;
    assert_eq!(out.code, Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains(&format!("'{value}'")),
        "{args:?} should name '{value}': {stderr}"
    );
    assert!(
        stderr.contains(says),
        "{args:?} should say {says:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed: {}", out.stdout);
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// What identifies a file's content as it was: a replaced file has a new inode, a rewritten
/// one a new length or time.
fn fingerprint(path: &Path) -> (u64, u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.len(), m.mtime(), m.mtime_nsec())
}

const FUNCTION: &str = "def f(start, end):\n    return end - start\n";

/// An interpreter of the test's own: a script that runs python3, a regular file parlab runs,
/// which an export could replace (the real interpreter is never put at risk).
fn own_python(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let py = dir.join("py");
    std::fs::write(&py, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    py
}

#[test]
fn no_export_of_any_command_replaces_the_program_or_an_input() {
    let dir = scratch("protected");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_parlab"));
    let link = dir.join("parlab-link");
    std::os::unix::fs::symlink(&exe, &link).unwrap();
    let hard = dir.join("parlab-hard");
    let mut program = vec![s(&exe), s(&link), "/proc/self/exe".to_string()];
    match std::fs::hard_link(&exe, &hard) {
        Ok(()) => program.push(s(&hard)),
        Err(e) => eprintln!("skipped: a hard link to the binary ({e})"),
    }
    let baseline = dir.join("base.json");
    std::fs::write(&baseline, "{\"schema\": 2}").unwrap();
    let baseline_hard = dir.join("base-hard.json");
    std::fs::hard_link(&baseline, &baseline_hard).unwrap();
    let baseline_link = dir.join("base-link.json");
    std::os::unix::fs::symlink("base.json", &baseline_link).unwrap();
    let source = dir.join("v.py");
    std::fs::write(&source, FUNCTION).unwrap();
    let source_hard = dir.join("v-hard.py");
    std::fs::hard_link(&source, &source_hard).unwrap();
    let source_link = dir.join("v-link.py");
    std::os::unix::fs::symlink("v.py", &source_link).unwrap();
    let before = [
        fingerprint(&exe),
        fingerprint(&baseline),
        fingerprint(&source),
    ];

    let mut cases: Vec<(Vec<String>, String, &str)> = Vec::new();
    let bench_flags = [
        "--export-json",
        "--export-csv",
        "--export-markdown",
        "--export-html",
        "--plot",
    ];
    for flag in bench_flags {
        for to in &program {
            let mut a = args(&["bench"]);
            a.extend(args(&FOREVER));
            a.extend([flag.to_string(), to.clone()]);
            cases.push((a, to.clone(), "parlab's own program"));
        }
        for to in [&baseline, &baseline_hard, &baseline_link] {
            let mut a = args(&["bench"]);
            a.extend(args(&FOREVER));
            a.extend(["--baseline".into(), s(&baseline), flag.into(), s(to)]);
            cases.push((a, s(to), "the baseline this benchmark compares with"));
        }
    }
    let target = format!("{}:f", s(&source));
    let forever_py = ["-r", "0..1e15", "-w", "2", "--roads", "threads", "-q"];
    for flag in ["--export-json", "--export-csv", "--export-markdown"] {
        for to in [&source, &source_hard, &source_link] {
            let mut a = args(&["python", &target]);
            a.extend(args(&forever_py));
            a.extend([flag.into(), s(to)]);
            cases.push((a, s(to), "the Python file of the function measured"));
        }
        for to in &program {
            let mut a = args(&["python", &target]);
            a.extend(args(&forever_py));
            a.extend([flag.into(), to.clone()]);
            cases.push((a, to.clone(), "parlab's own program"));
        }
    }
    for to in &program {
        cases.push((
            args(&["probe", "fork-rss", "--no-python", "--plot", to]),
            to.clone(),
            "parlab's own program",
        ));
    }
    let py = have_python().then(|| own_python(&dir));
    if let Some(py) = &py {
        for flag in ["--export-json", "--export-csv", "--export-markdown"] {
            let mut a = args(&["python", &target, "--python", &s(py)]);
            a.extend(args(&forever_py));
            a.extend([flag.into(), s(py)]);
            cases.push((a, s(py), "the interpreter"));
        }
        cases.push((
            args(&["probe", "fork-rss", "--python", &s(py), "--plot", &s(py)]),
            s(py),
            "the interpreter",
        ));
    }
    let before_py = py.as_deref().map(fingerprint);
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for (a, value, says) in &cases {
        refused(&dir, a, value, says);
    }
    assert_eq!(
        py.as_deref().map(fingerprint),
        before_py,
        "the interpreter was replaced"
    );
    assert_eq!(
        [
            fingerprint(&exe),
            fingerprint(&baseline),
            fingerprint(&source)
        ],
        before,
        "a protected file was replaced"
    );
    assert_eq!(
        std::fs::read_to_string(&source).unwrap(),
        FUNCTION,
        "the source changed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits until `pid` has `path` open (it reads or waits on it), up to the deadline.
fn wait_until_open(pid: u32, path: &Path) {
    let began = Instant::now();
    let want = std::fs::canonicalize(path).unwrap();
    loop {
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == want));
        if open {
            return;
        }
        assert!(began.elapsed() < DEADLINE, "{pid} never opened {path:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `pid` catches `signal` (its handler is installed), up to the deadline.
fn wait_until_catching(pid: u32, signal: Signal) {
    let began = Instant::now();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0);
        if caught {
            return;
        }
        assert!(began.elapsed() < DEADLINE, "{pid} never caught {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to a running parlab and asserts it ends with `code` within a bound generous
/// for a busy machine (a stop that is ignored never ends).
fn stop(mut child: std::process::Child, signal: Signal, code: i32) -> String {
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{signal} did not end parlab within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn a_baseline_without_end_or_without_writer_is_ended() {
    let dir = scratch("unbounded");
    let mut forever = args(&["bench"]);
    forever.extend(args(&FOREVER));
    let with = |baseline: &str| {
        let mut a = forever.clone();
        a.extend(["--baseline".into(), baseline.into()]);
        a
    };
    // A device that never ends: refused at the bound, in moments, not after gigabytes.
    let began = Instant::now();
    refused(&dir, &with("/dev/zero"), "/dev/zero", "larger than 64 MiB");
    assert!(began.elapsed() < DEADLINE);
    refused(&dir, &with(&s(&dir)), &s(&dir), "cannot read it");
    // A FIFO nobody writes to: waited on, and the wait ends on Ctrl-C or SIGTERM.
    let fifo = dir.join("in.fifo");
    mkfifo(&fifo);
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let child = Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(with(&s(&fifo)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until_open(child.id(), &fifo);
        let stderr = stop(child, signal, code);
        assert!(stderr.contains(signal.as_str()), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stop_while_an_export_waits_for_its_reader_exits_as_the_signal() {
    let dir = scratch("fifo-export");
    let fifo = dir.join("out.fifo");
    mkfifo(&fifo);
    let done = dir.join("done.md");
    let child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .current_dir(&dir)
        .arg("bench")
        .args(TINY)
        .args(["--export-json", "out.fifo", "--export-markdown", "done.md"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The Markdown file is complete once every round is measured; the FIFO is written after.
    let began = Instant::now();
    while !std::fs::read_to_string(&done)
        .is_ok_and(|t| t.contains("measured rounds") && !t.contains("(incomplete)"))
    {
        assert!(began.elapsed() < DEADLINE, "the benchmark never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let stderr = stop(child, Signal::SIGINT, 130);
    assert!(
        stderr.contains("writing out.fifo: stopped while waiting for its reader"),
        "{stderr}"
    );
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A report of this machine from the tiny matrix, measured once per test that needs one.
fn measured(dir: &Path) -> Value {
    let mut a = args(&["bench"]);
    a.extend(args(&TINY));
    a.extend(args(&["--export-json", "measured.json"]));
    let out = parlab(dir, &a);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serde_json::from_str(&std::fs::read_to_string(dir.join("measured.json")).unwrap()).unwrap()
}

/// Every run of every cell of `report`.
fn runs(report: &mut Value) -> impl Iterator<Item = &mut Value> {
    report["cells"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|c| c["runs"].as_array_mut().unwrap().iter_mut())
}

#[test]
fn a_baseline_no_benchmark_could_have_written_is_refused_naming_the_field_and_the_cell() {
    let dir = scratch("corrupt");
    let good = measured(&dir);
    type Edit = Box<dyn Fn(&mut Value)>;
    let every_wall = |v: f64| -> Edit {
        Box::new(move |r| {
            for run in runs(r) {
                run["wall_s"] = v.into();
            }
        })
    };
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "zero",
            every_wall(0.0),
            "cells[0] (sequential x1 on count 0..10000): runs[0].wall_s is 0",
        ),
        ("negative", every_wall(-1.5), "runs[0].wall_s is -1.5"),
        ("subnormal", every_wall(5e-324), "runs[0].wall_s is 5e-324"),
        (
            "below-a-nanosecond",
            every_wall(1e-10),
            "runs[0].wall_s is 1e-10",
        ),
        (
            "negative-cpu",
            Box::new(|r| r["cells"][1]["runs"][0]["user_s"] = (-0.5).into()),
            "cells[1] (threads x2 on count 0..10000): runs[0].user_s is -0.5",
        ),
        (
            "paired-zero",
            Box::new(|r| r["cells"][1]["runs"][1]["baseline_s"] = 0.into()),
            "runs[1].baseline_s is 0",
        ),
        (
            "run-ceiling",
            Box::new(|r| r["cells"][1]["runs"][0]["ceiling"] = (-2.0).into()),
            "runs[0].ceiling is -2",
        ),
        (
            "speedup",
            Box::new(|r| r["cells"][1]["speedup"]["value"] = 0.into()),
            "cells[1] (threads x2 on count 0..10000): speedup.value is 0",
        ),
        (
            "ceiling",
            Box::new(|r| r["cells"][1]["ceiling"]["low"] = (-1.0).into()),
            "ceiling.low is -1",
        ),
        (
            "machine-ceiling",
            Box::new(|r| r["ceilings"]["at"][0]["ceiling"]["high"] = 0.into()),
            "ceilings.at[0].ceiling.high is 0",
        ),
        (
            "empty-runs",
            Box::new(|r| r["cells"][0]["runs"] = Value::Array(vec![])),
            "cells[0] (sequential x1 on count 0..10000): runs is empty",
        ),
        (
            "nothing-measured",
            Box::new(|r| {
                r["complete"] = false.into();
                for c in r["cells"].as_array_mut().unwrap() {
                    c["runs"] = Value::Array(vec![]);
                }
            }),
            "have no measured run",
        ),
        (
            "text-wall",
            Box::new(|r| r["cells"][0]["runs"][0]["wall_s"] = "fast".into()),
            "not a complete schema 2 report",
        ),
    ];
    assert!(cases.len() >= 12);
    for (name, edit, says) in &cases {
        let mut bad = good.clone();
        edit(&mut bad);
        let file = format!("{name}.json");
        std::fs::write(dir.join(&file), bad.to_string()).unwrap();
        let mut a = args(&["bench"]);
        a.extend(args(&TINY));
        a.extend(args(&[
            "--baseline",
            &file,
            "--fail-if-slower",
            "20%",
            "--export-json",
            "new.json",
        ]));
        refused(&dir, &a, &file, says);
        assert!(!dir.join("new.json").exists(), "{name}: it measured");
    }
    // Bytes that are not text, and a number beyond any float.
    std::fs::write(dir.join("bytes.json"), b"{\"schema\": 2, \xff\xfe}").unwrap();
    std::fs::write(dir.join("huge.json"), "{\"schema\": 2, \"x\": 1e400}").unwrap();
    for (file, says) in [("bytes.json", "not UTF-8"), ("huge.json", "not JSON")] {
        let mut a = args(&["bench"]);
        a.extend(args(&TINY));
        a.extend(args(&["--baseline", file]));
        refused(&dir, &a, file, says);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// True when `text` holds a character that would drive a terminal.
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn text_parlab_did_not_write_reaches_the_terminal_escaped() {
    let dir = scratch("controls");
    let mut evil = measured(&dir);
    evil["machine"]["cpu_model"] = "Evil\u{1b}[2J\u{1b}]0;owned\u{7}CPU".into();
    evil["parlab_version"] = "0.0.1\u{1b}[31m".into();
    std::fs::write(dir.join("evil.json"), evil.to_string()).unwrap();
    let mut a = args(&["bench"]);
    a.extend(args(&TINY));
    a.extend(args(&["--baseline", "evil.json", "--export-markdown", "-"]));
    let out = parlab(&dir, &a);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(!has_controls(text), "raw control characters: {text:?}");
    }
    assert!(
        out.stderr
            .contains("CPU model: Evil\\u{1b}[2J\\u{1b}]0;owned\\u{7}CPU then"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("0.0.1\\u{1b}[31m then"),
        "{}",
        out.stdout
    );

    // In errors: a baseline's cells, a value typed, a file name, an unknown flag.
    let mut other = evil.clone();
    for c in other["cells"].as_array_mut().unwrap() {
        c["split"] = "static\u{1b}[2K".into();
    }
    std::fs::write(dir.join("other.json"), other.to_string()).unwrap();
    let mut with_other = args(&["bench"]);
    with_other.extend(args(&FOREVER));
    with_other.extend(args(&["--baseline", "other.json"]));
    for (a, shown) in [
        (with_other, "static\\u{1b}[2K"),
        (args(&["run", "-k", "\u{1b}[2Jfib"]), "'\\u{1b}[2Jfib'"),
        (
            args(&["python", "a\u{1b}[2J\u{9b}1m.py:f"]),
            "'a\\u{1b}[2J\\u{9b}1m.py:f'",
        ),
        (
            args(&["bench", "--export-json", "/no/such/\u{7}dir/x.json"]),
            "'/no/such/\\u{7}dir/x.json'",
        ),
        // The argument parser drops what it cannot show.
        (args(&["run", "--col\u{7}our"]), "'--colour'"),
    ] {
        let out = parlab(&dir, &a);
        assert_eq!(out.code, Some(2), "{a:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{a:?}: {}", out.stderr);
        assert!(!has_controls(&out.stderr), "{a:?}: {:?}", out.stderr);
        assert!(out.stderr.contains(shown), "{a:?}: {}", out.stderr);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn values_at_the_edges_name_what_is_allowed() {
    let dir = scratch("edges");
    std::fs::write(dir.join("v.py"), FUNCTION).unwrap();
    mkfifo(&dir.join("fifo.py"));
    std::fs::create_dir(dir.join("pkg.py")).unwrap();
    let bench = |extra: &[&str]| {
        let mut a = args(&["bench"]);
        a.extend(args(&FOREVER));
        a.extend(args(extra));
        a
    };
    let new_dir = format!("{}/new.json/", s(&dir));
    let dot = format!("{}/plot.svg/.", s(&dir));
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            args(&["run", "-w", "18446744073709551616"]),
            "18446744073709551616",
            "between 1 and 1024",
        ),
        (
            bench(&["-w", "1,99999999999999999999999"]),
            "99999999999999999999999",
            "between 1 and 1024",
        ),
        (
            args(&["verify", "-w", "1e30"]),
            "1e30",
            "between 1 and 1024",
        ),
        (
            args(&["run", "--retries", "1e40"]),
            "1e40",
            "between 0 and 100",
        ),
        (
            args(&["bench", "--runs", "1e40"]),
            "1e40",
            "between 1 and 10000",
        ),
        (
            args(&["bench", "--warmup", "18446744073709551616"]),
            "18446744073709551616",
            "between 0 and 100",
        ),
        (
            args(&["run", "-b", "gil-legacy", "--check-interval", "1e25"]),
            "1e25",
            "between 1 and 1000000",
        ),
        (
            args(&["python", "v.py:f", "--runs", "1e40"]),
            "1e40",
            "between 1 and 10000",
        ),
        (
            args(&["python", "v.py:f", "--warmup", "1e19"]),
            "1e19",
            "between 0 and 100",
        ),
        (
            args(&["run", "--timeout", "0.0000001ns"]),
            "0.0000001ns",
            "below 1ns",
        ),
        (args(&["run", "--timeout", "0.4ns"]), "0.4ns", "below 1ns"),
        (args(&["run", "--timeout", "0s"]), "0s", "above zero"),
        (args(&["bench", "--timeout", "0ms"]), "0ms", "above zero"),
        (
            args(&["run", "-b", "gil", "--switch-interval", "0.1ns"]),
            "0.1ns",
            "below 1ns",
        ),
        (
            args(&["run", "-b", "gil", "--switch-interval", "0us"]),
            "0us",
            "above zero",
        ),
        (args(&["run", "-k", "sleep:0.3ns"]), "0.3ns", "below 1ns"),
        (
            bench(&["--export-json", &new_dir]),
            &new_dir,
            "names a directory",
        ),
        (bench(&["--plot", &dot]), &dot, "names a directory"),
        (
            args(&["python", "pkg.py:f"]),
            "pkg.py:f",
            "pkg.py is a directory, not a regular file",
        ),
        (
            args(&["python", "fifo.py:f"]),
            "fifo.py:f",
            "fifo.py is a FIFO, not a regular file",
        ),
        (
            args(&["python", "/dev/null:f"]),
            "/dev/null:f",
            "/dev/null is a device, not a regular file",
        ),
        (
            args(&["python", "gone.py:f"]),
            "gone.py:f",
            "no such file gone.py",
        ),
    ];
    for (a, value, says) in &cases {
        refused(&dir, a, value, says);
    }
    assert!(!dir.join("new.json").exists() && !dir.join("plot.svg").exists());
    // What the messages allow is allowed: the smallest durations.
    for a in [
        args(&["run", "-r", "0..10", "--timeout", "1ns"]),
        args(&["run", "-r", "0..10", "--timeout", "0.6ns"]),
        args(&[
            "run",
            "-r",
            "0..10",
            "-b",
            "gil",
            "--switch-interval",
            "1ns",
        ]),
    ] {
        let out = parlab(&dir, &a);
        assert_ne!(out.code, Some(2), "{a:?} refused: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{a:?}: {}", out.stderr);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_longest_legal_export_names_are_written() {
    let dir = scratch("long-names");
    // 255 bytes, the most a name may have (NAME_MAX).
    let json = "j".repeat(250) + ".json";
    let csv = "c".repeat(251) + ".csv";
    let mut a = args(&["bench"]);
    a.extend(args(&TINY));
    a.extend([
        "--export-json".into(),
        json.clone(),
        "--export-csv".into(),
        csv.clone(),
    ]);
    let out = parlab(&dir, &a);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&json)).unwrap()).unwrap();
    assert_eq!(report["complete"], true);
    assert!(
        std::fs::read_to_string(dir.join(&csv))
            .unwrap()
            .contains("threads")
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with(".std"))
        .collect();
    left.sort();
    assert_eq!(left, [csv, json], "a temporary file was left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cell_asked_for_twice_is_measured_once() {
    let dir = scratch("twice");
    let out = parlab(
        &dir,
        &args(&[
            "bench",
            "-b",
            "threads,threads",
            "-w",
            "2,2",
            "-k",
            "count,count",
            "-r",
            "0..1e4,0..10000",
            "--runs",
            "1",
            "--warmup",
            "0",
            "-q",
            "--export-json",
            "r.json",
        ]),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    let cells: Vec<String> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c["kernel"], c["range"], c["backend"], c["workers"]
            )
        })
        .collect();
    assert_eq!(cells.len(), 2, "{cells:?}");
    assert_ne!(cells[0], cells[1]);
    // One table row each (the kernel and range, the same in every row, said once under the
    // table), and one A/A line for the one baseline.
    let rows = out
        .stdout
        .lines()
        .filter(|l| {
            let row: Vec<&str> = l.split_whitespace().take(2).collect();
            row == ["sequential", "1"] || row == ["threads", "2"]
        })
        .count();
    assert_eq!(rows, 2, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("The same in every row: kernel count, range 0..10000."),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("against itself").count(),
        1,
        "{}",
        out.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_benchmark_claims_only_the_exports_it_has() {
    let dir = scratch("interrupted");
    // Within the sequential answer of a long range, after some rounds of a short one, and
    // after the first round was exported.
    for (range, exports) in [
        ("0..1e13", &[][..]),
        ("0..1e6", &[][..]),
        ("0..1e6", &["--export-json", "r.json"][..]),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
            .current_dir(&dir)
            .args(["bench", "-b", "threads", "-w", "2", "-r", range, "-q"])
            .args(["--warmup", "0", "--runs", "10000", "--max-time", "1h"])
            .args(exports)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until_catching(child.id(), Signal::SIGINT);
        let began = Instant::now();
        if exports.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
        } else {
            while !dir.join("r.json").exists() {
                assert!(began.elapsed() < DEADLINE, "no round was ever exported");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the benchmark ended before it was stopped"
        );
        let stderr = stop(child, Signal::SIGINT, 130);
        assert!(
            stderr.contains("interrupted by signal 2 (SIGINT)"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        if exports.is_empty() {
            assert!(!stderr.contains("export"), "{range}: {stderr}");
        } else {
            assert!(stderr.contains("; the exports hold "), "{stderr}");
            let report: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap())
                    .unwrap();
            assert_eq!(report["complete"], false, "{report}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn python_sources_and_interpreters_named_twice_or_holding_a_nul() {
    if !have_python() {
        return;
    }
    let dir = scratch("python");
    std::fs::write(
        dir.join("nul.py"),
        b"def f(start, end):\n    x = 1\n    return end - start\0\n",
    )
    .unwrap();
    let out = parlab(&dir, &args(&["python", "nul.py:f", "-q"]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("nul.py line 3: a NUL byte"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("None"), "{}", out.stderr);

    std::fs::write(dir.join("v.py"), FUNCTION).unwrap();
    let version = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout)
        .unwrap()
        .trim()
        .to_string();
    for twice in [
        format!("{version},{version}"),
        "python3,python3".to_string(),
    ] {
        let out = parlab(
            &dir,
            &args(&[
                "python", "v.py:f", "-r", "0..100", "-w", "2", "--roads", "threads", "--runs", "1",
                "--warmup", "0", "--json", "-q", "--python", &twice,
            ]),
        );
        assert_eq!(out.code, Some(0), "{twice}: {}", out.stderr);
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        let rows = report["rows"].as_array().unwrap();
        let sequential = rows.iter().filter(|r| r["road"] == "sequential").count();
        assert_eq!(sequential, 1, "{twice}: {rows:?}");
    }
    // A file whose name would drive the terminal is measured, and its name shown escaped.
    let odd = "odd\u{1b}[2J.py";
    std::fs::write(dir.join(odd), FUNCTION).unwrap();
    let out = parlab(
        &dir,
        &args(&[
            "python",
            &format!("{odd}:f"),
            "-r",
            "0..100",
            "-w",
            "2",
            "--roads",
            "threads",
            "--runs",
            "1",
            "--warmup",
            "0",
            "-q",
        ]),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(!has_controls(text), "raw control characters: {text:?}");
    }
    assert!(
        out.stdout.contains("odd\\u{1b}[2J.py:f over 0..100"),
        "{}",
        out.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stopped_verify_starts_no_further_case() {
    let dir = scratch("verify-stop");
    let out_path = dir.join("rows");
    let child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args([
            "verify",
            "-b",
            "sequential,threads",
            "-w",
            "1,2",
            "-k",
            "count",
        ])
        .args(["-r", "0..3e8"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The header, then the first case: the stop comes while the later ones are to run.
    let began = Instant::now();
    while std::fs::read_to_string(&out_path).map_or(0, |t| t.lines().count()) < 2 {
        assert!(began.elapsed() < DEADLINE, "no case finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = std::fs::read_to_string(&out_path).unwrap().lines().count();
    let stderr = stop(child, Signal::SIGTERM, 143);
    assert!(
        stderr.contains("interrupted by signal 15 (SIGTERM)"),
        "{stderr}"
    );
    let rows = std::fs::read_to_string(&out_path).unwrap();
    let after = rows.lines().count();
    // At most the case the stop cut short was added, and no summary of cases never run.
    assert!(after <= before + 1, "{rows}");
    assert!(!rows.contains(" cases: "), "{rows}");
    if after == before + 1 {
        assert!(rows.lines().last().unwrap().contains("SIGTERM"), "{rows}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
