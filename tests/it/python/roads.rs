//! `parlab python` on every road: exact answers beyond 64 bits, subinterpreters where there
//! are some, several ranges and the exports.

use super::{fixture, have_python, leftovers, record, rows_of, run, stderr_of};

#[test]
fn answers_beyond_64_bits_are_exact_on_every_road() {
    if !have_python() {
        return;
    }
    let file = fixture("big");
    let out = run(&file, "big", &["--json", "--split", "chunks:7"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = record(&out);
    let want = "126765060022822940149670320537600"; // 2**100 * 100
    assert_eq!(v["result"], want);
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    for row in v["rows"].as_array().unwrap() {
        assert_eq!(row["result"], want, "{row}");
        assert!(row["error"].is_null(), "{row}");
        assert!(
            row["speedup"]["low"].as_f64().unwrap() <= row["speedup"]["high"].as_f64().unwrap()
        );
    }
    let rec = &v["recommendation"];
    assert!(rec["reason"].as_str().unwrap().contains("threads"), "{rec}");
    assert!(leftovers(&file).is_empty());
}

#[test]
fn subinterpreters_answer_exactly_where_there_are_some() {
    if !have_python() {
        return;
    }
    let file = fixture("subinterpreters");
    let out = run(
        &file,
        "big",
        &[
            "--json",
            "--python",
            "3.12",
            "--roads",
            "subinterpreters",
            "--split",
            "chunks:9",
        ],
        "",
    );
    if stderr_of(&out).contains("invalid python '3.12'") {
        eprintln!("skipped: no CPython 3.12 found");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = record(&out);
    let rows = rows_of(&v, "subinterpreters");
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["result"], "126765060022822940149670320537600");
    assert!(leftovers(&file).is_empty());
}

#[test]
fn exports_and_several_ranges_carry_every_row() {
    if !have_python() {
        return;
    }
    let file = fixture("exports");
    let dir = file.parent().unwrap();
    let (csv, md) = (dir.join("r.csv"), dir.join("r.md"));
    let out = run(
        &file,
        "noisy",
        &[
            "--range",
            "0..10,0..100",
            "--export-json",
            "-",
            "--export-csv",
            csv.to_str().unwrap(),
            "--export-markdown",
            md.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The JSON went to standard output, so the table went to standard error.
    let v = record(&out);
    assert!(stderr_of(&out).contains("Recommendation:"));
    assert_eq!(v["range"], "0..100");
    assert_eq!(v["result"], "100");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "{v}");
    for row in rows {
        let want = if row["range"] == "0..10" { "10" } else { "100" };
        assert_eq!(row["result"], want, "{row}");
    }
    assert!(v["recommendation"].get("smallest_range").is_some(), "{v}");
    let csv = std::fs::read_to_string(csv).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(csv.starts_with("function,python,range,split,road,workers,result"));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("| processes |") && md.contains("**Recommendation:**"),
        "{md}"
    );
    // Two exports to one place are bad input.
    let out = run(
        &file,
        "count",
        &["--export-csv", "-", "--export-json", "-"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

#[test]
fn subinterpreters_report_a_raise_and_a_hang_like_the_other_roads() {
    if !have_python() {
        return;
    }
    let extra = ["--python", "3.12", "--roads", "threads,subinterpreters"];
    let probe = run(&fixture("sub-probe"), "count", &extra, "");
    if stderr_of(&probe).contains("invalid python '3.12'") {
        eprintln!("skipped: no CPython 3.12 found");
        return;
    }
    super::fails_on(
        "subinterpreters",
        "raises",
        &extra,
        &["ValueError: boom at 50"],
    );
    let mut hang = extra.to_vec();
    hang.extend(["--timeout", "1s"]);
    super::fails_on(
        "subinterpreters",
        "hangs",
        &hang,
        &["within the timeout of 1s"],
    );
}
