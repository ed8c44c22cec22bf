//! Every command's text fits the width it is given (`$COLUMNS` when the output is no
//! terminal): no line of `--help`, `run`, `verify`, `bench`, `reproduce`, `probe` or `python` is
//! wider, at 100 columns and at 80. One-line diagnostics on standard error (`error: `,
//! `slower: `, `retry `) stay one line whatever their length, so that a log keeps each whole.

use crate::have_python;
use std::path::PathBuf;
use std::process::Command;

/// Lines that are one line by design, however long.
const ONE_LINERS: [&str; 3] = ["error: ", "slower: ", "retry "];

/// Runs parlab with `args` (split at spaces), `$COLUMNS` set to `width` and `env`; checks that no line of its output is wider, and returns standard output and error together
/// with its exit code.
fn fits(width: usize, args: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(args.split_whitespace())
        .env("COLUMNS", width.to_string())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    for line in text.lines() {
        if ONE_LINERS.iter().any(|p| line.starts_with(p)) {
            continue;
        }
        assert!(
            line.chars().count() <= width,
            "parlab {args}: a line of {} columns at {width}:\n{line}\n\n{text}",
            line.chars().count()
        );
    }
    (out.status.code(), text)
}

/// Like [`fits`], and the command must succeed.
fn fits_ok(width: usize, args: &str) -> String {
    let (code, text) = fits(width, args, &[]);
    assert_eq!(code, Some(0), "parlab {args}:\n{text}");
    text
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-width-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_fits_and_every_command_has_one_layout() {
    let commands = ["", "run", "verify", "reproduce", "bench", "probe", "python"];
    for width in [100, 80] {
        for command in commands {
            let text = fits_ok(width, &format!("{command} --help"));
            // Each option's help on the lines under it, never beside it.
            for line in text.lines() {
                let spec = line.trim_start();
                if spec.starts_with('-') || spec.starts_with('[') {
                    assert!(!spec.contains("  "), "{command} --help:\n{line}\n\n{text}");
                }
            }
        }
        fits_ok(width, "help bench");
    }
}

#[test]
fn run_fits() {
    for width in [100, 80] {
        let text = fits_ok(width, "run -b gil -w 2 -r 0..1e6");
        assert!(text.contains("GIL (gil): "), "{text}");
    }
}

#[test]
fn verify_fits() {
    for width in [100, 80] {
        let text = fits_ok(width, "verify -k sum,pi,collatz,sleep:1ms -w 1,3");
        assert!(text.contains("cases: "), "{text}");
    }
    // Without room for every column, a column of one cell gives way, and the note gives it.
    let text = fits_ok(80, "verify -k sum -w 1");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("The same in every row: kernel sum"), "{text}");
}

#[test]
fn bench_fits_with_its_default_backends_and_with_many_backends_and_kernels() {
    for width in [100, 80] {
        let text = fits_ok(width, "bench -r 0..1e6 --runs 3 --warmup 0 --quiet");
        assert!(text.contains("processes"), "{text}");
        let text = fits_ok(
            width,
            "bench -b sequential,threads,pool,processes,gil,gil-legacy -w 1,3 \
             -k count,primes,collatz,sleep:1ms -r 1..2000 --runs 2 --warmup 0 --quiet",
        );
        assert!(
            text.contains("gil-legacy") && text.contains("collatz"),
            "{text}"
        );
        // The columns left out are named, and --wide shows them.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!("Left out to fit {width} columns: peak RSS")),
            "{text}"
        );
    }
    let (_, wide) = fits(
        1000,
        "bench -b threads -w 1,2 -r 0..1e6 --runs 2 --quiet --wide",
        &[],
    );
    let header = wide.lines().find(|l| l.starts_with("kernel")).unwrap();
    assert!(
        header.contains("peak RSS") && header.chars().count() > 100,
        "{wide}"
    );
}

#[test]
fn bench_fits_with_a_failing_cell_and_a_baseline() {
    let dir = tempdir("bench");
    let json = dir.join("old.json");
    // A failed run's error, long, goes under its row.
    let (code, text) = fits(
        80,
        &format!(
            "bench -b threads,processes -w 2 -r 0..1e6 --runs 2 --warmup 0 --quiet \
             --export-json {}",
            json.display()
        ),
        &[("PARLAB_FAULT", "exit:3@0")],
    );
    assert_eq!(code, Some(1), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("exited with code 3"), "{text}");
    // With --baseline, the change column and the comparison's lines.
    for width in [100, 80] {
        let text = fits_ok(
            width,
            &format!(
                "bench -b threads,processes -w 2 -r 0..1e6 --runs 2 --warmup 0 --quiet \
                 --baseline {}",
                json.display()
            ),
        );
        assert!(text.contains("Compared with"), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reproduce_fits() {
    let text = fits_ok(100, "reproduce --quick");
    assert!(text.contains("3. Inside the GIL"), "{text}");
    let text = fits_ok(80, "reproduce --quick --no-python");
    assert!(text.contains("3. Inside the GIL"), "{text}");
}

#[test]
fn probe_fits() {
    let text = fits_ok(100, "probe --quick");
    assert!(text.contains("memory: "), "{text}");
    let text = fits_ok(80, "probe --quick --no-python spawn message");
    assert!(text.contains("message: "), "{text}");
}

#[test]
fn python_fits() {
    if !have_python() {
        return;
    }
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/python");
    for width in [100, 80] {
        let text = fits_ok(
            width,
            &format!(
                "python {}:sum_of_squares -r 0..2e4,0..4e4 --runs 2 --warmup 0 --quiet",
                examples.join("arith.py").display()
            ),
        );
        assert!(text.contains("speedup (95% CI)"), "{text}");
        fits_ok(
            width,
            &format!(
                "python {}:count_odd -r 0..1e4 --runs 2 --warmup 0 --quiet",
                examples.join("tiny.py").display()
            ),
        );
    }
}
