"""Extractive helpers: sentence spans of a passage, matched-term highlights and the answer-sentence choice."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_CLAUSE_END = re.compile(r"[。！？!?；;]+[”’」』]?")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (split after 。！？；) of a passage, whitespace excluded."""
    spans, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def highlight_spans(folded_text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Merged [start, end) spans where any term occurs in the (length-preserving) folded text."""
    marks: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        i = folded_text.find(term)
        while i >= 0:
            marks.append((i, i + len(term)))
            i = folded_text.find(term, i + 1)
    marks.sort()
    merged: list[list[int]] = []
    for a, b in marks:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def choose_answer(spans: Sequence[tuple[int, int]], highlights: Sequence[tuple[int, int]],
                  sims: Sequence[float] | None = None, skip_first: bool | int = False,
                  term_weight: float = 0.05) -> int:
    """Index of the best sentence: semantic similarity plus a bonus per highlighted character.

    `skip_first` (a count, or True for one) drops leading headings such as the clause label
    `加快智能改造。` when there is anything else to choose.
    """
    if not spans:
        return -1
    skip = min(int(skip_first), len(spans) - 1)
    candidates = list(range(skip, len(spans)))
    sims = np.zeros(len(spans)) if sims is None else np.asarray(sims, dtype=float)

    def covered(a: int, b: int) -> int:
        return sum(max(0, min(b, y) - max(a, x)) for x, y in highlights)

    def score(i: int) -> float:
        a, b = spans[i]
        return float(sims[i]) + term_weight * min(covered(a, b), 10)

    return max(candidates, key=lambda i: (score(i), -i))


def choose_answer_for(text: str, spans: Sequence[tuple[int, int]], highlights: Sequence[tuple[int, int]],
                      sims: Sequence[float] | None, skip_first: int, query: str | None,
                      extra: Sequence[str] = (), measure_weight: float = 0.3):
    """(sentence index, figure or None) for a question: `choose_answer` plus a bonus for the sentence that
    holds the measure asked about (the urban income question gets the urban sentence); for a quantity
    question, the sentence holding the figure that answers it, and that figure.
    """
    from .figures import choose_figure, is_quantity_question, measure_overlap

    if not spans:
        return -1, None
    if not query:
        return choose_answer(spans, highlights, sims, skip_first=skip_first), None
    skip = min(int(skip_first), len(spans) - 1)
    base = np.zeros(len(spans)) if sims is None else np.asarray(sims, dtype=float)
    bonus = np.array([measure_weight * measure_overlap(query, text[a:b], extra) for a, b in spans])
    k = choose_answer(spans, highlights, base + bonus, skip_first=skip)
    if not is_quantity_question(query, weak=True):
        return k, None
    body = spans[skip][0]  # leading headings hold no figures worth stating
    fig = choose_figure(query, text[body:], prefer=(spans[k][0] - body, spans[k][1] - body), extra=extra)
    if fig is None:
        return k, None
    a, b = fig.start + body, fig.end + body
    k = next((j for j, (x, y) in enumerate(spans) if x <= a and b <= y), k)
    return k, (fig.text, a, b)
