"""Two functions whose threads do not scale on a free-threaded CPython, for different reasons.

    parlab python examples/python/contention.py:shared_reads --python 3.13t -w 2
    parlab python examples/python/contention.py:one_lock --python 3.13t -w 2

shared_reads: every thread reads one shared object's attribute in its loop. On a free-threaded
build each read changes that object's reference count, which lives in one cache line that the
CPUs pass back and forth: the threads keep every CPU busy and still gain little (contention on
shared state, cpython#123619). one_lock: every part runs under one module-level lock, so one
thread runs at a time and the others sleep (about one CPU busy: a lock of the function's own).
"""

import threading


class Settings:
    step = 1


settings = Settings()
lock = threading.Lock()


def shared_reads(start, end):
    total = 0
    for _ in range(start, end):
        total += settings.step
    return total


def one_lock(start, end):
    with lock:
        total = 0
        for i in range(start, end):
            total += i & 7
        return total
