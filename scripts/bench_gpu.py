#!/usr/bin/env python3
"""The gpu backend's cost per part, against an older build, for BENCHMARKS.md.

Builds this tree and OLD_REV (a git revision; default: the last one whose gpu backend made
its buffers in every dispatch and waited for each read-back), both with `--features gpu`,
then for each build, in turns (old, new, old, new, ...), runs

  parlab bench -b gpu -k count -r 0..1048576 -s chunks:SIZE -w 1,16 --runs 7

with SIZE = 1048576 (one part) and 1024 (1024 parts): the same work, cut 1 or 1024 times. The
difference of the two medians over 1023 is what one part more costs: in the old build one
dispatch with its buffers and its round trip, in the new one its share of a batch. `bench`
sets the device up before its rounds, so no set-up is in these figures. Prints Markdown with
the load averages before and after (lavapipe runs the shaders on the same CPUs as everything
else on the machine).

Then, for both builds in turns again, the jobs where the GPU should one day win:

  parlab bench -b pool,gpu -w 1,16 -r 0..1e8,0..1e9 --runs 5

and prints the gpu cells' medians of each build (medians of the turns), with the new build's
break-even sentences as bench printed them.

usage: scripts/bench_gpu.py [OLD_REV] [--turns N]   (default: 3 turns)
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_REV = "2427654"
N = 1 << 20
SIZES = [N, 1024]
WORKERS = [1, 16]


def build(rev, out):
    """The release binary of `rev` (None: this tree), copied to `out`."""
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    # The old build has a target folder of its own: in a shared one, cargo would take this
    # tree's build for fresh and leave the old binary in its place.
    target = os.path.join(ROOT, "target", "gpu-old" if rev else "")
    cmd = ["nice", "-n", "10", "cargo", "build", "--release", "--quiet", "--features", "gpu",
           "--target-dir", target]
    with tempfile.TemporaryDirectory(prefix="parlab-old-") as tree:
        src = ROOT
        if rev is not None:
            # The old tree as files only: no checkout, no change to the repository.
            archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            src = tree
        subprocess.run(cmd, cwd=src, check=True, env=env)
    subprocess.run(["cp", os.path.join(target, "release", "parlab"), out], check=True)


def medians(binary, size):
    """Median wall seconds of the gpu cells at each worker count, from one bench."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run(
            [binary, "bench", "-q", "-b", "gpu", "-k", "count", "-r", f"0..{N}", "-s",
             f"chunks:{size}", "-w", ",".join(map(str, WORKERS)), "--runs", "7",
             "--export-json", f.name],
            check=True, capture_output=True, env=dict(os.environ, XDG_RUNTIME_DIR="/tmp"))
        report = json.load(open(f.name))
    out = {}
    for c in report["cells"]:
        if c["backend"] == "gpu":
            assert c["mismatches"] == 0 and not c["errors"], c
            out[c["workers"]] = c["wall"]["median"]
    return out, report.get("gpu_adapter")


def large(binary):
    """Median wall seconds of every cell of the pool and gpu bench, and its break-even lines."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        out = subprocess.run(
            [binary, "bench", "-q", "-b", "pool,gpu", "-w", "1,16", "-r", "0..1e8,0..1e9",
             "--runs", "5", "--export-json", f.name],
            check=True, capture_output=True, text=True,
            env=dict(os.environ, XDG_RUNTIME_DIR="/tmp"))
        report = json.load(open(f.name))
    cells = {}
    for c in report["cells"]:
        assert c["mismatches"] == 0 and not c["errors"], c
        r = c["range"]
        cells[(c["backend"], c["workers"], f"{r['start']}..{r['end']}")] = c["wall"]["median"]
    # The findings are indented bullets; a sentence may wrap onto the next lines.
    notes, current = [], None
    for line in out.stdout.splitlines():
        if line.startswith("  - "):
            current = line[4:]
            notes.append(current)
        elif line.startswith("    ") and notes:
            notes[-1] += " " + line.strip()
    return cells, [n for n in notes if n.startswith("gpu ")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_rev", nargs="?", default=OLD_REV)
    parser.add_argument("--turns", type=int, default=3)
    a = parser.parse_args()
    old_rev, turns = a.old_rev, a.turns
    bins = {"old": os.path.join(ROOT, "target", "gpu-old-parlab"),
            "new": os.path.join(ROOT, "target", "gpu-new-parlab")}
    build(old_rev, bins["old"])
    build(None, bins["new"])
    load_before = os.getloadavg()
    # (build, workers, size) -> medians over the turns
    seen = {}
    adapter = None
    for _ in range(turns):
        for name in ["old", "new"]:
            for size in SIZES:
                m, adapter = medians(bins[name], size)
                for w, t in m.items():
                    seen.setdefault((name, w, size), []).append(t)
    load_mid = os.getloadavg()
    big = {}
    sentences = []
    for _ in range(max(1, turns - 1)):
        for name in ["old", "new"]:
            cells, said = large(bins[name])
            for key, t in cells.items():
                big.setdefault((name,) + key, []).append(t)
            if name == "new":
                sentences = said
    load_after = os.getloadavg()
    print(f"adapter: {adapter}; old: {old_rev}; load average {load_before[0]:.2f} before, "
          f"{load_mid[0]:.2f} between, {load_after[0]:.2f} after; {turns} turns of 7 runs "
          f"each, medians of the turns\n")
    print("| build | workers | 1 part | 1024 parts | per part more |")
    print("|---|---|---|---|---|")
    for name in ["old", "new"]:
        for w in WORKERS:
            one = statistics.median(seen[(name, w, SIZES[0])])
            many = statistics.median(seen[(name, w, SIZES[1])])
            per = (many - one) / (N // SIZES[1] - 1)
            print(f"| {name} | {w} | {one * 1e3:.2f} ms | {many * 1e3:.2f} ms | "
                  f"{per * 1e6:.1f} us |")
    ranges = sorted({k[3] for k in big}, key=lambda r: int(r.split("..")[1]))
    print(f"\n`bench -b pool,gpu -w 1,16 -r 0..1e8,0..1e9 --runs 5`, {max(1, turns - 1)} turns "
          "per build, medians of the turns:\n")
    print("| cell | " + " | ".join(f"count {r}" for r in ranges) + " |")
    print("|---|" + "---|" * len(ranges))
    rows = [("old", "gpu", 1), ("old", "gpu", 16), ("new", "gpu", 1), ("new", "gpu", 16),
            ("new", "sequential", 1), ("new", "pool", 16)]
    for name, backend, w in rows:
        times = [statistics.median(big[(name, backend, w, r)]) for r in ranges]
        print(f"| {backend} x{w} ({name}) | " + " | ".join(f"{t * 1e3:.1f} ms" for t in times)
              + " |")
    print()
    for line in sentences:
        print(f"- {line}")


if __name__ == "__main__":
    main()
