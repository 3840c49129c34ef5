"""How query latency grows with corpus size: synthetic corpora of 10k and 100k passages.

    python bench/scale.py [--sizes 10000 100000] [--queries 50]

Dense side: random unit vectors (exact flat FAISS, as used up to dense.EXACT_MAX). Keyword side: the report's
passages replicated to size. The query embedding is excluded (it does not depend on corpus size; see
bench/search.py); everything else in SearchEngine.search is included.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import ROOT, med, peak_rss_mb, percentile, timed

from reportsearch.chunking import chunk
from reportsearch.dense import DenseIndex
from reportsearch.engine import SearchEngine
from reportsearch.evaluation import load_questions
from reportsearch.keyword import KeywordIndex
from reportsearch.parsing import parse_file
from reportsearch.records import Passage
from reportsearch.store import IndexStore
from reportsearch.tokenize import tokenize

DIM = 384


class RandomQueryEmbedder:
    name, dim = "random", DIM

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def encode_queries(self, texts):
        v = self.rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[169, 10_000, 100_000])
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    base = chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))
    base_tokens = [tokenize(p.text) for p in base]
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")][:args.queries]
    rng = np.random.default_rng(1)
    print("| passages | build s | dense p50 ms | keyword p50 ms | hybrid search p50 / p95 ms (no embedding) | RSS MB |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        t = time.perf_counter()
        ps = [Passage(id=f"s{i}", doc="synthetic", section=base[i % len(base)].section, text=base[i % len(base)].text)
              for i in range(n)]
        vec = rng.standard_normal((n, DIM)).astype(np.float32)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        dense = DenseIndex.build(vec)
        kw = KeywordIndex.from_tokens([base_tokens[i % len(base)] for i in range(n)])
        store = IndexStore(ROOT, {"model": "random", "dim": DIM, "count": n}, ps, dense, kw,
                           np.zeros((0, DIM), np.float32), np.zeros((0, 3), np.int64), {})
        engine = SearchEngine(store, RandomQueryEmbedder())
        build = time.perf_counter() - t
        qv = RandomQueryEmbedder().encode_queries(["x"])[0]
        d_ms = [timed(dense.search, qv, 100)[0] for _ in range(args.queries)]
        k_ms = [timed(kw.query_scores, q)[0] for q in queries]
        engine.search(queries[0])
        h_ms = [timed(engine.search, q, "hybrid", 5)[0] for q in queries]
        print(f"| {n:,} | {build:.1f} | {med(d_ms):.2f} | {med(k_ms):.2f} | {percentile(h_ms, 50):.1f} / "
              f"{percentile(h_ms, 95):.1f} | {peak_rss_mb():.0f} |", flush=True)


if __name__ == "__main__":
    main()
