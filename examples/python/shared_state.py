"""Two functions that keep state in the module between calls, as pyperformance's richards does:
right one call at a time, wrong on threads.

    parlab python examples/python/shared_state.py:relink --items 0..200 -w 2
    parlab python examples/python/shared_state.py:take_turns --items 0..200 -w 2

relink: each call puts a fresh chain of tasks in the module's `head` and follows it after a
moment; a second thread replaces and clears it meanwhile, and the first finds None
(AttributeError) where its task was. take_turns: each call takes the module's one `owner` slot
and waits to see itself there; a second thread takes the slot meanwhile, and the first waits for
ever (a livelock), until parlab's default limit (10x the sequential run, at least 10 s) ends its
row. Processes hold a module each, and run both right.
"""

import time


class Task(object):
    def __init__(self, link):
        self.link = link


head = None
owner = [None]


def relink(item):
    global head
    head = Task(Task(None))
    time.sleep(0.001)  # another thread runs here
    task = head.link
    head = None
    return item, task.link is None


def take_turns(item):
    owner[0] = item
    time.sleep(0.001)  # another thread runs here
    while owner[0] != item:
        pass  # wait for the slot to come back: it never does
    return item
