"""Query expansion from a plain-text glossary of everyday words → the report's own terms."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .textnorm import fold

DEFAULT_GLOSSARY = Path(__file__).resolve().parent / "glossary.tsv"


def parse_glossary(text: str) -> dict[str, tuple[str, ...]]:
    """Lines `everyday<TAB>term|term`; `#` starts a comment. Keys and terms are folded for matching."""
    out: dict[str, tuple[str, ...]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "\t" not in line:
            raise ValueError(f"glossary line {n}: expected `word<TAB>term|term`, got {line!r}")
        key, terms = line.split("\t", 1)
        key = fold(key.strip())
        vals = tuple(fold(t.strip()) for t in terms.split("|") if t.strip())
        if key and vals:
            out[key] = tuple(dict.fromkeys(out.get(key, ()) + vals))
    return out


@lru_cache(maxsize=4)
def load_glossary(path: str | None = None) -> dict[str, tuple[str, ...]]:
    return parse_glossary(Path(path or DEFAULT_GLOSSARY).read_text(encoding="utf-8"))


def expand(folded_query: str, glossary: dict[str, tuple[str, ...]]) -> list[str]:
    """Report terms for every glossary word in the (folded) query, in glossary order, without repeats."""
    terms: list[str] = []
    for key, vals in glossary.items():
        if key in folded_query:
            terms.extend(v for v in vals if v not in folded_query)
    return list(dict.fromkeys(terms))
