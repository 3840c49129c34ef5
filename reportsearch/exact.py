"""Exact terms of a query (numbers, quoted phrases, a query of one term) and which of them a passage lacks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from .figures import LATIN_UNITS, UNITS
from .textnorm import fold
from .timeref import is_relative_time_word, question_years
from .tokenize import FUNCTION_CHARS, strip_question_words

# a number as the low-confidence check reads one: `13710`, `426.8`; not `5g`, `x86`, nor the year of `2023年`
NUMBER = re.compile(r"(?<![\d.a-z])\d{2,}(?:\.\d+)?(?![\d.a-z年])")
_LATIN = "|".join(re.escape(u.lower()) for u in LATIN_UNITS)
# a number a query asks for: the same, also with thousands separators (`13,710`) and before a Latin unit (`1200mw`)
_ASKED_NUMBER = re.compile(rf"(?<![\d.,a-z])(?:\d{{1,3}}(?:,\d{{3}})+|\d{{2,}})(?:\.\d+)?"
                           rf"(?:(?=(?:{_LATIN})(?![a-z]))|(?![\d.,a-z年]))")
# a phrase in quotes, as folded (NFKC makes `＂` and `＇` plain): `“乙类乙管”`, `「13710」`, `"放管服"`; an ASCII
# apostrophe between letters is English (`county's`), not a quote
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|「([^」]+)」|『([^』]+)』|‘([^’]+)’|(?<![a-z])'([^']+)'(?![a-z])")
# a query that is one term: CJK, Latin letters and digits, 2 to 12 of them (`乙类乙管`, `乡村振兴`, `gdp`)
_TERM = re.compile(r"[\u3400-\u9fff\uf900-\ufaffa-z0-9]{2,12}")
# a number and its unit alone (`2000千瓦`, `1200mw`): the number is the term, the unit may be written otherwise
_QUANTITY = re.compile(r"\d+(?:\.\d+)?(?:%s|%s)" % ("|".join(map(re.escape, UNITS)), _LATIN))
_QUOTES = frozenset("“\"「『‘'")
_TWO_DIGITS = re.compile(r"\d\d")  # every number asked for and every year has two digits in a row
_ENDS = " \t\r\n?!。？！.,，;；:："
# what matching ignores, in the term and in the text: spaces and punctuation (`优质·特色教育`, `13,710`)
_NOT_MATCHED = re.compile(r"[^\w.%]")
MAX_TERMS = 8  # a query that is a list of numbers: the first eight


@dataclass(frozen=True)
class Exact:
    """A term the query asks for word for word: as the user typed it, and the forms that count as found (folded,
    without spaces or punctuation: the term, and the term with a glossary word in it replaced by a report term).
    A `number` is found only as a whole number (`36` is not in `3600万元`). A `lone` term is the whole query."""

    shown: str
    forms: tuple[str, ...]
    number: bool = False
    lone: bool = False


def _a_year(number: str, years: Sequence[int]) -> bool:
    return len(number) == 4 and int(number) in years


def numbers(folded: str, years: Sequence[int] = ()) -> list[str]:
    """The numbers of a folded text that are not one of `years` (`13710`, `999.9`; `2023` when 2023 is a year)."""
    return [m.group() for m in NUMBER.finditer(folded) if not _a_year(m.group(), years)]


def plain(folded: str) -> str:
    """A folded text as exact terms are matched in it: spaces and punctuation dropped."""
    return _NOT_MATCHED.sub("", folded)


def exact_terms(query: str, glossary: Mapping[str, Sequence[str]] | None = None) -> tuple[Exact, ...]:
    """What `query` asks for exactly, at most MAX_TERMS: its quoted phrases, its numbers (not its years), and the
    query itself when it is one term with no question or time words (`乙类乙管`, not `教育方面有哪些安排`,
    `去年gdp`, `2023年gdp`; `2000千瓦` is its number). A glossary word in a term may be read as the report's term
    for it (`gdp增长` also as 地区生产总值增长)."""
    f = fold(query)  # one character for one: spans of `f` are spans of `query`
    out: dict[str, Exact] = {}

    def add(a: int, b: int, number: bool = False, lone: bool = False) -> None:
        key = plain(f[a:b])
        if not key or key in out or len(out) >= MAX_TERMS:
            return
        forms = [key]
        for word, terms in (glossary or {}).items():
            if word in key:
                forms += [plain(key.replace(word, t)) for t in terms]
        out[key] = Exact(query[a:b].strip(), tuple(dict.fromkeys(forms)), number, lone)

    if _QUOTES & set(f):  # most questions quote nothing and have no number: nothing to look for
        for m in _QUOTED.finditer(f):
            g = m.lastindex  # the one group of the six that matched
            if plain(m.group(g)):
                add(m.start(g), m.end(g))
    years: Sequence[int] = ()
    if _TWO_DIGITS.search(f):
        years = question_years(f)
        for m in _ASKED_NUMBER.finditer(f):
            if not _a_year(m.group(), years):
                add(m.start(), m.end(), number=True)
    t = f.strip(_ENDS)
    if (_TERM.fullmatch(t) and strip_question_words(t) == t and not is_relative_time_word(t) and not years
            and not set(t) <= FUNCTION_CHARS and not _QUANTITY.fullmatch(t)):
        a = f.index(t)
        add(a, a + len(t), lone=True)
    return tuple(out.values())


def _holds(text: str, e: Exact) -> bool:
    if e.number:
        return any(re.search(rf"(?<![\d.]){re.escape(x)}(?!\d|\.\d)", text) for x in e.forms)
    return any(x in text for x in e.forms)


def missing(terms: Sequence[Exact], texts: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """For each result, given as its folded texts (the passage, each heading of its section path), the terms (as
    shown) that none of them holds, spaces and punctuation ignored. A one-term query that no result holds
    (`教育安排`) is read as the words it is made of, not as a term, and marks nothing; in quotes it is a term
    (`“新能源汽车”`). Numbers and quoted phrases always count."""
    lacks = []
    for parts in texts:
        flat = [plain(t) for t in parts]
        lacks.append([e for e in terms if not any(_holds(t, e) for t in flat)])
    words = {id(e) for e in terms if e.lone and all(e in m for m in lacks)}
    return [tuple(e.shown for e in m if id(e) not in words) for m in lacks]
