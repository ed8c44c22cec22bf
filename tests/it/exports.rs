//! Where exports go: `-` (standard output), through a symlink, into a FIFO, into a device that
//! fails writes, and a failing export beside a good one. Nothing is replaced that is not a
//! regular file, and no failed write goes unreported.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-exports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small, quick `parlab bench` with the export flags `exports`.
fn bench(exports: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.args([
        "bench",
        "-b",
        "sequential,threads",
        "-w",
        "1,2",
        "-r",
        "0..1e5",
    ])
    .args(["--runs", "2", "--warmup", "0", "--quiet"])
    .args(exports);
    cmd
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A complete benchmark report: valid JSON, finished, with its three cells measured.
fn assert_complete(json: &str) {
    let v: serde_json::Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("not one valid JSON document ({e}): {json}"));
    assert_eq!(v["complete"], true, "{v}");
    assert_eq!(v["cells"].as_array().unwrap().len(), 3, "{v}");
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dash_puts_one_json_document_on_stdout_and_the_table_on_stderr() {
    let out = bench(&["--export-json", "-"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // Exactly one document: serde_json rejects anything after it but white space.
    assert_complete(&stdout);
    assert!(stderr.contains("speedup (95% CI)"), "{stderr}");
    assert!(!stdout.contains("speedup (95% CI)"), "{stdout}");
}

#[test]
fn a_symlink_is_written_through_and_stays_a_link() {
    let dir = tempdir("link");
    std::fs::create_dir(dir.join("results")).unwrap();
    let link = dir.join("report.json");
    std::os::unix::fs::symlink("results/today.json", &link).unwrap();
    let out = bench(&["--export-json", path(&link)]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_complete(&std::fs::read_to_string(dir.join("results/today.json")).unwrap());
    // Nothing else: no temporary file left beside the link or the target.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(std::fs::read_dir(dir.join("results")).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_with_a_reader_gets_one_whole_document_and_stays_a_fifo() {
    let dir = tempdir("fifo");
    let fifo = dir.join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = bench(&["--export-json", path(&fifo)]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    // Written once, at the end: the reader got one whole document, not one per round.
    assert_complete(&reader.join().unwrap());
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind), "replaced");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_device_that_fails_writes_beside_a_good_export() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: making a device node needs root");
        return;
    }
    let dir = tempdir("device");
    let full = dir.join("full");
    // What /dev/full is: every write fails with ENOSPC.
    nix::sys::stat::mknod(
        &full,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        nix::sys::stat::makedev(1, 7),
    )
    .unwrap();
    let json = dir.join("r.json");
    let out = bench(&["--export-csv", path(&full), "--export-json", path(&json)])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: writing {}: No space left on device (os error 28)",
            full.display()
        )
    );
    // The results are all there: the table, and the other export in full.
    assert!(stdout.contains("speedup (95% CI)"), "{stdout}");
    assert_complete(&std::fs::read_to_string(&json).unwrap());
    let kind = std::fs::symlink_metadata(&full).unwrap().file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(&kind),
        "replaced"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_standard_output_beside_a_good_export() {
    // Standard output is a pipe nobody reads any more: every write fails with EPIPE.
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let dir = tempdir("closed");
    let csv = dir.join("r.csv");
    let out = bench(&["--export-json", "-", "--export-csv", path(&csv)])
        .stdout(Stdio::from(write))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors,
        ["error: writing standard output: Broken pipe (os error 32)"],
        "{stderr}"
    );
    // The table went to stderr, the CSV export is whole.
    assert!(stderr.contains("speedup (95% CI)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap().lines().count(),
        1 + 3
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_that_vanished_is_reported_and_the_table_kept() {
    // A link whose target's directory goes away after the first write: checked at the start
    // (the directory was there), failing at a later write (the last one, at the end, if no
    // other). Each round sleeps 0.2 s, so the benchmark sleeps 3 s or more after the first
    // write: time enough, on a busy machine too, for the directory to go before it ends.
    let dir = tempdir("vanished");
    std::fs::create_dir(dir.join("gone")).unwrap();
    let link = dir.join("r.json");
    std::os::unix::fs::symlink("gone/r.json", &link).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args([
            "bench",
            "-b",
            "sequential",
            "-w",
            "1",
            "-k",
            "sleep:20ms",
            "-r",
            "0..10",
        ])
        .args([
            "--runs",
            "16",
            "--warmup",
            "0",
            "--quiet",
            "--export-json",
            path(&link),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let target = dir.join("gone/r.json");
    let t0 = std::time::Instant::now();
    while !target.exists() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(60),
            "never written"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_dir_all(dir.join("gone")).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("error: writing {}", link.display()))
            && stderr.contains("No such file or directory"),
        "{stderr}"
    );
    assert!(stdout.contains("speedup (95% CI)"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn probe_plot_to_dash_is_the_svg_alone_on_stdout() {
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["probe", "fork-rss", "--quick", "--no-python", "--plot", "-"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("<svg") && stdout.trim_end().ends_with("</svg>"),
        "{stdout}"
    );
    assert!(stderr.contains("What workers cost"), "{stderr}");
}
