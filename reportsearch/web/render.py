"""Plain-text and HTML renderings of a SearchResponse; every piece of report text and user input is escaped."""

from __future__ import annotations

import html
from typing import Callable, Sequence

from ..records import Hit, Passage, SearchResponse

SEP = " › "


def breadcrumb(section: Sequence[str]) -> str:
    return SEP.join(section) if section else "（报告开头）"


def citation(doc_title: str, hit_or_passage: Hit | Passage) -> str:
    """`《沁水县2023年政府工作报告》二、… › …：text`; the passage's own report title wins when it has one."""
    p = hit_or_passage.passage if isinstance(hit_or_passage, Hit) else hit_or_passage
    return f"《{p.doc_title or doc_title}》{breadcrumb(p.section)}：{p.text}"


def relevance_label(hit: Hit, response: SearchResponse) -> str:
    """A cue a citizen can read; it is about rank and confidence, not a probability."""
    if response.low_confidence:
        return "相关度低"
    return "最相关" if hit.rank == 1 else ("较相关" if hit.rank <= 3 else "可能相关")


def mark_text(text: str, highlights: Sequence[Sequence[int]], answer: tuple[int, int] | None,
              open_mark: str = "<mark>", close_mark: str = "</mark>", escape: Callable[[str], str] = html.escape,
              open_ans: str = '<strong class="answer">', close_ans: str = "</strong>") -> str:
    """Wrap highlight spans and the answer span; all text between tags goes through `escape`.

    Marks that cross an answer boundary are split, so tags always nest properly.
    """
    cuts = (answer[0], answer[1]) if answer else ()
    marks: list[tuple[int, int]] = []
    for a, b in highlights:
        points = [a, *[c for c in cuts if a < c < b], b]
        marks += [(x, y) for x, y in zip(points, points[1:]) if x < y]
    # at one position: close marks, close the answer, open the answer, open marks
    events = [(b, 0, close_mark) for _, b in marks] + [(a, 3, open_mark) for a, _ in marks]
    if answer and answer[0] < answer[1]:  # an empty answer span gets no tags
        events += [(answer[0], 2, open_ans), (answer[1], 1, close_ans)]
    events.sort(key=lambda e: (e[0], e[1]))
    out, pos = [], 0
    for at, _, tag in events:
        out.append(escape(text[pos:at]))
        out.append(tag)
        pos = at
    out.append(escape(text[pos:]))
    return "".join(out)


def answer_line(hit: Hit, open_mark: str = "【", close_mark: str = "】") -> str:
    """The answer sentence with its figure (if any) marked: `实施网络信号补盲工程，新增5G基站【65座】。`"""
    ans = hit.answer
    if ans is None:
        return hit.passage.text
    fig = ans.figure
    if fig is None or not ans.start <= fig.start < fig.end <= ans.end:
        return ans.text
    a, b = fig.start - ans.start, fig.end - ans.start
    return f"{ans.text[:a]}{open_mark}{ans.text[a:b]}{close_mark}{ans.text[b:]}"


def report_title(p: Passage) -> str:
    """`《沁水县2023年政府工作报告》`: the passage's report as people name it (its doc id in an older index)."""
    return f"《{p.doc_title or p.doc}》"


ALSO_IN = "原文相同的段落也见于"


def also_in_line(hit: Hit) -> str:
    """`原文相同的段落也见于《…2023年…》《…2022年…》`: the other reports holding this passage word for word."""
    return ALSO_IN + "".join(report_title(o) for o in hit.also_in)


def missing_line(hit: Hit) -> str:
    """`不含「13710」`: what the query asks for word for word (a number, a quoted phrase, a one-term query) that
    neither this passage nor its headings hold (a result found by its meaning or by part of the words); "" when
    it holds them all."""
    return "不含" + "".join(f"「{t}」" for t in hit.missing) if hit.missing else ""


def missing_html(hit: Hit) -> str:
    """`missing_line` as a card's tag, beside its relevance cue; "" when the passage holds every exact term."""
    if not hit.missing:
        return ""
    terms = "、".join(f"「{t}」" for t in hit.missing)
    return (f'<span class="rs-missing" title="{html.escape(f"这段原文中没有{terms}", quote=True)}">'
            f'{html.escape(missing_line(hit))}</span>')


def also_in_html(hit: Hit, link: Callable[[str], str]) -> str:
    """`also_in_line` for a result card: each report title links to that report's copy (`link(passage id)`, the
    permalink), opened in a new tab as the card's 原文 link is; "" when no other report holds the text."""
    if not hit.also_in:
        return ""
    esc = html.escape
    links = "".join(f'<a class="rs-also-link" href="{esc(link(o.id), quote=True)}" target="_blank" rel="noopener" '
                    f'data-id="{esc(o.id, quote=True)}">{esc(report_title(o))}</a>' for o in hit.also_in)
    return f'<div class="rs-also">{ALSO_IN}{links}</div>'


def to_text(response: SearchResponse, color: bool = False, filtered: bool = False) -> str:
    """The CLI's human-readable form; `filtered`: the search was limited to a report, year or section.

    The report is named once in the first line when every hit comes from one, else at the head of each hit."""
    single = len({h.passage.doc for h in response.results}) == 1
    source = f"，均出自{report_title(response.results[0].passage)}" if single else ""
    lines = [f"问：{response.query}    （模式：{response.mode}，{len(response.results)} 条结果{source}）"]
    for n in response.notices:
        lines.append(f"注意：{n}")
    if not response.results:  # (no result is also low confidence: "results below are for reference" would not fit)
        lines.append("没有找到相关段落" + ("（只在所选的报告、年份或章节中找过，可放宽筛选条件）。" if filtered else "。"))
    elif response.low_confidence:
        lines.append("提示：报告中可能没有直接回答这个问题的内容，以下结果仅供参考。")
    bold, end = ("\x1b[1m", "\x1b[0m") if color else ("【", "】")
    for h in response.results:
        p = h.passage
        lines.append("")
        lines.append(f"{h.rank}. [{h.score:.3f}] {'' if single else report_title(p)}{breadcrumb(p.section)}  ({p.id})")
        if h.missing:
            lines.append(f"   （{missing_line(h)}）")
        lines.append(f"   答：{answer_line(h, bold, end)}")
        lines.append("   " + mark_text(p.text, h.highlights, None, bold, end, escape=lambda s: s))
        if h.also_in:
            lines.append(f"   {also_in_line(h)}")
    return "\n".join(lines)
