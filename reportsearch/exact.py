"""Exact terms of a query (numbers, quoted phrases, a query of one term) and which of them a passage lacks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .textnorm import fold
from .timeref import is_relative_time_word, question_years
from .tokenize import FUNCTION_CHARS, strip_question_words

# a number as people search for one: `13710`, `426.8`; not `5g`, `x86`, nor the year of `2023年`
NUMBER = re.compile(r"(?<![\d.a-z])\d{2,}(?:\.\d+)?(?![\d.a-z年])")
# a phrase in quotes, as folded (NFKC makes `＂` and `＇` plain): `“乙类乙管”`, `「13710」`, `"放管服"`
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|「([^」]+)」|『([^』]+)』|‘([^’]+)’|'([^']+)'")
# a query that is one term: CJK, Latin letters and digits, 2 to 12 of them (`乙类乙管`, `乡村振兴`, `gdp`)
_TERM = re.compile(r"[\u3400-\u9fff\uf900-\ufaffa-z0-9]{2,12}")
_ENDS = " \t\r\n?!。？！.,，;；:："


@dataclass(frozen=True)
class Exact:
    """A term the query asks for word for word: as the user typed it, and the folded forms that count as found
    (the term and its glossary expansions, without spaces). A `lone` term is the whole query."""

    shown: str
    forms: tuple[str, ...]
    lone: bool = False


def numbers(folded: str, years: Sequence[int] = ()) -> list[str]:
    """The numbers of a folded text that are not one of `years` (`13710`, `999.9`; `2023` when 2023 is a year)."""
    return [m.group() for m in NUMBER.finditer(folded) if not (len(m.group()) == 4 and int(m.group()) in years)]


def exact_terms(query: str, expand: Callable[[str], Sequence[str]] = lambda t: ()) -> tuple[Exact, ...]:
    """What `query` asks for exactly: its quoted phrases, its numbers (not its years), and the query itself when
    it is one term with no question or time words (`乙类乙管`, not `教育方面有哪些安排`, `去年gdp`, `2023年gdp`).
    `expand` gives a folded term's glossary expansions (`gdp` -> 地区生产总值), which count as the term."""
    f = fold(query)  # one character for one: spans of `f` are spans of `query`
    out: dict[str, Exact] = {}

    def add(a: int, b: int, lone: bool = False) -> None:
        key = f[a:b].replace(" ", "")
        if key and key not in out:
            out[key] = Exact(query[a:b].strip(), (key, *(x.replace(" ", "") for x in expand(key))), lone)

    for m in _QUOTED.finditer(f):
        g = next(i for i in range(1, 7) if m.group(i) is not None)
        if m.group(g).strip():
            add(m.start(g), m.end(g))
    years = question_years(f)
    for m in NUMBER.finditer(f):
        if not (len(m.group()) == 4 and int(m.group()) in years):
            add(m.start(), m.end())
    t = f.strip(_ENDS)
    if (_TERM.fullmatch(t) and strip_question_words(t) == t and not is_relative_time_word(t) and not years
            and not set(t) <= FUNCTION_CHARS):
        a = f.index(t)
        add(a, a + len(t), lone=True)
    return tuple(out.values())


def missing(terms: Sequence[Exact], texts: Sequence[str]) -> list[tuple[str, ...]]:
    """For each folded text (a result's passage), the terms (as shown) none of whose forms it holds, spaces
    ignored. A one-term query that no text holds word for word (`教育安排`) was a few words rather than a term,
    and is left out; numbers and quoted phrases always count."""
    flat = [t.replace(" ", "") for t in texts]
    lacks = [[e.shown for e in terms if not any(x in t for x in e.forms)] for t in flat]
    unheld = {e.shown for e in terms if e.lone and all(e.shown in m for m in lacks)}
    lone = {e.shown for e in terms if e.lone} - unheld
    out = []
    for m in lacks:
        kept = [s for s in m if s not in unheld]
        # `2000千瓦` missing says `2000` is too (a number of a one-term query)
        out.append(tuple(s for s in kept if not any(s != w and s in w for w in lone & set(kept))))
    return out
