"""Plain-text and Markdown reports: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from .base import Paragraph, SourceText, read_bytes

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def decode_bytes(data: bytes, name: str = "input") -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK; refuse binary data."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: this looks like a binary file, not a text report")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: cannot decode the text (tried UTF-8 and GB18030); save it as UTF-8")


def text_paragraphs(raw: str) -> list[Paragraph]:
    """Blank lines separate paragraphs; the lines of one paragraph join; `#` and `**` become hints."""
    out: list[Paragraph] = []
    for block in re.split(r"\n\s*\n", raw.replace("\r\n", "\n").replace("\r", "\n")):
        level = 0
        lines = []
        for ln in block.splitlines():
            ln = ln.strip()
            m = re.match(r"^(#{1,6})\s*", ln)
            if m:
                level = level or min(len(m.group(1)), 4)
                ln = ln[m.end():]
            if ln:
                lines.append(ln)
        text = "".join(lines).strip()
        if not text:
            continue
        runs = tuple(r for r in _BOLD.findall(text) if r.strip())
        plain = text.replace("**", "").strip()
        bold = bool(runs) and _BOLD.sub("", text).strip("。：:；; ") == ""
        out.append(Paragraph(text=plain, level=level, bold=bold, bold_runs=runs))
    return out


_FRONT_KEYS = {"title": "title", "标题": "title", "year": "year", "年份": "year", "region": "region", "地区": "region"}


def front_matter(raw: str) -> tuple[dict, str]:
    """A Markdown/YAML front-matter block (`---` … `---`) at the top: its title/year/region, and the rest."""
    m = re.match(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", raw, re.DOTALL)
    if not m:
        return {}, raw
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().strip("'\"")
        if sep and key in _FRONT_KEYS and value:
            meta[_FRONT_KEYS[key]] = value
    return meta, raw[m.end():]


class TextReader:
    kind = "text"
    extensions = (".txt", ".md")

    def read(self, path: Path) -> SourceText:
        meta, raw = front_matter(decode_bytes(read_bytes(path), str(path)))
        return SourceText(paragraphs=text_paragraphs(raw), meta=meta, kind=self.kind)
