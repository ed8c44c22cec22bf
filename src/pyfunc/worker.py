"""parlab's side of `parlab python FILE:FUNCTION`: loads the user's function and runs parts of
a range through it, in this interpreter's main thread, in N threads, or in N subinterpreters.

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

SIGINT is ignored: parlab stops its workers itself, so that Ctrl-C at a terminal (which
signals the whole process group) prints no traceback from here.
"""

import importlib.util
import inspect
import json
import operator
import os
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
    """The module at `path`, imported under its file name, its folder first on sys.path."""
    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    return getattr(module, name)


def where(tb):
    """The last traceback line: file:line in function: code."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return ""
    f = frames[-1]
    text = "%s:%d in %s" % (os.path.basename(f[0]), f[1], f[2])
    if f[3]:
        text += ": " + f[3].strip()
    return text


def check(path, name):
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
        inspect.signature(fn).bind(0, 0)
    except TypeError:
        out["error"] = "%s%s in %s cannot be called with two arguments (start, end)" % (
            name, inspect.signature(fn), path)
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

    def __init__(self, n, path, name):
        api = subinterpreter_api()
        if api is None:
            raise SystemExit("subinterpreters with their own GIL need CPython 3.12 or later")
        me = os.path.abspath(__file__)
        setup = SUB_SETUP % (me, me, os.path.abspath(path), name)
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


def serve(path, name):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel()
    chan.say("loading")
    fn = load(path, name)
    subs = None
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
        elif words[0] == "quit":
            break
    if subs is not None:
        subs.close()


def check_and_wait(path, name):
    """Checks the function, then waits for parlab to be done with this interpreter (it looks
    for processes the import left behind while this interpreter still holds them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chan = Channel()
    chan.say("loading")
    chan.say("checked", json.dumps(check(path, name)))
    for line in requests():
        if line.split() == ["quit"]:
            break


def main():
    mode, path, name = sys.argv[1:4]
    if mode == "check":
        check_and_wait(path, name)
    elif mode == "serve":
        serve(path, name)
    else:
        raise SystemExit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
