"""PDF reports: the text layer in reading order (pypdfium2), without running headers, footers or page numbers.

Lines come from PDFium's text page with their boxes. Lines repeated at the top or bottom of most pages and
page-number lines (`— 3 —`, `- 3 -`, `第3页`, `3/30`, a bare number) are dropped. Lines are joined into
paragraphs by shape: a paragraph ends at a short line, and a new one starts at an indented line; a line that
fills the width and does not end a sentence always continues, also across a page break. After a full line that ends
a sentence, an unindented line starts a new paragraph only where that paragraph is a numbered heading by parsing's
own patterns (`（八）聚焦民生改善…`, `二、…`), so a body line that merely starts with such a token stays joined.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .base import Paragraph, SourceText, read_bytes

PAGE_NUMBER = re.compile(r"^(?:[—\-–－~]*\s*\d{1,4}\s*[—\-–－~]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
                         r"|\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$", re.IGNORECASE)
_ENDS = "。！？!?：:；;…”’）)"
_SENTENCE_ENDS = "。！？!?；;：:…"
_CLOSERS = "”’」』\"'"
_EDGE_LINES = 2  # how many lines at the top and at the bottom of a page may be running furniture


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    page: int


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _page_lines(textpage, page_no: int) -> list[_Line]:
    """The page's lines with their boxes: the text in one call, boxes only for each line's first and last glyph."""
    import pypdfium2.raw as c

    n = textpage.count_chars()
    text = textpage.get_text_range(0, n) if n else ""
    if len(text) != n:  # characters outside the BMP shift the indices: fall back to one call per character
        text = "".join(chr(c.FPDFText_GetUnicode(textpage, i) or 0xFFFE) for i in range(n))
    lines: list[_Line] = []
    start = 0
    for stop in [m.start() for m in re.finditer("\n", text)] + [n]:
        keep = []
        for i in range(start, stop):
            ch = text[i]
            if ch in "\r\x02\ufffe\x00":
                continue
            if ch == " " and c.FPDFText_IsGenerated(textpage, i) == 1:
                # PDFium's guessed word gaps: keep them only between Latin letters or digits
                nxt = text[i + 1] if i + 1 < stop else " "
                if not (keep and _ascii_alnum(text[keep[-1]]) and _ascii_alnum(nxt)):
                    continue
            keep.append(i)
        glyphs = [i for i in keep if not text[i].isspace()]
        if glyphs:
            first, last = textpage.get_charbox(glyphs[0]), textpage.get_charbox(glyphs[-1])
            lines.append(_Line("".join(text[i] for i in keep).strip(), first[0], last[2],
                               max(first[3], last[3]), page_no))
        start = stop + 1
    return _merge_rows(lines)


def _merge_rows(pieces: list[_Line]) -> list[_Line]:
    """Top to bottom (running headers are often drawn last); pieces on one baseline (PDFium breaks a line where
    the font changes, e.g. at a bold run) become one line, left to right."""
    pieces = sorted(pieces, key=lambda ln: -ln.top)
    rows: list[list[_Line]] = []
    for ln in pieces:
        if rows and abs(rows[-1][0].top - ln.top) < 4.0:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.x0)
        text = row[0].text
        for a, b in zip(row, row[1:]):
            text += (" " if _ascii_alnum(a.text[-1]) and _ascii_alnum(b.text[0]) else "") + b.text
        out.append(_Line(text, row[0].x0, max(ln.x1 for ln in row), max(ln.top for ln in row), row[0].page))
    return out


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def remove_furniture(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop page numbers and lines repeated at the top or bottom of most pages."""
    edge = Counter()
    for lines in pages:
        keys = {_furniture_key(ln.text) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]}
        edge.update(keys)
    need = max(2, (len(pages) + 1) // 2)
    repeated = {k for k, n in edge.items() if n >= need} if len(pages) >= 2 else set()
    out = []
    for lines in pages:
        drop = set()
        for idx in list(range(min(_EDGE_LINES, len(lines)))) + list(range(max(0, len(lines) - _EDGE_LINES),
                                                                             len(lines))):
            t = re.sub(r"\s+", "", lines[idx].text)
            if PAGE_NUMBER.match(t) or _furniture_key(t) in repeated:
                drop.add(idx)
        out.append([ln for k, ln in enumerate(lines) if k not in drop])
    return out


def _ends_sentence(text: str) -> bool:
    """`…2家以上。`, `…工作：`, `…全面提速；`, also before a closing quote (`…”。` and `…。”`)."""
    t = text.rstrip(_CLOSERS)
    return bool(t) and t[-1] in _SENTENCE_ENDS


def join_lines(pages: list[list[_Line]]) -> list[str]:
    """Lines into paragraphs by their shape (indent, short last line), across page breaks."""
    from ..parsing import _HEADING_MAX, heading_style  # parsing imports the readers: import it when lines are joined

    lines = [ln for page in pages for ln in page]
    if not lines:
        return []
    left = statistics.median_low(sorted(ln.x0 for ln in lines)[: max(1, len(lines) // 2)])
    right = statistics.median_high(sorted(ln.x1 for ln in lines)[len(lines) // 2:])
    widths = [(ln.x1 - ln.x0) / len(ln.text) for ln in lines if len(ln.text) >= 8]
    em = statistics.median(widths) if widths else 12.0

    def indented(ln: _Line) -> bool:
        return ln.x0 > left + 0.8 * em

    def continues(prev: _Line, ln: _Line) -> bool:
        prev_full = prev.x1 >= right - 1.5 * em and prev.x0 <= left + 2.5 * em
        return prev_full and (not indented(ln) or not prev.text.endswith(tuple(_ENDS)))

    def heading_ends(text: str, ln: _Line) -> bool:
        """A numbered heading is complete before line ln: the text so far is one and ln is indented, i.e. starts
        the heading's body (a heading's last line may nearly fill the column and so count as full)."""
        return indented(ln) and heading_style(text) is not None

    def opens_heading(k: int) -> bool:
        """The paragraph line k would start, by the same shape rules, is a numbered heading. A heading may wrap onto
        any number of lines (a narrow column): lines are joined while they continue and the text could still be one
        (at most parsing's heading length), so a longer body paragraph is never judged by its first lines alone;
        the joining stops where the text so far is a heading and the next line starts a paragraph."""
        text, j = lines[k].text, k
        while j + 1 < len(lines) and len(text) <= _HEADING_MAX and continues(lines[j], lines[j + 1]) \
                and not heading_ends(text, lines[j + 1]):
            j += 1
            text += lines[j].text
        return heading_style(text) is not None

    paras: list[str] = []
    for k, ln in enumerate(lines):
        prev = lines[k - 1] if k else None
        if prev is not None and continues(prev, ln) and not (_ends_sentence(prev.text) and opens_heading(k)) \
                and not heading_ends(paras[-1], ln):
            paras[-1] += ln.text
        else:
            paras.append(ln.text)
    return paras


def _pdfium_reason(e: Exception) -> str:
    """`data format error` from pypdfium2's `Failed to load document (PDFium: Data format error).`"""
    m = re.search(r"\(PDFium: ([^)]*)\)", str(e))
    reason = (m.group(1) if m else str(e)).strip().rstrip(".")
    return reason[:1].lower() + reason[1:] if reason else "cannot open"


class PdfReader:
    kind = "pdf"
    extensions = (".pdf",)

    def read(self, path: Path) -> SourceText:
        import pypdfium2 as pdfium

        data = read_bytes(path)
        if not data.strip():
            raise InputError(f"{path}: the file is empty")
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            msg = str(e).lower()
            if "password" in msg:
                raise InputError(f"{path}: the PDF is password-protected; save an unprotected copy") from e
            raise InputError(f"{path}: damaged or not a PDF ({_pdfium_reason(e)})") from e
        try:
            pages = []
            for k in range(len(pdf)):
                page = pdf[k]
                tp = page.get_textpage()
                pages.append(_page_lines(tp, k))
                tp.close()
                page.close()
            meta = pdf.get_metadata_dict(skip_empty=True)
        except pdfium.PdfiumError as e:
            raise InputError(f"{path}: damaged PDF ({_pdfium_reason(e)})") from e
        finally:
            pdf.close()
        # a scan has no text layer, or only a stamp or page numbers added by the scanner
        if sum(len(ln.text) for lines in pages for ln in lines) < 20 * max(1, len(pages)):
            raise InputError(f"{path}: no text layer; scanned PDFs need OCR first")
        paras = join_lines(remove_furniture(pages))
        out_meta = {"title": meta["Title"].strip()} if meta.get("Title", "").strip() else {}
        return SourceText(paragraphs=[Paragraph(text=p) for p in paras], meta=out_meta, kind=self.kind)
