"""Chinese text helpers: CJK detection, spacing repair, and the matching fold (traditional→simplified, full→half width)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return any(a <= o <= b for a, b in _CJK_RANGES)


def count_cjk(text: str) -> int:
    return sum(1 for ch in text if is_cjk(ch))


# CJK ideographs and CJK punctuation / full-width forms: a space next to these is an extraction artefact.
_CJKISH = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
_SPACE_AFTER_CJK = re.compile(rf"(?<=[{_CJKISH}])[ \t\u00a0\u3000]+(?=\S)")
_SPACE_BEFORE_CJK = re.compile(rf"(?<=\S)[ \t\u00a0\u3000]+(?=[{_CJKISH}])")


def fix_spacing(text: str) -> str:
    """Drop stray spaces next to CJK text (`增长 15.2%` → `增长15.2%`); keep spaces between Latin words."""
    text = _SPACE_AFTER_CJK.sub("", text)
    return _SPACE_BEFORE_CJK.sub("", text)


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        n = ch
    s = _t2s().convert(n)
    n = s if len(s) == 1 else n
    low = n.lower()
    return low if len(low) == 1 else n  # `İ`.lower() is two characters: one for one, always


def fold(text: str) -> str:
    """Matching form of text, one character for one character so spans map back to the original.

    Full-width → half-width (NFKC), traditional → simplified (OpenCC t2s), lower case. Short texts (a query,
    a sentence: one search folds each several times) are remembered.
    """
    return _fold_short(text) if len(text) <= 512 else "".join(_fold_char(ch) for ch in text)


@lru_cache(maxsize=16384)
def _fold_short(text: str) -> str:
    return "".join(_fold_char(ch) for ch in text)


_SENT_END = "。！？!?"
_CLOSERS = "”’」』）)\"'"


def split_sentences(text: str) -> list[str]:
    """Split after 。！？ (keeping a closing quote with its sentence); no characters are lost."""
    out, start, i = [], 0, 0
    n = len(text)
    while i < n:
        if text[i] in _SENT_END:
            j = i + 1
            while j < n and (text[j] in _SENT_END or text[j] in _CLOSERS):
                j += 1
            out.append(text[start:j])
            start = i = j
            continue
        i += 1
    if start < n:
        out.append(text[start:])
    return [s for s in out if s.strip()]
