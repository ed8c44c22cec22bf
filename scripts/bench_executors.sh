#!/usr/bin/env bash
# What the standard library's executors cost a task, beside parlab's own roads, across item
# sizes (about 10 us, 100 us, 1 ms and 10 ms an item: examples/python/per_item.py), in one run of
# this script: `parlab python` at 2 workers on one interpreter, each size its own report, every
# road paired against the sequential run of its own rounds. Prints a Markdown table for
# BENCHMARKS.md.
#
#   scripts/bench_executors.sh [PYTHON] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
runs=${2:-5}
bin=target/release/parlab
[[ -x $bin ]] || cargo build --release --locked
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for size in 10us 100us 1ms 10ms; do
  "$bin" python examples/python/per_item.py:spin --items "examples/python/per_item.py:items_$size" \
    --python "$python" -w 2 --runs "$runs" --chunksize 1,16 -q --json \
    --roads threads,processes,subinterpreters,executor:thread,executor:process,executor:interpreter \
    >"$out/$size.json" || true
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$python" - "$out" <<'PY'
import json, os, sys
folder = sys.argv[1]
def cell(rows, road, chunk):
    for r in rows:
        if r["road"] == road and (chunk is None or r["chunksize"] == chunk) and r["speedup"]:
            s = r["speedup"]
            return "%.2fx (%.2f-%.2f)" % (s["value"], s["low"], s["high"])
    return "-"
OWN = {"executor:thread": "threads", "executor:process": "processes",
       "executor:interpreter": "subinterpreters"}
def cost(rows, base, road, chunk):
    # The recommendation's rule: the executor's time at the parallelism parlab's own road of its
    # kind reached (its speedup, from 1 to the 2 workers), less the sequential time, over its
    # tasks.
    for r in rows:
        if r["road"] == road and r["chunksize"] == chunk and r["median_s"]:
            own = [x for x in rows if x["road"] == OWN[road] and x["speedup"]
                   and (road != "executor:process" or x["chunksize"] == chunk)]
            p = max([x["speedup"]["value"] for x in own] or [1.0])
            p = min(max(p, 1.0), 2.0)
            n = int(base["range"].split("..")[1])
            tasks = -(-n // (chunk if road == "executor:process" else 1))
            return "%.0f us" % (max(r["median_s"] * p - base["median_s"], 0) / tasks * 1e6)
    return "-"
print("| item | sequential | threads x2 | processes x2 | executor:thread x2 | "
      "executor:process x2, chunks of 1 | of 16 | executor:interpreter x2 | "
      "cost a task: thread / process (1) / interpreter |")
print("|---|---|---|---|---|---|---|---|---|")
for size in ["10us", "100us", "1ms", "10ms"]:
    r = json.load(open(os.path.join(folder, size + ".json")))
    rows = r["rows"]
    base = [x for x in rows if x["road"] == "sequential"][0]
    n = int(base["range"].split("..")[1])
    print("| %s | %.1f us an item | %s | %s | %s | %s | %s | %s | %s / %s / %s |" % (
        size, base["median_s"] / n * 1e6,
        cell(rows, "threads", 16), cell(rows, "processes", 16),
        cell(rows, "executor:thread", 1), cell(rows, "executor:process", 1),
        cell(rows, "executor:process", 16), cell(rows, "executor:interpreter", 1),
        cost(rows, base, "executor:thread", 1), cost(rows, base, "executor:process", 1),
        cost(rows, base, "executor:interpreter", 1)))
print()
print("Python: %s" % r["pythons"][0]["label"])
PY
