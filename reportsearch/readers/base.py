"""The reader interface: one report file in, clean paragraphs with light style hints and format metadata out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import InputError


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of report text, as the format presents it.

    `level` is a heading hint from the format (Word heading style, `<h1>`-`<h4>`, Markdown `#`): 1-4, or 0.
    `bold` is True when the whole paragraph is bold; `bold_runs` are the bold stretches inside it.
    Readers never decide structure: headings by shape, clauses and page-break repair stay in parsing.
    """

    text: str
    level: int = 0
    bold: bool = False
    bold_runs: tuple[str, ...] = ()


@dataclass
class SourceText:
    """What a reader returns: paragraphs in reading order and whatever metadata the format itself carries."""

    paragraphs: list[Paragraph]
    meta: dict = field(default_factory=dict)  # the format's own: HTML/PDF/Word title, Markdown front matter
    kind: str = "text"


class Reader(Protocol):
    """A reader for one family of file extensions."""

    kind: str
    extensions: tuple[str, ...]

    def read(self, path: Path) -> SourceText: ...


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, or one InputError line naming it."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a file")
    try:
        return p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror})") from e
