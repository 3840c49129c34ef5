"""How search grows with the corpus, to 1M synthetic passages: exact and ANN dense indexes, BM25, full hybrid search.

    python bench/scale.py [--sizes 10000 100000 1000000] [--queries 100] [--ann-from 50000] [--ann-to N]
                          [--nprobe 8 16 32 64 128]

Synthetic corpus, varied per passage (not one passage repeated):
- keyword side: each passage draws 20-100 tokens, 70% from the bundled report's own token distribution (its CJK
  bigrams, jieba words and numbers, with their real frequencies) and 30% from a Zipf long tail of 500k
  synthetic tokens, so postings lengths and document frequencies look like a large real collection. The
  BM25 matrix (bm25s' lucene scoring, k1=1.2, b=0.75) is built with numpy from those token ids; a passage's
  text is its report tokens joined (what highlights and the low-confidence check read).
- dense side: clustered unit vectors (8,192 centres, per-passage noise; a cluster-mate has cosine ~0.75), so
  nearest neighbours mean something and ANN recall is not measured on structureless noise.
Queries are the eval questions (real keyword tokens) paired with clustered query vectors; the query embedding
is excluded (it does not depend on corpus size; see bench/search.py). Recall@10 of the ANN index is measured
against the exact index on the same vectors. Sizes run in one process; RSS is the process peak so far.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
from common import ROOT, peak_rss_mb, percentile, timed

import reportsearch.engine as engine_mod
from reportsearch.chunking import chunk
from reportsearch.dense import DenseIndex
from reportsearch.engine import SearchEngine
from reportsearch.evaluation import load_questions
from reportsearch.keyword import KeywordIndex
from reportsearch.parsing import parse_file
from reportsearch.records import Passage
from reportsearch.store import IndexStore
from reportsearch.tokenize import DEFAULT_SCHEME, tokenize

DIM = 384
CENTRES = 8192
NOISE = 0.58  # |noise| relative to a unit centre: cluster-mates at cosine ~1/(1+NOISE^2)
TAIL = 500_000


def clustered(rng, centres: np.ndarray, n: int, chunk_rows: int = 100_000) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, chunk_rows):
        m = min(chunk_rows, n - s)
        v = centres[rng.integers(0, len(centres), m)] + rng.standard_normal((m, DIM), dtype=np.float32) * (
            NOISE / np.sqrt(DIM))
        out[s:s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def synthetic_keyword(rng, n: int, pool: np.ndarray, vocab_real: list[str]):
    """Token ids per passage, the BM25 CSC matrix (by token), the vocabulary, and each passage's text."""
    lens = rng.integers(20, 101, n)
    total = int(lens.sum())
    docs = np.repeat(np.arange(n, dtype=np.int64), lens)
    real = rng.random(total) < 0.7
    tok = np.empty(total, dtype=np.int64)
    tok[real] = pool[rng.integers(0, len(pool), int(real.sum()))]
    tail = rng.zipf(1.1, int((~real).sum()))
    tok[~real] = len(vocab_real) + np.minimum(tail - 1, TAIL - 1)
    vsize = len(vocab_real) + TAIL
    key, tf = np.unique(docs * vsize + tok, return_counts=True)
    d, t = key // vsize, key % vsize
    dl = lens.astype(np.float32)
    k1, b = 1.2, 0.75
    df = np.bincount(t, minlength=vsize)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    data = idf[t] * tf / (tf + k1 * (1 - b + b * dl[d] / dl.mean()))
    order = np.argsort(t, kind="stable")  # CSC by token; docs stay ascending within a token
    indptr = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=vsize))]).astype(np.int64)
    scores = {"data": data[order].astype(np.float32), "indices": d[order].astype(np.int32), "indptr": indptr,
              "num_docs": n}
    vocab = {w: i for i, w in enumerate(vocab_real)}
    vocab.update({f"\u2063syn{i}": len(vocab_real) + i for i in range(TAIL)})
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    words = np.asarray(vocab_real, dtype=object)
    texts = []
    for s, ln in zip(starts.tolist(), lens.tolist()):
        ids = tok[s:s + ln]
        texts.append("".join(words[ids[ids < len(vocab_real)]]))
    return scores, vocab, texts


def keyword_index(scores: dict, vocab: dict, n: int) -> KeywordIndex:
    import bm25s

    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.scores, bm25.vocab_dict = scores, vocab
    bm25.unique_token_ids_set = set(vocab.values())
    bm25.nonoccurrence_array = None  # lucene scoring has none
    return KeywordIndex(bm25, DEFAULT_SCHEME, n)


class VectorsFor:
    """Hands the engine a prepared vector per query: the query embedding is excluded from the timings."""

    name, dim, prompts = "synthetic", DIM, {}

    def __init__(self, table: dict):
        self.table = table

    def encode_queries(self, texts):
        return np.stack([self.table[t] for t in texts])


def make_engine(passages, dense, kw, qtable) -> SearchEngine:
    store = IndexStore(ROOT, {"model": "synthetic", "dim": DIM, "count": len(passages)}, passages, dense, kw,
                       np.zeros((0, DIM), np.float32), np.zeros((0, 3), np.int64), {})
    real_fold = engine_mod.fold
    engine_mod.fold = lambda s: s  # the synthetic text is already in folded form; folding 1M texts is ingest work
    try:
        e = SearchEngine(store, VectorsFor(qtable))
    finally:
        engine_mod.fold = real_fold
    return e.with_config(query_cache=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--ann-from", type=int, default=50_000, help="also build and time the ANN index (IVF) from "
                    "this size …")
    ap.add_argument("--ann-to", type=int, default=10_000_000, help="… up to this size")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128],
                    help="IVF lists searched per query, swept for recall")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    base = chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))
    real_tokens = [t for p in base for t in tokenize(p.text)]
    vocab_real = list(dict.fromkeys(real_tokens))
    index_of = {w: i for i, w in enumerate(vocab_real)}
    pool = np.asarray([index_of[t] for t in real_tokens], dtype=np.int64)
    queries = list(dict.fromkeys(q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")))
    queries = (queries * (args.queries // len(queries) + 1))[:args.queries]
    centres = rng.standard_normal((CENTRES, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    qvecs = clustered(rng, centres, len(queries))
    print(f"report vocabulary {len(vocab_real):,} tokens + {TAIL:,} synthetic tail tokens; {len(queries)} queries; "
          f"dense.EXACT_MAX = {engine_mod.__dict__.get('EXACT_MAX', 'see dense.py')}")
    print("| passages | index | build s | recall@10 vs exact | dense top-100 p50 ms | BM25 p50 ms | "
          "hybrid search p50 / p95 ms (no embedding) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        t = time.perf_counter()
        scores, vocab, texts = synthetic_keyword(rng, n, pool, vocab_real)
        kw = keyword_index(scores, vocab, n)
        sections = [p.section for p in base]
        passages = [Passage(id=f"s{i}", doc="synthetic", section=sections[i % len(sections)], text=texts[i])
                    for i in range(n)]
        del texts
        kw_s = time.perf_counter() - t
        vec = clustered(rng, centres, n)
        variants = [("exact", n + 1)] + ([("ann", 0)] if args.ann_from <= n <= args.ann_to else [])
        exact_ids = None
        for kind, exact_max in variants:
            t = time.perf_counter()
            dense = DenseIndex.build(vec, exact_max=exact_max)
            build = time.perf_counter() - t + (kw_s if kind == "exact" else 0)
            got = [dense.search(q, 10)[0] for q in qvecs]
            if kind == "exact":
                exact_ids, recall = got, "1 (exact)"
            else:
                r = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, exact_ids)])
                recall = f"{r:.3f}"
            engine = make_engine(passages, dense, kw, dict(zip(queries, qvecs)))
            d_ms = [timed(dense.search, q, 100)[0] for q in qvecs]
            k_ms = [timed(engine._keyword_scores, *engine._keyword_query(q))[0] for q in queries]
            for q in queries[:5]:
                engine.search(q)
            h_ms = [timed(engine.search, q, "hybrid", 5)[0] for q in queries]
            print(f"| {n:,} | {kind} ({dense.kind}) | {build:.1f} | {recall} | {percentile(d_ms, 50):.2f} | "
                  f"{percentile(k_ms, 50):.2f} | {percentile(h_ms, 50):.1f} / {percentile(h_ms, 95):.1f} | "
                  f"{peak_rss_mb():.0f} |", flush=True)
            if dense.kind == "ivf":  # recall and speed per number of lists searched (dense.NPROBE is the default)
                default = dense.index.nprobe
                for p in args.nprobe:
                    dense.index.nprobe = p
                    got = [dense.search(q, 10)[0] for q in qvecs]
                    r = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, exact_ids)])
                    d_ms = [timed(dense.search, q, 100)[0] for q in qvecs]
                    print(f"|  | ivf, nprobe {p}{' (default)' if p == default else ''} | | {r:.3f} | "
                          f"{percentile(d_ms, 50):.2f} | | | |", flush=True)
                dense.index.nprobe = default
            del engine, dense
            gc.collect()
        del vec, passages, kw, scores, vocab
        gc.collect()


if __name__ == "__main__":
    main()
