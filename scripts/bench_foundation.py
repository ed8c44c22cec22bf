#!/usr/bin/env python3
"""The foundation benchmarks of BENCHMARKS.md, measured in one run.

1. `count` kernel speed against a C reference loop (cc -O2, same loop shape).
2. The processes backend's fixed cost: start W workers, send parts, collect, exit.
3. Per-chunk dispatch through the processes backend with chunks:1.
4. Speedup at 2 workers on `count` (>= 1 s of work) for threads, pool and processes, beside
   C pthreads.

Every figure is a median of interleaved repetitions (round-robin over the variants, so a
drifting machine hurts all alike) and is reported as a ratio against a reference measured in
this same run. Times are taken inside the programs (parlab's --json elapsed_s, the C program's
clock_gettime), so process start-up is excluded except where it is the thing measured.

Usage: python3 scripts/bench_foundation.py [--reps N] [--quick]
Prints Markdown on stdout.
"""

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARLAB = os.path.join(ROOT, "target", "release", "parlab")


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def parlab(*args):
    out = json.loads(sh(PARLAB, "run", "--json", *args))
    return out


def parlab_s(*args):
    return parlab(*args)["elapsed_s"]


def parlab_bench(start, workers, runs):
    """The processes backend at each worker count over 0..0, `runs` rounds in one process;
    returns the JSON report's processes cells."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "b.json")
        sh(
            PARLAB, "bench", "-b", "processes", "--start", start, "-w", ",".join(map(str, workers)),
            "-r", "0..0", "--runs", str(runs), "--warmup", "1", "--quiet", "--export-json", path,
        )
        with open(path) as f:
            cells = json.load(f)["cells"]
    return [c for c in cells if c["backend"] == "processes"]


def c_count(binary, n, threads=0):
    total, secs = sh(binary, str(n), str(threads)).split()
    assert int(total) == n, (total, n)
    return float(secs)


def interleave(variants, reps):
    """Runs each variant `reps` times, round-robin; returns name -> list of seconds."""
    times = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            times[name].append(fn())
    return times


def med(xs):
    return statistics.median(xs)


def spawn_true():
    t0 = time.perf_counter()
    pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
    os.waitpid(pid, 0)
    return time.perf_counter() - t0


def _noop():
    pass


def mp_start_join(method):
    ctx = mp.get_context(method)
    t0 = time.perf_counter()
    p = ctx.Process(target=_noop)
    p.start()
    p.join()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smaller jobs, for a smoke test")
    a = ap.parse_args()
    reps = a.reps

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="parlab-bench-")
    cbin = os.path.join(tmp, "count")
    subprocess.run(
        ["cc", "-O2", "-pthread", "-o", cbin, os.path.join(ROOT, "scripts", "c", "count.c")],
        check=True,
    )

    load_before = os.getloadavg()
    cpu = next(
        (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
        platform.processor(),
    )
    print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}")
    print(f"Load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"Repetitions per figure: {reps}, interleaved; medians.\n")

    # 1. count kernel against C.
    n = 200_000_000 if a.quick else 2_000_000_000
    t = interleave(
        {
            "parlab count (sequential)": lambda: parlab_s("-b", "sequential", "-w", "1", "-r", f"0..{n}"),
            "C loop (cc -O2)": lambda: c_count(cbin, n),
        },
        reps,
    )
    rust, c = med(t["parlab count (sequential)"]), med(t["C loop (cc -O2)"])
    print(f"## 1. count kernel against C, {n:,} increments\n")
    print("| variant | median s | increments per ns |")
    print("|---|---|---|")
    for name, xs in t.items():
        print(f"| {name} | {med(xs):.4f} | {n / med(xs) / 1e9:.2f} |")
    paired = med([r / cc for r, cc in zip(t["parlab count (sequential)"], t["C loop (cc -O2)"])])
    print(f"\nRatio parlab / C: **{rust / c:.3f}** of the medians, **{paired:.3f}** median of the")
    print("ratios of back-to-back pairs (less sensitive to a drifting machine); target <= 1.15\n")

    # 2. fixed cost of the processes backend, by both start methods.
    workers = [1, 2, 4, 8, 16]
    methods = ["spawn", "forkserver"]
    variants = {
        f"{m} W={w}": (lambda m=m, w=w: parlab_s("-b", "processes", "--start", m, "-w", str(w), "-r", "0..0"))
        for w in workers
        for m in methods
    }
    variants["posix_spawn(/bin/true)+wait"] = spawn_true
    t = interleave(variants, reps * 3)
    # The same runs repeated inside one process (`parlab bench`), where a fork server started
    # by the first run serves the later ones: the cost a benchmark or a library user pays.
    warm = {m: {} for m in methods}
    for _ in range(3):
        for m in methods:
            for cell in parlab_bench(m, workers, reps):
                warm[m].setdefault(cell["workers"], []).extend(r["wall_s"] for r in cell["runs"])
    print("## 2. processes backend fixed cost (start W workers, send W empty parts, collect, exit)\n")
    print("Median ms per run. Fresh: one `parlab run` process per run (a fork server is started")
    print("inside each run). Warm: runs repeated in one `parlab bench` process.\n")
    print("| workers | spawn, fresh | forkserver, fresh | spawn, warm | forkserver, warm |")
    print("|---|---|---|---|---|")
    for w in workers:
        cells = [med(t[f"{m} W={w}"]) * 1e3 for m in methods] + [med(warm[m][w]) * 1e3 for m in methods]
        print(f"| {w} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print()
    for label, series in [
        ("spawn, fresh", [med(t[f"spawn W={w}"]) for w in workers]),
        ("forkserver, fresh", [med(t[f"forkserver W={w}"]) for w in workers]),
        ("spawn, warm", [med(warm["spawn"][w]) for w in workers]),
        ("forkserver, warm", [med(warm["forkserver"][w]) for w in workers]),
    ]:
        slope = statistics.linear_regression(workers, [y * 1e3 for y in series]).slope
        print(f"- marginal cost per extra worker (least-squares slope over W), {label}: **{slope:.3f} ms**")
    floor = med(t["posix_spawn(/bin/true)+wait"]) * 1e3
    print(f"\nReference in the same run: posix_spawn(/bin/true) + wait, serially: {floor:.3f} ms\n")

    mp_reps = 3 if a.quick else 5
    t = interleave({m: (lambda m=m: mp_start_join(m)) for m in ["fork", "spawn"]}, mp_reps)
    print(
        "CPython multiprocessing.Process start+join in the same run: "
        + ", ".join(f"{m} {med(v) * 1e3:.2f} ms" for m, v in t.items())
        + "\n"
    )

    # 3. per-chunk dispatch.
    chunks = 100_000 if a.quick else 1_000_000
    variants = {}
    for w in [1, 2]:
        variants[f"chunks W={w}"] = lambda w=w: parlab_s(
            "-b", "processes", "-w", str(w), "-r", f"0..{chunks}", "-s", "chunks:1"
        )
        variants[f"static W={w}"] = lambda w=w: parlab_s(
            "-b", "processes", "-w", str(w), "-r", f"0..{chunks}"
        )
    t = interleave(variants, reps)
    print(f"## 3. processes backend, per-chunk dispatch, count over {chunks:,} one-index chunks\n")
    print("| workers | chunks:1 median ms | static median ms | us per chunk |")
    print("|---|---|---|---|")
    for w in [1, 2]:
        ch, st = med(t[f"chunks W={w}"]), med(t[f"static W={w}"])
        print(f"| {w} | {ch * 1e3:.2f} | {st * 1e3:.2f} | **{(ch - st) / chunks * 1e6:.3f}** |")
    print("\n(us per chunk = (chunks:1 - static) / chunks: the static run does the same counting")
    print("and starts the same workers, so the difference is the hand-out of the chunks.)\n")

    # 4. speedup at 2 workers.
    n = 400_000_000 if a.quick else 10_000_000_000
    rng = f"0..{n}"
    variants = {
        "parlab sequential": lambda: parlab_s("-b", "sequential", "-w", "1", "-r", rng),
        "parlab threads 2": lambda: parlab_s("-b", "threads", "-w", "2", "-r", rng),
        "parlab pool 2": lambda: parlab_s("-b", "pool", "-w", "2", "-r", rng),
        "parlab processes 2": lambda: parlab_s("-b", "processes", "-w", "2", "-r", rng),
        "C 1 thread": lambda: c_count(cbin, n, 1),
        "C pthreads 2": lambda: c_count(cbin, n, 2),
    }
    t = interleave(variants, reps)
    seq, c1 = med(t["parlab sequential"]), med(t["C 1 thread"])
    print(f"## 4. speedup at 2 workers, count over 0..{n:,}\n")
    print("| variant | median s | min s | max s | speedup |")
    print("|---|---|---|---|---|")
    for name, v in t.items():
        base = c1 if name.startswith("C") else seq
        print(f"| {name} | {med(v):.3f} | {min(v):.3f} | {max(v):.3f} | {base / med(v):.2f}x |")
    load_after = os.getloadavg()
    print(f"\nLoad average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
