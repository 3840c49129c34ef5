"""Helpers shared by the benchmark scripts: timing, percentiles, RSS, how busy the cores were."""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return (time.perf_counter() - t) * 1000, out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def med(xs):
    return statistics.median(xs)


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of rounds or loads)."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def cpu_ticks() -> tuple[int, int]:
    """(all, idle + iowait) jiffies of the machine since boot."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(v), v[3] + v[4]


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's cores busy between two `cpu_ticks()` readings, 0..1."""
    return 1 - (after[1] - before[1]) / max(1, after[0] - before[0])
