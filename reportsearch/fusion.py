"""Pure rank-fusion functions for hybrid search: min-max weighted sum and reciprocal-rank fusion."""

from __future__ import annotations

from operator import itemgetter
from typing import Callable, Mapping, Sequence

METHODS = ("weighted", "rrf")


def ranked_items(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """(id, score) pairs by descending score; ties broken by id so results are deterministic."""
    items = sorted(scores.items())  # by id (ids are distinct, so scores are never compared here)
    items.sort(key=itemgetter(1), reverse=True)  # stable, reverse included: equal scores keep the id order
    return items


def ranking(scores: Mapping[int, float]) -> list[int]:
    """Ids by descending score; ties broken by id so results are deterministic."""
    return [i for i, _ in ranked_items(scores)]


def minmax(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale to [0, 1]; a single value or all-equal values map to 1.0 (0.0 when every score is 0)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi == lo:
        return {i: (1.0 if hi > 0 else 0.0) for i in scores}
    return {i: (s - lo) / (hi - lo) for i, s in scores.items()}


def weighted_sum(dense: Mapping[int, float], keyword: Mapping[int, float], alpha: float) -> dict[int, float]:
    """alpha · minmax(dense) + (1 − alpha) · minmax(keyword); a passage absent from one side scores 0 there.
    alpha is a weight from 0 to 1 (outside it, a zero's sign could differ from the formula's)."""
    beta = 1 - alpha
    out = {i: alpha * v for i, v in minmax(dense).items()}  # the same sums as alpha·d + beta·k with a missing
    for i, v in minmax(keyword).items():  # side's 0.0, bit for bit: x + 0.0 == x for these non-negative x
        x = out.get(i)
        out[i] = beta * v if x is None else x + beta * v
    return out


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None, k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: Σ w / (k + rank), ranks starting at 1. Empty rankings contribute nothing."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    out: dict[int, float] = {}
    for w, ranked in zip(weights, rankings):
        for r, i in enumerate(ranked, start=1):
            out[i] = out.get(i, 0.0) + w / (k + r)
    return out


def spread(scores: Sequence[float]) -> float:
    """The spread of a candidate list's scores (max - min; else |max|; else 1), the unit of every ranking
    preference (year, measure, newest report), so that they weigh alike in every mode's scores."""
    return (max(scores) - min(scores)) or abs(max(scores)) or 1.0


def fuse(dense: Mapping[int, float], keyword: Mapping[int, float], method: str = "weighted",
         alpha: float = 0.5, rrf_k: int = 60) -> list[tuple[int, float]]:
    """Fuse two score maps into one ranked list of (id, score)."""
    if method == "weighted":
        fused = weighted_sum(dense, keyword, alpha)
    elif method == "rrf":
        fused = rrf([ranking(dense), ranking(keyword)], [alpha, 1 - alpha], k=rrf_k)
    else:
        raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
    return ranked_items(fused)


def newer_first_on_ties(ranked: Sequence[tuple[int, float]], year_of: Callable[[int], int | None]
                        ) -> list[tuple[int, float]]:
    """A ranked list with each run of equal scores reordered newest report first (a year of None counts as
    oldest); otherwise as given. Equal scores come from the same text in two years' reports (a paragraph kept
    from one year to the next), where the reader wants this year's."""
    out = list(ranked)
    i, n = 0, len(out)
    while i < n:
        j = i + 1
        while j < n and out[j][1] == out[i][1]:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=lambda x: -(year_of(x[0]) or 0))  # stable: same year keeps its order
        i = j
    return out
