#!/usr/bin/env python3
"""The GIL models' fidelity against CPython on this machine, for BENCHMARKS.md.

Runs `parlab reproduce --json` (CPython and the models in the same run) N times and reports,
for each fidelity figure, the median over the runs:

- T(2 threads)/T(1) and T(4)/T(1) on count 0..1e8: CPython threads against the `gil` model;
- median GIL hold per turn with two CPU-bound threads;
- the convoy figure: write+read pairs per second of an I/O thread beside a CPU-bound thread;
- `gil-legacy`'s T(2)/T(1) and T(4)/T(1) against Beazley's published Python 2 ratios.

Usage: python3 scripts/bench_gil.py [--runs N]   (prints Markdown)
"""

import argparse
import json
import os
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARLAB = os.path.join(ROOT, "target", "release", "parlab")


def row(rows, family_prefix, variant):
    for r in rows:
        if r["family"].startswith(family_prefix) and r["variant"] == variant:
            return r
    raise KeyError((family_prefix, variant))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    load = os.getloadavg()
    figures = {}
    python = None

    def add(name, value):
        figures.setdefault(name, []).append(value)

    for _ in range(a.runs):
        rep = json.loads(subprocess.run([PARLAB, "reproduce", "--json"], check=True, capture_output=True, text=True).stdout)
        python = rep["python"].get("Ok")
        rows = rep["cpu"]["rows"]
        for fam, key in [("CPython", "cpython"), ("parlab gil", "gil"), ("parlab gil-legacy", "legacy")]:
            one = row(rows, fam, "1 thread")["wall_s"]
            for w in ["2 threads", "4 threads"]:
                add(f"{key} T({w[0]})/T(1)", row(rows, fam, w)["wall_s"] / one)
        for c in rep["inside"]:
            add(f"cpython {c['metric']}", c["cpython"])
            add(f"gil {c['metric']}", c["parlab"])

    m = {k: statistics.median(v) for k, v in figures.items()}
    print(f"CPython {python}; {a.runs} runs of `parlab reproduce --json`, medians; load average before {load[0]:.2f}\n")
    print("| figure | CPython | parlab `gil` | model / CPython |")
    print("|---|---|---|---|")
    for w in ["2", "4"]:
        c, g = m[f"cpython T({w})/T(1)"], m[f"gil T({w})/T(1)"]
        print(f"| T({w} threads) / T(1 thread), count 0..1e8 | {c:.3f} | {g:.3f} | {g / c:.3f} |")
    for metric, unit in [
        ("GIL hold per turn, 2 CPU-bound threads, median", "ms"),
        ("GIL hold per turn, 2 CPU-bound threads, p90", "ms"),
        ("I/O thread alone: write+read pairs", "per s"),
        ("I/O thread beside 1 CPU-bound thread: write+read pairs", "per s"),
    ]:
        c, g = m[f"cpython {metric}"], m[f"gil {metric}"]
        print(f"| {metric} ({unit}) | {c:.4g} | {g:.4g} | {g / c:.3f} |")
    print()
    print("| figure | Beazley 2010, Python 2.6, quad-core | parlab `gil-legacy` |")
    print("|---|---|---|")
    print(f"| T(2 threads) / T(sequential) | {15.4 / 7.8:.2f} | {m['legacy T(2)/T(1)']:.3f} |")
    print(f"| T(4 threads) / T(sequential) | {15.7 / 7.8:.2f} | {m['legacy T(4)/T(1)']:.3f} |")


if __name__ == "__main__":
    main()
