"""Retrieval metrics on ranked relevance lists: hit@k, MRR@k, nDCG@k, and the relevance test itself."""

from __future__ import annotations

import math
import re
from typing import Sequence

from .textnorm import fold

_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def match_key(text: str) -> str:
    """Folded text without whitespace or punctuation, so expectations survive re-chunking and reformatting."""
    return _NON_WORD.sub("", fold(text))


def is_relevant(text: str, expected: Sequence[str]) -> bool:
    key = match_key(text)
    return any(match_key(e) and match_key(e) in key for e in expected)


def hit_at(rels: Sequence[bool], k: int) -> float:
    return 1.0 if any(rels[:k]) else 0.0


def mrr_at(rels: Sequence[bool], k: int = 10) -> float:
    for r, rel in enumerate(rels[:k], start=1):
        if rel:
            return 1.0 / r
    return 0.0


def ndcg_at(rels: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """Binary-gain nDCG; the ideal ranking puts min(n_relevant, k) relevant passages first."""
    dcg = sum(1.0 / math.log2(r + 1) for r, rel in enumerate(rels[:k], start=1) if rel)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")


def score_ranking(rels: Sequence[bool], n_relevant: int) -> dict[str, float]:
    return {"hit@1": hit_at(rels, 1), "hit@3": hit_at(rels, 3), "hit@5": hit_at(rels, 5),
            "mrr@10": mrr_at(rels, 10), "ndcg@10": ndcg_at(rels, n_relevant, 10)}


def mean_scores(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {m: 0.0 for m in METRICS}
    return {m: round(sum(r[m] for r in rows) / len(rows), 4) for m in METRICS}
