#!/usr/bin/env python3
"""Runs the integration tests: every top-level function test_* of every
tests/integration/test_*.py, in sorted order, each on its own.

    python3 tests/integration/run.py [-k SUBSTRING] [-v]

Prints `ok - file::name` or `not ok - file::name: reason` per test (and
`skip - ...` for lib.Skip), then the last line
`integration: N passed, N failed` (`, N skipped` when some were).  Exit
status 1 if any failed.  -k keeps the tests whose `file::name` contains
SUBSTRING; -v prints the traceback of each failure.
"""

import argparse
import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lib  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("PCS_TEST_TIMEOUT", "120"))


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("took longer than %d s" % TEST_TIMEOUT)


def one_line(s, limit=300):
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def reason_of(e):
    """A one-line reason: the assertion message, or where it failed."""
    if isinstance(e, AssertionError) and str(e):
        return one_line(e)
    tb = traceback.extract_tb(e.__traceback__)
    where = ""
    for fr in reversed(tb):
        if os.path.basename(fr.filename).startswith("test_"):
            where = "%s:%d: %s" % (os.path.basename(fr.filename), fr.lineno, (fr.line or "").strip())
            break
    if isinstance(e, AssertionError):
        return one_line("assertion failed at " + where)
    return one_line("%s: %s%s" % (type(e).__name__, e, (" (at %s)" % where) if where else ""))


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description="pcsurvey integration tests")
    ap.add_argument("-k", dest="keyword", default="", help="run tests whose file::name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="print tracebacks")
    args = ap.parse_args()

    passed = failed = skipped = 0
    files = sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    signal.signal(signal.SIGALRM, _alarm)
    for fname in files:
        try:
            mod = load(os.path.join(HERE, fname))
        except Exception as e:  # noqa: BLE001 - a broken file is one failure
            if args.keyword and args.keyword not in fname:
                continue
            print("not ok - %s: cannot import: %s" % (fname, reason_of(e)), flush=True)
            failed += 1
            continue
        tests = sorted(n for n, f in inspect.getmembers(mod, inspect.isfunction)
                       if n.startswith("test_") and f.__module__ == mod.__name__)
        for name in tests:
            full = "%s::%s" % (fname, name)
            if args.keyword and args.keyword not in full:
                continue
            t0 = time.monotonic()
            signal.alarm(TEST_TIMEOUT)
            try:
                getattr(mod, name)()
            except lib.Skip as e:
                skipped += 1
                print("skip - %s: %s" % (full, one_line(e)), flush=True)
            except (Exception, Timeout) as e:  # noqa: BLE001 - isolate each test
                failed += 1
                print("not ok - %s: %s" % (full, reason_of(e)), flush=True)
                if args.verbose:
                    traceback.print_exc()
            else:
                passed += 1
                print("ok - %s (%.1f s)" % (full, time.monotonic() - t0), flush=True)
            finally:
                signal.alarm(0)
    tail = ", %d skipped" % skipped if skipped else ""
    print("integration: %d passed, %d failed%s" % (passed, failed, tail), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
