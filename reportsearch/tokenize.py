"""The Chinese keyword tokenizer shared by passages and queries: folded text → CJK bigrams and/or jieba words, plus numbers."""

from __future__ import annotations

import re

from . import wordfreq
from .textnorm import fold

SCHEMES = ("bigram", "word", "bigram+word")
DEFAULT_SCHEME = "bigram+word"
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:\.[0-9]+)*")
# Question scaffolding that users type but reports never contain; dropped from keyword queries only.
QUESTION_WORDS = ("有哪些", "哪些", "什么", "怎么样", "怎么", "如何", "多少", "几个", "是否", "有没有", "有无",
                  "请问", "吗", "呢", "方面", "情况", "的话")


# characters that mean nothing on their own: a question made of them alone (的, 是什么) gives nothing to look for
FUNCTION_CHARS = frozenset("的地得了着过是在和与及或也都就而之其这那有我你他她它们个吗呢吧啊哦呀么")


def _cjk(ch: str) -> bool:
    return ch >= "\u3400" and not ("a" <= ch <= "z" or "0" <= ch <= "9")


def tokenize(text: str, scheme: str = DEFAULT_SCHEME, folded: bool = False) -> list[str]:
    """Tokens for BM25. Numbers and Latin words are whole tokens (`13710`, `426.8`, `5g`, `lng`)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tokenizer scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    t = text if folded else fold(text)
    out: list[str] = []
    for m in _RUN.finditer(t):
        run = m.group()
        if not _cjk(run[0]):
            out.append(run)
            continue
        if "bigram" in scheme:
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        if "word" in scheme:
            out.extend(w for w in wordfreq.default().segment(run) if len(w) >= 2 or "bigram" not in scheme)
    return out


# a number written with thousands separators, as folded (`13,710`, `１３，７１０` -> `13,710`, `1,234.5`): reports
# write `13710`. Not `2022,2023` (four digits before a comma), `1,2` or `5,60` (groups of three only), `v1,234`,
# `0,123`; a comma that only separates it from other words (`乙类乙管,13,710,`) stays. A list written with commas
# (`100,200,300`) reads as one number: a list is written with 、
# (the lookbehinds after the first digit: tried at digits only, 10x faster on a passage than before it)
_GROUPED = re.compile(r"[1-9](?<![\d.a-z][1-9])(?<!\d,[1-9])\d{0,2}(?:,\d{3})+(?!\d|,\d)")


def join_digit_groups(folded: str) -> str:
    """Folded text's numbers without their thousands separators (`13,710` -> `13710`): a query's, as most
    reports write them (split at the comma, `13,710` found every passage with a 13 or a 710 in it), and a
    passage's where a number is compared with the query's (engine.coverage, number_not_found)."""
    return _GROUPED.sub(lambda m: m.group().replace(",", ""), folded) if "," in folded else folded


def grouped_numbers(folded: str) -> list[str]:
    """The numbers written with thousands separators (`1,234`): kept as extra keyword terms beside the joined
    form, since the keyword index holds such a passage's number in pieces (`1`, `234`)."""
    return _GROUPED.findall(folded) if "," in folded else []


def strip_question_words(folded_query: str) -> str:
    for w in QUESTION_WORDS:
        folded_query = folded_query.replace(w, " ")
    return folded_query


def query_terms(text: str, folded: bool = False) -> list[str]:
    """Distinct surface terms of a query worth highlighting: numbers, Latin words, CJK bigrams (a lone function
    character such as 有 is none).

    `folded=True` means `text` is already folded with its question words stripped (the engine's keyword query).
    """
    t = text if folded else strip_question_words(fold(text))
    # a function character left alone by the question words around it (看病就医方面有什么 -> 有) marks every
    # 有 of the passage, not the question
    # and a lone 年 (`2023年gdp` -> 2023, 年, gdp) marks the 年 of every 今年 and 2022年 in the passage
    return [w for w in dict.fromkeys(tokenize(t, "bigram", folded=True)) if w not in FUNCTION_CHARS and w != "年"]


def nothing_to_look_for(folded_query: str, words: list[str] | None = None) -> bool:
    """True when a folded query (question words stripped) holds no content word and no Chinese character beyond
    function characters: `的`, `？`, `x`, `。。。！？`. No passage can be matched on such a query, whatever scores
    its search gives. `words`: `content_words(folded_query)` when the caller has them."""
    words = content_words(folded_query) if words is None else words
    if any(not set(w) <= FUNCTION_CHARS for w in words):  # jieba may join function characters (`的了`)
        return False
    return not any(ch not in FUNCTION_CHARS for m in _RUN.finditer(folded_query) if _cjk(m.group()[0])
                   for ch in m.group())


def content_words(folded_query: str) -> list[str]:
    """Words that carry a query's meaning: jieba words of 2+ CJK characters, numbers, and Latin words of 2+
    letters (`gdp`, `lng`).

    Runs that jieba leaves as single characters (`一厅通办`) fall back to their bigrams.
    """
    out: list[str] = []
    for m in _RUN.finditer(folded_query):
        run = m.group()
        if not _cjk(run[0]):
            if run[0].isdigit() or len(run) >= 2:
                out.append(run)
            continue
        words = [w for w in wordfreq.default().segment(run, search=False) if len(w) >= 2]
        if not words and len(run) >= 2:
            words = [run[i:i + 2] for i in range(len(run) - 1)]
        out.extend(words)
    return out
