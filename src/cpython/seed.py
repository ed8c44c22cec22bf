"""The seed experiment in CPython, run by `parlab reproduce` beside parlab's own rows.

Usage: python3 seed.py MODE ARGS...   (prints one JSON object on stdout)

  threads N START END          count START..END in N threads; totals appended to a shared list
  processes N START END        count in N processes; totals put on a multiprocessing.Queue,
                               drained after join until the 'STOP' sentinel
  sleep N START END SECONDS    N threads, each time.sleep(SECONDS) once per index of its part
  holds SECONDS                two CPU-bound threads; how long each keeps the GIL per turn
  convoy SECONDS               pipe write+read pairs per second: alone, then beside a
                               CPU-bound thread
  spawn REPS                   threading.Thread and multiprocessing.Process (fork, forkserver,
                               spawn) start+join times
  queue N                      N small ints through a multiprocessing.Queue from a child process

Parts follow the seed's formula: part k is START + (END-START)*k//N .. START + (END-START)*(k+1)//N.
"""

import json
import multiprocessing
import os
import statistics
import sys
import threading
import time


def parts(n, start, end):
    return [(start + (end - start) * k // n, start + (end - start) * (k + 1) // n) for k in range(n)]


def work(start, end):
    total = 0
    for _ in range(start, end):
        total += 1
    return total


def snooze(start, end, seconds):
    for _ in range(start, end):
        time.sleep(seconds)
    return end - start


def in_threads(fn, n, start, end, *extra):
    results = []

    def target(a, b):
        results.append(fn(a, b, *extra))

    threads = [threading.Thread(target=target, args=p) for p in parts(n, start, end)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return sum(results), elapsed


def _put_total(queue, a, b):
    queue.put(work(a, b))


def in_processes(n, start, end):
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_put_total, args=(queue, a, b)) for a, b in parts(n, start, end)]
    t0 = time.perf_counter()
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
    elapsed = time.perf_counter() - t0
    return total, elapsed


def holds(seconds):
    """Turn lengths of two CPU-bound threads: a gap of over 100 us between two iterations of a
    thread's loop means another thread held the GIL meanwhile."""
    deadline = time.perf_counter() + seconds
    turns = []
    lock = threading.Lock()

    def spin():
        mine = []
        now = time.perf_counter
        turn_start = last = now()
        while last < deadline:
            t = now()
            if t - last > 0.0001:
                mine.append(last - turn_start)
                turn_start = t
            last = t
        with lock:
            turns.extend(mine[1:])  # the first turn started with the thread, not a hand-off

    threads = [threading.Thread(target=spin) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    turns.sort()
    if not turns:
        return {"turns": 0}
    return {
        "turns": len(turns),
        "hold_median_s": statistics.median(turns),
        "hold_p90_s": turns[min(len(turns) - 1, round(0.9 * (len(turns) - 1)))],
    }


def convoy(seconds):
    """Write+read pairs on a pipe per second, alone and beside a CPU-bound thread. Each
    os.write and os.read releases and re-takes the GIL."""
    r, w = os.pipe()

    def pairs(duration):
        n = 0
        deadline = time.perf_counter() + duration
        while time.perf_counter() < deadline:
            for _ in range(10):
                os.write(w, b"x")
                os.read(r, 1)
            n += 10
        return n / duration

    alone = pairs(seconds)
    stop = False

    def burn():
        x = 0
        while not stop:
            x += 1

    cpu = threading.Thread(target=burn)
    cpu.start()
    beside = pairs(seconds)
    stop = True
    cpu.join()
    return {"alone_per_s": alone, "beside_cpu_per_s": beside}


def _noop():
    pass


def _timings(xs):
    xs = sorted(xs)
    return {"median_s": statistics.median(xs), "min_s": xs[0], "max_s": xs[-1], "n": len(xs)}


def spawn_costs(reps):
    out = {}
    xs = []
    for _ in range(reps * 4):
        t0 = time.perf_counter()
        t = threading.Thread(target=_noop)
        t.start()
        t.join()
        xs.append(time.perf_counter() - t0)
    out["thread"] = _timings(xs)
    for method in ["fork", "forkserver", "spawn"]:
        ctx = multiprocessing.get_context(method)
        warm = ctx.Process(target=_noop)  # starts the fork server, imports the context
        warm.start()
        warm.join()
        xs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            p = ctx.Process(target=_noop)
            p.start()
            p.join()
            xs.append(time.perf_counter() - t0)
        out["process_" + method] = _timings(xs)
    return out


def _produce(queue, n):
    for i in range(n):
        queue.put(i)


def queue_rate(n):
    queue = multiprocessing.Queue()
    p = multiprocessing.Process(target=_produce, args=(queue, n))
    t0 = time.perf_counter()
    p.start()
    for _ in range(n):
        queue.get()
    elapsed = time.perf_counter() - t0
    p.join()
    return {"messages": n, "elapsed_s": elapsed, "per_s": n / elapsed}


def main(argv):
    mode, args = argv[1], argv[2:]
    out = {"python": sys.version.split()[0], "switch_interval_s": sys.getswitchinterval()}
    if mode == "threads":
        n, a, b = map(int, args)
        out["result"], out["elapsed_s"] = in_threads(work, n, a, b)
    elif mode == "processes":
        n, a, b = map(int, args)
        out["result"], out["elapsed_s"] = in_processes(n, a, b)
    elif mode == "sleep":
        n, a, b = map(int, args[:3])
        out["result"], out["elapsed_s"] = in_threads(snooze, n, a, b, float(args[3]))
    elif mode == "holds":
        out.update(holds(float(args[0])))
    elif mode == "convoy":
        out.update(convoy(float(args[0])))
    elif mode == "spawn":
        out.update(spawn_costs(int(args[0])))
    elif mode == "queue":
        out.update(queue_rate(int(args[0])))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
