"""Functions of one item, for map mode: `parlab python FILE:FUNCTION --items SOURCE`.

    parlab python examples/python/map_examples.py:word_stats --items examples/python/words.txt
    parlab python examples/python/map_examples.py:collatz --items 1..20001 --chunksize 16,256
    parlab python examples/python/map_examples.py:describe \
        --items examples/python/map_examples.py:grid

Each returns another kind of value, as the functions people hand to `executor.map` do: a str,
a tuple, a float, a dict, a dataclass. parlab checks every item's result, in item order,
against the sequential one (by ==, once pickled across for processes and subinterpreters).
"""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class WordStats:
    word: str
    letters: int
    vowels: int
    checksum: int


def shout(word):
    """A str."""
    return word.upper() + "!"


def collatz(n):
    """A tuple: n and the steps its Collatz sequence takes to reach 1."""
    steps, k = 0, n
    while k > 1:
        k = k // 2 if k % 2 == 0 else 3 * k + 1
        steps += 1
    return n, steps


def harmonic(n):
    """A float: the harmonic number H(n % 1000 + 1)."""
    return math.fsum(1.0 / k for k in range(1, n % 1000 + 2))


def letter_counts(word):
    """A dict: how often each letter occurs."""
    counts = {}
    for c in word.lower():
        counts[c] = counts.get(c, 0) + 1
    return counts


def word_stats(word):
    """A dataclass, with a checksum of the word mixed 1000 times over in pure Python (about a
    millisecond, holding the GIL)."""
    h = 2166136261
    data = word.encode()
    for _ in range(1000):
        for b in data:
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    vowels = sum(c in "aeiouAEIOU" for c in word)
    return WordStats(word, len(word), vowels, h)


def grid():
    """Items: the points of a 40 by 40 grid."""
    return [(x, y) for x in range(40) for y in range(40)]


def describe(point):
    """A dict of the point, its distance from the origin and its angle."""
    x, y = point
    return {"point": point, "norm": math.hypot(x, y), "angle": math.atan2(y, x)}
