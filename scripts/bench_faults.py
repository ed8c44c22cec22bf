#!/usr/bin/env python3
"""Faults injected, detected, and the outcome with and without retries, for BENCHMARKS.md.

For every backend and every fault it can suffer, runs
  PARLAB_FAULT=<fault> parlab run -b <backend> -w 3 -k sleep:1ms -r 0..300 -s chunks:10 --timeout 300ms
five times without retries and five times with --retries 1. Part 1 starts at once (3 workers),
so the wall time of a failing run bounds the time from the fault to the error (hangs: the
timeout plus detection). Prints Markdown.
"""

import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARLAB = os.path.join(ROOT, "target", "release", "parlab")
# `processes` by both start methods (forkserver is the default).
BACKENDS = ["sequential", "threads", "pool", "processes", "processes --start spawn", "gil", "gil-legacy"]


def faults(backend):
    f = ["panic@1", "hang@1"]
    if backend.startswith("processes"):
        f += ["exit:7@1", "signal:9@1", "corrupt@1"]
    return f


def run(backend, fault, extra):
    env = dict(os.environ, PARLAB_FAULT=fault)
    args = [PARLAB, "run", "-b", *backend.split(), "-w", "3", "-k", "sleep:1ms", "-r", "0..300", "-s", "chunks:10", "--timeout", "300ms"] + extra
    t0 = time.perf_counter()
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}; medians of 5 runs\n")
    print("| backend | fault | detected as | wall s to the error | with `--retries 1` | wall s |")
    print("|---|---|---|---|---|---|")
    for b in BACKENDS:
        for f in faults(b):
            fails = [run(b, f, []) for _ in range(5)]
            oks = [run(b, f, ["--retries", "1"]) for _ in range(5)]
            err = fails[0][2].strip()
            cause = err.split(": ", 1)[1].split(";")[0] if ": " in err else err
            codes = {r[0] for r in fails}
            recovered = all(r[0] == 0 and r[1].startswith("Result: 300\n") for r in oks)
            print(
                f"| {b} | `{f}` | exit {sorted(codes)}: {cause} | {statistics.median(r[3] for r in fails):.3f} | "
                f"{'exact answer, 1 retry' if recovered else 'FAILED'} | {statistics.median(r[3] for r in oks):.3f} |"
            )


if __name__ == "__main__":
    main()
