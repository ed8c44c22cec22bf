"""Too little work per call to gain: each part is a handful of additions, so handing parts
out (a pipe round trip, a thread start) costs more than the work.

    parlab python examples/python/tiny.py:count_odd --range 0..20000 --split chunks:100

No road beats one thread; the recommendation says so.

    parlab python examples/python/tiny.py:plus_one --items 0..20000

plus_one is a tiny item for map mode: an executor pays a future, a queue and (for processes)
two pickles for each, a hundred times the work, and the recommendation sets that cost a task
against the work a task.
"""


def count_odd(start, end):
    # Closed form: how many odd numbers lie in start..end.
    return end // 2 - start // 2


def plus_one(item):
    return item + 1
