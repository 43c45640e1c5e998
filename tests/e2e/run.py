#!/usr/bin/env python3
"""End-to-end test runner: imports tests/e2e/test_*.py and runs every
function named test_*. A test fails by raising, skips by raising
lib.Skip. Prints one line per test and a closing 'e2e: N passed, N failed,
N skipped'. Exit status 1 when anything failed."""
import argparse
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build")
    ap.add_argument("--filter", default="")
    ap.add_argument("-k", default="", help="substring of test function names")
    args = ap.parse_args()
    lib.configure(args.out)
    passed = failed = skipped = 0
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if args.filter and args.filter not in name:
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            traceback.print_exc()
            print(f"FAIL {name}: import error")
            failed += 1
            continue
        for fn in sorted(n for n in dir(mod) if n.startswith("test_")):
            if args.k and args.k not in fn:
                continue
            t0 = time.monotonic()
            try:
                getattr(mod, fn)()
            except lib.Skip as e:
                print(f"SKIP {name}::{fn}: {e}")
                skipped += 1
                continue
            except Exception:
                traceback.print_exc()
                print(f"FAIL {name}::{fn} ({time.monotonic() - t0:.1f}s)")
                failed += 1
                continue
            finally:
                lib.cleanup()
            print(f"ok   {name}::{fn} ({time.monotonic() - t0:.1f}s)")
            passed += 1
        sys.stdout.flush()
    print(f"e2e: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
