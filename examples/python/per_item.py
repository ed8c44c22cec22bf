"""Work of a chosen size an item, for what an executor costs a task against parlab's own roads.

    parlab python examples/python/per_item.py:spin --items examples/python/per_item.py:items_100us

spin(n) runs n rounds of a small loop (about 45 ns a round on CPython 3.11 on the project's VM),
so each item of items_10us, items_100us, items_1ms and items_10ms takes about that long, and
each list about 0.2 s one after another. The report measures the real cost an item (the
sequential run over the items); scripts/bench_executors.sh runs the four and tabulates them.
"""

ROUNDS_PER_US = 22


def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def items_10us():
    return [10 * ROUNDS_PER_US] * 20000


def items_100us():
    return [100 * ROUNDS_PER_US] * 2000


def items_1ms():
    return [1000 * ROUNDS_PER_US] * 200


def items_10ms():
    return [10000 * ROUNDS_PER_US] * 20
