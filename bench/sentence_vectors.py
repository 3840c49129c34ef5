"""Answer-sentence vectors, `late` (pooled from the passage's own model run) against `separate` (each sentence
embedded on its own) and none at all: ingest time, how close the vectors are, and how answers are chosen.

    python bench/sentence_vectors.py [--rounds 3]

Two indexes of the bundled report are built into temporary folders, one per kind, `--rounds` times in alternation
(the machines are noisy; medians). Over every answerable eval question, per split:
- answer@1: the rank-1 hit's answer sentence holds an expected string (counted when the passage holds one);
- figure@1: the rank-1 answer states the expected figure (quantity questions);
- semantic choice: in each of the top 3 passages that has both sentences with and without an expected string,
  whether the sentence nearest the query by vector alone is one with it (what the vectors decide on their own).
Tuning reads `dev` only; `test` is reported, not tuned on.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, med

from reportsearch.embedding import load_embedder
from reportsearch.engine import SearchEngine
from reportsearch.evaluation import is_relevant, load_questions, match_key
from reportsearch.ingest import ingest_paths
from reportsearch.store import load_index

KINDS = ("late", "separate")


def build(kind: str, folder: Path, embedder) -> float:
    t = time.perf_counter()
    ingest_paths([ROOT / "data"], folder, embedder=embedder, progress=False, sentence_vectors=kind)
    return time.perf_counter() - t


def score(engine: SearchEngine, questions: list[dict], vectors: np.ndarray) -> dict:
    engine.store.sentence_vectors = vectors
    rows = engine.store.sentence_rows
    out = {"dev": {"answer@1": [], "figure@1": [], "semantic choice": []},
           "test": {"answer@1": [], "figure@1": [], "semantic choice": []}}
    for q in questions:
        if not q["expected"]:
            continue
        part = out[q["split"]]
        r = engine.search(q["query"], top_k=3)
        if not r.results:
            continue
        top = r.results[0]
        if is_relevant(top.passage.text, q["expected"]):
            part["answer@1"].append(is_relevant(top.answer.text, q["expected"]))
        if q.get("figure"):
            fig = top.answer.figure
            part["figure@1"].append(bool(fig) and match_key(fig.text) == match_key(q["figure"]))
        qv = engine.embed_query(q["query"])
        for h in r.results:
            sids = np.flatnonzero(rows[:, 0] == engine.row_of[h.passage.id])
            rel = [is_relevant(h.passage.text[a:b], q["expected"]) for _, a, b in rows[sids]]
            if len(sids) > 1 and any(rel) and not all(rel):
                part["semantic choice"].append(rel[int(np.argmax(vectors[sids] @ qv))])
    return {s: {k: (float(np.mean(v)), len(v)) for k, v in m.items()} for s, m in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    embedder = load_embedder()
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    seconds = {k: [] for k in KINDS}
    with tempfile.TemporaryDirectory(prefix="bench-sentvec-") as d:
        build("late", Path(d) / "warm", embedder)  # sessions made, caches warm
        for r in range(args.rounds):
            for kind in (KINDS if r % 2 == 0 else KINDS[::-1]):
                folder = Path(d) / f"{kind}-{r}"
                seconds[kind].append(build(kind, folder, embedder))
        stores = {k: load_index(Path(d) / f"{k}-0") for k in KINDS}
    late, sep = stores["late"], stores["separate"]
    assert (late.sentence_rows == sep.sentence_rows).all()
    cos = (late.sentence_vectors * sep.sentence_vectors).sum(1)
    print(f"index build of the bundled report, embedder loaded, median of {args.rounds}: "
          + ", ".join(f"{k} {med(v):.2f} s" for k, v in seconds.items()))
    print(f"{len(cos)} sentences: cosine late vs separate min {cos.min():.3f}, mean {cos.mean():.3f}")
    engine = SearchEngine(sep, embedder)
    variants = {"separate": sep.sentence_vectors, "late": late.sentence_vectors,
                "none (keyword, measure and figure cues only)": np.zeros_like(sep.sentence_vectors)}
    print("\n| sentence vectors | split | answer@1 | figure@1 | semantic choice |")
    print("|---|---|---|---|---|")
    for name, vecs in variants.items():
        res = score(engine, questions, vecs.copy())
        for split in ("dev", "test"):
            cells = [f"{res[split][k][0]:.3f} (n={res[split][k][1]})" for k in ("answer@1", "figure@1",
                                                                                  "semantic choice")]
            print(f"| {name} | {split} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
