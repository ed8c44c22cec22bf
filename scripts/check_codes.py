"""Runs the code every row of a `parlab python --json` report carries (`rows[].code`: the
sequential loop's and each executor's) by this interpreter, and checks that each returns what
the sequential loop returns (range mode: also the report's exact answer). Exit 1 on any
difference.

    python3.14 scripts/check_codes.py REPORT.json [PYTHON_LABEL]

Only the rows of PYTHON_LABEL (default: the report's first interpreter) are run: the code is
for the interpreter it was measured on.
"""

import importlib.util
import json
import os
import sys
import tempfile


def load(code, folder, name):
    path = os.path.join(folder, name + ".py")
    with open(path, "w") as f:
        f.write(code)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    report = json.load(open(sys.argv[1]))
    label = sys.argv[2] if len(sys.argv) > 2 else report["pythons"][0]["label"]
    rows = [r for r in report["rows"] if r["python"] == label and r.get("code")]
    base = [r for r in rows if r["road"] == "sequential"]
    if not base:
        sys.exit("no sequential row with code on %s" % label)
    folder = tempfile.mkdtemp(prefix="parlab-codes-")
    expected = load(base[0]["code"], folder, "sequential").run()
    if report["mode"] == "range" and str(expected) != report["result"]:
        sys.exit("the sequential code returned %s, the report says %s" % (expected,
                                                                          report["result"]))
    failed = 0
    for k, row in enumerate(rows):
        name = "%s x%d" % (row["road"], row["workers"])
        got = load(row["code"], folder, "row%d" % k).run()
        if got == expected:
            print("same: %s (chunks of %s)" % (name, row.get("chunksize")))
        else:
            failed += 1
            print("differs: %s: %r against %r" % (name, str(got)[:80], str(expected)[:80]))
    print("%d of %d rows' code returned the sequential answer on %s" % (
        len(rows) - failed, len(rows), label))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
