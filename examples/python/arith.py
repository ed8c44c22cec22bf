"""Pure-Python arithmetic: the loop holds the GIL the whole time.

    parlab python examples/python/arith.py:sum_of_squares --range 0..2e6

Threads take turns on the GIL (about 1x, or worse); separate interpreters (processes,
subinterpreters on 3.12+) run in parallel. The answer exceeds 64 bits from about 2.6e6 on,
and is added exactly all the same.
"""


def sum_of_squares(start, end):
    total = 0
    for i in range(start, end):
        total += i * i
    return total
