//! The `mpi` backend under real `mpirun` (built with `--features mpi`; CI installs OpenMPI):
//! every kernel and both splits against the sequential answer on 1, 2 and 3 ranks, and a rank
//! that fails.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `mpirun -n RANKS --oversubscribe parlab ARGS`, as root if need be.
fn mpirun(ranks: usize, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("mpirun");
    cmd.args(["-n", &ranks.to_string(), "--oversubscribe"])
        .arg(env!("CARGO_BIN_EXE_parlab"))
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .expect("mpirun (OpenMPI) must be installed to test the mpi backend")
}

/// The `Result:` line of parlab's output.
fn result_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("Result: "))
        .unwrap_or_else(|| {
            panic!(
                "no result in {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_string()
}

#[test]
fn every_kernel_and_split_matches_the_sequential_answer() {
    let jobs = [
        ("count", "0..1e7"),
        ("sum", "0..1e6"),
        ("primes", "0..1e6"),
        ("pi", "0..1e6"),
        ("collatz", "0..1e5"),
        ("sleep:1ms", "0..30"),
    ];
    for (kernel, range) in jobs {
        let seq = Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(["run", "-b", "sequential", "-k", kernel, "-r", range])
            .output()
            .unwrap();
        let want = result_line(&seq);
        for split in ["static", "chunks:7777"] {
            for ranks in [1, 2, 3] {
                let out = mpirun(
                    ranks,
                    &["run", "-b", "mpi", "-k", kernel, "-r", range, "-s", split],
                    &[],
                );
                assert!(
                    out.status.success(),
                    "{kernel} {split} {ranks}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(
                    result_line(&out),
                    want,
                    "{kernel} {range} {split} on {ranks} ranks"
                );
                // Only rank 0 reports.
                let text = String::from_utf8_lossy(&out.stdout);
                assert_eq!(text.matches("Result: ").count(), 1, "{text}");
                assert!(
                    text.contains(&format!("backend mpi, {ranks} worker")),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn the_issue_example_counts_the_primes_below_ten_million() {
    let out = mpirun(
        3,
        &[
            "run",
            "--backend",
            "mpi",
            "--kernel",
            "primes",
            "--range",
            "0..1e7",
            "--split",
            "chunks:100000",
        ],
        &[],
    );
    assert!(out.status.success());
    assert_eq!(result_line(&out), "Result: 664579");
}

#[test]
fn a_failing_rank_aborts_the_job_without_hanging() {
    for (fault, split) in [("exit:3@1", "static"), ("panic@1", "chunks:10")] {
        let t0 = Instant::now();
        let out = mpirun(
            3,
            &[
                "run",
                "-b",
                "mpi",
                "-k",
                "sleep:1ms",
                "-r",
                "0..300",
                "-s",
                split,
            ],
            &[("PARLAB_FAULT", fault)],
        );
        assert!(!out.status.success(), "{fault}: the job must fail");
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{fault}: took {:?}",
            t0.elapsed()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains("Result: "), "{fault}: {stdout}");
        if fault.starts_with("panic") {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("failed on part 1 (10..20): panicked: injected fault"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn bench_launches_mpirun_for_every_cell() {
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args([
            "bench", "-b", "mpi", "-w", "1,2", "-k", "primes", "-r", "0..1e6", "--runs", "2",
            "--warmup", "0",
        ])
        .args([
            "--mpirun",
            "mpirun --oversubscribe",
            "--quiet",
            "--export-json",
        ])
        .arg(std::env::temp_dir().join(format!("parlab-mpi-bench-{}.json", std::process::id())))
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The table's rows of the mpi backend (kernel and range may be said once under the table);
    // each one's status begins with "ok".
    let mpi_rows: Vec<_> = stdout
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == "mpi"))
        .collect();
    assert_eq!(mpi_rows.len(), 2, "{stdout}");
    assert!(mpi_rows.iter().all(|l| l.contains("  ok")), "{stdout}");
}

#[test]
fn ranks_started_without_a_matching_pmi_fail_with_the_fix() {
    // What `srun` without `--mpi=pmix` does: the launcher announces 2 ranks, but each process
    // starts MPI alone, as a singleton. Each would run the whole job; parlab refuses.
    for var in ["SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"] {
        let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(["run", "-b", "mpi", "-r", "0..1e5"])
            .env(var, "2")
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{var}: {stderr}");
        assert!(
            stderr.contains(&format!("({var}=2)")) && stderr.contains("srun --mpi=pmix"),
            "{var}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{var}: the job ran");
    }
}
