//! The bad-input catalogue: every bad invocation of every command gives one line on standard
//! error naming the value, exit 2, nothing on standard output, and no panic.

use assert_cmd::Command;

fn parlab() -> Command {
    Command::cargo_bin("parlab").unwrap()
}

/// The bad-input catalogue: every bad invocation gives exit 2, one line on stderr naming the
/// value, nothing on stdout, no panic.
#[test]
fn bad_inputs_give_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-r", "10..5"], "'10..5'"),
        (&["run", "-w", "0"], "'0'"),
        (&["run", "-w", "100000"], "'100000'"),
        (
            &["run", "-w", "99999999999999999999999"],
            "'99999999999999999999999'",
        ),
        (&["run", "-w", "two"], "'two'"),
        (&["run", "-s", "chunks:0"], "'0'"),
        (&["run", "-s", "chunks:abc"], "'abc'"),
        (&["run", "-s", "guided"], "'guided'"),
        (&["run", "-k", "fib"], "'fib'"),
        (&["run", "-k", "sleep:forever"], "'forever'"),
        (&["run", "-k", "count:3"], "'count:3'"),
        (&["run", "-b", "gpu2"], "'gpu2'"),
        (&["run", "-r", "0..abc"], "'abc'"),
        (
            &["run", "-r", "0..18446744073709551616"],
            "'18446744073709551616'",
        ),
        (&["run", "-r", "0..1e20"], "'1e20'"),
        (&["run", "-r", "1.5..3"], "'1.5'"),
        (&["run", "-r", "100"], "'100'"),
        (&["run", "-r", "-5..3"], "'-5'"),
        (&["run", "-w", "-1"], "'-1'"),
        (&["run", "--no-such-flag"], "--no-such-flag"),
        (&["frobnicate"], "frobnicate"),
        (&["verify", "-w", "1,0"], "'0'"),
        (&["verify", "-b", "threads,nope"], "'nope'"),
        (&["verify", "-k", "count,nope"], "'nope'"),
        (&["verify", "-s", "chunks:0"], "'0'"),
        (&["verify", "-r", "9..1"], "'9..1'"),
        (&["run", "-b", "gil", "--switch-interval", "0ms"], "'0ms'"),
        (&["run", "-b", "gil", "--switch-interval", "soon"], "'soon'"),
        (&["run", "-b", "gil-legacy", "--check-interval", "0"], "'0'"),
        (&["reproduce", "--switch-interval", "-5ms"], "'-5ms'"),
        (&["reproduce", "--check-interval", "1e9"], "'1e9'"),
        (&["run", "-b", "processes", "--start", "fork"], "'fork'"),
        (&["verify", "--start", "Spawn"], "'Spawn'"),
        (&["bench", "--start", ""], "''"),
        (
            &["reproduce", "--no-python", "--python", "python3"],
            "--python",
        ),
        (
            &["reproduce", "--python", "/no/such/python"],
            "'/no/such/python'",
        ),
        (&["reproduce", "--python", "/bin/false"], "'/bin/false'"),
        (&["reproduce", "--python", "9.9"], "'9.9'"),
        (
            &["probe", "--python", "/bin/false", "spawn"],
            "'/bin/false'",
        ),
        (&["run", "--timeout", "0s"], "'0s'"),
        (&["run", "--timeout", "soon"], "'soon'"),
        (&["run", "--timeout", "-1s"], "'-1s'"),
        (&["run", "--retries", "101"], "'101'"),
        (&["run", "--retries", "-1"], "'-1'"),
        (&["run", "--retries", "x"], "'x'"),
        (&["run", "-k", "sleep:2h"], "'2h'"),
        (&["run", "-k", "sleep:-1ms"], "'-1ms'"),
        (&["run", "-k", ""], "''"),
        (&["run", "-r", ""], "''"),
        (&["run", "-r", "0..1e8..2"], "'1e8..2'"),
        (&["run", "-s", "chunks:1e20"], "'1e20'"),
        (&["run", "-s", "static:4"], "'static:4'"),
        (&["run", "-w", "1.5"], "'1.5'"),
        (&["run", "--json", "--json"], "--json"),
        (&["verify", "-w", "2000"], "'2000'"),
        (&["verify", "-k", "sleep:forever"], "'forever'"),
        (&["verify", "-r", "0..x"], "'x'"),
        (&["verify", "-s", "static,guided"], "'guided'"),
        (&["reproduce", "--switch-interval", "0ns"], "'0ns'"),
        (&["reproduce", "--quick=yes"], "--quick"),
        (&["run", "extra"], "extra"),
        (&["probe", "nap"], "'nap'"),
        (&["bench", "--runs", "0"], "'0'"),
        (&["bench", "--warmup", "x"], "'x'"),
        (&["bench", "--min-time", "0s"], "'0s'"),
        (&["bench", "-b", "threads,nope"], "'nope'"),
        (&["bench", "-w", "1,0"], "'0'"),
        (&["bench", "-k", "fib"], "'fib'"),
        (&["bench", "-r", "5..1"], "'5..1'"),
        (
            &["bench", "--export-json", "/nonexistent/dir/r.json"],
            "'/nonexistent/dir/r.json'",
        ),
        (&["bench", "--plot", "/tmp"], "'/tmp'"),
        (&["bench", "--export-csv", ""], "''"),
        (&["probe", "spawn", "--plot", "x.svg"], "'x.svg'"),
        (
            &["probe", "fork-rss", "--plot", "/nonexistent/dir/x.svg"],
            "'/nonexistent/dir/x.svg'",
        ),
        (&["probe", "fork-rss", "--plot", "/tmp"], "'/tmp'"),
        (&["probe", "--no-python", "--python", "python3"], "--python"),
        // Exports: one place each; standard output carries one document.
        (&["bench", "--export-json", "-", "--export-csv", "-"], "'-'"),
        (
            &["bench", "--export-json", "-", "--plot", "/dev/stdout"],
            "'/dev/stdout'",
        ),
        (
            &[
                "bench",
                "--export-csv",
                "/tmp/r.csv",
                "--export-html",
                "/tmp/r.csv",
            ],
            "'/tmp/r.csv'",
        ),
        (&["probe", "fork-rss", "--json", "--plot", "-"], "'-'"),
    ];
    assert!(cases.len() >= 40, "the catalogue has {} cases", cases.len());
    for (args, needle) in cases {
        let out = parlab().args(*args).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?} should name {needle}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let out = parlab().args(["run", "-b", "gpu2"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("sequential, threads, pool, processes"),
        "{stderr}"
    );
    let out = parlab().args(["run", "-k", "fib"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("count, sum, primes, pi, collatz, sleep"),
        "{stderr}"
    );
}
