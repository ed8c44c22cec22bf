#!/bin/sh
# Reruns the measurements that say whether parlab's verdicts hold on this machine, and prints a
# summary:
#   1. five `parlab reproduce` runs in a row: each row's verdict word in every run (they should
#      agree; with the runs each took, as undecided rows get more rounds), and parlab's 2
#      threads' share of the machine's ceiling each time (0.8-1.1);
#   2. the A/A check: `bench -b sequential,threads -w 1`, whose speedup interval should hold 1;
#   3. `bench` beside a busy loop pinned to CPU 1: the ceiling at 2 workers, and what the dynamic
#      (chunks) and the static split reach of it;
#   4. the share of each benchmark's time the ceiling probes took (under 10%).
#
# Usage: scripts/trust-check.sh [PARLAB] [--quick]
#   PARLAB  the binary (default target/release/parlab; build it with cargo build --release)
#   --quick reproduce --quick (about 20 s a run instead of 70-120 s)
# Needs python3 (to read the JSON) and, for step 3, taskset. Takes 7-15 minutes.
set -eu

PARLAB=${1:-target/release/parlab}
QUICK=${2:-}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/parlab-trust.XXXXXX")
BUSY=
stop_busy() {
    if [ -n "$BUSY" ]; then
        kill "$BUSY" 2>/dev/null || true
        wait "$BUSY" 2>/dev/null || true
        BUSY=
    fi
}
trap stop_busy EXIT INT TERM

echo "parlab trust check: $PARLAB, results in $OUT"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

echo
echo "1. five reproduce runs in a row ${QUICK:+(--quick)}"
for i in 1 2 3 4 5; do
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$PARLAB" reproduce $QUICK --json >"$OUT/reproduce-$i.json"
    echo "   run $i: $(($(date +%s) - start)) s"
done
python3 - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
runs = [json.load(open(f"{out}/reproduce-{i}.json")) for i in range(1, 6)]
rows = {}
shares = []
for run in runs:
    for section in ("cpu", "io"):
        for r in run[section]["rows"]:
            if r.get("verdict") is None:
                continue
            key = f'{section}: {r["family"]}, {r["variant"]}'
            s, clock, cpus = r["speedup"], r.get("speedup_by_clock"), r.get("cpus")
            extra = ""
            if cpus is not None:
                extra += f', {cpus["value"]:.2f} CPUs'
            if clock is not None and abs(clock["value"] - s["value"]) >= 0.005:
                extra += f', clock {clock["value"]:.2f}x'
            rows.setdefault(key, []).append(
                f'{r["verdict"]} ({s["value"]:.2f}x, {s["low"]:.2f}-{s["high"]:.2f}, '
                f'{r["runs"]} runs{extra})')
    two = [r for r in run["cpu"]["rows"]
           if r["family"] == "parlab" and r["variant"] == "2 threads"][0]
    v, c = two["vs_ceiling"], two["ceiling"]
    shares.append((v["value"], v["low"], v["high"], c["value"]))
same = 0
for key, seen in rows.items():
    words = [s.split(" (")[0] for s in seen]
    agree = len(set(words)) == 1
    same += agree
    print(f'   {"same" if agree else "DIFFER"}  {key}: ' + "; ".join(seen))
print(f"   verdict words the same in all five runs: {same} of {len(rows)} rows")
inside = sum(0.8 <= v <= 1.1 for v, *_ in shares)
print("   parlab 2 threads, share of the ceiling: " + ", ".join(
    f"{v:.2f} ({lo:.2f}-{hi:.2f}) of {c:.2f}x" for v, lo, hi, c in shares)
    + f": {inside} of 5 within 0.8-1.1")
EOF

cell() {
    # cell FILE BACKEND WORKERS: speedup, ceiling, share of it, and the probe cost of one cell
    python3 - "$@" <<'EOF'
import json, sys
path, backend, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(path))
c = [c for c in r["cells"] if c["backend"] == backend and c["workers"] == workers][0]
e = lambda x, f="{:.2f}": "-" if x is None else (
    f.format(x["value"]) + " (" + f.format(x["low"]) + "-" + f.format(x["high"]) + ")")
ceil = r["ceilings"]["at"]
seen = ", samples {:.2f}-{:.2f}".format(*ceil[0]["range"]) if ceil else ""
holds = c["speedup"]["low"] <= 1.0 <= c["speedup"]["high"]
print(f'   {backend} x{workers}, split {c["split"]}: speedup {e(c["speedup"])}'
      + (f' (holds 1.0: {"yes" if holds else "NO"})' if workers == 1 else "")
      + f', ceiling {e(c["ceiling"])}{seen}, of ceiling {e(c["vs_ceiling"])}'
      + f', {r["rounds"]} rounds, probes {r["ceilings"]["cost_s"]:.2f} s'
      + f' = {100 * r["ceilings"]["cost_share"]:.1f}% of the time')
EOF
}

echo
echo "2. A/A: bench -b sequential,threads -w 1"
"$PARLAB" bench -q -b sequential,threads -w 1 --export-json "$OUT/aa.json" >/dev/null
cell "$OUT/aa.json" threads 1

echo
echo "3. bench beside a busy loop pinned to CPU 1"
taskset -c 1 sh -c 'while :; do :; done' &
BUSY=$!
for split in chunks:1e6 static; do
    "$PARLAB" bench -q -b threads -w 2 -s "$split" --export-json "$OUT/busy-$split.json" >/dev/null
    cell "$OUT/busy-$split.json" threads 2
done
stop_busy
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
