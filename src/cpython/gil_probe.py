"""How an interpreter's GIL behaves, measured from inside: run by `parlab reproduce` to hold
parlab's GIL models against the interpreters they model.

Runs on CPython 2.7 and 3.6 and later alike (no f-strings, `xrange` where it exists). It sees
hand-offs directly rather than guessing them from pauses, so it is right for Python 2's old GIL
as well as for the new one: Python 2 hands the lock over after a few dozen microseconds of
running at most, far less than a pause threshold could tell from the operating system's own
preemptions.

Usage: python gil_probe.py MODE SECONDS   (prints one JSON object on stdout)

  holds SECONDS    two CPU-bound threads; how long each keeps the GIL per turn
  convoy SECONDS   pipe write+read pairs per second: alone, then beside a CPU-bound thread
"""

from __future__ import print_function

import json
import os
import sys
import threading
import time

now = getattr(time, "perf_counter", time.time)


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2.0


def holds(seconds):
    """Turn lengths of two CPU-bound threads, seen directly: each thread marks itself as the
    last to have run, and a thread that finds another's mark has been given the GIL since its
    previous iteration. Its turn runs from the clock read just after it noticed to the last
    clock read it made while its own mark still stood, so a switch taken between a clock read
    and the check that follows it (after a call, at the loop's back-edge) never dates a turn
    from before the other thread's. Only the GIL's holder runs these lines, so the mark needs no
    lock of its own."""
    deadline = now() + seconds
    owner = [None]
    turns = []
    go = threading.Event()

    def spin():
        me = object()
        clock = now
        mine = []
        start = last = None
        go.wait()
        while True:
            if owner[0] is not me:
                if start is not None:
                    mine.append(last - start)
                owner[0] = me
                start = last = clock()
                continue
            t = clock()
            if owner[0] is me:
                last = t
            if t >= deadline:
                break
        turns.extend(mine)

    threads = [threading.Thread(target=spin) for _ in range(2)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    turns.sort()
    if not turns:
        return {"turns": 0}
    return {
        "turns": len(turns),
        "hold_median_s": median(turns),
        "hold_p90_s": turns[min(len(turns) - 1, int(round(0.9 * (len(turns) - 1))))],
    }


def convoy(seconds):
    """Write+read pairs on a pipe per second, alone and beside a CPU-bound thread. Each
    os.write and os.read releases and re-takes the GIL."""
    r, w = os.pipe()

    def pairs(duration):
        n = 0
        deadline = now() + duration
        while now() < deadline:
            for _ in range(10):
                os.write(w, b"x")
                os.read(r, 1)
            n += 10
        return n / duration

    alone = pairs(seconds)
    stop = []

    def burn():
        x = 0
        while not stop:
            x += 1

    cpu = threading.Thread(target=burn)
    cpu.start()
    beside = pairs(seconds)
    stop.append(True)
    cpu.join()
    return {"alone_per_s": alone, "beside_cpu_per_s": beside}


def main(argv):
    mode, args = argv[1], argv[2:]
    out = {"python": sys.version.split()[0]}
    if hasattr(sys, "getswitchinterval"):
        out["switch_interval_s"] = sys.getswitchinterval()
    else:
        out["check_interval"] = sys.getcheckinterval()  # Python 2's old GIL
    if mode == "holds":
        out.update(holds(float(args[0])))
    elif mode == "convoy":
        out.update(convoy(float(args[0])))
    else:
        print("unknown mode %r" % mode, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
