"""Where a search lets go of the GIL: the calls in one hybrid search that release it, found with a busy thread.

    python bench/gil.py [--index-dir index] [--searches 20] [--interval 0.02]

Under load, two searches and the event loop share one GIL. Each call that releases it (onnxruntime's run, a
faiss search, ...) lets another thread take it, and the search then waits to get it back: on 2 cores that
wait is a core left idle. This script makes every release visible: a second thread spins in pure Python, the
switch interval is set long (`--interval`), and so a call that releases the GIL costs about one interval of
wall time before this thread gets it back, and cProfile (wall clock) shows that time in the call. Calls
that hold the GIL throughout cost their usual microseconds. A release is caught only when the busy thread
wakes and takes the GIL before the call returns: a release of ~30 µs or more nearly always is, one of a few
µs on some machines and not on others. So the table is a lower bound: per call, how many of its calls
(about its wall time over the interval) lost the GIL, against how many it made. A pure-Python function that
shows up once in many calls was most likely switched out by the interpreter's own timer, not by a release.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import threading
import time

from common import ROOT
from load import questions

from reportsearch.web.server import load_or_build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--searches", type=int, default=20)
    ap.add_argument("--interval", type=float, default=0.02, help="the switch interval while measuring, seconds")
    args = ap.parse_args()
    engine = load_or_build(args.index_dir).with_config(query_cache=0)
    qs = questions()[:args.searches]
    for q in qs:  # warm: the first searches load what later ones reuse
        engine.search(q)
    normal = engine.search(qs[0])
    stop = False

    def spin() -> None:
        while not stop:
            pass

    usual = sys.getswitchinterval()
    sys.setswitchinterval(args.interval)
    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    time.sleep(2 * args.interval)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        prof.enable()
        try:
            for q in qs:
                engine.search(q)
        finally:
            prof.disable()
        wall = (time.perf_counter() - t0) / len(qs)
    finally:
        stop = True
        spinner.join()
        sys.setswitchinterval(usual)
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (calls, primitive calls, tottime, cumtime, callers)
    caught = sorted(((round(tt / args.interval), calls, f"{name} ({file.rsplit('/', 1)[-1]}:{line})")
                     for (file, line, name), (calls, _, tt, _, _) in stats.items()
                     if calls and round(tt / args.interval) >= 1), reverse=True)
    print(f"{len(qs)} hybrid searches, switch interval {args.interval * 1000:g} ms, a busy thread beside them: "
          f"{wall * 1000:.1f} ms a search (the same results as without it: {engine.search(qs[0]) == normal})")
    print("| call that released the GIL | its calls that lost the GIL (at least) / its calls |")
    print("|---|---|")
    for lost, calls, where in caught:
        print(f"| {where} | {min(lost, calls)} / {calls} |")
    print(f"at least {sum(min(lost, calls) for lost, calls, _ in caught) / len(qs):g} releases a search; each lets "
          "another thread take the GIL, and the search then waits to get it back")


if __name__ == "__main__":
    main()
