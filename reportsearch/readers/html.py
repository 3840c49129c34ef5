"""Web-page reports (lxml): the article only, without navigation, breadcrumbs, search, share bars or footers.

The page is decoded from its declared charset (GB2312/GBK are read as GB18030, their superset) or as UTF-8.
Page chrome is dropped by tag (`nav`, `header`, `footer`, `form`, scripts, styles ...) and by class/id; the article
is the element whose block children hold the most Chinese text outside links (a readability-style score).
`<h1>`-`<h4>` become heading hints and `<strong>`/`<b>` bold hints.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..textnorm import count_cjk
from .base import Paragraph, SourceText, read_bytes

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "form", "input", "button", "select", "textarea",
              "nav", "header", "footer", "aside", "svg", "object", "embed", "head", "menu", "dialog", "canvas")
_CHROME = re.compile(r"(^|[\s_-])(nav|navbar|menu|breadcrumbs?|crumbs?|position|location|weizhi|dqwz|search|sousuo|"
                     r"share|bdshare|fenxiang|footer|foot|bottom|copyright|banquan|header|top|topbar|banner|logo|"
                     r"toolbar|tools|sidebar|side|related|xgwz|links?|pager|pagination|comment|print|close|info|"
                     r"meta|source|fontsize|zihao)($|[\s_-]|\d)", re.IGNORECASE)
_CHROME_LINE = re.compile(r"^(当前位置|您的位置|您当前的位置|分享到|打印本页|关闭窗口|【打印|【关闭|上一篇|下一篇)|"
                          r"ICP备|公网安备|网站标识码|版权所有|主办单位|承办单位|技术支持")
_INFO_WORDS = re.compile(r"(发布时间|发布日期|时间：|来源：|来源:|浏览次数|访问次数|阅读次数|点击数|点击量|作者：|"
                         r"责任编辑|字号|【大|打印|关闭|分享)")
_BLOCK = {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tbody", "thead",
          "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "center", "figure",
          "figcaption", "address", "hr", "body", "html"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}
_GB = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}


def decode_html(data: bytes, name: str = "page") -> str:
    """Decode by BOM, then by the declared charset (GB* as GB18030), then UTF-8, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    m = re.search(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", data[:8192], re.IGNORECASE)
    declared = m.group(1).decode("ascii").lower() if m else ""
    tries = (["gb18030"] if declared in _GB else [declared] if declared else []) + ["utf-8", "gb18030"]
    for enc in dict.fromkeys(tries):
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise InputError(f"{name}: cannot decode the page (declared {declared or 'no charset'}; tried UTF-8, GB18030)")


def _classes(el) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".strip()


def _strip_chrome(root) -> None:
    for el in list(root.iter(*_DROP_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        if _CHROME.search(_classes(el)) and count_cjk(el.text_content()) < 400:
            el.drop_tree()


def _own_text(el) -> str:
    """Text directly inside el, including inline children but not block children."""
    parts = [el.text or ""]
    for ch in el:
        if isinstance(ch.tag, str) and ch.tag not in _BLOCK:
            parts.append(ch.text_content())
        parts.append(ch.tail or "")
    return "".join(parts)


def _best_container(root):
    scores: dict = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag not in _BLOCK or el.tag in ("body", "html"):
            continue
        n = count_cjk(_own_text(el))
        if n < 10:
            continue
        links = sum(count_cjk(a.text_content()) for a in el.iterchildren("a"))
        score = n - 2 * links
        if score <= 0:
            continue
        parent = el.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + score
            grand = parent.getparent()
            if grand is not None:
                scores[grand] = scores.get(grand, 0) + score / 2
    return max(scores, key=lambda e: scores[e]) if scores else None


class _Flow:
    """Walks an element and cuts its text into paragraphs at block tags and <br>, with heading/bold hints."""

    def __init__(self):
        self.out: list[Paragraph] = []
        self.parts: list[tuple[str, bool]] = []
        self.level = 0

    def flush(self):
        text = re.sub(r"\s+", " ", "".join(t for t, _ in self.parts)).strip(" \u3000\xa0")
        if text:
            runs, cur = [], ""
            for t, b in self.parts:
                if b:
                    cur += t
                elif t.strip() and cur:
                    runs.append(cur)
                    cur = ""
            if cur:
                runs.append(cur)
            runs = [re.sub(r"\s+", " ", r).strip(" \u3000\xa0") for r in runs]
            runs = [r for r in runs if r]
            plain_bold = "".join(t for t, b in self.parts if b).strip()
            bold = bool(runs) and re.sub(r"\s+", "", plain_bold) == re.sub(r"\s+", "", text)
            self.out.append(Paragraph(text=text, level=self.level, bold=bold, bold_runs=tuple(runs)))
        self.parts = []
        self.level = 0

    def walk(self, el, bold: bool = False, level: int = 0):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "br":
            self.flush()
            return
        block = tag in _BLOCK
        if block:
            self.flush()
        level = _HEADINGS.get(tag, level)
        style = (el.get("style") or "").replace(" ", "").lower()
        bold = bold or tag in ("strong", "b") or "font-weight:bold" in style or "font-weight:700" in style
        if level:
            self.level = level
        if el.text and tag:
            self.parts.append((el.text, bold))
        for ch in el:
            if isinstance(ch.tag, str):
                self.walk(ch, bold, level)
            if ch.tail:
                if self.parts or ch.tail.strip():
                    if level:
                        self.level = level
                    self.parts.append((ch.tail, bold))
        if block:
            self.flush()


def _is_chrome_line(text: str) -> bool:
    if _CHROME_LINE.search(text) and len(text) < 150:
        return True
    return len(text) < 150 and len(set(_INFO_WORDS.findall(text))) >= 2


def page_title(root) -> str:
    """The article title from `<meta name=ArticleTitle>` or `<title>` without the site name after `_`/`-`/`|`."""
    for m in root.iter("meta"):
        if (m.get("name") or "").lower() in ("articletitle", "title") and (m.get("content") or "").strip():
            return m.get("content").strip()
    t = root.find(".//title")
    if t is None or not (t.text or "").strip():
        return ""
    return re.split(r"\s*[_|｜]\s*|\s+-\s+", t.text.strip())[0].strip()


class HtmlReader:
    kind = "html"
    extensions = (".html", ".htm")

    def read(self, path: Path) -> SourceText:
        import lxml.html
        from lxml.etree import ParserError

        data = read_bytes(path)
        if not data.strip():
            raise InputError(f"{path}: the file is empty")
        text = decode_html(data, str(path))
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
        try:
            root = lxml.html.document_fromstring(text)
        except (ParserError, ValueError) as e:
            raise InputError(f"{path}: cannot parse the page ({e})") from e
        title = page_title(root)
        _strip_chrome(root)
        box = _best_container(root)
        flow = _Flow()
        if box is not None:
            flow.walk(box)
        paras = [p for p in flow.out if not _is_chrome_line(p.text)]
        body = [p for p in paras if re.search(r"[。！？；]", p.text)]
        if box is None or count_cjk("".join(p.text for p in body)) < 40:
            raise InputError(f"{path}: no article text found in this web page")
        return SourceText(paragraphs=paras, meta={"title": title} if title else {}, kind=self.kind)
