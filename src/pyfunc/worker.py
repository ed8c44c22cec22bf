"""parlab's side of `parlab python FILE:FUNCTION`: loads the user's function and runs parts of
a range (or chunks of items) through it, in this interpreter's main thread, in N threads, or in N
subinterpreters.

Runs on CPython 3.6 and later.

The protocol has two descriptors of its own, set up by parlab: requests come in on fd 3 and
events go out on fd 4, one line each. The function's standard input is /dev/null and what it
prints (standard output or error) goes to parlab's standard error, so that neither can touch
the protocol.

Usage:
  python3 worker.py check FILE FUNCTION   says "loading", then whether FUNCTION in FILE can be
                                          called as FUNCTION(start, end) ("checked JSON"),
                                          then waits for "quit"
  python3 worker.py serve FILE FUNCTION   says "loading", loads the function, says "ready",
                                          then answers requests, one per line:

    part I A B                 FUNCTION(A, B) in the main thread
    seq  I:A:B,I:A:B,...       the parts one after another in the main thread, then "end"
    threads N I:A:B,...        N threads take the parts in turn, then "end"
    subs N I:A:B,...           N subinterpreters, each with its own GIL and a thread of its
                               own, take every Nth part, then "end"
    prepare N                  makes the N subinterpreters now (start-up), then "end"
    quit                       exit

  and writes, one per line:

    loading                    the user's file is read from now on
    checked JSON               (check) {"error": null} or {"error": why}
    ready                      the function is loaded
    start I                    part I has begun (seq, threads, subs)
    done I VALUE               part I's int, in decimal
    fail I JSON                part I raised or returned a non-int: {type, message, where}
    end [CPU]                  every part of the request was answered (or one failed); CPU:
                               the seconds of CPU time this process used on it, every thread

  python3 worker.py check-map FILE FUNCTION SOURCE...
  python3 worker.py map FILE FUNCTION SOURCE...
                                          the same for FUNCTION(item) over the items of
                                          SOURCE: see "Map mode" below

SIGINT is ignored: parlab stops its workers itself, so that Ctrl-C at a terminal (which
signals the whole process group) prints no traceback from here.
"""

import importlib.util
import inspect
import json
import operator
import os
import re
import signal
import sys
import threading
import time
import traceback

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)  # exact answers of any size cross the pipe as decimals


def subinterpreter_api():
    """The module that makes subinterpreters with their own GIL, or None before 3.12."""
    if sys.version_info < (3, 12):
        return None
    for name in ["concurrent.interpreters", "_interpreters", "_xxsubinterpreters"]:
        try:
            __import__(name)
            return name
        except ImportError:
            pass
    return None


def load(path, name):
    """`name` in the module at `path` (see import_file)."""
    return getattr(import_file(path), name)


def import_file(path, stem=None):
    """The module at `path`, imported under its file name (or `stem`), its folder first on
    sys.path."""
    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    stem = stem or os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    return module


def where(tb, skip=None):
    """The last traceback line (outside the folder `skip`, where given): file:line in
    function: code."""
    frames = [f for f in traceback.extract_tb(tb) if skip is None or skip not in f[0]]
    if not frames:
        return ""
    f = frames[-1]
    return frame_text(f[0], f[1], f[2], f[3])


def frame_text(path, line, function, code):
    """`file:line in function: code`, for one frame."""
    text = "%s:%s in %s" % (os.path.basename(path), line, function)
    if code and code.strip():
        text += ": " + code.strip()
    return text


def check(path, name, args=(0, 0), called="with two arguments (start, end)"):
    out = {"error": None}
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        out["error"] = "cannot read %s: %s" % (path, e)
        return out
    if b"\0" in source:
        # No interpreter compiles it, and none says where it is (a SyntaxError without a line
        # or a ValueError, by version).
        line = source.count(b"\n", 0, source.index(b"\0")) + 1
        out["error"] = "syntax error in %s line %d: a NUL byte, which Python source cannot hold" % (
            path, line)
        return out
    try:
        compile(source, path, "exec")
    except SyntaxError as e:
        at = " line %s" % e.lineno if e.lineno is not None else ""
        out["error"] = "syntax error in %s%s: %s" % (path, at, e.msg)
        return out
    except ValueError as e:
        out["error"] = "cannot compile %s: %s" % (path, e)
        return out
    try:
        fn = load(path, name)
    except AttributeError:
        import types

        module = sys.modules.get(os.path.splitext(os.path.basename(path))[0])
        found = sorted(
            k for k, v in vars(module).items() if isinstance(v, types.FunctionType) and not k.startswith("_")
        ) if module else []
        out["error"] = "%s has no function %s (functions there: %s)" % (
            path, name, ", ".join(found) or "none")
        return out
    except BaseException as e:
        out["error"] = "importing %s raised %s: %s (%s)" % (
            path, type(e).__name__, e, where(sys.exc_info()[2]))
        return out
    # An extension module without free-threading support turns the GIL back on as it loads.
    gil = getattr(sys, "_is_gil_enabled", None)
    out["gil_after_import"] = gil() if gil else True
    if not callable(fn):
        out["error"] = "%s in %s is not a function (it is of type %s)" % (name, path, type(fn).__name__)
        return out
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        out["error"] = "%s%s in %s cannot be called %s" % (
            name, inspect.signature(fn), path, called)
    except ValueError:
        pass  # a builtin without a signature: trust it
    return out


REQUESTS = 3  # parlab's requests, one per line
EVENTS = 4  # the events written back


class Channel(object):
    """The events descriptor, for the protocol alone, one whole line per write."""

    def __init__(self):
        self.fd = EVENTS
        # Not passed on to a program the function runs; only the function's own forks hold it.
        for fd in (REQUESTS, EVENTS):
            os.set_inheritable(fd, False)
        self.lock = threading.Lock()

    def say(self, *words):
        data = (" ".join(str(w) for w in words) + "\n").encode()
        with self.lock:
            while data:
                data = data[os.write(self.fd, data):]


def requests():
    """parlab's requests, one line at a time, until it closes them."""
    return os.fdopen(REQUESTS, "r")


def answer(fn, a, b):
    """("done", decimal) or ("fail", json) for FUNCTION(a, b)."""
    try:
        value = fn(a, b)
    except BaseException as e:
        info = {"type": type(e).__name__, "message": str(e), "where": where(sys.exc_info()[2])}
        return "fail", json.dumps(info)
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        info = {"type": "TypeError", "message": "returned a %s, not an int" % type(value).__name__,
                "where": ""}
        return "fail", json.dumps(info)
    return "done", str(operator.index(value))


def parse_parts(text):
    return [tuple(int(x) for x in p.split(":")) for p in text.split(",") if p]


def run_threads(chan, fn, n, parts):
    cpu0 = time.process_time()
    lock = threading.Lock()
    state = {"next": 0, "failed": False}

    def take():
        while True:
            with lock:
                if state["failed"] or state["next"] >= len(parts):
                    return
                i, a, b = parts[state["next"]]
                state["next"] += 1
            chan.say("start", i)
            kind, text = answer(fn, a, b)
            if kind == "fail":
                state["failed"] = True
            chan.say(kind, i, text)

    if n == 0:
        take()  # in the main thread: the one-thread baseline
    else:
        threads = [threading.Thread(target=take) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    chan.say("end", "%.9f" % (time.process_time() - cpu0))


# This script is loaded into each subinterpreter under another name, so that main() does
# not run there, and the function with it.
SUB_SETUP = """
__name__ = "__parlab_worker__"
exec(compile(open(%r).read(), %r, "exec"), globals())
fn = load(%r, %r)
"""

SUB_RUN = """
import os
for i, a, b in %r:
    os.write(%d, ("start %%d\\n" %% i).encode())
    kind, text = answer(fn, a, b)
    data = ("%%s %%d %%s\\n" %% (kind, i, text)).encode()
    while data:
        data = data[os.write(%d, data):]
    if kind == "fail":
        break
"""


class Subinterpreters(object):
    """N subinterpreters, each with this script and the function loaded once."""

    def __init__(self, n, path, name, extra=""):
        api = subinterpreter_api()
        if api is None:
            raise SystemExit("subinterpreters with their own GIL need CPython 3.12 or later")
        me = os.path.abspath(__file__)
        setup = SUB_SETUP % (me, me, os.path.abspath(path), name) + extra
        if api == "concurrent.interpreters":
            from concurrent import interpreters

            self.interps = [interpreters.create() for _ in range(n)]
            self.run = lambda k, code: self.interps[k].exec(code)
            self.destroy = lambda interp: interp.close()
        else:
            mod = __import__(api)
            runner = getattr(mod, "exec", None) or mod.run_string
            self.interps = [mod.create() for _ in range(n)]
            self.run = lambda k, code: runner(self.interps[k], code)
            self.destroy = mod.destroy
        for k in range(n):
            self.call(k, setup)

    def close(self):
        """Destroys the subinterpreters, so that the interpreter exits without a warning."""
        for interp in self.interps:
            try:
                self.destroy(interp)
            except Exception:
                pass
        self.interps = []

    def call(self, k, code):
        """Runs `code` in subinterpreter k; an uncaught exception there is raised here (3.13's
        module returns it instead of raising it)."""
        failed = self.run(k, code)
        if failed is not None:
            raise RuntimeError(getattr(failed, "formatted", None) or str(failed))

    def run_share(self, chan, k, code, w, first):
        """Subinterpreter k's share of a round; whatever happens, its pipe is closed, so that
        the round ends, and a failure outside the function is reported against its first part."""
        try:
            self.call(k, code)
        except BaseException as e:
            info = {"type": type(e).__name__, "message": str(e),
                    "where": "subinterpreter %d" % k}
            chan.say("fail", first, json.dumps(info))
        finally:
            os.close(w)

    def round(self, chan, parts):
        cpu0 = time.process_time()
        n = len(self.interps)

        def forward(r):
            buf = b""
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    chan.say(line.decode())
            os.close(r)

        workers = []
        for k in range(n):
            r, w = os.pipe()
            mine = parts[k::n]
            t = threading.Thread(target=forward, args=(r,))
            t.start()
            code = SUB_RUN % (mine, w, w)
            first = mine[0][0] if mine else 0
            s = threading.Thread(target=self.run_share, args=(chan, k, code, w, first))
            s.start()
            workers.append((s, t))
        for s, t in workers:
            s.join()
            t.join()
        chan.say("end", "%.9f" % (time.process_time() - cpu0))


# Executor roads: the standard library's executors, as the user's own code would use them, in
# this interpreter (the host). `xprepare KIND N START` makes the pool (KIND thread, process or
# interpreter; START a start method or "default") and starts its N workers, each importing the
# function's module, as the first calls of the user's code would: start-up is timed apart from
# the runs; it answers "info JSON" ({"start_method": ...}) and "end". Then
#
#   xclose                      shuts the pool down, its workers ending; "end"
#   xrange I:A:B,...            FUNCTION(A, B) for every part, by pool.map(FUNCTION, starts,
#                               ends): "start I" as a part's turn comes, "done I VALUE", "end"
#   xmap CHUNK I:A:B,...        pool.map(FUNCTION, items, chunksize=CHUNK) (process; the others
#                               take one item a task); "ok I" once chunk I's results are in,
#                               "end"; the results are kept for "results"
#
# "start I" cannot be seen inside an executor: the first N chunks are said to start as the map
# begins, and each further one as the chunk N before it is in, so that a chunk whose results do
# not come is seen by parlab's timeout.

EXECUTOR_CLASSES = {"thread": "ThreadPoolExecutor", "process": "ProcessPoolExecutor",
                    "interpreter": "InterpreterPoolExecutor"}
PICKLE_FAILURE = re.compile(r"(?:cannot|can't) pickle '?([\w.<>]+)'? object")


class ExecutorHost(object):
    """One executor of the standard library, made as the user's code makes it."""

    def __init__(self, kind, n, start, path):
        import concurrent.futures

        cls = getattr(concurrent.futures, EXECUTOR_CLASSES[kind], None)
        if cls is None:
            raise SystemExit("concurrent.futures has no %s in Python %s" % (
                EXECUTOR_CLASSES[kind], sys.version.split()[0]))
        kwargs = {"max_workers": n}
        self.method = None
        if kind == "process":
            import multiprocessing

            if start != "default":
                if sys.version_info < (3, 7):
                    raise SystemExit("ProcessPoolExecutor takes a start method (mp_context) "
                                     "from Python 3.7 on")
                kwargs["mp_context"] = multiprocessing.get_context(start)
                self.method = start
            else:
                self.method = multiprocessing.get_start_method()
        if kind == "interpreter":
            # A subinterpreter's sys.path is made from the interpreter's start-up settings, not
            # from this one's sys.path: the function's folder is added in each, as the code to
            # paste does.
            import site

            kwargs["initializer"] = site.addsitedir
            kwargs["initargs"] = (os.path.dirname(os.path.abspath(path)),)
        self.kind, self.n = kind, n
        self.pool = cls(**kwargs)
        # Every worker started and the module imported (each busy a moment, so that the next
        # task starts another worker rather than waiting for this one).
        stem = os.path.splitext(os.path.basename(path))[0]
        code = "import %s\nimport time\ntime.sleep(0.05)\n" % stem
        for f in [self.pool.submit(exec, code, {}) for _ in range(n)]:
            f.result()

    def close(self):
        try:
            self.pool.shutdown(wait=True)
        except BaseException:
            pass

    def fault(self, e, tb, item=None):
        """The failure's JSON: where the remote traceback says it was raised, for a process;
        the type of a value that could not be pickled, where that was the failure."""
        # The last frame outside concurrent.futures, which only re-raises.
        place = where(tb, os.sep + os.path.join("concurrent", "futures") + os.sep)
        cause = getattr(e, "__cause__", None)
        if cause is not None and type(cause).__name__ == "_RemoteTraceback":
            frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', str(cause))
            if frames:
                place = frame_text(*frames[-1])
        message = str(e)
        if type(e).__name__ == "BrokenProcessPool" and cause is not None:
            # 3.15 names the worker that died: "Process 123 terminated abruptly with exit code 3".
            said = str(cause).strip().strip("'").strip()
            if said:
                message = "%s (%s)" % (message, said)
        cross = None
        found = PICKLE_FAILURE.search(message)
        if found and "pickl" in (type(e).__name__ + message).lower():
            cross = found.group(1)
        return fault_json(type(e).__name__, message, place, item, cross)

    def turns(self, chan, parts):
        """Says the first N parts start; returns the function saying the next one's turn once
        part `idx` is in."""
        for p in parts[:self.n]:
            chan.say("start", p[0])

        def next_turn(idx):
            if idx + self.n < len(parts):
                chan.say("start", parts[idx + self.n][0])
        return next_turn

    def run_range(self, chan, fn, parts):
        cpu0 = time.process_time()
        next_turn = self.turns(chan, parts)
        results = self.pool.map(fn, [a for _, a, _ in parts], [b for _, _, b in parts])
        for idx, (i, a, b) in enumerate(parts):
            try:
                value = next(results)
            except BaseException as e:
                chan.say("fail", i, self.fault(e, sys.exc_info()[2]))
                break
            if isinstance(value, bool) or not hasattr(type(value), "__index__"):
                info = {"type": "TypeError", "where": "",
                        "message": "returned a %s, not an int" % type(value).__name__}
                chan.say("fail", i, json.dumps(info))
                break
            chan.say("done", i, str(operator.index(value)))
            next_turn(idx)
        self.end(chan, cpu0)

    def run_map(self, chan, fn, parts, items, chunksize):
        """The items through pool.map; returns their results by chunk."""
        cpu0 = time.process_time()
        kwargs = {"chunksize": chunksize} if self.kind == "process" else {}
        next_turn = self.turns(chan, parts)
        out = {}
        results = self.pool.map(fn, items, **kwargs)
        for idx, (i, a, b) in enumerate(parts):
            values = []
            try:
                for k in range(a, b):
                    values.append(next(results))
            except BaseException as e:
                item = "%d: %s" % (k, short_repr(items[k], 60)) if chunksize == 1 or \
                    self.kind != "process" else None
                chan.say("fail", i, self.fault(e, sys.exc_info()[2], item))
                break
            out[i] = values
            chan.say("ok", i)
            next_turn(idx)
        self.end(chan, cpu0)
        return out

    def end(self, chan, cpu0):
        # A process pool's work is done in other processes: this one's CPU time says nothing.
        if self.kind == "process":
            chan.say("end")
        else:
            chan.say("end", "%.9f" % (time.process_time() - cpu0))


def prepare_executor(chan, words, path):
    """`xprepare KIND N START`: the host, and its start method said; None, said as a failure,
    where the executor cannot be made."""
    try:
        host = ExecutorHost(words[1], int(words[2]), words[3], path)
    except BaseException as e:
        # This script's own refusal needs no place; anything else, where it was raised.
        place = "" if isinstance(e, SystemExit) else where(sys.exc_info()[2])
        chan.say("fail", 0, fault_json(type(e).__name__, str(e), place))
        return None
    chan.say("info", json.dumps({"start_method": host.method}))
    chan.say("end")
    return host


def serve(path, name):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel()
    chan.say("loading")
    fn = load(path, name)
    subs = None
    pool = None
    chan.say("ready")
    for line in requests():
        words = line.split()
        if not words:
            continue
        if words[0] == "part":
            i, a, b = (int(w) for w in words[1:4])
            kind, text = answer(fn, a, b)
            chan.say(kind, i, text)
        elif words[0] == "seq":
            run_threads(chan, fn, 0, parse_parts(words[1] if len(words) > 1 else ""))
        elif words[0] == "threads":
            run_threads(chan, fn, int(words[1]), parse_parts(words[2] if len(words) > 2 else ""))
        elif words[0] in ("subs", "prepare"):
            n = int(words[1])
            if subs is None:
                subs = Subinterpreters(n, path, name)
            if words[0] == "prepare":
                chan.say("end")
            else:
                subs.round(chan, parse_parts(words[2] if len(words) > 2 else ""))
        elif words[0] == "xprepare":
            pool = prepare_executor(chan, words, path)
        elif words[0] == "xclose":
            if pool is not None:
                pool.close()
                pool = None
            chan.say("end")
        elif words[0] == "xrange":
            pool.run_range(chan, fn, parse_parts(words[1] if len(words) > 1 else ""))
        elif words[0] == "quit":
            break
    if subs is not None:
        subs.close()
    if pool is not None:
        pool.close()


# Map mode: FUNCTION(item) for each item of SOURCE, in chunks of items.
#
# SOURCE, as parlab passes it after FILE FUNCTION: MAX (the most items taken) and one of
#   range A B          the ints A..B
#   lines PATH         the lines of a UTF-8 text file (str items, without their line ends)
#   attr PATH NAME     NAME in the module at PATH: an iterable, or a function returning one
#
# Items and results cross between interpreters as *forms*: one record per value, a tag byte, a
# little-endian u32 length and the bytes. Tag P: the value pickled (how ProcessPoolExecutor
# sends it); tag R: "TYPE\n" and its repr, for a value that cannot be pickled, which only the
# roads that never send it (sequential, threads) may give: parlab then compares reprs
# (with any address left out).
#
#   check-map FILE FUNCTION SOURCE...  as check, its JSON with "items" (how many) or the
#                                      "source_error" SOURCE gave
#   map FILE FUNCTION SOURCE...        says "loading", loads the function, says "ready", then
#                                      answers:
#
#     load                       SOURCE's items: "data 0 LEN" and their forms, then "end"
#     own-items                  the same, and keeps them as this interpreter's items
#     items LEN objects|bytes    LEN bytes of item forms follow: kept unpickled (sequential,
#                                threads) or as they came (the subinterpreters' host); "end"
#     mseq I:A:B,...             items A..B of each chunk I in the main thread, in order; "end"
#     mthreads N I:A:B,...       N threads take the chunks in turn; "end"
#     msubs N I:A:B,...          N subinterpreters take the chunks in turn, each receiving its
#                                items pickled and sending its results pickled; "end"
#     prepare N                  makes the N subinterpreters now (start-up); "end"
#     results                    the last round's results: "data 0 LEN" and their forms, "end"
#     chunk I A B LEN            (processes) LEN bytes of forms of items A..B follow; answers
#                                "data I LEN" with the forms of their results
#     reference LEN              forms of the sequential results follow: answers "info JSON",
#                                how many are unequal to a copy of themselves (NaN); "end"
#     judge LEN                  (u64 item, reference form, other form)... follow: answers
#                                "info JSON", the first item whose values differ; "end"
#     quit                       exit
#
#   and writes, besides "ready", "start I", "fail I JSON" and "end [CPU]" as serve does:
#
#     ok I                       chunk I's results are kept (mseq, mthreads, msubs)
#     data I LEN                 LEN bytes follow
#     info JSON                  an answer of load, reference or judge

import pickle
import struct

PROTOCOL = pickle.DEFAULT_PROTOCOL
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
LENGTH = struct.Struct("<I")
INDEX = struct.Struct("<Q")


class SourceError(Exception):
    """SOURCE cannot give its items; the message says why, in the user's terms."""


class Uncrossable(Exception):
    """A value that cannot be pickled, on a road that must send it."""

    def __init__(self, value, cause):
        Exception.__init__(self, str(cause))
        self.value = value
        self.cause = cause


def short_repr(value, most=80):
    try:
        text = repr(value)
    except BaseException as e:
        text = "<repr raised %s>" % type(e).__name__
    return text if len(text) <= most else text[:most - 3] + "..."


def type_name(value):
    t = type(value)
    module = getattr(t, "__module__", "builtins")
    return t.__qualname__ if module in ("builtins", None) else "%s.%s" % (module, t.__qualname__)


def raised(e, tb=None):
    """`TYPE: message (at file:line in function: code)` for an exception."""
    at = where(tb) if tb is not None else ""
    text = "%s: %s" % (type(e).__name__, e)
    return text + (" (at %s)" % at if at else "")


def import_items_file(path, fn_path):
    """The module of FILE:ITEMS: the function's own where it is the same file, else imported
    under its file name (a name another module holds: under a name of parlab's), so that its
    classes unpickle in every interpreter alike."""
    if os.path.realpath(path) == os.path.realpath(fn_path):
        return sys.modules[os.path.splitext(os.path.basename(fn_path))[0]]
    stem = os.path.splitext(os.path.basename(path))[0]
    held = sys.modules.get(stem)
    if held is not None:
        if os.path.realpath(getattr(held, "__file__", "") or "") == os.path.realpath(path):
            return held
        stem = "__parlab_items__"
        if stem in sys.modules:
            return sys.modules[stem]
    return import_file(path, stem)


def parse_source(words):
    """(the most items, SOURCE's words)."""
    return int(words[0]), words[1:]


def prepare_source(words, fn_path):
    """Imports the module of FILE:ITEMS, where it is another file than the function's: items of
    its classes then unpickle here."""
    _, source = parse_source(words)
    if source[0] == "attr":
        try:
            import_items_file(source[1], fn_path)
        except BaseException:
            pass  # load (the check's, the helper's) says why


def load_items(words, fn_path):
    """SOURCE's items as a list; SourceError says what is wrong with it."""
    limit, source = parse_source(words)
    kind = source[0]
    if kind == "range":
        a, b = int(source[1]), int(source[2])
        if b <= a:
            raise SourceError("the range %d..%d holds no items" % (a, b))
        if b - a > limit:
            raise SourceError("the range holds %d items, more than --max-items %d" % (b - a, limit))
        return list(range(a, b))
    if kind == "lines":
        path = source[1]
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise SourceError("cannot read %s: %s" % (path, e))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise SourceError("%s line %d is not UTF-8 text (one item a line)" % (path, line))
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [l[:-1] if l.endswith("\r") else l for l in lines]
        if not lines:
            raise SourceError("%s holds no lines (one item a line)" % path)
        if len(lines) > limit:
            raise SourceError("%s holds %d lines, more than --max-items %d" % (
                path, len(lines), limit))
        return lines
    path, name = source[1], source[2]
    try:
        module = import_items_file(path, fn_path)
    except BaseException as e:
        raise SourceError("importing %s raised %s" % (path, raised(e, sys.exc_info()[2])))
    if not hasattr(module, name):
        names = sorted(k for k in vars(module) if not k.startswith("_"))
        raise SourceError("%s has no %s (names there: %s)" % (path, name, ", ".join(names) or "none"))
    obj = getattr(module, name)
    label = name
    if callable(obj):
        label = name + "()"
        try:
            obj = obj()
        except BaseException as e:
            raise SourceError("%s raised %s" % (label, raised(e, sys.exc_info()[2])))
    try:
        it = iter(obj)
    except TypeError:
        raise SourceError("%s is of type %s, which is not iterable (SOURCE is a list, or a "
                          "function returning an iterable)" % (label, type_name(obj)))
    items = []
    while True:
        try:
            x = next(it)
        except StopIteration:
            break
        except BaseException as e:
            raise SourceError("iterating %s raised %s after %d items" % (
                label, raised(e, sys.exc_info()[2]), len(items)))
        items.append(x)
        if len(items) > limit:
            raise SourceError("%s gave more than %d items (--max-items): an endless iterator?" % (
                label, limit))
    if not items:
        raise SourceError("%s holds no items" % label)
    return items


def check_map(path, name, words):
    out = check(path, name, (None,), "with one argument (an item)")
    if out["error"] is not None:
        return out
    try:
        out["items"] = len(load_items(words, path))
    except SourceError as e:
        out["source_error"] = str(e)
    return out


def record(tag, data):
    return tag + LENGTH.pack(len(data)) + data


def form(value, may_repr):
    """The value's record: pickled, or (where `may_repr`) its type and repr."""
    try:
        return record(b"P", pickle.dumps(value, PROTOCOL))
    except BaseException as e:  # pickling runs the value's own code, which may raise anything
        if not may_repr:
            raise Uncrossable(value, e)
        # An address in a repr (`<generator object f at 0x7f...>`) differs between
        # interpreters: it is left out.
        text = type_name(value) + "\n" + ADDRESS.sub(" at 0x...", short_repr(value, 1 << 20))
        return record(b"R", text.encode("utf-8", "backslashreplace"))


def records(data):
    """The records of a forms blob: (tag, payload) pairs."""
    out = []
    at, end = 0, len(data)
    while at < end:
        (size,) = LENGTH.unpack_from(data, at + 1)
        out.append((data[at:at + 1], data[at + 5:at + 5 + size]))
        at += 5 + size
    return out


def offsets(data):
    """Where each record of a forms blob begins, and the end."""
    out = [0]
    at, end = 0, len(data)
    while at < end:
        (size,) = LENGTH.unpack_from(data, at + 1)
        at += 5 + size
        out.append(at)
    return out


def fault_json(kind, message, place="", item=None, cross=None):
    info = {"type": kind, "message": message, "where": place}
    if item is not None:
        info["item"] = item
    if cross is not None:
        info["cross"] = cross
    return json.dumps(info)


def call_chunk(fn, items, first):
    """([FUNCTION(item) for item in items], None), or (None, the first failure's JSON)."""
    values = []
    for k, x in enumerate(items):
        try:
            values.append(fn(x))
        except BaseException as e:
            return None, fault_json(type(e).__name__, str(e), where(sys.exc_info()[2]),
                                    "%d: %s" % (first + k, short_repr(x, 60)))
    return values, None


def sent(values, first, road):
    """(the results' forms, None), pickled as `road` sends them, or (None, the failure of the
    first that cannot be pickled)."""
    out = []
    for k, v in enumerate(values):
        try:
            out.append(form(v, False))
        except Uncrossable as u:
            message = "the result is a %s, which cannot be pickled, and %s send results " \
                      "pickled (%s)" % (type_name(v), road, raised(u.cause))
            return None, fault_json(type(u.cause).__name__, message, "",
                                    "%d" % (first + k), type_name(v))
    return b"".join(out), None


def received(data, first, road):
    """(the items of a forms blob, None), or (None, the failure of the first that does not
    unpickle here)."""
    items = []
    for k, (_, payload) in enumerate(records(data)):
        try:
            items.append(pickle.loads(payload))
        except BaseException as e:
            message = "the item did not unpickle in %s (%s)" % (road, raised(e))
            return None, fault_json(type(e).__name__, message, "", "%d" % (first + k))
    return items, None


def equal(a, b):
    """a == b, where it says True or False (a numpy array's == says neither)."""
    try:
        return bool(a == b)
    except Exception:
        return False


class FdReader(object):
    """Lines and exact byte counts from a file descriptor."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.pos = 0

    def fill(self):
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def line(self):
        """The next line without its end, or None at the end of input."""
        while True:
            at = self.buf.find(b"\n", self.pos)
            if at >= 0:
                line = bytes(self.buf[self.pos:at])
                self.take(at + 1 - self.pos)
                return line
            if not self.fill():
                return None

    def exact(self, n):
        while len(self.buf) - self.pos < n:
            if not self.fill():
                raise EOFError("the input ended inside a message")
        data = bytes(self.buf[self.pos:self.pos + n])
        self.take(n)
        return data

    def take(self, n):
        self.pos += n
        if self.pos == len(self.buf) or self.pos > (1 << 22):
            del self.buf[:self.pos]
            self.pos = 0


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send_data(chan, i, data):
    """Says "data I LEN" and the bytes, in one write under the channel's lock."""
    with chan.lock:
        write_all(chan.fd, b"data %d %d\n" % (i, len(data)) + data)


def take_turns(n, parts, job):
    """n threads (0: the main thread alone) take the parts in turn, each running job(part)
    until one returns False."""
    lock = threading.Lock()
    state = {"next": 0, "failed": False}

    def take():
        while True:
            with lock:
                if state["failed"] or state["next"] >= len(parts):
                    return
                part = parts[state["next"]]
                state["next"] += 1
            if not job(part):
                state["failed"] = True

    if n == 0:
        take()
    else:
        threads = [threading.Thread(target=take) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def map_in_threads(chan, fn, n, parts, items):
    """The chunks in n threads (0: the main thread); returns their results by chunk."""
    results = {}

    def job(part):
        i, a, b = part
        chan.say("start", i)
        values, fault = call_chunk(fn, items[a:b], a)
        if fault is not None:
            chan.say("fail", i, fault)
            return False
        results[i] = values
        chan.say("ok", i)
        return True

    take_turns(n, parts, job)
    return results


# Run in a subinterpreter, with this script loaded there: its chunks' items from one pipe, its
# results to another, until "stop".
SUB_MAP_RUN = """
serve_chunks(fn, %d, %d)
"""


def serve_chunks(fn, r, w):
    reader = FdReader(r)
    while True:
        head = reader.line()
        if head is None or head == b"stop":
            return
        i, a, b, size = (int(x) for x in head.split())
        items, fault = received(reader.exact(size), a, "a subinterpreter")
        values = None
        if fault is None:
            values, fault = call_chunk(fn, items, a)
        if fault is None:
            data, fault = sent(values, a, "subinterpreters")
        if fault is None:
            write_all(w, b"ok %d %d\n" % (i, len(data)) + data)
        else:
            write_all(w, ("fail %d %s\n" % (i, fault)).encode())


def map_in_subinterpreters(chan, subs, parts, blob, starts):
    """The chunks in the subinterpreters, each taking the next when it is free; returns the
    forms of their results by chunk."""
    results = {}
    queue = list(parts)
    lock = threading.Lock()
    state = {"next": 0, "failed": False}

    def drive(to_sub, from_sub):
        reader = FdReader(from_sub)
        try:
            while True:
                with lock:
                    if state["failed"] or state["next"] >= len(queue):
                        return
                    i, a, b = queue[state["next"]]
                    state["next"] += 1
                chan.say("start", i)
                data = blob[starts[a]:starts[b]]
                write_all(to_sub, b"%d %d %d %d\n" % (i, a, b, len(data)) + data)
                head = reader.line()
                if head is None:
                    state["failed"] = True  # the subinterpreter's runner says why
                    return
                words = head.split(b" ", 2)
                if words[0] == b"ok":
                    results[i] = reader.exact(int(words[2]))
                    chan.say("ok", i)
                else:
                    state["failed"] = True
                    chan.say(head.decode("utf-8", "replace"))
                    return
        except OSError as e:
            state["failed"] = True
            chan.say("fail", queue[0][0], fault_json(type(e).__name__, str(e), "subinterpreters"))
        finally:
            try:
                write_all(to_sub, b"stop\n")
            except OSError:
                pass
            os.close(to_sub)
            os.close(from_sub)

    def run(k, code, fds):
        try:
            subs.call(k, code)
        except BaseException as e:
            with lock:
                state["failed"] = True
            chan.say("fail", queue[0][0], fault_json(type(e).__name__, str(e),
                                                      "subinterpreter %d" % k))
        finally:
            for fd in fds:
                os.close(fd)

    threads = []
    for k in range(len(subs.interps)):
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        code = SUB_MAP_RUN % (in_r, out_w)
        threads.append(threading.Thread(target=run, args=(k, code, (in_r, out_w))))
        threads.append(threading.Thread(target=drive, args=(in_w, out_r)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def judge(data):
    """The first item whose other value differs from the reference, reading (u64 item,
    reference record, other record) triples; values unequal to a copy of themselves (NaN)
    are compared by repr."""
    at, end = 0, len(data)
    canonical = 0
    while at < end:
        (item,) = INDEX.unpack_from(data, at)
        at += INDEX.size
        pair = []
        for _ in range(2):
            (size,) = LENGTH.unpack_from(data, at + 1)
            pair.append((data[at:at + 1], data[at + 5:at + 5 + size]))
            at += 5 + size
        (ref_tag, ref), (got_tag, got) = pair
        if ref_tag == got_tag == b"P":
            expected, value = pickle.loads(ref), pickle.loads(got)
            if equal(value, expected):
                continue
            if not equal(expected, pickle.loads(ref)) and short_repr(expected, 1 << 20) == \
                    short_repr(value, 1 << 20):
                canonical += 1
                continue
            shown = short_repr(value), short_repr(expected)
        else:
            shown = [t.decode("utf-8", "replace").split("\n", 1)[-1] if tag == b"R"
                     else short_repr(pickle.loads(t)) for tag, t in pair[::-1]]
        return {"differs": {"item": item, "got": shown[0], "expected": shown[1]},
                "canonical": canonical}
    return {"differs": None, "canonical": canonical}


def self_unequal(data):
    """How many values of a forms blob are unequal to a copy of themselves (NaN, a type without
    ==) and how many could not be pickled, with the first of each."""
    out = {"unequal": 0, "first_unequal": None, "unpicklable": 0, "first_unpicklable": None}
    for k, (tag, payload) in enumerate(records(data)):
        if tag == b"R":
            out["unpicklable"] += 1
            if out["first_unpicklable"] is None:
                kind, _, text = payload.decode("utf-8", "replace").partition("\n")
                out["first_unpicklable"] = "item %d, a %s" % (k, kind)
        elif not equal(pickle.loads(payload), pickle.loads(payload)):
            out["unequal"] += 1
            if out["first_unequal"] is None:
                value = pickle.loads(payload)
                out["first_unequal"] = "item %d, %s, a %s" % (k, short_repr(value, 40),
                                                              type_name(value))
    return out


def serve_map(path, name, words):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel()
    chan.say("loading")
    fn = load(path, name)
    prepare_source(words, path)
    requests = FdReader(REQUESTS)
    items, blob, starts = [], b"", [0]
    last = (None, [])  # the last round's results: by chunk, and its chunks in order
    subs = None
    pool = None

    def source_failed(e):
        chan.say("fail", 0, fault_json("SourceError", str(e)))

    chan.say("ready")
    while True:
        line = requests.line()
        if line is None:
            break
        words_in = line.decode().split()
        if not words_in:
            continue
        verb = words_in[0]
        if verb in ("load", "own-items"):
            try:
                loaded = load_items(words, path)
            except SourceError as e:
                source_failed(e)
                continue
            if verb == "own-items":
                items = loaded
            send_data(chan, 0, b"".join(form(x, True) for x in loaded))
            chan.say("end")
        elif verb == "items":
            data = requests.exact(int(words_in[1]))
            if words_in[2] == "objects":
                items, fault = received(data, 0, "this interpreter")
                if fault is not None:
                    chan.say("fail", 0, fault)
                    continue
            else:
                blob, starts = data, offsets(data)
            chan.say("end")
        elif verb in ("mseq", "mthreads"):
            n = 0 if verb == "mseq" else int(words_in[1])
            listed = words_in[2 if n else 1:]
            parts = parse_parts(listed[0] if listed else "")
            cpu0 = time.process_time()
            last = (map_in_threads(chan, fn, n, parts, items), parts)
            chan.say("end", "%.9f" % (time.process_time() - cpu0))
        elif verb in ("msubs", "prepare"):
            n = int(words_in[1])
            if subs is None:
                extra = "prepare_source(%r, %r)\n" % (words, os.path.abspath(path))
                subs = Subinterpreters(n, path, name, extra)
            if verb == "prepare":
                chan.say("end")
                continue
            parts = parse_parts(words_in[2] if len(words_in) > 2 else "")
            cpu0 = time.process_time()
            last = (map_in_subinterpreters(chan, subs, parts, blob, starts), parts)
            chan.say("end", "%.9f" % (time.process_time() - cpu0))
        elif verb == "xprepare":
            pool = prepare_executor(chan, words_in, path)
        elif verb == "xclose":
            if pool is not None:
                pool.close()
                pool = None
            chan.say("end")
        elif verb == "xmap":
            parts = parse_parts(words_in[2] if len(words_in) > 2 else "")
            last = (pool.run_map(chan, fn, parts, items, int(words_in[1])), parts)
        elif verb == "results":
            by_chunk, parts = last
            out = []
            for i, _, _ in parts:
                got = by_chunk[i]
                out.append(got if isinstance(got, bytes) else b"".join(form(v, True) for v in got))
            send_data(chan, 0, b"".join(out))
            chan.say("end")
        elif verb == "chunk":
            i, a = int(words_in[1]), int(words_in[2])
            mine, fault = received(requests.exact(int(words_in[4])), a, "a process")
            values = None
            if fault is None:
                values, fault = call_chunk(fn, mine, a)
            if fault is None:
                data, fault = sent(values, a, "processes")
            if fault is None:
                send_data(chan, i, data)
            else:
                chan.say("fail", i, fault)
        elif verb == "reference":
            chan.say("info", json.dumps(self_unequal(requests.exact(int(words_in[1])))))
            chan.say("end")
        elif verb == "judge":
            chan.say("info", json.dumps(judge(requests.exact(int(words_in[1])))))
            chan.say("end")
        elif verb == "quit":
            break
    if subs is not None:
        subs.close()
    if pool is not None:
        pool.close()


def check_and_wait(path, name, words=None):
    """Checks the function (in map mode, with the words of SOURCE, and SOURCE too), then waits
    for parlab to be done with this interpreter (it looks for processes the import left behind
    while this interpreter still holds them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel()
    chan.say("loading")
    verdict = check(path, name) if words is None else check_map(path, name, words)
    chan.say("checked", json.dumps(verdict))
    for line in requests():
        if line.split() == ["quit"]:
            break


def main():
    mode, path, name = sys.argv[1:4]
    if mode == "check":
        check_and_wait(path, name)
    elif mode == "check-map":
        check_and_wait(path, name, sys.argv[4:])
    elif mode == "serve":
        serve(path, name)
    elif mode == "map":
        serve_map(path, name, sys.argv[4:])
    else:
        raise SystemExit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
