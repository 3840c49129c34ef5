"""Extractive helpers: sentence spans of a passage, matched-term highlights and the answer-sentence choice."""

from __future__ import annotations

import re
from typing import Sequence

from .figures import Ask, choose_figure, measure_overlap

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
    sims = [0.0] * len(spans) if sims is None else [float(x) for x in sims]  # plain floats: a few sentences

    def covered(a: int, b: int) -> int:
        return sum(max(0, min(b, y) - max(a, x)) for x, y in highlights)

    def score(i: int) -> float:
        a, b = spans[i]
        return sims[i] + term_weight * min(covered(a, b), 10)

    return max(range(skip, len(spans)), key=lambda i: (score(i), -i))


def choose_answer_for(text: str, spans: Sequence[tuple[int, int]], highlights: Sequence[tuple[int, int]],
                      sims: Sequence[float] | None, skip_first: int, query: str | Ask | None,
                      extra: Sequence[str] = (), measure_weight: float = 0.3, folded: str | None = None):
    """(sentence index, figure or None) for a question: `choose_answer` plus a bonus for the sentence that
    holds the measure asked about (the urban income question gets the urban sentence); for a quantity
    question, the sentence holding the figure that answers it, and that figure.

    `query` is the question's text or its `figures.Ask` (worked out once per search, with its `extra` inside);
    `folded` is `fold(text)` when the caller has it.
    """
    if not spans:
        return -1, None
    if not query:
        return choose_answer(spans, highlights, sims, skip_first=skip_first), None
    ask = Ask.of(query, extra)
    skip = min(int(skip_first), len(spans) - 1)
    base = [0.0] * len(spans) if sims is None else [float(x) for x in sims]
    if folded is None or len(folded) != len(text):
        bonus = [measure_overlap(ask, text[a:b]) for a, b in spans]
    else:
        bonus = [measure_overlap(ask, folded[a:b], folded=True) for a, b in spans]
    k = choose_answer(spans, highlights, [s + measure_weight * b for s, b in zip(base, bonus)], skip_first=skip)
    if not ask.weak_quantity:
        return k, None
    body = spans[skip][0]  # leading headings hold no figures worth stating
    fig = choose_figure(ask, text[body:], prefer=(spans[k][0] - body, spans[k][1] - body))
    if fig is None:
        return k, None
    a, b = fig.start + body, fig.end + body
    k = next((j for j, (x, y) in enumerate(spans) if x <= a and b <= y), k)
    return k, (fig.text, a, b)
