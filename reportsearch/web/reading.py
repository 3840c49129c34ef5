"""Reading the report: clickable outline, a section's full text, the passage view, permalinks and the figure table."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import threading
from typing import Iterable, Sequence
from urllib.parse import quote, urlencode

from ..answer import sentence_spans
from ..figures import RELATION_VERBS, find_figures
from ..records import Passage
from ..textnorm import fold
from ..timeref import PLAN, REVIEW, passage_half

SEP = " › "
HALF_LABELS = {REVIEW: "回顾", PLAN: "安排", None: ""}
CSV_COLUMNS = ("数值", "单位", "指标", "回顾/安排", "章节", "原句", "报告", "链接")


# ---------------------------------------------------------------- links
def permalink(pid: str, base: str = "/") -> str:
    """`/?p=<passage id>`: opens the reading view at that passage, highlighted."""
    return f"{base}?{urlencode({'p': pid})}"


def question_link(query: str, mode: str = "hybrid", base: str = "/", k: int | None = None, doc: str | None = None,
                  section: str | None = None) -> str:
    """`/?q=…&mode=…[&k=…][&doc=…][&section=…]`: runs the search when the page loads, its controls set to match
    (the page reads it in `ui.link_controls`); a filter left out is none."""
    params = {"q": query, "mode": mode, "k": k, "doc": doc, "section": section}
    return f"{base}?{urlencode({n: v for n, v in params.items() if v not in (None, '')}, quote_via=quote)}"


def open_link(href: str) -> str:
    """The 原文 link of a result card, a 按年份对比 card and a 数据 row: the passage in its section (the reading
    view, `/?p=<id>`) in a new tab, so that the results or the filtered table stay where they were."""
    return (f'<a class="rs-open" href="{html.escape(href, quote=True)}" target="_blank" rel="noopener" '
            'title="在报告原文中阅读这一段">原文</a>')


def citation_with_link(doc_title: str, p: Passage, base_url: str = "") -> str:
    """The 复制引用 text: `《title》path：text（链接：base_url/?p=id）`."""
    path = SEP.join(p.section) if p.section else "（报告开头）"
    return f"《{p.doc_title or doc_title}》{path}：{p.text}（链接：{base_url.rstrip('/')}{permalink(p.id)}）"


def section_key(doc: str, path: Sequence[str]) -> str:
    """A short stable id for a heading (doc + heading path), safe in HTML ids and URLs."""
    return "s" + hashlib.sha1("\x1f".join([doc, *path]).encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- sections
def reading_section(section: Sequence[str]) -> tuple[str, ...]:
    """The section a passage is read in: its L1 and L2 headings (`二、…` › `（一）…`), or L1 alone."""
    if len(section) >= 2 and section[1].startswith(("（", "(")):
        return tuple(section[:2])
    return tuple(section[:1])


def section_passages(passages: Sequence[Passage], doc: str, path: Sequence[str]) -> list[Passage]:
    """The passages under a heading path, in report order (an empty path: the whole report)."""
    path = tuple(path)
    return [p for p in passages if p.doc == doc and tuple(p.section[:len(path)]) == path]


def section_text(passages: Sequence[Passage], doc: str, path: Sequence[str]) -> str:
    """The section's full text, passages in order, one per line."""
    return "\n".join(p.text for p in section_passages(passages, doc, path))


def _label_count(p: Passage) -> int:
    """How many leading sentences of a passage are its own headings (`优化提升煤炭产业。着力稳产保供。`)."""
    spans, n = sentence_spans(p.text), 0
    while n < len(spans) and p.text[spans[n][0]:spans[n][1]].strip().rstrip("。") in p.section[1:]:
        n += 1
    return n


def passage_html(p: Passage, highlight: bool = False, base: str = "/") -> str:
    """One passage of the reading view: its heading sentences as labels, the rest as text, and a permalink."""
    esc = html.escape
    spans = sentence_spans(p.text)
    n = _label_count(p)
    labels = "".join(f'<span class="rs-label">{esc(p.text[a:b].strip().rstrip("。"))}</span>' for a, b in spans[:n])
    body = esc(p.text[spans[n][0]:] if n < len(spans) else "")
    cls = "rs-passage rs-highlight" if highlight else "rs-passage"
    return (f'<p id="p-{esc(p.id, quote=True)}" class="{cls}" data-id="{esc(p.id, quote=True)}">{labels}{body}'
            f' <a class="rs-permalink" href="{esc(permalink(p.id, base), quote=True)}" title="本段链接">¶</a></p>')


def report_heading(title: str, year: int | None = None) -> str:
    """`《沁水县2024年政府工作报告》`; the year added in brackets when the title does not say it."""
    return f"《{title}》" + (f"（{year}年）" if year and str(year) not in title else "")


def section_html(passages: Sequence[Passage], doc: str, path: Sequence[str], highlight: str | None = None,
                 base: str = "/", title: str = "") -> str:
    """A section's full text in order: sub-headings where they change, clause labels shown as labels, and the
    passage `highlight` (a passage id) marked. Above it the report it is from (`title`, see `report_heading`)
    and the section heading, which stay at the top of the screen while the section is read: a heading such as
    `三、全面加强政府自身建设` is worded alike in every year's report, and a shared link lands mid-section."""
    esc = html.escape
    path = tuple(path)
    out = [f'<div class="rs-reading" data-section="{section_key(doc, path)}" data-doc="{esc(doc, quote=True)}">']
    if path or title:
        out.append('<div class="rs-reading-head">'
                   + (f'<div class="rs-reading-doc">{esc(title)}</div>' if title else "")
                   + (f'<h3 class="rs-reading-title">{esc(SEP.join(path))}</h3>' if path else "") + "</div>")
    shown = None
    for p in section_passages(passages, doc, path):
        # the L2 heading (`（一）…`) when reading a whole L1 section; L3 topics and L4 clause labels are the
        # leading sentences of the passages themselves and show as labels
        sub = p.section[len(path)] if len(p.section) > len(path) and p.section[len(path)].startswith("（") else None
        if sub and sub != shown:
            out.append(f'<h4 class="rs-subhead">{esc(sub)}</h4>')
        shown = sub or shown
        out.append(passage_html(p, highlight=p.id == highlight, base=base))
    out.append("</div>")
    return "".join(out)


def outline_html(doc: str, title: str, outline: Iterable[Sequence[str]], base: str = "/") -> str:
    """The 目录 as a clickable list: every heading links to `/?s=<section key>`, which opens the section's full
    text; it also carries its path (`data-path`, the titles joined by U+001F) for scripts."""
    esc = html.escape
    out = [f'<div class="rs-outline" data-doc="{esc(doc, quote=True)}"><h3>{esc(title)}</h3><ul>']
    for path in outline:
        path = tuple(path)
        key = section_key(doc, path)
        href = esc(f"{base}?{urlencode({'s': key})}", quote=True)
        out.append(f'<li style="margin-left:{18 * (len(path) - 1)}px"><a href="{href}" class="rs-outline-link" '
                   f'data-doc="{esc(doc, quote=True)}" data-section="{key}" '
                   f'data-path="{esc(chr(31).join(path), quote=True)}">{esc(path[-1])}</a></li>')
    out.append("</ul></div>")
    return "".join(out)


def section_by_key(outline: Iterable[Sequence[str]], doc: str, key: str) -> tuple[str, ...] | None:
    """The heading path of a section key from `outline_html`, or None."""
    return next((tuple(p) for p in outline if section_key(doc, p) == key), None)


def passage_view(passages: Sequence[Passage], pid: str, neighbors: Sequence[str] = (),
                 doc_title: str = "") -> dict | None:
    """The `/api/passages/{id}` payload: the passage, its neighbours' ids and its whole section's text;
    None for an unknown id (the edge answers 404)."""
    p = next((x for x in passages if x.id == pid), None)
    if p is None:
        return None
    sec = reading_section(p.section)
    return {"id": p.id, "doc": p.doc, "doc_title": p.doc_title or doc_title or p.doc, "year": p.year,
            "section": list(p.section), "text": p.text, "start": p.start, "end": p.end,
            "neighbors": list(neighbors), "permalink": permalink(p.id),
            "section_path": list(sec), "section_text": section_text(passages, p.doc, sec)}


# ---------------------------------------------------------------- the 数据 tab
def figure_rows(passages: Sequence[Passage]) -> list[dict]:
    """Every figure of the reports: value, unit, measure, review or plan, section path, sentence, permalink."""
    rows = []
    for p in passages:
        half, _ = passage_half(p.section)
        for a, b in sentence_spans(p.text):
            sentence = p.text[a:b].strip()
            for f in find_figures(p.text[a:b]):
                if f.is_year:
                    continue  # `2022年` names a time, it is not a figure
                measure = f.measure + f.verb if f.is_rate and f.verb in RELATION_VERBS else f.measure
                rows.append({"value": f.text[: len(f.text) - len(f.unit)].strip(), "unit": f.unit,
                             "measure": measure, "half": HALF_LABELS[half], "section": SEP.join(p.section),
                             "sentence": sentence, "doc": p.doc_title or p.doc, "id": p.id,
                             "start": a + f.start, "end": a + f.end,
                             "link": permalink(p.id)})
    return rows


def filter_rows(rows: Sequence[dict], text: str, glossary: dict | None = None) -> list[dict]:
    """Rows whose value, unit, measure, half, section or sentence contains every word of `text` (folded), a word
    also found through its `glossary` expansions (GDP -> 地区生产总值), as the search finds it."""
    from ..glossary import expand

    words = fold(text or "").split()
    if not words:
        return list(rows)
    alts = [[w, *(expand(w, glossary) if glossary else [])] for w in words]
    keys = ("value", "unit", "measure", "half", "section", "sentence", "doc")
    return [r for r in rows if all(any(a in fold(str(r[k])) for k in keys for a in ws) for ws in alts)]


def _cell(s: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula."""
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def figures_csv(rows: Sequence[dict], base_url: str = "") -> bytes:
    """The table as CSV, UTF-8 with BOM (so Excel shows the Chinese), one header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r["value"], r["unit"], _cell(r["measure"]), r["half"], _cell(r["section"]), _cell(r["sentence"]),
                    _cell(r["doc"]), base_url.rstrip("/") + r["link"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def figures_table_html(rows: Sequence[dict], limit: int = 2000, several: bool | None = None) -> str:
    """The 数据 table: one row per figure, the sentence and a 原文 link (a new tab, as on the result cards, so the
    filtered table stays); at most `limit` rows. A 报告 column when `several` (the index holds more than one
    report: rows filtered down to one report still say which it is; None: when the rows come from more than
    one). It scrolls sideways on a narrow screen rather than crushing its columns to a character or two."""
    esc = html.escape
    if several is None:
        several = len({r["doc"] for r in rows[:limit]}) > 1
    out = ['<div class="rs-figures-wrap"><table class="rs-figures"><thead><tr>'
           + ("<th>报告</th>" if several else "") + '<th>数值</th><th>单位</th><th>指标</th><th>回顾/安排</th>'
           '<th>章节</th><th>原句</th><th></th></tr></thead><tbody>']
    for r in rows[:limit]:
        out.append(f'<tr data-id="{esc(r["id"], quote=True)}">' + (f'<td>{esc(r["doc"])}</td>' if several else "")
                   + f'<td class="rs-num">{esc(r["value"])}</td>'
                   f'<td>{esc(r["unit"])}</td><td>{esc(r["measure"])}</td><td>{esc(r["half"])}</td>'
                   f'<td>{esc(r["section"])}</td><td>{esc(r["sentence"])}</td>'
                   f'<td>{open_link(r["link"])}</td></tr>')
    out.append("</tbody></table></div>")
    if len(rows) > limit:
        out.append(f'<div class="rs-empty">只显示前 {limit} 条，共 {len(rows)} 条；请用筛选或下载 CSV。</div>')
    if not rows:
        out.append('<div class="rs-empty">没有符合条件的数字。</div>')
    return "".join(out)


def figure_card_html(text: str) -> str:
    """The figure shown large above the answer sentence on a result card."""
    return f'<div class="rs-figure">{html.escape(text)}</div>'


# ---------------------------------------------------------------- for the edges (an engine: passages, row_of, …)
_ROWS: dict = {}
_ROWS_LOCK = threading.Lock()


def engine_figure_rows(engine) -> list[dict]:
    """`figure_rows` of the engine's passages, newest report first as `engine.reports()` lists them (the index
    holds them in the order they were added), each report's rows in its own order; computed once per index
    version (requests on the old and the new version during a live swap each get their own engine's rows)."""
    key = (id(engine.store), getattr(engine.store, "version", 0))
    with _ROWS_LOCK:
        rows = _ROWS.get(key)
        if rows is None:
            order = {r["doc"]: i for i, r in enumerate(engine.reports())}
            rows = figure_rows(sorted(engine.passages, key=lambda p: order.get(p.doc, len(order))))  # stable
            _ROWS.clear()
            _ROWS[key] = rows
    return rows


def engine_passage_view(engine, pid: str) -> dict | None:
    """The `/api/passages/{id}` payload from an engine, or None for an unknown id."""
    i = engine.row_of.get(pid)
    if i is None:
        return None
    return passage_view(engine.passages, pid, engine.neighbors[i])


def engine_outline_html(engine, title_of=lambda doc: doc) -> str:
    """Every report's clickable outline, newest report first."""
    docs = engine.store.documents
    return "".join(outline_html(r["doc"], title_of(r["doc"]), docs.get(r["doc"], {}).get("outline", []))
                   for r in engine.reports()) or '<div class="rs-empty">索引中还没有报告。</div>'


def engine_report_heading(engine, doc: str) -> str:
    """`report_heading` of one of the engine's reports (its doc id when the index has no title for it)."""
    r = next((r for r in engine.reports() if r["doc"] == doc), None)
    return report_heading(r["doc_title"] or doc, r["year"]) if r else report_heading(doc)


def engine_reading_html(engine, params) -> str:
    """The reading view a page link asks for: `?p=<passage id>` (its section, the passage highlighted) or
    `?s=<section key>` (a heading of the outline), headed by the report's title; "" when the link asks for
    neither."""
    pid, key = params.get("p"), params.get("s")
    if pid:
        p = engine.passage(pid)
        if p is None:
            return '<div class="rs-notice">没有找到这段原文，链接可能来自旧版本的索引。</div>'
        return section_html(engine.passages, p.doc, reading_section(p.section), highlight=pid,
                            title=engine_report_heading(engine, p.doc))
    if key:
        for doc, info in engine.store.documents.items():
            path = section_by_key(info.get("outline", []), doc, key)
            if path is not None:
                return section_html(engine.passages, doc, path, title=engine_report_heading(engine, doc))
        return '<div class="rs-notice">没有找到这个章节。</div>'
    return ""


def figures_tab_html(engine, text: str = "") -> str:
    """The 数据 tab body: the CSV link (with the filter) and the table of matching figures, with a 报告 column
    whenever the index holds several reports."""
    rows = filter_rows(engine_figure_rows(engine), text, engine.glossary)
    href = "/api/figures.csv" + (f"?{urlencode({'q': text}, quote_via=quote)}" if text else "")
    return (f'<div class="rs-head"><a class="rs-csv" href="{html.escape(href, quote=True)}" download="figures.csv">'
            f'下载 CSV（{len(rows)} 条）</a></div>' + figures_table_html(rows, several=len(engine.reports()) > 1))
