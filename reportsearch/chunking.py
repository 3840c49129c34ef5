"""Turn parsed segments into clause-level passages of at most ~300 characters, with stable ids."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from .parsing import Document
from .records import Passage

MAX_CHARS = 300  # hard cap for one passage; longer clauses are split on 。； boundaries
BODY_CHARS = 150  # unlabeled paragraphs are packed sentence by sentence up to this size (chosen by eval)


@lru_cache(maxsize=8)
def _splitter(size: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=0, keep_separator="end",
                                          separators=["。", "！", "？", "；", "，", ""], strip_whitespace=True)


def split_text(text: str, size: int) -> list[str]:
    """Split on sentence (then clause) boundaries into pieces of at most `size` characters; nothing is lost."""
    if len(text) <= size:
        return [text]
    return [c for c in _splitter(size).split_text(text) if c]


def passage_id(doc: str, section: tuple[str, ...], text: str, seen: dict[str, int]) -> str:
    """Content-derived id: the same source always yields the same ids."""
    h = hashlib.sha1("\x1f".join((doc, *section, text)).encode("utf-8")).hexdigest()[:10]
    n = seen.get(h, 0)
    seen[h] = n + 1
    return f"{_slug(doc)}-{h}" + (f"-{n}" if n else "")


def _slug(doc: str) -> str:
    s = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]+", "-", doc).strip("-")
    return s[:40] or "doc"


def chunk(document: Document, max_chars: int = MAX_CHARS, body_chars: int = BODY_CHARS) -> list[Passage]:
    """One passage per L4 clause (split if long); unlabeled text packed by sentences up to `body_chars`."""
    out: list[Passage] = []
    seen: dict[str, int] = {}
    for seg in document.segments:
        labeled = len(seg.section) >= 3
        pieces = split_text(seg.text, max_chars if labeled else min(body_chars, max_chars))
        cursor = 0
        for piece in pieces:
            at = seg.text.find(piece, cursor)
            at = cursor if at < 0 else at
            cursor = at + len(piece)
            start = seg.start + at
            out.append(Passage(id=passage_id(document.doc, seg.section, piece, seen), doc=document.doc,
                               section=seg.section, text=piece, start=start, end=start + len(piece)))
    return out
