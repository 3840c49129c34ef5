"""Word (.docx) reports via python-docx: body paragraphs and tables in order, heading styles, numbering, bold."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import InputError
from .base import Paragraph, SourceText, read_bytes

_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (enough for list numbering)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _heading_level(style_name: str) -> int:
    """`Heading 2` / `标题 2` → 2; `Title` → 0 (a title is front matter, not a section)."""
    m = re.match(r"^(?:heading|标题)\s*(\d)$", (style_name or "").strip(), re.IGNORECASE)
    return min(int(m.group(1)), 4) if m else 0


class _Numbering:
    """Word's automatic list numbers (`一、`, `（一）`, `1.`), which are not in the paragraph text itself."""

    def __init__(self, document):
        self.formats: dict[tuple[str, int], tuple[str, str]] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.style_num: dict = {}  # style id -> the style's numbering (python-docx resolves styles slowly)
        try:
            part = document.part.numbering_part
        except (NotImplementedError, KeyError, AttributeError):
            return
        ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
        root = part.element
        abstract = {}
        for a in root.findall("w:abstractNum", ns):
            levels = {}
            for lvl in a.findall("w:lvl", ns):
                fmt = lvl.find("w:numFmt", ns)
                txt = lvl.find("w:lvlText", ns)
                q = "{%s}val" % ns["w"]
                levels[int(lvl.get(f"{{{ns['w']}}}ilvl"))] = (fmt.get(q) if fmt is not None else "decimal",
                                                               txt.get(q) if txt is not None else "%1.")
            abstract[a.get(f"{{{ns['w']}}}abstractNumId")] = levels
        for num in root.findall("w:num", ns):
            ref = num.find("w:abstractNumId", ns)
            levels = abstract.get(ref.get(f"{{{ns['w']}}}val") if ref is not None else None, {})
            for ilvl, f in levels.items():
                self.formats[(num.get(f"{{{ns['w']}}}numId"), ilvl)] = f

    def _num_pr(self, paragraph):
        """The paragraph's own numbering, else its style's (`List Number`), following `basedOn`."""
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        key = paragraph._p.style
        if key not in self.style_num:
            self.style_num[key] = self._style_num_pr(paragraph.style)
        return self.style_num[key]

    @staticmethod
    def _style_num_pr(style):
        for _ in range(10):
            if style is None:
                return None
            sppr = style.element.pPr
            if sppr is not None and sppr.numPr is not None:
                return sppr.numPr
            style = style.base_style
        return None

    def label(self, paragraph) -> tuple[str, int]:
        """The number Word would draw before this paragraph, and its list level + 1 (0 when unnumbered)."""
        num = self._num_pr(paragraph)
        if num is None or num.numId is None or str(num.numId.val) == "0":
            return "", 0
        num_id = str(num.numId.val)
        ilvl = int(num.ilvl.val) if num.ilvl is not None else 0
        fmt, text = self.formats.get((num_id, ilvl), ("decimal", "%1."))
        if fmt in ("bullet", "none"):
            return "", ilvl + 1
        key = (num_id, ilvl)
        self.counters[key] = self.counters.get(key, 0) + 1
        for (nid, lv) in list(self.counters):
            if nid == num_id and lv > ilvl:
                del self.counters[(nid, lv)]
        n = self.counters[key]
        digit = chinese_number(n) if "chinese" in fmt.lower() or "ideograph" in fmt.lower() else str(n)
        return re.sub(r"%\d", digit, text, count=1), ilvl + 1


def _style_of(paragraph, cache: dict) -> tuple[str, bool]:
    """(style name, style is bold), looked up once per style id: python-docx resolves styles slowly."""
    key = paragraph._p.style
    if key not in cache:
        st = paragraph.style
        cache[key] = (st.name if st is not None else "", bool(st is not None and st.font is not None and st.font.bold))
    return cache[key]


def _runs_bold(paragraph, style_bold: bool) -> tuple[bool, tuple[str, ...]]:
    runs, cur, all_bold, any_text = [], "", True, False
    for r in paragraph.runs:
        if not r.text:
            continue
        b = r.bold if r.bold is not None else style_bold
        if r.text.strip():
            any_text = True
            all_bold = all_bold and bool(b)
        if b:
            cur += r.text
        elif cur:
            runs.append(cur.strip())
            cur = ""
    if cur:
        runs.append(cur.strip())
    return any_text and all_bold, tuple(r for r in runs if r)


class DocxReader:
    kind = "docx"
    extensions = (".docx",)

    def read(self, path: Path) -> SourceText:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph as DocxParagraph

        data = read_bytes(path)
        if not data.strip():
            raise InputError(f"{path}: the file is empty")
        try:
            document = docx.Document(str(path))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
            raise InputError(f"{path}: damaged or not a Word .docx file ({e.__class__.__name__})") from e
        numbering = _Numbering(document)
        styles: dict = {}
        out: list[Paragraph] = []
        for block in document.iter_inner_content():
            if isinstance(block, DocxParagraph):
                text = block.text.strip()
                if not text:
                    continue
                style_name, style_bold = _style_of(block, styles)
                level = _heading_level(style_name)
                label, list_level = numbering.label(block)
                if label and not text.startswith(label):
                    text = label + text
                    level = level or min(list_level, 4)
                bold, runs = _runs_bold(block, style_bold)
                out.append(Paragraph(text=text, level=level, bold=bold, bold_runs=runs))
            elif isinstance(block, Table):
                for row in block.rows:
                    cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells repeat
                    line = "　".join(c for c in cells if c)
                    if line:
                        out.append(Paragraph(text=line))
        if not out:
            raise InputError(f"{path}: the Word file has no text")
        title = (document.core_properties.title or "").strip()
        return SourceText(paragraphs=out, meta={"title": title} if title else {}, kind=self.kind)
