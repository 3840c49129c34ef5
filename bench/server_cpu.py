"""Where a real server's CPU goes: idle, per request (event-loop thread vs the rest), and the query log's cost.

    python bench/server_cpu.py [--index-dir index] [--rounds 2] [--schedstat-rounds 3]

CPU comes from /proc (utime + stime per thread); the main thread runs uvicorn's event loop (HTTP parsing,
the middleware, FastAPI; GET /api/search skips FastAPI's route, web/fastpath.py), the others are the search
worker threads, the query-log writer and the index watcher.
The query-log comparison starts one server per setting (log on, `--no-log`), alternating round by round (the
machines are noisy), each under 8 clients x 25 distinct searches with the query-vector cache off (bench/load.py's
load: each client's connection kept open, raw-socket clients since 30 Nov, 11:00, http.client before; the
one-client figures use http.client); it reports the CPU split per request under that load too (at one client
the event loop's share also holds Gradio's idle polling, ~3.5% of a core, in proportion to wall time).

Last, where each thread's time goes under that load (`--schedstat-rounds` loads per setting, medians), from
/proc/<pid>/task/<tid>/schedstat and status: per request, the event-loop thread's and the search threads' time
running, waiting on the run queue for a core, and asleep (the rest of the load's wall time: waiting for the GIL,
for work, for a lock), and their context switches; once with the query-vector cache off, once with every
question's vector cached (no model run: what the model's passes through the cores' caches cost the rest). The
search threads are the server's default number of search slots (2) of threads other than the main one that ran
longest in the load (the search workers; the query-log writer and the index watcher run far less). "Asleep" is
all a thread did not run or wait for a core: the GIL, an empty queue, a lock; it does not tell them apart.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import time
import urllib.parse

from common import ROOT, at_least_one, busy_share, cpu_ticks
from load import ask_every_question, questions, run_load, start_server, stop_server

from reportsearch.web.slots import SEARCH_SLOTS

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            f = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[int(tid)] = (int(f[11]) + int(f[12])) / TICK
    return out


def split(pid: int, before: dict, after: dict) -> tuple[float, float]:
    """(main thread, other threads) CPU seconds between two snapshots."""
    main = after.get(pid, 0) - before.get(pid, 0)
    rest = sum(v - before.get(t, 0) for t, v in after.items() if t != pid)
    return main, rest


def thread_times(pid: int) -> dict[int, tuple[int, int, int, int]]:
    """Per thread: (ns running, ns waiting on the run queue, voluntary, involuntary context switches)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            run_ns, wait_ns = (int(x) for x in open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[:2])
            status = open(f"/proc/{pid}/task/{tid}/status").read()
        except OSError:  # the thread ended
            continue
        vol = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
        invol = int(status.split("nonvoluntary_ctxt_switches:")[1].split()[0])
        out[int(tid)] = (run_ns, wait_ns, vol, invol)
    return out


def thread_split(pid: int, before: dict, after: dict, wall: float, n: int) -> dict[str, dict[str, float]]:
    """Per request, for the event loop ("loop") and the search threads together ("search"): ms running, ms on
    the run queue, ms asleep (wall time less the other two), voluntary and involuntary switches."""
    deltas = {t: [a - b for a, b in zip(v, before[t])] for t, v in after.items() if t in before}
    if pid not in deltas:
        raise SystemExit(f"no schedstat for the server's threads (/proc/{pid}/task/*/schedstat): a kernel without it")
    others = sorted((d for t, d in deltas.items() if t != pid), key=lambda d: d[0], reverse=True)
    groups = {"loop": [deltas[pid]], "search": others[:SEARCH_SLOTS]}
    out = {}
    for name, ds in groups.items():
        run_ms, wait_ms = sum(d[0] for d in ds) / 1e6, sum(d[1] for d in ds) / 1e6
        out[name] = {"threads": len(ds), "run": run_ms / n, "wait": wait_ms / n,
                     "sleep": (1000 * wall * len(ds) - run_ms - wait_ms) / n,
                     "vol": sum(d[2] for d in ds) / n, "invol": sum(d[3] for d in ds) / n}
    return out


def per_thread(index_dir: str, qs: list[str], rounds: int) -> None:
    if os.environ.get("REPORTSEARCH_ORT_THREADS", "1") not in ("", "1"):
        print("warning: REPORTSEARCH_ORT_THREADS is set: onnxruntime's own threads may be counted as search threads")
    for cache in (False, True):
        proc, base = start_server(index_dir, cache=cache)
        loads = []
        try:
            ask_every_question(base, qs)  # with the cache on, every later search hits
            for _ in range(rounds):
                a, ticks, t = thread_times(proc.pid), cpu_ticks(), time.perf_counter()
                lr = run_load(base, qs, 8, 25)
                wall, b, ticks2 = time.perf_counter() - t, thread_times(proc.pid), cpu_ticks()
                loads.append((lr, busy_share(ticks, ticks2), thread_split(proc.pid, a, b, wall, lr["n"])))
        finally:
            stop_server(proc)
        setting = "every query vector cached (no model run)" if cache else "query-vector cache off"
        print(f"per thread under 8 clients x 25, {setting}, median of {len(loads)} loads: "
              f"{statistics.median(x[0]['rps'] for x in loads):.1f} req/s, "
              f"p50 {statistics.median(x[0]['p50'] for x in loads):.1f} ms, "
              f"errors {sum(len(x[0]['errors']) for x in loads)}, cores "
              f"{100 * statistics.median(x[1] for x in loads):.0f}% busy")
        for name, label in (("loop", "event-loop thread"), ("search", "search threads, together")):
            def m(key):
                return statistics.median(x[2][name][key] for x in loads)
            print(f"  {label} ({m('threads'):.0f}), a request: running {m('run'):.2f} ms, on the run queue "
                  f"{m('wait'):.2f} ms, asleep {m('sleep'):.2f} ms; {m('vol'):.1f} voluntary and "
                  f"{m('invol'):.1f} involuntary context switches")


def idle(proc, seconds: float = 10) -> tuple[float, float]:
    time.sleep(2)
    a = thread_cpu(proc.pid)
    time.sleep(seconds)
    main, rest = split(proc.pid, a, thread_cpu(proc.pid))
    return 100 * main / seconds, 100 * rest / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--schedstat-rounds", type=at_least_one, default=3,
                    help="loads per setting for the per-thread split")
    args = ap.parse_args()
    qs = questions()

    proc, base = start_server(args.index_dir)
    try:
        m, r = idle(proc)
        print(f"idle server: main thread {m:.1f}% of a core, other threads {r:.1f}%")
        host, port = base.rsplit("//", 1)[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for mode in ("keyword", "hybrid"):
            def get(q):
                conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q, "k": 5, "mode": mode}))
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 200, resp.status
            for q in qs[:20]:
                get(q)
            a, t = thread_cpu(proc.pid), time.perf_counter()
            for q in qs:
                get(q)
            wall = time.perf_counter() - t
            main_s, rest_s = split(proc.pid, a, thread_cpu(proc.pid))
            n = len(qs)
            print(f"one client, {mode}: {1000 * wall / n:.1f} ms a request; server CPU a request: event loop "
                  f"{1000 * main_s / n:.2f} ms, other threads {1000 * rest_s / n:.2f} ms")
        conn.close()
    finally:
        stop_server(proc)

    results = {}
    for r in range(args.rounds):
        for label in (("log", "no log") if r % 2 == 0 else ("no log", "log")):
            extra = ("--no-log",) if label == "no log" else ()
            proc, base = start_server(args.index_dir, extra_args=extra)
            try:
                run_load(base, qs[-16:], 2, 4)
                a = thread_cpu(proc.pid)
                lr = run_load(base, qs, 8, 25)
                lr["main"], lr["rest"] = (1000 * s / lr["n"] for s in split(proc.pid, a, thread_cpu(proc.pid)))
            finally:
                stop_server(proc)
            results.setdefault(label, []).append(lr)
            print(f"round {r + 1}, query {label}: {lr['rps']:.1f} req/s, p50 {lr['p50']:.1f} ms, "
                  f"p95 {lr['p95']:.1f} ms, errors {len(lr['errors'])}; server CPU a request: event loop "
                  f"{lr['main']:.2f} ms, other threads {lr['rest']:.2f} ms")
    for label, runs in results.items():
        print(f"query {label}, median of {len(runs)}: {statistics.median(x['rps'] for x in runs):.1f} req/s, "
              f"p50 {statistics.median(x['p50'] for x in runs):.1f} ms; server CPU a request: event loop "
              f"{statistics.median(x['main'] for x in runs):.2f} ms, other threads "
              f"{statistics.median(x['rest'] for x in runs):.2f} ms")
    per_thread(args.index_dir, qs, args.schedstat_rounds)


if __name__ == "__main__":
    main()
