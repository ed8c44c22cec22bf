//! The hostile-conditions catalogue: long blocking calls, system limits, stopped and stubborn
//! processes, hostile Python functions. Every case ends (a signal or `--timeout` is obeyed
//! within a generous bound), with its exit code and one line on standard error that names the
//! cause, no panic, and no process left behind.
//!
//! Each case runs parlab in a process group of its own, under a shell prefix where it needs a
//! limit (`ulimit -n 5; exec ...`), sends its signal after a moment if it has one, and is
//! killed (and the test failed) if it outlives its bound.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The bound within which every case must end: minutes against the hour it would take if
/// the cause were ignored, so that two busy CPUs never fail it.
const BOUND: Duration = Duration::from_secs(60);

/// One hostile invocation and what it must give.
pub struct Case {
    /// What it checks, for failure messages.
    pub name: String,
    /// parlab's arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Shell commands run before parlab is executed in the same shell (`ulimit -n 5`).
    pub prefix: Option<String>,
    /// A signal sent to parlab this long after it started, or (with [`Case::when`]) once
    /// that holds.
    pub signal: Option<(Signal, Duration)>,
    /// What must hold of parlab's PID before the signal is sent (it is in the step the
    /// signal must stop).
    pub when: Option<fn(i32) -> bool>,
    /// The signal goes to parlab's latest child whose command line holds this (`__worker`, a
    /// worker; ` serve `, an interpreter), once there is one, not to parlab: a child not yet
    /// past its exec is never the target (stopped there, it would hold parlab in its spawn).
    pub to_child: Option<&'static str>,
    /// The exit code it must end with.
    pub code: i32,
    /// Text its last line of standard error must hold, each piece.
    pub says: Vec<String>,
}

impl Case {
    /// A case of `args` that must end with `code`, saying each of `says`.
    pub fn new(name: &str, args: &[&str], code: i32, says: &[&str]) -> Case {
        Case {
            name: name.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            prefix: None,
            signal: None,
            when: None,
            to_child: None,
            code,
            says: says.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// With `signal` sent after `after`.
    pub fn signal(mut self, signal: Signal, after: Duration) -> Case {
        self.signal = Some((signal, after));
        self
    }

    /// With `signal` sent to parlab's latest child whose command line holds `marker`, once
    /// it has one.
    pub fn signal_child(mut self, signal: Signal, marker: &'static str) -> Case {
        self.signal = Some((signal, Duration::ZERO));
        self.to_child = Some(marker);
        self
    }

    /// With `signal` sent as soon as `ready(pid)` holds.
    pub fn signal_when(mut self, signal: Signal, ready: fn(i32) -> bool) -> Case {
        self.signal = Some((signal, Duration::ZERO));
        self.when = Some(ready);
        self
    }

    /// With the shell commands `prefix` run first (limits).
    pub fn prefix(mut self, prefix: &str) -> Case {
        self.prefix = Some(prefix.to_string());
        self
    }

    /// With `key=value` in the environment.
    pub fn env(mut self, key: &str, value: &str) -> Case {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs the case and checks its outcome; returns its standard error.
    pub fn check(&self) -> String {
        self.run().1
    }

    /// Runs the case and checks its outcome; returns its standard output and error.
    pub fn run(&self) -> (String, String) {
        let exe = env!("CARGO_BIN_EXE_parlab");
        let mut cmd = match &self.prefix {
            Some(prefix) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("{prefix}\nexec \"$0\" \"$@\""))
                    .arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = cmd.spawn().unwrap();
        let pid = child.id() as i32;
        let t0 = Instant::now();
        // The bound is kept by a watchdog that kills the whole group, so a hang fails here.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let (signal, when, to_child) = (self.signal, self.when, self.to_child);
        let guard = std::thread::spawn(move || {
            if let Some((sig, after)) = signal
                && done_rx.recv_timeout(after).is_err()
            {
                let marked = |m: &str| -> Vec<u32> {
                    let mut c = super::children(pid as u32);
                    c.retain(|&c| cmdline(c).contains(m));
                    c
                };
                // Sent to parlab, a signal waits until parlab has its handler for it: a busy
                // machine may take its time to start it.
                let holds = || {
                    when.is_none_or(|w| w(pid))
                        && to_child.is_none_or(|m| !marked(m).is_empty())
                        && (to_child.is_some() || catches(pid, sig))
                };
                let mut ready = holds();
                while !ready && t0.elapsed() < BOUND {
                    if done_rx.recv_timeout(Duration::from_millis(2)).is_ok() {
                        return false;
                    }
                    ready = holds();
                }
                let target = match to_child {
                    Some(m) => marked(m).into_iter().max().map_or(pid, |c| c as i32),
                    None => pid,
                };
                let _ = kill(Pid::from_raw(target), sig);
            }
            let left = BOUND.saturating_sub(t0.elapsed());
            if done_rx.recv_timeout(left).is_err() {
                let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
                return true;
            }
            false
        });
        let out = child.wait_with_output().unwrap();
        let took = t0.elapsed();
        let _ = done_tx.send(());
        let killed = guard.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let name = &self.name;
        assert!(!killed, "{name}: still running after {BOUND:?}: {stderr}");
        assert_eq!(out.status.code(), Some(self.code), "{name}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{name}: {stderr}"
        );
        let last = stderr.lines().last().unwrap_or("");
        for piece in &self.says {
            assert!(
                last.contains(piece.as_str()),
                "{name}: no {piece:?} in {stderr}"
            );
        }
        if self.code != 0 {
            assert!(
                last.starts_with("error: "),
                "{name}: the cause is not on one error line: {stderr}"
            );
        }
        // Nothing of the group outlives it (a worker, a server, an interpreter).
        let t1 = Instant::now();
        while group_alive(pid) && t1.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!group_alive(pid), "{name}: its process group outlived it");
        eprintln!("{name}: exit {:?} after {took:.1?}", out.status.code());
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    }
}

/// True when `pid` has a handler for `signal` (its bit in `SigCgt` of its status).
pub fn catches(pid: i32, signal: Signal) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0)
    })
}

/// True while a process of group `pgid` runs (zombies not counted).
pub fn group_alive(pgid: i32) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        std::fs::read_to_string(p.path().join("stat")).is_ok_and(|stat| {
            // pid (comm) state ppid pgrp ...
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
    })
}

/// True when a thread of `pid` is called `name` (as far as the 15 characters the kernel keeps).
pub fn has_thread(pid: i32, name: &str) -> bool {
    let name = &name[..name.len().min(15)];
    std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
        tasks.flatten().any(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
    })
}

/// `pid`'s resident memory in MiB.
pub fn rss_mib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// The probes that ping-pong and fork for seconds stop at Ctrl-C and SIGTERM mid-step.
#[test]
fn probes_stop_at_a_signal_in_the_middle_of_a_measurement() {
    let switch = ["probe", "--no-python", "switch"];
    let fork_rss = ["probe", "--no-python", "fork-rss"];
    let cases = [
        Case::new("probe switch, threads", &switch, 130, &["signal 2"])
            .signal_when(Signal::SIGINT, |pid| has_thread(pid, "parlab-probe-echo")),
        Case::new("probe switch, processes", &switch, 143, &["signal 15"])
            .signal_when(Signal::SIGTERM, |pid| {
                !super::children(pid as u32).is_empty()
            }),
        // Past the first 64 MiB: touching the ballast, forking or waiting for a child that
        // writes every page.
        Case::new("probe fork-rss", &fork_rss, 130, &["signal 2"])
            .signal_when(Signal::SIGINT, |pid| rss_mib(pid) > 60),
    ];
    for case in &cases {
        case.check();
    }
}

/// The in-process backends, whose parts cannot be killed, only asked to stop.
const IN_PROCESS: [&str; 5] = ["sequential", "threads", "pool", "gil", "gil-legacy"];

/// An hour's sleep per item, on every in-process backend, ends at `--timeout`, Ctrl-C and
/// SIGTERM: a blocking sleep wakes for a stop request.
#[test]
fn an_hours_sleep_ends_at_a_timeout_or_a_signal_on_every_in_process_backend() {
    let second = Duration::from_secs(1);
    let mut cases = Vec::new();
    for backend in IN_PROCESS {
        let run = [
            "run", "-b", backend, "-w", "2", "-k", "sleep:1h", "-r", "0..2",
        ];
        let mut timed = run.to_vec();
        timed.extend(["--timeout", "1s"]);
        cases.push(Case::new(
            &format!("{backend} --timeout"),
            &timed,
            1,
            &["did not finish within the timeout of 1s"],
        ));
        cases.push(
            Case::new(&format!("{backend} SIGTERM"), &run, 143, &["signal 15"])
                .signal(Signal::SIGTERM, second),
        );
        cases.push(
            Case::new(&format!("{backend} SIGINT"), &run, 130, &["signal 2"])
                .signal(Signal::SIGINT, second),
        );
    }
    // verify computes the sequential reference first: that sleep ends at Ctrl-C too.
    cases.push(
        Case::new(
            "verify's reference",
            &["verify", "-b", "threads", "-k", "sleep:1h", "-r", "0..1"],
            130,
            &["signal 2"],
        )
        .signal(Signal::SIGINT, second),
    );
    for case in &cases {
        case.check();
    }
}

/// The shell prefix that runs parlab under `ulimit -u N`: as a user of its own (nobody) when
/// the tests run as root, whom the limit does not bind; `None` where neither works.
fn processes_limit(n: usize) -> Option<String> {
    if nix::unistd::geteuid().is_root() {
        let setpriv = std::path::Path::new("/usr/bin/setpriv");
        // nobody's processes count against its limit, whoever started them.
        return setpriv.exists().then(|| {
            format!(
                "exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
                 'ulimit -u {n}; exec \"$0\" \"$@\"' \"$0\" \"$@\""
            )
        });
    }
    Some(format!("ulimit -u {n}"))
}

/// Every command that starts threads, under a limit on processes (threads count) too low for
/// them: one line naming the limit, exit 1, no panic, no hang (the ceiling probe's threads
/// already counting stop before the error is passed on).
#[test]
fn a_refused_thread_is_one_line_naming_the_limit_in_every_command() {
    let python = format!(
        "{}/examples/python/arith.py:sum_of_squares",
        env!("CARGO_MANIFEST_DIR")
    );
    // Each with the number of processes its user may run: parlab's main thread is one.
    let commands: Vec<(&str, usize, Vec<&str>)> = vec![
        (
            "bench's ceiling probe",
            3,
            vec![
                "bench",
                "-b",
                "sequential,threads",
                "-w",
                "1,8",
                "-r",
                "0..1e5",
                "--runs",
                "1",
                "--warmup",
                "0",
                "-q",
            ],
        ),
        (
            "run -b threads",
            3,
            vec![
                "run", "-b", "threads", "-w", "8", "-k", "sleep:1s", "-r", "0..8",
            ],
        ),
        (
            "run -b gil",
            3,
            vec![
                "run", "-b", "gil", "-w", "8", "-k", "sleep:1s", "-r", "0..8",
            ],
        ),
        (
            "run -b pool",
            3,
            vec!["run", "-b", "pool", "-w", "8", "-r", "0..1e6"],
        ),
        (
            "run's watchdog",
            1,
            vec!["run", "-b", "sequential", "--timeout", "5s", "-r", "0..1e6"],
        ),
        (
            "probe spawn",
            1,
            vec!["probe", "--quick", "--no-python", "spawn"],
        ),
        (
            "probe switch",
            1,
            vec!["probe", "--quick", "--no-python", "switch"],
        ),
        (
            "probe message",
            1,
            vec!["probe", "--quick", "--no-python", "message"],
        ),
        (
            "probe memory",
            3,
            vec!["probe", "--quick", "--no-python", "memory"],
        ),
        (
            "python's discovery",
            3,
            vec!["python", &python, "--python", "all", "-r", "0..100"],
        ),
    ];
    let Some(_) = processes_limit(1) else {
        eprintln!("skipped: no way to limit processes here");
        return;
    };
    for (name, n, args) in commands {
        if args[0] == "python" && !python3_found(name) {
            continue;
        }
        let limit = processes_limit(n).unwrap();
        let stderr = Case::new(name, &args, 1, &["RLIMIT_NPROC", "`ulimit -u`"])
            .prefix(&limit)
            .check();
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    }
}

/// Open files and the environment: the limit or the variable is named, never "no such
/// interpreter".
#[test]
fn limits_and_environment_are_named_as_the_cause() {
    let python = format!(
        "{}/examples/python/arith.py:sum_of_squares",
        env!("CARGO_MANIFEST_DIR")
    );
    let py = |spec: &'static str| -> Vec<String> {
        [
            "python", &python, "--python", spec, "-r", "0..100", "--runs", "1", "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let strs = |v: &[String]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let mut cases = vec![
        Case::new(
            "the fork server under ulimit -n 5",
            &["run", "-b", "processes", "-w", "2", "-r", "0..100"],
            1,
            &["starting the fork server", "RLIMIT_NOFILE", "`ulimit -n`"],
        )
        .prefix("ulimit -n 5"),
        Case::new(
            "spawned workers under ulimit -n 8",
            &[
                "run",
                "-b",
                "processes",
                "--start",
                "spawn",
                "-w",
                "4",
                "-r",
                "0..100",
            ],
            1,
            &["RLIMIT_NOFILE"],
        )
        .prefix("ulimit -n 8"),
    ];
    // The interpreters' cases need one to be there.
    if !python3_found("limits_and_environment_are_named_as_the_cause") {
        for case in &cases {
            case.check();
        }
        return;
    }
    let mut args = strs(&py("3.12"));
    let named = Case {
        args: std::mem::take(&mut args),
        ..Case::new(
            "discovery under ulimit -n 10",
            &[],
            1,
            &["RLIMIT_NOFILE", "`ulimit -n`"],
        )
    };
    cases.push(named.prefix("ulimit -n 10"));
    cases.push(
        Case {
            args: py("3.12"),
            ..Case::new(
                "TMPDIR=/nonexistent",
                &[],
                1,
                &["temporary folder", "TMPDIR=/nonexistent"],
            )
        }
        .env("TMPDIR", "/nonexistent"),
    );
    cases.push(
        Case {
            args: py("3.12"),
            ..Case::new(
                "PYTHONHOME=/nonexistent, a version",
                &[],
                2,
                &["PYTHONHOME=/nonexistent is set"],
            )
        }
        .env("PYTHONHOME", "/nonexistent"),
    );
    cases.push(
        Case {
            args: py("python3"),
            ..Case::new(
                "PYTHONHOME=/nonexistent, a program",
                &[],
                2,
                &["PYTHONHOME=/nonexistent is set", "Fatal Python error"],
            )
        }
        .env("PYTHONHOME", "/nonexistent"),
    );
    for case in &cases {
        case.check();
    }
}

/// A worker process stopped by a signal (its own, injected, or one sent from outside) never
/// answers: it is seen, killed and reported with its part, PID and the signal, with or
/// without `--timeout`.
#[test]
fn a_stopped_worker_is_a_failure_named_as_such() {
    let run = |start: &'static str| {
        vec![
            "run",
            "-b",
            "processes",
            "--start",
            start,
            "-w",
            "2",
            "-k",
            "sleep:1ms",
            "-r",
            "0..40",
            "-s",
            "chunks:10",
        ]
    };
    let says = [
        "worker 1 (pid ",
        "failed on part 1 (10..20): stopped by signal 19 (SIGSTOP)",
    ];
    let mut cases = Vec::new();
    for start in ["spawn", "forkserver"] {
        cases.push(
            Case::new(
                &format!("PARLAB_FAULT=signal:19@1, {start}"),
                &run(start),
                1,
                &says,
            )
            .env("PARLAB_FAULT", "signal:19@1"),
        );
    }
    let long = [
        "run",
        "-b",
        "processes",
        "--start",
        "spawn",
        "-w",
        "2",
        "-k",
        "sleep:1h",
        "-r",
        "0..2",
    ];
    cases.push(
        Case::new(
            "kill -STOP on a worker",
            &long,
            1,
            &["(pid ", "stopped by signal 19 (SIGSTOP)"],
        )
        .signal_child(Signal::SIGSTOP, "__worker"),
    );
    cases.push(
        Case::new(
            "kill -TSTP on a worker",
            &long,
            1,
            &["stopped by signal 20 (SIGTSTP)"],
        )
        .signal_child(Signal::SIGTSTP, "__worker"),
    );
    for case in &cases {
        case.check();
    }
}

/// True where a python3 (3.6 or later) is on the PATH; else says the test is skipped.
fn python3_found(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 6))"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: {test}: no python3 (3.6+) on the PATH");
    }
    ok
}

/// A folder of this test's own with `files` written in it.
fn folder(test: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-hostile-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        if !name.ends_with(".py") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

/// `parlab python DIR/FILE:f` on python3, two workers, one measured round.
fn python_args(dir: &std::path::Path, file: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["python", &format!("{}/{file}:f", dir.display())]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let workers: &[&str] = if extra.contains(&"-w") {
        &[]
    } else {
        &["-w", "2"]
    };
    let range: &[&str] = if extra.contains(&"-r") {
        &[]
    } else {
        &["-r", "0..20"]
    };
    args.extend(
        ["--python", "python3", "--runs", "1", "--warmup", "0", "-q"]
            .iter()
            .chain(workers)
            .chain(range)
            .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Hostile modules and functions: they print at import, end or close their output at import,
/// read their standard input, sleep through the import, stop: each is named and bounded, the
/// user's file is named when it is the cause, and the protocol never sees what they do.
#[test]
fn hostile_python_modules_are_bounded_and_named() {
    if !python3_found("hostile_python_modules_are_bounded_and_named") {
        return;
    }
    let f = "def f(a, b):\n    return b - a\n";
    let dir = folder(
        "modules",
        &[
            (
                "prints.py",
                &format!(
                    "import os\nprint('printed at import')\nos.write(1, b'written at import\\n')\n{f}"
                ),
            ),
            ("exits.py", &format!("import os\nos._exit(3)\n{f}")),
            (
                "closes.py",
                &format!("import os\nos.close(1)\nos.close(0)\n{f}"),
            ),
            (
                "reads.py",
                "import sys\nsys.stdin.read()\ndef f(a, b):\n    return b - a + len(sys.stdin.read())\n",
            ),
            ("slow.py", &format!("import time\ntime.sleep(100)\n{f}")),
            // Only the workers sleep: the check passes, each worker's import is bounded.
            (
                "slow_worker.py",
                &format!(
                    "import os, time\nif os.environ.get('PARLAB_ROAD'):\n    time.sleep(100)\n{f}"
                ),
            ),
            (
                "stops.py",
                "import time\ndef f(a, b):\n    time.sleep(0.5)\n    return b - a\n",
            ),
        ],
    );
    let case = |name: &str, file: &str, extra: &[&str], code: i32, says: &[&str]| Case {
        args: python_args(&dir, file, extra),
        ..Case::new(name, &[], code, says)
    };
    let (stdout, stderr) = case("prints at import", "prints.py", &[], 0, &[]).run();
    assert!(
        stdout.contains("answer 20") && !stdout.contains("at import"),
        "{stdout}"
    );
    assert!(
        stderr.contains("printed at import") && stderr.contains("written at import"),
        "{stderr}"
    );
    case(
        "os._exit at import",
        "exits.py",
        &[],
        2,
        &["importing", "exits.py ended the interpreter", "code 3"],
    )
    .check();
    case("os.close(1) at import", "closes.py", &[], 0, &[]).check();
    let (stdout, _) = case("reads standard input", "reads.py", &[], 0, &[]).run();
    assert!(stdout.contains("answer 20"), "{stdout}");
    case(
        "sleeps through the import",
        "slow.py",
        &["--timeout", "1s"],
        1,
        &[
            "importing",
            "slow.py did not finish within the timeout of 1s",
        ],
    )
    .check();
    case(
        "sleeps through the workers' import",
        "slow_worker.py",
        &["--timeout", "1s", "--roads", "processes"],
        1,
        &["slow_worker.py did not finish within the timeout of 1s"],
    )
    .check();
    // The processes road's one interpreter (the latest started) is stopped while the
    // baseline runs; its turn sees it stopped.
    let mut stopped = case(
        "kill -STOP on an interpreter",
        "stops.py",
        &["--roads", "processes", "-w", "1", "-r", "0..2"],
        1,
        &["processes x1", "(pid ", "stopped by signal 19 (SIGSTOP)"],
    );
    stopped.signal = Some((Signal::SIGSTOP, Duration::ZERO));
    stopped.to_child = Some(" serve ");
    stopped.when = Some(|pid| {
        super::children(pid as u32)
            .iter()
            .filter(|&&c| cmdline(c).contains(" serve "))
            .count()
            >= 2
    });
    stopped.check();
}

/// A process's command line, its arguments joined by spaces.
fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Processes of this machine whose command line holds `marker`, zombies left out.
fn running_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|&p| cmdline(p).contains(marker) && !group_alive_zombie(p))
        .collect()
}

/// True when `pid` is a zombie.
fn group_alive_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
}

/// What a function starts (a child, a double fork into a session of its own, a daemon by
/// `setsid`) is killed when its row ends, and the output says how many it left; nothing
/// outlives parlab.
#[test]
fn processes_a_function_leaves_are_killed_and_counted() {
    if !python3_found("processes_a_function_leaves_are_killed_and_counted") {
        return;
    }
    let marker = format!("{}", 3_000_000 + std::process::id());
    let module = format!(
        "import os, subprocess\n\
         def f(a, b):\n\
         \x20   if a == 0:\n\
         \x20       subprocess.Popen(['sleep', '{marker}'])\n\
         \x20       subprocess.Popen(['setsid', 'sh', '-c', 'sleep {marker} &'])\n\
         \x20       if os.fork() == 0:\n\
         \x20           os.setsid()\n\
         \x20           if os.fork() == 0:\n\
         \x20               os.execvp('sleep', ['sleep', '{marker}'])\n\
         \x20           os._exit(0)\n\
         \x20   return b - a\n"
    );
    // At import too: the check's interpreter holds them as well.
    let at_import = format!(
        "import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\n{}",
        "def f(a, b):\n    return b - a\n"
    );
    let dir = folder(
        "leaves",
        &[("leaves.py", &module), ("imports.py", &at_import)],
    );
    let (stdout, _) = Case {
        args: python_args(&dir, "leaves.py", &["--roads", "threads,processes"]),
        ..Case::new(
            "a function that forks, double-forks and setsids",
            &[],
            0,
            &[],
        )
    }
    .run();
    // The part at 0 runs once per round (one here) on each row: three each time.
    for row in ["sequential x1", "threads x2", "processes x2"] {
        assert!(
            stdout.contains(&format!("{row} on ")) && stdout.contains("left 3 processes running"),
            "{row}: {stdout}"
        );
    }
    let (stdout, _) = Case {
        args: python_args(&dir, "imports.py", &["--roads", "threads"]),
        ..Case::new("a module that starts a process at import", &[], 0, &[])
    }
    .run();
    assert!(
        stdout.contains("imports.py left 1 process running"),
        "{stdout}"
    );
    // Killed by SIGKILL: gone at once, but give a busy machine a moment to show it.
    let t0 = Instant::now();
    while !running_with(&marker).is_empty() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(running_with(&marker), Vec::<u32>::new(), "left running");
}

/// Ctrl-C or SIGTERM while a CPython row runs is the interruption (130, 143), not a fault of
/// the interpreter, whether the user named it or `all` found it.
#[test]
fn a_signal_during_a_cpython_row_is_an_interruption() {
    if !python3_found("a_signal_during_a_cpython_row_is_an_interruption") {
        return;
    }
    // A CPython row runs: an interpreter runs the seed script in a mode other than `info`.
    fn in_a_row(pid: i32) -> bool {
        super::children(pid as u32).iter().any(|&c| {
            let line = cmdline(c);
            line.contains("parlab-seed") && !line.contains(" info")
        })
    }
    let mut cases = Vec::new();
    for spec in ["python3", "all"] {
        cases.push(
            Case::new(
                &format!("reproduce --python {spec}, SIGINT"),
                &["reproduce", "--quick", "--python", spec],
                130,
                &["interrupted by signal 2 (SIGINT)"],
            )
            .signal_when(Signal::SIGINT, in_a_row),
        );
        cases.push(
            Case::new(
                &format!("probe spawn --python {spec}, SIGTERM"),
                &["probe", "--quick", "--python", spec, "spawn"],
                143,
                &["interrupted by signal 15 (SIGTERM)"],
            )
            .signal_when(Signal::SIGTERM, in_a_row),
        );
    }
    for case in &cases {
        case.check();
    }
}

/// Discovery: a program on the PATH that never answers costs a short bound, and an
/// interpreter found by `all` that cannot serve the function (Python 2) is a note.
#[test]
fn discovery_is_bounded_and_python_2_found_by_all_is_a_note() {
    if !python3_found("discovery_is_bounded_and_python_2_found_by_all_is_a_note") {
        return;
    }
    let python3 = String::from_utf8(
        Command::new("python3")
            .args([
                "-c",
                "import sys, os; print(os.path.realpath(sys.executable))",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let dir = folder(
        "discovery",
        &[
            ("ok.py", "def f(a, b):\n    return b - a\n"),
            ("python3.9", "#!/bin/sh\nexec sleep 600\n"),
            ("python3.8", "#!/bin/sh\nexec sleep 600\n"),
        ],
    );
    std::os::unix::fs::symlink(python3.trim(), dir.join("python3")).unwrap();
    let mut args = python_args(&dir, "ok.py", &["--roads", "threads"]);
    let at = args.iter().position(|a| a == "python3").unwrap();
    args[at] = "all".into();
    let empty = dir.join("no-pyenv");
    let (stdout, _) = Case {
        args,
        ..Case::new("two hanging programs on the PATH", &[], 0, &[])
    }
    .env("PATH", &format!("{}:/usr/bin:/bin", dir.display()))
    .env("PYENV_ROOT", &empty.display().to_string())
    .run();
    assert!(stdout.contains("answer 20"), "{stdout}");
    // Python 2 from pyenv's versions folder, where the machine has one.
    let root = std::env::var_os("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pyenv")));
    let two = root.and_then(|r| {
        std::fs::read_dir(r.join("versions"))
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("2.7"))
    });
    let Some(two) = two else {
        eprintln!("skipped: no Python 2.7 in pyenv's versions folder");
        return;
    };
    let mut args = python_args(&dir, "ok.py", &["--roads", "threads"]);
    let at = args.iter().position(|a| a == "python3").unwrap();
    args[at] = "all".to_string();
    let (stdout, _) = Case {
        args,
        ..Case::new("all finds Python 2", &[], 0, &[])
    }
    .env(
        "PATH",
        &format!("{}:/usr/bin:/bin", two.path().join("bin").display()),
    )
    .run();
    // The note is wrapped to the table's width: read it as one line.
    let text = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("CPython 2.7") && text.contains("is left out: not an interpreter that runs"),
        "{stdout}"
    );
}
