//! One interval style in every command: `1.92x (1.85-1.97)` in text, `{value, low, high}` in
//! JSON (low <= value <= high), and no other shape beside them: no `[0.97, 1.00]`, no
//! `(0.95-1.15x)`, no Rust enum (`{"Ok": ...}`, `{"Err": ...}`) in any JSON. `bench`, `python`
//! and `probe` are run here; `reproduce`'s text and JSON are checked by the tests that already
//! run it (`cli::reproduce_quick_prints_three_sections_with_verdicts`,
//! `reproduce::reproduce_json_gives_every_measured_row_an_interval_and_w_above_1_a_ceiling`).

use std::process::Command;

use crate::have_python;
use serde_json::Value;

/// The shapes an interval must not take in text, each with an example of it.
const WRONG_SHAPES: [(&str, &str); 3] = [
    ("[A, B]", "[0.97, 1.00]"),
    ("(A-Bx)", "(0.95-1.15x)"),
    ("Ax [", "1.02x [1.01"),
];

/// Whether `text` at `at` begins with a decimal number (`1.92`), and where it ends.
fn number_at(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    while i < text.len() && text[i].is_ascii_digit() {
        i += 1;
    }
    if i == at || i >= text.len() || text[i] != b'.' {
        return None;
    }
    let dot = i;
    i += 1;
    while i < text.len() && text[i].is_ascii_digit() {
        i += 1;
    }
    (i > dot + 1).then_some(i)
}

/// Every interval `text` prints, checked for the one style: after a ratio `N.NNx`, an interval
/// is ` (L-H)` with decimals and no `x` inside; the wrong shapes appear nowhere. Returns how many
/// intervals it found.
pub(crate) fn assert_interval_style(text: &str, what: &str) -> usize {
    let b = text.as_bytes();
    let mut found = 0;
    for at in 0..b.len() {
        if at > 0 && (b[at - 1].is_ascii_digit() || b[at - 1] == b'.') {
            continue;
        }
        let Some(end) = number_at(b, at) else {
            continue;
        };
        // `[A, B]`
        if at > 0 && b[at - 1] == b'[' && text[end..].starts_with(", ") {
            let wrong = &text[at - 1..(end + 12).min(text.len())];
            panic!(
                "{what}: an interval as {} ({wrong:?}):\n{text}",
                WRONG_SHAPES[0].0
            );
        }
        // `(A-Bx)`
        if at > 0
            && b[at - 1] == b'('
            && b.get(end) == Some(&b'-')
            && let Some(e2) = number_at(b, end + 1)
        {
            assert!(
                b.get(e2) != Some(&b'x'),
                "{what}: an interval as {} ({:?}):\n{text}",
                WRONG_SHAPES[1].0,
                &text[at - 1..(e2 + 2).min(text.len())]
            );
            found += usize::from(b.get(e2) == Some(&b')'));
        }
        // `Ax [`
        if text[end..].starts_with("x [") {
            panic!(
                "{what}: an interval as {} ({:?}):\n{text}",
                WRONG_SHAPES[2].0,
                &text[at..(end + 8).min(text.len())]
            );
        }
    }
    found
}

/// Every `{value, low, high}` of `v` holds numbers in order, every object with a `low` or a
/// `high` is one, and no object is a Rust enum's `Ok`/`Err`. Returns how many it found.
pub(crate) fn assert_interval_json(v: &Value, path: &str) -> usize {
    match v {
        Value::Object(map) => {
            for key in ["Ok", "Err"] {
                assert!(
                    !map.contains_key(key),
                    "{path}: a Rust {key} in the JSON: {v}"
                );
            }
            let mut found = 0;
            if map.contains_key("low") || map.contains_key("high") {
                let f = |k: &str| {
                    map.get(k)
                        .and_then(Value::as_f64)
                        .unwrap_or_else(|| panic!("{path}: an interval without {k}: {v}"))
                };
                let (value, low, high) = (f("value"), f("low"), f("high"));
                assert!(low <= value && value <= high, "{path}: out of order: {v}");
                found += 1;
            }
            found
                + map
                    .iter()
                    .map(|(k, x)| assert_interval_json(x, &format!("{path}.{k}")))
                    .sum::<usize>()
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| assert_interval_json(x, &format!("{path}[{i}]")))
            .sum(),
        _ => 0,
    }
}

fn parlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_checks_find_the_one_style_and_refuse_the_others() {
    assert_eq!(
        assert_interval_style("1.92x (1.85-1.97) and 0.99x (0.95-1.02)", "ok"),
        2
    );
    for (shape, example) in WRONG_SHAPES {
        let text = format!("threads x2 {example}1.03] and more");
        let refused = std::panic::catch_unwind(|| assert_interval_style(&text, "wrong"));
        assert!(refused.is_err(), "{shape} was let through: {text}");
    }
    let v: Value =
        serde_json::json!({"rows": [{"speedup": {"value": 1.5, "low": 1.4, "high": 1.6}}]});
    assert_eq!(assert_interval_json(&v, "v"), 1);
    for bad in [
        serde_json::json!({"speedup": {"low": 1.4, "high": 1.6}}),
        serde_json::json!({"speedup": {"value": 1.7, "low": 1.4, "high": 1.6}}),
        serde_json::json!({"probe": {"Ok": 3}}),
        serde_json::json!([{"Err": "x"}]),
    ] {
        let refused = std::panic::catch_unwind(|| assert_interval_json(&bad, "bad"));
        assert!(refused.is_err(), "let through: {bad}");
    }
}

#[test]
fn bench_writes_every_interval_one_way() {
    // With the JSON export on standard output, the text goes to standard error: one run, both.
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args([
            "bench",
            "-b",
            "sequential,threads",
            "-w",
            "1,2",
            "-r",
            "0..2e6",
        ])
        .args(["--runs", "3", "--export-json", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(assert_interval_style(&text, "bench") > 0, "{text}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(assert_interval_json(&json, "bench") > 0, "{json}");
}

#[test]
fn python_writes_every_interval_one_way() {
    if !have_python() {
        return;
    }
    let args = [
        "python",
        "examples/python/arith.py:sum_of_squares",
        "--range",
        "0..20000",
        "-w",
        "2",
        "--runs",
        "3",
        "--roads",
        "threads,processes,executor:thread",
        "--quiet",
    ];
    let text = parlab(&args);
    assert!(assert_interval_style(&text, "python") > 0, "{text}");
    let json: Value = serde_json::from_str(&parlab(&[&args[..], &["--json"]].concat())).unwrap();
    assert!(assert_interval_json(&json, "python") > 0, "{json}");
}

#[test]
fn probe_writes_every_interval_one_way() {
    let args = ["probe", "--quick", "--no-python", "spawn", "fork-rss"];
    let text = parlab(&args);
    assert_interval_style(&text, "probe");
    let json: Value = serde_json::from_str(&parlab(&[&args[..], &["--json"]].concat())).unwrap();
    assert_interval_json(&json, "probe");
}
