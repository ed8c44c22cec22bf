//! Random input, bounded in time: the command line of `run`, `verify`, `bench` and `python`
//! with random flags and values, every parser those values reach, and the baseline reader with
//! random bytes and randomly damaged reports. Nothing may panic or hang: a command either ends
//! by itself (0, 1, or 2 with one line naming the value) or ends on SIGTERM as a stopped
//! command does (143).
//!
//! The in-process properties run proptest's cases in full; the commands run until their time
//! budget is spent, so that the test costs about the same on any machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use proptest::prelude::*;
use serde_json::Value;

use parlab::backend::BackendKind;
use parlab::bench::{self, BenchOptions, BenchReport, baseline};
use parlab::kernels::Kernel;
use parlab::report::export::Exporter;
use parlab::span::Span;

/// Time the random commands may take in all; cases beyond it are not run.
const COMMAND_BUDGET: Duration = Duration::from_secs(40);

/// How long one command may run on its own before it is sent SIGTERM.
const LET_RUN: Duration = Duration::from_secs(2);

/// How long a command may take to end once sent SIGTERM, generous for a busy machine.
const STOP_WITHIN: Duration = Duration::from_secs(60);

fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("random-input-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(
            dir.join("v.py"),
            "def f(start, end):\n    return end - start\n",
        )
        .unwrap();
        std::fs::write(dir.join("b.json"), "{\"schema\": 2}").unwrap();
        nix::unistd::mkfifo(
            &dir.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        dir
    })
}

/// Values a user might type, valid and hostile, for any flag.
const VALUES: &[&str] = &[
    "",
    "-",
    "0",
    "1",
    "2",
    "-1",
    "2,2",
    "1,0",
    "1e3",
    "1e40",
    "1.5",
    "18446744073709551616",
    "99999999999999999999999",
    "0..0",
    "5..1",
    "0..1e4",
    "0..1e13",
    "0..18446744073709551615",
    "static",
    "chunks:0",
    "chunks:7",
    "chunks:1e20",
    "count",
    "sum,primes",
    "sleep:1us",
    "sleep:0.3ns",
    "sleep:-1ms",
    "threads",
    "sequential,threads",
    "pool",
    "processes",
    "gil",
    "gil-legacy",
    "nope",
    "spawn",
    "forkserver",
    "0ns",
    "0.0000001ns",
    "1ns",
    "10ms",
    "1h",
    "99h",
    "5%",
    "off",
    "200%",
    "threads,processes",
    "subinterpreters",
    "python3",
    "python3,python3",
    "9.9",
    "/dev/zero",
    "/dev/null",
    "/proc/self/exe",
    "b.json",
    "v.py",
    "fifo",
    "sub",
    "sub/",
    "sub/new.json/",
    "new.json",
    "\u{1b}[2J",
    "\u{9b}31m",
    "\u{202e}x",
];

/// Each command's flags, with whether it takes a value.
fn flags(command: &str) -> &'static [(&'static str, bool)] {
    const ENGINE: &[(&str, bool)] = &[
        ("-b", true),
        ("-w", true),
        ("-k", true),
        ("-r", true),
        ("-s", true),
        ("--switch-interval", true),
        ("--check-interval", true),
        ("--start", true),
    ];
    const RUN: &[(&str, bool)] = &[("--json", false), ("--timeout", true), ("--retries", true)];
    const VERIFY: &[(&str, bool)] = &[("--json", false)];
    const BENCH: &[(&str, bool)] = &[
        ("--timeout", true),
        ("--runs", true),
        ("--warmup", true),
        ("--min-time", true),
        ("--max-time", true),
        ("--precision", true),
        ("--export-json", true),
        ("--export-csv", true),
        ("--export-markdown", true),
        ("--export-html", true),
        ("--plot", true),
        ("--baseline", true),
        ("--fail-if-slower", true),
        ("-q", false),
    ];
    const PYTHON: &[(&str, bool)] = &[
        ("-r", true),
        ("-w", true),
        ("-s", true),
        ("--roads", true),
        ("--python", true),
        ("--warmup", true),
        ("--runs", true),
        ("--timeout", true),
        ("--retries", true),
        ("--json", false),
        ("--export-json", true),
        ("--export-csv", true),
        ("--export-markdown", true),
        ("-q", false),
    ];
    static ALL: OnceLock<[Vec<(&str, bool)>; 4]> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        [
            [ENGINE, RUN].concat(),
            [ENGINE, VERIFY].concat(),
            [ENGINE, BENCH].concat(),
            PYTHON.to_vec(),
        ]
    });
    match command {
        "run" => &all[0],
        "verify" => &all[1],
        "bench" => &all[2],
        _ => &all[3],
    }
}

/// A value: one of [`VALUES`] or random text (never a NUL, which no argument can hold).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(VALUES).prop_map(String::from),
        1 => "[^\u{0}]{0,12}",
    ]
}

/// A command line: a command, for `python` its FILE:FUNCTION, then up to five flags.
fn command_line() -> impl Strategy<Value = Vec<String>> {
    let command = proptest::sample::select(&["run", "verify", "bench", "python"][..]);
    (
        command,
        proptest::sample::select(
            &[
                "v.py:f",
                "v.py:g",
                "v.py:",
                "sub:f",
                "fifo:f",
                "/dev/null:f",
                "gone.py:f",
            ][..],
        ),
        proptest::collection::vec((any::<proptest::sample::Index>(), value()), 0..6),
    )
        .prop_map(|(command, target, picks)| {
            let mut args = vec![command.to_string()];
            if command == "python" {
                args.push(target.to_string());
            }
            let flags = flags(command);
            for (pick, value) in picks {
                let (flag, takes) = flags[pick.index(flags.len())];
                args.push(flag.to_string());
                if takes {
                    args.push(value);
                }
            }
            args
        })
}

/// Runs one command line to its end, or to SIGTERM after [`LET_RUN`], and checks how it ended.
fn check_command(args: &[String], n: usize) -> Result<(), TestCaseError> {
    let dir = scratch();
    let out_path = dir.join(format!(".out-{n}"));
    let err_path = dir.join(format!(".err-{n}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let began = Instant::now();
    let mut stopped_at = None;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        match stopped_at {
            None if began.elapsed() > LET_RUN => {
                kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
                stopped_at = Some(Instant::now());
            }
            Some(at) if at.elapsed() > STOP_WITHIN => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TestCaseError::fail(format!(
                    "{args:?}: SIGTERM did not end it within {STOP_WITHIN:?}"
                )));
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr =
        String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    prop_assert!(!stderr.contains("panicked"), "{:?}: {}", args, stderr);
    let code = status.code();
    prop_assert!(
        code.is_some(),
        "{:?} was killed by a signal: {:?} {}",
        args,
        status,
        stderr
    );
    let code = code.unwrap();
    let allowed: &[i32] = if stopped_at.is_some() {
        // It may have ended by itself just as the signal came.
        &[0, 1, 143]
    } else {
        &[0, 1, 2]
    };
    prop_assert!(
        allowed.contains(&code),
        "{:?}: exit {}: {}",
        args,
        code,
        stderr
    );
    if code == 2 {
        prop_assert_eq!(stderr.lines().count(), 1, "{:?}: {}", args, stderr);
        prop_assert!(stderr.starts_with("error: "), "{:?}: {}", args, stderr);
        prop_assert!(stdout.is_empty(), "{:?} printed: {}", args, stdout);
    }
    // Whatever the user typed, nothing printed drives the terminal.
    for text in [&stdout, &stderr] {
        prop_assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{:?}: raw control characters: {:?}",
            args,
            text
        );
    }
    Ok(())
}

#[test]
fn random_command_lines_end_with_a_clear_status_and_never_hang() {
    let began = Instant::now();
    let ran = std::sync::atomic::AtomicUsize::new(0);
    let skipped = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&command_line(), |args| {
        if began.elapsed() > COMMAND_BUDGET {
            skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
        let n = ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        check_command(&args, n)
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (ran, skipped) = (ran.into_inner(), skipped.into_inner());
    eprintln!("random command lines: {ran} run, {skipped} beyond the time budget");
    assert!(
        ran >= 8,
        "only {ran} command lines ran within {COMMAND_BUDGET:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every parser a command-line value reaches gives a value or bad input, never a panic,
    /// and what it gives obeys its own rule.
    #[test]
    fn every_value_parser_answers_or_refuses(text in prop_oneof![
        proptest::sample::select(VALUES).prop_map(String::from),
        "\\PC{0,16}",
        "[0-9._eEkKmM+-]{0,24}",
        "[0-9]{0,8}\\.\\.[0-9e.]{0,8}",
    ]) {
        let usage = |e: parlab::Error| -> Result<(), TestCaseError> {
            prop_assert!(e.is_usage(), "{:?}: not bad input: {}", text, e);
            Ok(())
        };
        match parlab::number::parse_u64(&text) {
            Ok(n) => {
                if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                    prop_assert_eq!(Some(n), text.parse::<u64>().ok());
                }
            }
            Err(e) => usage(e)?,
        }
        match parlab::number::parse_u64_in("workers", &text, 1, 1024) {
            Ok(n) => prop_assert!((1..=1024).contains(&n)),
            Err(e) => {
                usage(e)?;
            }
        }
        match parlab::units::parse_duration(&text) {
            Ok(d) => prop_assert!(d <= Duration::from_secs(3600)),
            Err(e) => usage(e)?,
        }
        if let Err(e) = text.parse::<Span>() { usage(e)? }
        if let Err(e) = text.parse::<parlab::split::Split>() { usage(e)? }
        if let Err(e) = text.parse::<Kernel>() { usage(e)? }
        if let Err(e) = text.parse::<BackendKind>() { usage(e)? }
        if let Err(e) = text.parse::<parlab::probe::ProbeKind>() { usage(e)? }
        if let Err(e) = parlab::pyfunc::Road::parse_list(&text) { usage(e)? }
        if let Err(e) = parlab::cpython::discover::InterpreterSpec::parse_list(&text) { usage(e)? }
        match bench::baseline::parse_fail_if_slower(&text) {
            Ok(p) => prop_assert!((0.0..=10.0).contains(&p)),
            Err(e) => usage(e)?,
        }
        match bench::parse_precision(&text) {
            Ok(p) => prop_assert!(p.map_or(text == "off", |p| p > 0.0 && p < 1.0)),
            Err(e) => usage(e)?,
        }
        match parlab::units::parse_positive_duration("timeout", &text) {
            Ok(d) => prop_assert!(!d.is_zero() && d <= Duration::from_secs(3600)),
            Err(e) => usage(e)?,
        }
        let target = format!("{}/{text}:f", scratch().display());
        if let Err(e) = target.parse::<parlab::pyfunc::Target>() { usage(e)? }
        let place = format!("{}/{text}", scratch().join("sub").display());
        if let Err(e) = parlab::report::output::Output::parse("export", &place) { usage(e)? }
    }
}

/// A report of this machine from a tiny benchmark, measured once, and the spec it came from.
fn measured() -> &'static (BenchOptions, BenchReport, Value) {
    static REPORT: OnceLock<(BenchOptions, BenchReport, Value)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let spec = BenchOptions {
            backends: vec![BackendKind::Threads],
            workers: vec![2],
            kernels: vec![Kernel::Count],
            ranges: vec![Span::new(0, 10_000).unwrap()],
            split: parlab::split::Split::Static,
            warmup: 0,
            runs: 3,
            min_time: None,
            precision: None,
            max_time: Some(Duration::from_secs(30)),
            options: parlab::backend::BackendOptions::default(),
        };
        let report = bench::run(&spec, &mut |_| {}, &mut |_| Ok(())).unwrap();
        let value = serde_json::to_value(&report).unwrap();
        (spec, report, value)
    })
}

/// Every place in a JSON value, as a JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Numbers no benchmark measures, and some it does.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(-1.0),
        Just(5e-324),
        Just(1e-10),
        Just(1e300),
        Just(f64::MAX),
        any::<f64>().prop_filter("JSON numbers are finite", |v| v.is_finite()),
        0.0..10.0,
    ]
}

/// What a damaged report may hold in place of a field: mostly a value of the same kind (a
/// number for a number, text for text), which the schema alone cannot refuse.
fn damage() -> impl Strategy<Value = (bool, f64, String, Value)> {
    (
        proptest::bool::weighted(0.8),
        number(),
        prop_oneof!["\\PC{0,8}", "[\u{1}-\u{1f}\u{7f}-\u{9f}a-z]{0,6}"],
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            Just(Value::Array(vec![])),
            Just(Value::Object(Default::default())),
        ],
    )
}

/// The damage `d` for the value `was`.
fn damaged(was: &Value, (same_kind, n, text, any): (bool, f64, String, Value)) -> Value {
    match was {
        Value::Number(_) if same_kind => Value::from(n),
        Value::String(_) if same_kind => Value::from(text),
        Value::Array(_) if same_kind => Value::Array(vec![]),
        _ => any,
    }
}

/// A parsed baseline, compared with this machine's report: no panic, every change a finite
/// ratio, and none of its text raw in what is printed.
fn compare(old: &BenchReport) -> Result<(), TestCaseError> {
    let (spec, now, _) = measured();
    if let Err(e) = baseline::check_overlap("b.json", old, &spec.cell_keys()) {
        prop_assert!(e.is_usage(), "{}", e);
        return Ok(());
    }
    let mut new = now.clone();
    baseline::annotate(&mut new, old, "b.json", Some(0.2));
    for cell in &new.cells {
        if let Some(c) = cell.baseline_change {
            for v in [c.value, c.low, c.high] {
                prop_assert!(
                    v.is_finite() && v > 0.0,
                    "change {:?} of {}",
                    c,
                    cell.label()
                );
            }
        }
    }
    let lines: Vec<String> = parlab::report::markdown::comparison_lines(&new)
        .into_iter()
        .chain(parlab::report::markdown::findings(&new))
        .chain(parlab::report::markdown::machine_lines(&new))
        .collect();
    for line in &lines {
        prop_assert!(
            !line.chars().any(char::is_control),
            "raw control: {:?}",
            line
        );
    }
    let _ = parlab::report::markdown::Markdown.render(&new);
    let _ = parlab::report::html::Html.render(&new);
    let _ = parlab::report::csv::Csv.render(&new);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes are a report or bad input.
    #[test]
    fn any_bytes_are_a_baseline_or_bad_input(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        match baseline::parse("b.json", &bytes) {
            Ok(old) => compare(&old)?,
            Err(e) => prop_assert!(e.is_usage(), "{}", e),
        }
    }

    /// A real report damaged in up to three places, or in one field of every run, is a report
    /// the comparison can use, or bad input naming what is wrong.
    #[test]
    fn a_damaged_report_is_compared_or_refused(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), damage()), 1..4),
        every in proptest::option::of((
            proptest::sample::select(&["wall_s", "user_s", "sys_s", "baseline_s", "ceiling"][..]),
            number(),
        )),
    ) {
        let (_, _, good) = measured();
        let mut bad = good.clone();
        if let Some((field, n)) = every {
            for cell in bad["cells"].as_array_mut().unwrap() {
                for run in cell["runs"].as_array_mut().unwrap() {
                    run[field] = Value::from(n);
                }
            }
        }
        for (at, with) in edits {
            let mut places = Vec::new();
            pointers(&bad, String::new(), &mut places);
            let place = &places[at.index(places.len())];
            if let Some(slot) = bad.pointer_mut(place) {
                *slot = damaged(slot, with);
            }
        }
        let text = serde_json::to_vec(&bad).unwrap();
        match baseline::parse("b.json", &text) {
            Ok(old) => compare(&old)?,
            Err(e) => {
                prop_assert!(e.is_usage(), "{}", e);
                prop_assert!(e.to_string().starts_with("invalid baseline 'b.json': "), "{}", e);
            }
        }
    }
}
