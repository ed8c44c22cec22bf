#!/usr/bin/env bash
# CI's checks against today's Pythons, after `scripts/pythons.sh` made them: the release binary
# on the free-threaded 3.13.5t and its GIL twin here, and inside the Debian unstable root on
# 3.14 and 3.15. Each check asserts what the build must show, never a speed; the free-threaded
# build's threads must keep more CPUs busy than its GIL twin's in the same run, unless the machine
# was busy as the run began (reproduce's own warning; then it is said, not judged).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/parlab
[[ -x $bin ]] || cargo build --release --locked
list=$(scripts/pythons.sh list)
ft=$(awk '$1 == "3.13.5t" { print $2 }' <<<"$list")
gil=$(awk '$1 == "3.13.5" { print $2 }' <<<"$list")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== reproduce --quick on $ft and $gil"
"$bin" reproduce --quick --json --python "$ft,$gil" >"$out/twins.json"
python3 - "$out/twins.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
by = {("t" if p["free_threaded"] else ""): p for p in r["pythons"]}
assert by["t"]["gil_enabled"] is False, by["t"]
assert by[""]["gil_enabled"] is True, by[""]
def busy(label):
    rows = [x for x in r["cpu"]["rows"] if x["family"] == "CPython " + label
            and x["variant"] in ("2 threads", "4 threads") and x.get("cpus")]
    assert rows, (label, r["cpu"]["rows"])
    return max(x["cpus"]["value"] for x in rows)
# The free-threaded build's threads keep more CPUs busy than its twin's, which take turns under
# the GIL: a ratio within this run, so that other work on the machine squeezes both alike.
ft, twin = busy("3.13.5t"), busy("3.13.5")
if r["busy_warning"]:
    print("not judged: how many CPUs the threads kept busy (%s)" % r["busy_warning"])
else:
    assert ft > 1.3 * twin, ("3.13.5t's threads kept no more CPUs busy than 3.13.5's", ft, twin)
assert all(x["result"] is not None for x in r["cpu"]["rows"] if "3.13.5" in x["family"])
print("3.13.5t: GIL disabled, threads kept up to %.2f CPUs busy; 3.13.5's %.2f" % (ft, twin))
print("\n".join(r["cpu"]["verdict"]))
EOF

echo "== python on $ft with PYTHON_GIL=1"
PYTHON_GIL=1 "$bin" python examples/python/arith.py:sum_of_squares --python "$ft" \
  --range 0..1e5 -w 2 --runs 1 --json -q >"$out/gil-on.json"
python3 - "$out/gil-on.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["pythons"][0]["gil_enabled"] is True, r["pythons"]
assert any("PYTHON_GIL=1" in n for n in r["notes"]), r["notes"]
print(r["notes"])
EOF

echo "== inside Debian unstable: 3.14 and 3.15"
root="${PARLAB_PYTHONS:-$HOME/.cache/parlab/pythons}/sid"
cp "$bin" "$root/usr/local/bin/parlab"
rm -rf "$root/tmp/parlab-examples" && cp -r examples "$root/tmp/parlab-examples"
scripts/pythons.sh chroot /usr/local/bin/parlab reproduce --quick --json --python 3.14,3.15 \
  >"$out/sid.json"
python3 - "$out/sid.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
versions = sorted(p["version"][:4] for p in r["pythons"])
assert versions == ["3.14", "3.15"], versions
for p in r["pythons"]:
    assert p["subinterpreters"] == "concurrent.interpreters", p
    assert p["start_method"] == "forkserver" and p["processes_start"] == "forkserver", p
rows = [x for x in r["cpu"]["rows"] if x["family"].startswith("CPython 3.1")]
assert rows and all(x["result"] is not None for x in rows), rows
print("3.14 and 3.15: concurrent.interpreters, processes started by forkserver")
EOF
for v in 3.14 3.15; do
  scripts/pythons.sh chroot /usr/local/bin/parlab python \
    /tmp/parlab-examples/python/arith.py:sum_of_squares --python "$v" --range 0..1e5 -w 2 \
    --runs 2 --json -q >"$out/py-$v.json"
  python3 - "$out/py-$v.json" "$v" <<'EOF'
import json, sys
r, v = json.load(open(sys.argv[1])), sys.argv[2]
roads = {x["road"] for x in r["rows"] if x["error"] is None}
want = {"sequential", "threads", "processes", "subinterpreters", "executor:thread",
        "executor:process", "executor:interpreter"}
assert want <= roads, r["rows"]
assert r["result"] == str(sum(i * i for i in range(100000))), r["result"]
assert all(x["start_method"] == "forkserver" for x in r["rows"] if x["road"] == "executor:process")
print("python on %s: every road answered %s, the executors' beside parlab's" % (v, r["result"]))
EOF
done

echo "== each executor row's code, run by the interpreter it names (3.14, 3.15, 3.13.5t, 3.12)"
cp scripts/check_codes.py "$root/tmp/check_codes.py"
for v in 3.14 3.15; do
  scripts/pythons.sh chroot /usr/local/bin/parlab python \
    /tmp/parlab-examples/python/map_examples.py:word_stats --python "$v" -w 2 --runs 1 --json -q \
    --items /tmp/parlab-examples/python/words.txt >"$root/tmp/codes-$v.json"
  scripts/pythons.sh chroot "python$v" /tmp/check_codes.py "/tmp/codes-$v.json"
done
py312=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 2>/dev/null | head -1 || true)
for py in "$ft" ${py312:+"$py312"}; do
  "$bin" python examples/python/map_examples.py:collatz --items 1..2001 --python "$py" -w 2 \
    --runs 1 --json -q --roads threads,processes,executor:thread,executor:process \
    >"$out/codes.json"
  "$py" scripts/check_codes.py "$out/codes.json"
done
