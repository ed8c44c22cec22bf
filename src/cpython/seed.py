"""The seed experiment in CPython, run by `parlab reproduce` beside parlab's own rows.

Runs on CPython 2.7 and 3.6 and later alike: no f-strings, no `statistics`, `xrange` where it
exists (Python 2's `range` builds a list).

Usage: python3 seed.py MODE ARGS...   (prints one JSON object on stdout)

  info                         the interpreter: version, implementation, GIL, start method
  threads N START END          count START..END in N threads; totals appended to a shared list
  processes N START END [METHOD]
                               count in N processes; totals put on a multiprocessing.Queue,
                               drained after join until the 'STOP' sentinel; started by METHOD
                               (fork, forkserver or spawn), by default the interpreter's own
                               default (forkserver on Linux from 3.14, fork before), as a
                               user's ProcessPoolExecutor or Pool would start them
  subinterpreters N START END  count in N subinterpreters, each with its own GIL, one thread
                               each (3.12+: concurrent.interpreters on 3.14+, the private
                               _interpreters on 3.13 and _xxsubinterpreters on 3.12)
  sleep N START END SECONDS    N threads, each time.sleep(SECONDS) once per index of its part
  spawn REPS                   threading.Thread and multiprocessing.Process (fork, forkserver,
                               spawn) start+join times
  queue N                      N small ints through a multiprocessing.Queue from a child process
  holds SECONDS                two CPU-bound threads: how long each keeps the GIL per turn
  convoy SECONDS               pipe write+read pairs per second: alone, then beside a CPU-bound
                               thread, SECONDS each

threads, subinterpreters and sleep print result, elapsed_s and cpu_s (os.times(), user and
system, of this process over the same span); processes prints result and elapsed_s.

Parts follow the seed's formula: part k is START + (END-START)*k//N .. START + (END-START)*(k+1)//N.
"""

from __future__ import print_function

import json
import multiprocessing
import os
import sys
import threading
import time

try:
    counter = xrange  # Python 2: range would build a list of every index
except NameError:
    counter = range

now = getattr(time, "perf_counter", time.time)


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2.0


def start_methods():
    """The start methods this interpreter has, its default first."""
    if not hasattr(multiprocessing, "get_context"):
        return ["fork"] if os.name == "posix" else ["spawn"]  # Python 2: fork on POSIX
    default = multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_context()
    if not isinstance(default, str):
        default = default.get_start_method()
    others = [m for m in multiprocessing.get_all_start_methods() if m != default]
    return [default] + others


def context(method=None):
    """The multiprocessing context of `method`, or of the interpreter's default."""
    if not hasattr(multiprocessing, "get_context"):
        if method not in (None, "fork"):
            raise SystemExit("start method %r: this interpreter has fork only" % method)
        return multiprocessing
    if method is not None and method not in multiprocessing.get_all_start_methods():
        raise SystemExit("start method %r: this interpreter has %s" % (
            method, ", ".join(multiprocessing.get_all_start_methods())))
    return multiprocessing.get_context(method)


def subinterpreter_api():
    """The module that creates subinterpreters with their own GIL, or None before 3.12."""
    if sys.version_info < (3, 12):
        return None
    for name in ["concurrent.interpreters", "_interpreters", "_xxsubinterpreters"]:
        try:
            __import__(name)
            return name
        except ImportError:
            pass
    return None


def info():
    import platform
    import sysconfig

    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": os.path.realpath(sys.executable),
        "gil_enabled": gil() if gil else True,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "start_method": start_methods()[0],
        "start_methods": start_methods(),
        "gil_env": os.environ.get("PYTHON_GIL"),
        "gil_option": getattr(sys, "_xoptions", {}).get("gil"),
        "subinterpreters": subinterpreter_api(),
    }


def cpu():
    """This process's CPU time so far, user and system, every thread."""
    t = os.times()
    return t[0] + t[1]


def run_all(threads):
    """Starts every thread, waits for all, and returns the seconds they took together and the
    CPU seconds this process used meanwhile."""
    t0, c0 = now(), cpu()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return now() - t0, cpu() - c0


def parts(n, start, end):
    return [(start + (end - start) * k // n, start + (end - start) * (k + 1) // n) for k in range(n)]


def work(start, end):
    total = 0
    for _ in counter(start, end):
        total += 1
    return total


def snooze(start, end, seconds):
    for _ in counter(start, end):
        time.sleep(seconds)
    return end - start


def in_threads(fn, n, start, end, *extra):
    results = []

    def target(a, b):
        results.append(fn(a, b, *extra))

    threads = [threading.Thread(target=target, args=p) for p in parts(n, start, end)]
    elapsed, cpu_s = run_all(threads)
    return sum(results), elapsed, cpu_s


def _put_total(queue, a, b):
    queue.put(work(a, b))


def in_processes(n, start, end, method=None):
    ctx = context(method)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_put_total, args=(queue, a, b)) for a, b in parts(n, start, end)]
    t0 = now()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    queue.put("STOP")
    total = 0
    while True:
        item = queue.get()
        if item == "STOP":
            break
        total += item
    elapsed = now() - t0
    return total, elapsed


SUB_WORK = """
import os
def work(start, end):
    total = 0
    for _ in range(start, end):
        total += 1
    return total
os.write(%d, (str(work(%d, %d)) + "\\n").encode())
"""


def in_subinterpreters(n, start, end):
    """Count in n subinterpreters, each created with its own GIL and run by a thread of its
    own; each writes its total to a pipe. The loop is in a function, as fast as a thread's."""
    api = subinterpreter_api()
    if api is None:
        raise SystemExit("subinterpreters with their own GIL need CPython 3.12 or later")
    r, w = os.pipe()
    if api == "concurrent.interpreters":
        from concurrent import interpreters

        interps = [interpreters.create() for _ in range(n)]
        run = [lambda i=i, c=None: getattr(i, "exec")(c) for i in interps]
        destroy = [i.close for i in interps]
    else:
        mod = __import__(api)
        ids = [mod.create() for _ in range(n)]
        runner = getattr(mod, "exec", None) or mod.run_string
        run = [lambda i=i, c=None: runner(i, c) for i in ids]
        destroy = [lambda i=i: mod.destroy(i) for i in ids]
    threads = [
        threading.Thread(target=run[k], kwargs={"c": SUB_WORK % (w, a, b)})
        for k, (a, b) in enumerate(parts(n, start, end))
    ]
    elapsed, cpu_s = run_all(threads)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    for d in destroy:
        d()
    totals = [int(x) for x in data.split()]
    if len(totals) != n:
        raise SystemExit("%d of %d subinterpreters reported a total" % (len(totals), n))
    return sum(totals), elapsed, cpu_s, api


def _noop():
    pass


def _timings(xs):
    xs = sorted(xs)
    return {"median_s": median(xs), "min_s": xs[0], "max_s": xs[-1], "n": len(xs)}


def spawn_costs(reps):
    out = {}
    xs = []
    for _ in range(reps * 4):
        t0 = now()
        t = threading.Thread(target=_noop)
        t.start()
        t.join()
        xs.append(now() - t0)
    out["thread"] = _timings(xs)
    methods = ["fork", "forkserver", "spawn"] if hasattr(multiprocessing, "get_context") else []
    for method in methods:
        ctx = multiprocessing.get_context(method)
        warm = ctx.Process(target=_noop)  # starts the fork server, imports the context
        warm.start()
        warm.join()
        xs = []
        for _ in range(reps):
            t0 = now()
            p = ctx.Process(target=_noop)
            p.start()
            p.join()
            xs.append(now() - t0)
        out["process_" + method] = _timings(xs)
    return out


def _produce(queue, n):
    for i in range(n):
        queue.put(i)


def queue_rate(n):
    ctx = context()
    queue = ctx.Queue()
    p = ctx.Process(target=_produce, args=(queue, n))
    t0 = now()
    p.start()
    for _ in range(n):
        queue.get()
    elapsed = now() - t0
    p.join()
    return {"messages": n, "elapsed_s": elapsed, "per_s": n / elapsed}


# The GIL probes. They see hand-offs directly rather than guessing them from pauses, so they are
# right for Python 2's old GIL as well as for the new one: Python 2 hands the lock over after a
# few dozen microseconds of running at most, far less than a pause threshold could tell from the
# operating system's own preemptions.


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
        t0 = now()
        deadline = t0 + duration
        while now() < deadline:
            for _ in range(10):
                os.write(w, b"x")
                os.read(r, 1)
            n += 10
        # Over the time it took: beside a CPU-bound thread ten pairs can outlast the deadline.
        return n / (now() - t0)

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
    os.close(r)
    os.close(w)
    return {"alone_per_s": alone, "beside_cpu_per_s": beside}


def main(argv):
    mode, args = argv[1], argv[2:]
    out = {"python": sys.version.split()[0]}
    if hasattr(sys, "getswitchinterval"):
        out["switch_interval_s"] = sys.getswitchinterval()
    else:
        out["check_interval"] = sys.getcheckinterval()  # Python 2's old GIL
    if mode == "info":
        out.update(info())
    elif mode == "threads":
        n, a, b = map(int, args)
        out["result"], out["elapsed_s"], out["cpu_s"] = in_threads(work, n, a, b)
    elif mode == "processes":
        n, a, b = map(int, args[:3])
        method = args[3] if len(args) > 3 else None
        out["result"], out["elapsed_s"] = in_processes(n, a, b, method)
        out["start_method"] = method or start_methods()[0]
    elif mode == "subinterpreters":
        n, a, b = map(int, args)
        out["result"], out["elapsed_s"], out["cpu_s"], out["api"] = in_subinterpreters(n, a, b)
    elif mode == "sleep":
        n, a, b = map(int, args[:3])
        timed = in_threads(snooze, n, a, b, float(args[3]))
        out["result"], out["elapsed_s"], out["cpu_s"] = timed
    elif mode == "spawn":
        out.update(spawn_costs(int(args[0])))
    elif mode == "queue":
        out.update(queue_rate(int(args[0])))
    elif mode == "holds":
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
