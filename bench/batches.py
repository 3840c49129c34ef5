"""Passage batch size for the ONNX int8 default model at ingest: model time per batch size, and how far batching
moves a passage's vector from the one it gets alone (int8 activations are quantized per run, padding included);
then how passages share the cores: one run per core at a time, one thread each (the default), against one run at
a time on every core's threads.

    python bench/batches.py [--rounds 3] [--sizes 1 4 8 16 32]

The bundled report's 169 passages (embedding text as indexed) on the ingest settings; the variants run in an
order rotated per round (the machines are noisy); medians.
"""

from __future__ import annotations

import argparse
import time

from common import ROOT, med

from reportsearch.chunking import chunk
from reportsearch.embedding import load_embedder
from reportsearch.library import embedding_text
from reportsearch.parsing import parse_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16, 32])
    args = ap.parse_args()
    emb = load_embedder(warm="passage")
    texts = [embedding_text(p) for p in chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))]
    emb.batch_size = 1
    alone = emb.encode_passages(texts)  # also warms the session
    seconds = {b: [] for b in args.sizes}
    vecs = {}
    for r in range(args.rounds):
        sizes = args.sizes[r % len(args.sizes):] + args.sizes[:r % len(args.sizes)]
        for b in sizes:
            emb.batch_size = b
            t = time.perf_counter()
            vecs[b] = emb.encode_passages(texts)
            seconds[b].append(time.perf_counter() - t)
    n_tokens = sum(len(x) for x in emb.token_ids(["passage: " + t for t in texts]))
    print(f"{len(texts)} passages, {n_tokens} tokens, {emb.passage_runs} runs at once x {emb.passage_threads} "
          f"onnxruntime thread(s), median of {args.rounds}")
    print("| batch size | model time s | tokens/s | cosine to the passage embedded alone, min / mean |")
    print("|---|---|---|---|")
    for b in args.sizes:
        c = (vecs[b] * alone).sum(1)
        print(f"| {b} | {med(seconds[b]):.2f} | {n_tokens / med(seconds[b]):.0f} | {c.min():.4f} / {c.mean():.4f} |")
    sharing(emb, texts, args.rounds)


def sharing(emb, texts: list[str], rounds: int) -> None:
    """Batch size 1: `cores` runs at once on one thread each, against one run at a time on `cores` threads."""
    cores = emb.passage_runs * emb.passage_threads
    ways = {f"{cores} runs at once, 1 thread each (default)": (1, cores),
            f"1 run at a time, {cores} threads": (cores, 1)}
    emb.batch_size = 1
    seconds = {k: [] for k in ways}
    vecs = {}
    names = list(ways)
    for r in range(rounds + 1):  # round 0 only starts each way's session
        for k in names[r % len(names):] + names[:r % len(names)]:
            emb.passage_threads, emb.passage_runs = ways[k]
            t = time.perf_counter()
            vecs[k] = emb.encode_passages(texts)
            if r:
                seconds[k].append(time.perf_counter() - t)
    print(f"\n| how {len(texts)} passages share the cores | model time s, median of {rounds} | same vectors as the default |")
    print("|---|---|---|")
    for k in names:
        print(f"| {k} | {med(seconds[k]):.2f} | {'yes' if (vecs[k] == vecs[names[0]]).all() else 'no'} |")


if __name__ == "__main__":
    main()
