//! `parlab bench`: the matrix, the exports, failing cells, an interrupted run, and the HTML
//! report as a browser shows it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn export_args(dir: &Path) -> Vec<String> {
    [
        ("--export-json", "r.json"),
        ("--export-csv", "r.csv"),
        ("--export-markdown", "r.md"),
        ("--export-html", "r.html"),
        ("--plot", "s.svg"),
    ]
    .iter()
    .flat_map(|(flag, file)| [flag.to_string(), dir.join(file).display().to_string()])
    .collect()
}

/// `parlab bench ARGS --quiet` (ARGS split at spaces), writing every export into `dir`.
fn bench(dir: &Path, args: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.arg("bench")
        .args(args.split_whitespace())
        .arg("--quiet")
        .args(export_args(dir));
    cmd
}

fn json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()
}

/// Only the five exports: no temporary file left behind.
fn only_exports(dir: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["r.csv", "r.html", "r.json", "r.md", "s.svg"]);
}

#[test]
fn a_small_matrix_writes_every_export() {
    let dir = tempdir("small");
    let out = bench(
        &dir,
        "-b sequential,threads,pool,processes -w 1,2 -k count,primes -r 0..1e6 --runs 3 --warmup 1",
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("speedup (95% CI)"), "{stdout}");
    only_exports(&dir);
    let v = json(&dir);
    assert_eq!(v["schema"], 2);
    assert_eq!(v["complete"], true);
    assert_eq!(v["rounds"], 3);
    assert_eq!(v["settings"]["start_method"], "forkserver");
    assert_eq!(v["settings"]["switch_interval_s"], serde_json::Value::Null);
    let cells = v["cells"].as_array().unwrap();
    // Per kernel: the baseline, then 3 parallel backends x 2 worker counts (no sequential
    // cell above one worker, and the baseline has no twin).
    assert_eq!(cells.len(), 2 * 7);
    for c in cells {
        // Each round runs the baseline before every two cells of 2 workers and once more after
        // them: 3 such cells per kernel, so 3 baseline runs a round kept. (The 3 one-worker
        // cells each get pinned baseline runs of their own, which are partners only.)
        let runs = if c["baseline"] == true { 3 * 3 } else { 3 };
        assert_eq!(c["runs"].as_array().unwrap().len(), runs, "{c}");
        if c["baseline"] == false {
            assert!(c["runs"][0]["baseline_s"].as_f64().unwrap() > 0.0, "{c}");
        }
        assert_eq!(c["workers"] == 2, c["ceiling"]["value"].is_number(), "{c}");
        assert_eq!(c["mismatches"], 0);
        assert!(c["speedup"]["low"].as_f64().unwrap() <= c["speedup"]["value"].as_f64().unwrap());
        assert!(c["wall"]["median"].as_f64().unwrap() > 0.0);
    }
    let primes = cells.iter().find(|c| c["kernel"] == "primes").unwrap();
    assert_eq!(primes["expected"], "78498");
    // The ceiling at 2 workers, unless a busy machine left no sample it could keep (one above
    // what the CPUs allow is dropped); then no run has one either.
    let ceilings = v["ceilings"]["at"].as_array().unwrap();
    assert!(
        ceilings.len() <= 1 && ceilings.iter().all(|c| c["workers"] == 2),
        "{v}"
    );
    let with_ceiling = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["runs"].as_array().unwrap())
        .any(|r| !r["ceiling"].is_null());
    assert_eq!(ceilings.len() == 1, with_ceiling, "{v}");
    let share = v["ceilings"]["cost_share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{share}");
    let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 14);
    let md = std::fs::read_to_string(dir.join("r.md")).unwrap();
    assert!(md.starts_with("# parlab bench\n"), "{md}");
    let svg = std::fs::read_to_string(dir.join("s.svg")).unwrap();
    assert!(svg.contains("processes (count 0..1000000)"), "{svg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_cell_is_marked_and_the_benchmark_goes_on() {
    let dir = tempdir("failing");
    // Worker processes exit with code 3 on part 0; in-process backends ignore this fault.
    let out = bench(&dir, "-b threads,processes -w 2 -r 0..1e6 --runs 2")
        .env("PARLAB_FAULT", "exit:3@0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("1 cell had wrong answers or failed runs"),
        "{stderr}"
    );
    let v = json(&dir);
    let cells = v["cells"].as_array().unwrap();
    let procs = cells.iter().find(|c| c["backend"] == "processes").unwrap();
    assert!(
        procs["errors"][0]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{procs}"
    );
    let threads = cells.iter().find(|c| c["backend"] == "threads").unwrap();
    assert_eq!(threads["runs"].as_array().unwrap().len(), 2);
    assert!(
        std::fs::read_to_string(dir.join("r.html"))
            .unwrap()
            .contains("<tr class=\"error\">")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ctrl_c_leaves_valid_exports_of_the_rounds_measured() {
    let dir = tempdir("interrupt");
    let mut child = bench(
        &dir,
        "-b threads,processes -w 1,2 -k sleep:1ms -r 0..40 --runs 1000 --warmup 0",
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Wait for the first round's exports (a fraction of a second; a busy machine may take
    // many).
    let t0 = Instant::now();
    while !dir.join("r.json").exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    only_exports(&dir);
    let v = json(&dir);
    assert_eq!(v["complete"], false);
    assert!(v["interrupted"].as_str().unwrap().contains("SIGINT"), "{v}");
    let rounds = v["rounds"].as_u64().unwrap();
    assert!(rounds >= 1, "{v}");
    for c in v["cells"].as_array().unwrap() {
        assert!(c["runs"].as_array().unwrap().len() as u64 >= rounds, "{c}");
    }
    // The ceiling at 2 workers, unless a busy machine left no sample it could keep (one above
    // what the CPUs allow is dropped); then no run has one either.
    let ceilings = v["ceilings"]["at"].as_array().unwrap();
    assert!(
        ceilings.len() <= 1 && ceilings.iter().all(|c| c["workers"] == 2),
        "{v}"
    );
    let with_ceiling = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["runs"].as_array().unwrap())
        .any(|r| !r["ceiling"].is_null());
    assert_eq!(ceilings.len() == 1, with_ceiling, "{v}");
    let share = v["ceilings"]["cost_share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{share}");
    let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Renders the HTML report in headless Chromium and checks the screenshot: not blank, and the
/// plot's lines are drawn. Skipped when Chromium is not installed, unless
/// PARLAB_REQUIRE_BROWSER=1 (CI installs it and sets that).
#[test]
fn the_html_report_renders_in_a_browser() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("PARLAB_REQUIRE_BROWSER").is_err(),
            "PARLAB_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!("skipped: no Chromium (install Debian's chromium to run this test)");
        return;
    };
    let dir = tempdir("browser");
    let out = bench(
        &dir,
        "-b sequential,threads,pool -w 1,2 -k sleep:2ms -r 0..60 --runs 3",
    )
    .output()
    .unwrap();
    assert!(out.status.success());
    // Both lines have their points (how high they climb is the machine's to say: sleeping
    // threads reach about 2x at two workers on a quiet machine, less on a busy one).
    let v = json(&dir);
    for backend in ["threads", "pool"] {
        let points = v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["backend"] == backend && c["speedup"]["value"].is_number())
            .count();
        assert_eq!(points, 2, "{backend}: {v}");
    }
    let profile = dir.join("profile");
    let browser = |window: &str| {
        let mut cmd = Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--window-size={window}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .stderr(Stdio::null());
        cmd
    };
    // In a laptop's window of 1280x900 the page does not scroll sideways, its table shows
    // every column with something to show without scrolling in its box, and the table comes
    // first: a copy of the page measures itself into its title.
    let page = std::fs::read_to_string(dir.join("r.html")).unwrap();
    assert!(
        !page.contains("wall vs baseline"),
        "a column empty without --baseline"
    );
    let measure = "<script>const b = document.querySelector('div.cells'); document.title = \
                   [document.documentElement.scrollWidth, document.documentElement.clientWidth, \
                   b.scrollWidth, b.clientWidth, document.querySelectorAll('th').length, \
                   Math.round(b.getBoundingClientRect().top)].join(' ');</script></body>";
    std::fs::write(dir.join("measure.html"), page.replace("</body>", measure)).unwrap();
    let dom = browser("1280,900")
        .arg("--dump-dom")
        .arg(format!("file://{}", dir.join("measure.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let title = dom
        .split_once("<title>")
        .and_then(|(_, t)| t.split_once("</title>"))
        .map(|(t, _)| t)
        .expect("a title");
    let m: Vec<u32> = title.split(' ').filter_map(|n| n.parse().ok()).collect();
    let [page_w, window_w, table_w, box_w, columns, top] = m[..] else {
        panic!("not measured: {title}")
    };
    assert!(page_w <= window_w, "the page scrolls sideways: {title}");
    assert!(table_w <= box_w, "the table scrolls in its box: {title}");
    // Every column the page holds was measured in place (its box holds them all).
    assert_eq!(columns as usize, page.matches("<th>").count(), "{title}");
    assert!(columns >= 10, "{title}");
    assert!(
        top < 900,
        "the table starts below the first screen: {title}"
    );
    // The whole page, plot included, for its pixels.
    let shot = dir.join("shot.png");
    let status = browser("1280,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", dir.join("r.html").display()))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let non_white = pixels
        .iter()
        .filter(|p| p[0] < 240 || p[1] < 240 || p[2] < 240)
        .count();
    assert!(
        non_white * 100 > pixels.len(),
        "the page is blank: {non_white} of {} pixels",
        pixels.len()
    );
    // The plot lines' colours (threads: blue, pool: red, drawn over it where the two coincide;
    // the legend shows both), with a little tolerance.
    let near = |p: &&[u8], c: [u8; 3]| (0..3).all(|i| (p[i] as i32 - c[i] as i32).abs() < 40);
    let blue = pixels.iter().filter(|p| near(p, [31, 119, 180])).count();
    let red = pixels.iter().filter(|p| near(p, [214, 39, 40])).count();
    assert!(
        blue > 100 && red > 1000,
        "plot lines not drawn: {blue} blue, {red} red pixels"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn precision_stops_a_benchmark_early_only_when_every_interval_meets_it() {
    // Runs of microseconds: five rounds take a fraction of a second, far less than --max-time,
    // and their paired ratios scatter by more than 1%. A benchmark that stopped before
    // --max-time must have met --precision in every cell, as its own figures show.
    let dir = tempdir("precision");
    let started = std::time::Instant::now();
    let out = bench(
        &dir,
        "-b sequential,threads -w 1 -r 0..2e4 --precision 1% --max-time 4s",
    )
    .output()
    .unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    let r = json(&dir);
    let rounds = r["rounds"].as_u64().unwrap();
    let widest = r["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = &c["speedup"];
            let (v, lo, hi) = (
                s["value"].as_f64().unwrap(),
                s["low"].as_f64().unwrap(),
                s["high"].as_f64().unwrap(),
            );
            (hi - lo) / 2.0 / v
        })
        .fold(0.0, f64::max);
    if took < std::time::Duration::from_secs(4) {
        assert!(
            widest <= 0.01,
            "stopped after {rounds} rounds in {took:?} with an interval of +-{:.1}%",
            widest * 100.0
        );
    }
}
