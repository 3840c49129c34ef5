"""The Gradio page: a Chinese search box, result cards citing the report, context expansion and an outline tab."""

from __future__ import annotations

import html

import gradio as gr

from ..engine import MAX_QUERY_CHARS, MAX_TOP_K, SearchEngine
from ..errors import BusyError, EmptyQueryError, RateLimitedError, ReportSearchError, UnknownFilterError
from .reading import (citation_with_link, engine_outline_html, engine_reading_html, figure_card_html,
                      figures_tab_html, open_link, permalink, question_link)
from ..records import Passage, SearchResponse
from .render import also_in_html, breadcrumb, mark_text, missing_html, relevance_label

MODE_LABELS = {"智能（推荐）": "hybrid", "语义": "semantic", "关键词": "keyword"}
ALL_SECTIONS = "全部章节"
ALL_REPORTS = "全部报告"
DEFAULT_MODE_LABEL, DEFAULT_K = "智能（推荐）", 5
PAGE_MAX_K = min(20, MAX_TOP_K)  # the 结果条数 slider's top
EXAMPLES = ["教育方面有哪些安排", "今年要新建多少个5G基站", "停车难怎么解决", "看病就医方面有什么新举措",
            "13710", "乙类乙管"]
UI_CONCURRENCY = 2
# after a search, bring the results into view when they start low on the screen or below it: on a phone the form
# and the example questions fill the whole first screen, and on a wide screen a permalink's reading view sits
# above the form, so the answers arrived below the fold and the button seemed to do nothing. On a phone that is
# below half the screen; on a wide screen, below the fold or with less than 120 px of them on screen (not even
# a card's first lines). The results of a search from the top of the page start at ~503 px: in view on a
# 1366×657 laptop, where the page is left where it is (a rule of 70% of the height scrolled it).
SHOW_RESULTS_JS = """(...args) => {
  const el = document.getElementById('%s');
  const low = window.innerWidth < 700 ? window.innerHeight * 0.5 : window.innerHeight - 120;
  if (el && el.getBoundingClientRect().top > low) {
    el.scrollIntoView({block: 'start'});
  }
  return args;
}"""

CSS = """
/* Gradio colours every element of an HTML block `var(--body-text-color)` (`.prose *`), light in dark mode: a box
   with a ground of its own sets that variable for what it holds, or its text is near-white on white */
.rs-card{border:1px solid #d9dee7;border-radius:8px;padding:12px 14px;margin:10px 0;background:#fff;color:#1f2937;
         --body-text-color:#1f2937}
.rs-crumb{font-size:13px;color:#8a1c1c;margin-bottom:6px;word-break:break-all}
.rs-head{display:flex;gap:8px;align-items:center;flex-wrap:wrap;font-size:13px;color:#555;margin-bottom:6px}
.rs-rank{background:#b91c1c;color:#fff;border-radius:10px;padding:0 8px}
.rs-cue{border:1px solid #ccc;border-radius:10px;padding:0 8px}
.rs-missing{border:1px dashed #9ca3af;border-radius:10px;padding:0 8px;color:#4b5563}
.rs-text{line-height:1.8;font-size:15px}
.rs-text mark{background:#fde68a;color:inherit;padding:0 1px}
.rs-text strong.answer{background:#fee2e2;font-weight:600}
.rs-ctx{margin-top:8px;font-size:14px}
.rs-ctx p{color:#4b5563;border-left:3px solid #e5e7eb;padding-left:8px}
.rs-btn{margin-top:8px;font-size:13px;border:1px solid #b91c1c;color:#b91c1c;background:#fff;border-radius:6px;
        padding:2px 10px;cursor:pointer}
.rs-actions{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin-top:8px}
.rs-actions .rs-btn{margin-top:0}
.rs-open{font-size:13px;color:#b91c1c;white-space:nowrap}
.rs-also{margin-top:6px;font-size:13px;color:#6b7280}
.rs-also a{color:#6b7280}
/* the report and section a reading view shows stay at the top of the screen while it is read: Gradio's container
   clips with overflow:hidden, which makes it the sticky header's scroll box; clip clips alike without being one */
.gradio-container{overflow:clip !important}
.rs-reading-head{position:sticky;top:0;z-index:1;background:var(--body-background-fill);color:var(--body-text-color);
                 padding:4px 0 2px;border-bottom:1px solid var(--border-color-primary)}
.rs-reading-doc{font-size:14px;font-weight:700;color:#b91c1c}
.rs-reading-head .rs-reading-title{margin:2px 0}
.rs-notice{padding:10px 12px;border-radius:8px;background:#fff7ed;border:1px solid #fdba74;color:#7c2d12;margin:8px 0;
           --body-text-color:#7c2d12}
.rs-empty{padding:10px 12px;color:#555}
.rs-compare{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:10px}
.rs-compare .rs-card{margin:0;min-width:0}
.rs-figure{font-size:30px;font-weight:700;color:#b91c1c;line-height:1.2;margin:2px 0 6px}
.rs-reading{line-height:1.8;font-size:15px;color:var(--body-text-color)}
.rs-label{font-weight:700;color:#8a1c1c;margin-right:6px}
.rs-passage{margin:6px 0;padding:2px 6px}
.rs-highlight{background:#fef3c7;border-left:4px solid #b91c1c}
.rs-permalink{color:#9ca3af;text-decoration:none;font-size:12px}
.rs-figures-wrap{overflow-x:auto;max-width:100%}
.rs-figures{border-collapse:collapse;font-size:13px;width:100%;min-width:720px}
.rs-figures td,.rs-figures th{border:1px solid #e5e7eb;padding:3px 6px;vertical-align:top}
.rs-figures td.rs-num{font-weight:700;white-space:nowrap}
/* dark mode: Gradio follows the system's colour scheme (`body.dark`) and its text turns light. What lies on the
   page's own background takes colours that read on a dark one (the header above takes the page's); the cards
   keep their white ground and dark text. One selector a rule: Gradio scopes only the first of a list */
.dark .rs-highlight{background:#422006}
.dark .rs-reading-doc{color:#f87171}
.dark .rs-figures .rs-open{color:#f87171}
.dark .rs-label{color:#fca5a5}
.dark :not(.rs-card)>.rs-empty{color:#a1a1aa}
@media (max-width:600px){.rs-text{font-size:14px}.rs-card{padding:10px}.rs-reading-head .rs-reading-title{font-size:15px}}
"""

# 复制引用 copies its citation (`data-cite`), 复制链接 the search's own link (`data-link`); either link made absolute
COPY_JS = """
element.addEventListener('click', function (ev) {
  const btn = ev.target.closest('.rs-btn');
  if (!btn) return;
  const link = btn.getAttribute('data-link');
  const text = link !== null ? location.origin + link
    : (btn.getAttribute('data-cite') || '').replace('（链接：/', '（链接：' + location.origin + '/');
  const label = btn.dataset.label || (btn.dataset.label = btn.textContent);
  const done = function () { btn.textContent = '已复制'; setTimeout(function () { btn.textContent = label; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, done); return; }
  const ta = document.createElement('textarea'); ta.value = text; document.body.appendChild(ta); ta.select();
  try { document.execCommand('copy'); } catch (e) {} document.body.removeChild(ta); done();
});
"""


def doc_title(engine: SearchEngine, doc: str) -> str:
    meta = engine.store.documents.get(doc, {}).get("meta", {})
    if meta.get("doc_title"):  # `沁水县2023年政府工作报告`, made at ingest (parsing.report_meta)
        return meta["doc_title"]
    title = meta.get("title") or doc
    return f"{meta['date'][:4]}年{title}" if meta.get("date") and not title.startswith(meta["date"][:4]) else title


def card_actions(engine: SearchEngine, p: Passage) -> str:
    """The foot of a result card and of a 按年份对比 card: 复制引用 (the citation with its permalink) and a 原文
    link that opens the passage in its section (the reading view, `/?p=<id>`) in a new tab, so the results stay."""
    esc = html.escape
    cite = esc(citation_with_link(doc_title(engine, p.doc), p), quote=True)
    return (f'<div class="rs-actions"><button class="rs-btn" data-cite="{cite}">复制引用</button>'
            f'{open_link(permalink(p.id))}</div>')


def notices_html(notices) -> str:
    """Notices in Chinese (the engine's, a shared link's), each in its box, escaped."""
    return "".join(f'<div class="rs-notice">{html.escape(n)}</div>' for n in notices)


def render_results(engine: SearchEngine, r: SearchResponse, link: str | None = None) -> str:
    """The result cards; above them, with `link` (the search's `/?q=…` link, `question_link`), 复制链接."""
    esc = html.escape
    parts = [notices_html(r.notices)]
    if not r.results:
        return "".join(parts) + '<div class="rs-empty">没有找到相关内容。请换一种说法，或改用“关键词”模式。</div>'
    if link:
        parts.append(f'<div class="rs-actions rs-share"><button class="rs-btn" data-link="{esc(link, quote=True)}" '
                     'title="复制这次检索的链接（含检索方式、条数和限定条件），发给别人打开即是同样的结果">复制链接</button></div>')
    if r.low_confidence:
        parts.append('<div class="rs-notice">报告中可能没有直接回答这个问题的内容，以下段落仅供参考。</div>')
    for h in r.results:
        p = h.passage
        ans = (h.answer.start, h.answer.end) if h.answer and h.answer.end - h.answer.start < len(p.text) else None
        body = mark_text(p.text, h.highlights, ans)
        ctx = "".join(f"<p>{esc(n.text)}</p>" for n in (engine.passage(i) for i in h.neighbors) if n)
        ctx_html = (f'<details class="rs-ctx"><summary>展开上下文</summary>{ctx}</details>' if ctx else
                    '<div class="rs-ctx" style="color:#888">（本条款没有相邻段落）</div>')
        fig = figure_card_html(h.answer.figure.text) if h.answer and h.answer.figure else ""
        parts.append(
            f'<div class="rs-card" data-id="{esc(p.id, quote=True)}">'
            f'<div class="rs-head"><span class="rs-rank">第{h.rank}条</span>'
            f'<span class="rs-cue">{relevance_label(h, r)}</span>{missing_html(h)}'
            f'<span>{esc(doc_title(engine, p.doc))}</span></div>'
            f'<div class="rs-crumb">{esc(breadcrumb(p.section))}</div>'
            f'{fig}<div class="rs-text">{body}</div>{also_in_html(h, permalink)}{ctx_html}'
            f'{card_actions(engine, p)}</div>')
    return "".join(parts)


def render_outline(engine: SearchEngine) -> str:
    """Clickable: a heading opens its section's full text in the reading view (`/?s=<key>`)."""
    return engine_outline_html(engine, lambda doc: doc_title(engine, doc))


def error_notice(e: ReportSearchError) -> str:
    """The page's one-line notice for an error: the limits, an empty box and a report that is gone in plain Chinese
    (the last with the package's own words below it, as the API gives them), anything else as the package says it."""
    if isinstance(e, RateLimitedError):
        return f'<div class="rs-notice">检索过于频繁，请{e.retry_after}秒后再试。</div>'
    if isinstance(e, BusyError):
        return f'<div class="rs-notice">检索人数较多，请{e.retry_after}秒后再试。</div>'
    if isinstance(e, EmptyQueryError):
        return '<div class="rs-notice">请先输入问题或关键词，例如“教育方面有哪些安排”。</div>'
    if isinstance(e, UnknownFilterError):  # a report removed while the page was open
        return ('<div class="rs-notice">所选报告已不在索引中（可能刚被移除），请刷新页面后再选。'
                f'<br><small>{html.escape(str(e))}</small></div>')
    return f'<div class="rs-notice">{html.escape(str(e))}</div>'


def section_choices(engine: SearchEngine, report: str | None, current: str | None) -> dict:
    """限定章节 for the report chosen in 限定报告: its own headings (it offered every report's, so a 2025 report and
    a 2022 heading could be picked together and find nothing); a heading the report also has stays selected."""
    names = engine.sections(None if report in (None, "", ALL_REPORTS) else report)
    return {"choices": [ALL_SECTIONS, *names], "value": current if current in names else ALL_SECTIONS}


def link_controls(engine: SearchEngine, pairs) -> dict:
    """What a shared `/?q=…` link asks for, as the page's controls: `query`, `mode` (a label of MODE_LABELS), `k`,
    `report` (限定报告: a doc id or ALL_REPORTS) and `section` (限定章节), from the query string's `pairs`
    (key, value) as `/api/search` reads them (`q`, `mode`, `k`, `doc`, `year`, `section`). The page has one
    report choice and no year control: a `year` picks the one report of that year. What the page cannot honour
    (an unknown mode, report or section, a `k` off the slider, several reports, a year no report or several
    have) is left out with a notice in Chinese (`notices`), never an error."""
    last, notices = dict(pairs), []

    def every(name):
        return list(dict.fromkeys(v for key, v in pairs if key == name and v))

    mode = last.get("mode") or "hybrid"
    label = next((name for name, m in MODE_LABELS.items() if m == mode), None)
    if label is None:
        label = DEFAULT_MODE_LABEL
        notices.append(f"链接中的检索方式“{mode}”无效，已按“智能”检索。")
    k = DEFAULT_K
    if last.get("k"):
        try:
            k = int(last["k"])
        except ValueError:
            notices.append(f"链接中的结果条数“{last['k']}”不是整数，已显示{k}条。")
        else:
            if not 1 <= k <= PAGE_MAX_K:
                k = min(max(k, 1), PAGE_MAX_K)
                notices.append(f"页面可显示1到{PAGE_MAX_K}条结果，已显示{k}条。")
    reports = {r["doc"]: r for r in engine.reports()}
    docs, years, report = every("doc"), every("year"), ALL_REPORTS
    if len(docs) > 1:
        notices.append("页面一次只能限定一份报告，已在全部报告中检索；各年报告的对比请用“按年份对比”。")
    elif docs and docs[0] in reports:
        report = docs[0]
    elif docs:
        notices.append(f"索引中没有链接所指的报告“{docs[0]}”，已在全部报告中检索。")
    if years:
        year = int(years[0]) if len(years) == 1 and years[0].isdigit() else None
        of_year = [d for d, r in reports.items() if year is not None and r["year"] == year]
        if year is None:
            notices.append(f"链接中的年份“{'、'.join(years)}”无效，已忽略。")
        elif report != ALL_REPORTS:
            if reports[report]["year"] != year:
                notices.append(f"所选报告不是{year}年的报告，已忽略链接中的年份。")
        elif docs:  # an unknown report or several: all reports searched, as said above
            notices.append(f"链接中的年份（{year}）也已忽略。")
        elif len(of_year) == 1:
            report = of_year[0]
        else:
            notices.append(f"索引中没有{year}年的报告，已在全部报告中检索。" if not of_year else
                           f"索引中有{len(of_year)}份{year}年的报告，页面不能按年份限定，已在全部报告中检索。")
    section = last.get("section") or ALL_SECTIONS
    if section != ALL_SECTIONS and section not in engine.sections(None if report == ALL_REPORTS else report):
        notices.append(f"{'所选报告中' if report != ALL_REPORTS else '报告中'}没有链接所指的章节“{section}”，"
                       "已在全部章节中检索。")
        section = ALL_SECTIONS
    return {"query": (last.get("q") or "")[:MAX_QUERY_CHARS], "mode": label, "k": k, "report": report,
            "section": section, "notices": notices}


def report_choices(engine: SearchEngine) -> list[tuple[str, str]]:
    """(label, doc id) for the report selector, newest report first, after "all reports". The label is the
    report's title (it fits the box at 1280 px); the doc id is added only where two reports share a title."""
    reports = engine.reports()
    titles = [r["doc_title"] for r in reports]
    return [(ALL_REPORTS, ALL_REPORTS)] + [
        (r["doc_title"] if titles.count(r["doc_title"]) == 1 else f"{r['doc_title']}（{r['doc']}）", r["doc"])
        for r in reports]


def render_comparison(engine: SearchEngine, c) -> str:
    """按年份对比: each report's best passage for one question, newest first, side by side on a wide screen;
    the figure the question asks for, when there is one, large above each passage as on a result card, and the
    card's 复制引用 and 原文. Not the result card's 原文相同的段落也见于 line: here every report has its own column,
    so a paragraph kept word for word already shows in each year's column, and the line would only repeat them."""
    esc = html.escape
    cols = []
    for r in c.reports:
        title = f'<div class="rs-head"><strong>{esc(r.doc_title)}</strong>{missing_html(r.hit) if r.hit else ""}</div>'
        if r.hit is None:
            body = '<div class="rs-empty">这份报告中没有找到相关内容。</div>'
        else:
            p, h = r.hit.passage, r.hit
            ans = (h.answer.start, h.answer.end) if h.answer and h.answer.end - h.answer.start < len(p.text) else None
            fig = figure_card_html(h.answer.figure.text) if h.answer and h.answer.figure else ""
            body = (f'<div class="rs-crumb">{esc(breadcrumb(p.section))}</div>'
                    f'{fig}<div class="rs-text">{mark_text(p.text, h.highlights, ans)}</div>'
                    f'{card_actions(engine, p)}')
        cols.append(f'<div class="rs-card rs-col" data-doc="{esc(r.doc, quote=True)}">{title}{body}</div>')
    if not cols:
        return '<div class="rs-empty">索引中还没有报告。</div>'
    return f'<div class="rs-compare">{"".join(cols)}</div>'


def create_ui(service) -> gr.Blocks:
    """The page reads `service.engine` at each search, so swapping the index is one assignment."""
    engine = service.engine

    def heading(e) -> str:
        titles = "、".join(r["doc_title"] for r in e.reports()) or "政府工作报告"  # newest first, as the selector
        return f"## 政府工作报告检索\n检索 {html.escape(titles)} 原文。结果均为报告原话，并标明所在章节。"

    def client_of(request):
        peer = request.client.host if request is not None and request.client else None
        fwd = request.headers.get("x-forwarded-for") if request is not None else None
        return service.client(peer, fwd)

    def do_search(query, mode_label, top_k, section, report, request: gr.Request):
        mode = MODE_LABELS.get(mode_label, "hybrid")
        section = None if section in (None, "", ALL_SECTIONS) else section
        report = None if report in (None, "", ALL_REPORTS) else report
        try:
            r = service.search(query or "", mode=mode, top_k=int(top_k), section=section,
                               docs=None if report is None else [report], client=client_of(request), source="page")
        except ReportSearchError as e:
            return error_notice(e)
        return render_results(service.engine, r, question_link(query, mode, k=int(top_k), doc=report,
                                                               section=section))

    def do_compare(query, request: gr.Request):
        try:
            c = service.compare(query or "", client=client_of(request), source="page")
        except ReportSearchError as e:
            return error_notice(e)
        return render_comparison(service.engine, c)

    def current_choices():
        """Run on every page load: the report and section choices of the index being served now."""
        e = service.engine
        return (gr.update(choices=[ALL_SECTIONS, *e.sections()]), gr.update(choices=report_choices(e)),
                render_outline(e), heading(e))

    with gr.Blocks(title="政府工作报告检索", analytics_enabled=False) as demo:  # no usage data leaves the server
        header = gr.Markdown(heading(engine))
        reading = gr.HTML("", elem_id="rs-reading")  # `/?p=<id>` and `/?s=<section>` open the report here
        with gr.Tab("搜索"):
            with gr.Row():
                query = gr.Textbox(label="请输入问题或关键词", placeholder="例如：教育方面有哪些安排", scale=4,
                                   max_length=1000, elem_id="rs-query")
                button = gr.Button("搜索", variant="primary", scale=1, elem_id="rs-search")
            with gr.Row():
                mode = gr.Radio(list(MODE_LABELS), value=DEFAULT_MODE_LABEL, label="检索方式", elem_id="rs-mode")
                top_k = gr.Slider(1, PAGE_MAX_K, value=DEFAULT_K, step=1, label="结果条数", elem_id="rs-topk")
                report = gr.Dropdown(report_choices(engine), value=ALL_REPORTS, label="限定报告",
                                     elem_id="rs-report")
                section = gr.Dropdown([ALL_SECTIONS, *engine.sections()], value=ALL_SECTIONS, label="限定章节",
                                      elem_id="rs-section")
            examples = gr.Examples(EXAMPLES, inputs=query, label="示例问题")
            results = gr.HTML('<div class="rs-empty">输入问题后按“搜索”。</div>', elem_id="rs-results",
                              js_on_load=COPY_JS)
        with gr.Tab("按年份对比"):
            with gr.Row():
                cquery = gr.Textbox(label="同一个问题，看每一年的报告怎么说", placeholder="例如：新建5G基站",
                                    scale=4, max_length=1000, elem_id="rs-cquery")
                cbutton = gr.Button("对比", variant="primary", scale=1, elem_id="rs-compare-go")
            compared = gr.HTML('<div class="rs-empty">输入问题后按“对比”，每份报告给出最相关的一段原文。</div>',
                               elem_id="rs-compare", js_on_load=COPY_JS)
        with gr.Tab("目录"):
            outline = gr.HTML(render_outline(engine), elem_id="rs-outline")
        with gr.Tab("数据"):
            ffilter = gr.Textbox(label="筛选（指标、单位、章节或原句中的字词）", placeholder="例如：亿元 回顾",
                                 max_length=200, elem_id="rs-figure-filter")
            figures = gr.HTML(figures_tab_html(engine), elem_id="rs-figures")
        ffilter.change(lambda t: figures_tab_html(service.engine, t or ""), ffilter, figures, api_name=False)
        # a report the reader picks (not one a shared link sets: `open_link` sets its section too, which a change
        # event, reading the section before that update, reset)
        report.input(lambda chosen, current: gr.update(**section_choices(service.engine, chosen, current)),
                     [report, section], section, api_name=False, queue=False)
        inputs = [query, mode, top_k, section, report]
        # an example question searches at once, as the button does (it only filled the box)
        for trigger in (button.click, query.submit, examples.load_input_event.then):
            trigger(do_search, inputs, results, concurrency_limit=UI_CONCURRENCY, concurrency_id="search",
                    api_name=False).then(None, None, None, js=SHOW_RESULTS_JS % "rs-results")
        for trigger in (cbutton.click, cquery.submit):
            trigger(do_compare, [cquery], compared, concurrency_limit=UI_CONCURRENCY, concurrency_id="search",
                    api_name=False).then(None, None, None, js=SHOW_RESULTS_JS % "rs-compare")
        choices_loaded = demo.load(current_choices, None, [section, report, outline, header], api_name=False)

        def open_link(request: gr.Request):
            """`/?p=` and `/?s=` open the reading view; `/?q=…` runs the search on load, with the `mode`, `k`,
            `doc`, `year` and `section` it gives set in the controls (`link_controls`)."""
            pairs = request.query_params.multi_items() if request is not None else []
            e = service.engine
            c = link_controls(e, pairs)
            if not c["query"].strip():
                controls = [gr.update()] * 6
            else:
                found = do_search(c["query"], c["mode"], c["k"], c["section"], c["report"], request)
                controls = [gr.update(value=c["query"]), gr.update(value=c["mode"]), gr.update(value=c["k"]),
                            gr.update(value=c["report"]), gr.update(**section_choices(e, c["report"], c["section"])),
                            notices_html(c["notices"]) + found]
            return (engine_reading_html(e, dict(pairs)), *controls, figures_tab_html(e))

        # `<html data-rs-ready>` once the page's own load events are done: a readiness signal for tests and probes
        # that does not depend on the network going quiet
        # a permalink's passage is brought into view (it sat far below the fold, a phone's first screen above all)
        choices_loaded.then(open_link, None, [reading, query, mode, top_k, report, section, results, figures],
                            api_name=False).then(
            None, None, None, js="() => { const t = document.querySelector('#rs-reading .rs-highlight'); "
                                 "if (t) t.scrollIntoView({block: 'center'}); "
                                 "document.documentElement.dataset.rsReady = '1'; }")
    demo.queue(default_concurrency_limit=UI_CONCURRENCY, max_size=64)
    quieter_queue(demo)
    return demo


QUEUE_POLL_SECONDS = 0.01


def quieter_queue(demo) -> None:
    """Gradio's queue polls for new page events every 1 ms on Linux: 1,000 wake-ups a second that cost an idle
    server ~8% of a core and, under load, take the event loop (and the GIL) from the API. Every 10 ms is plenty
    for events that take longer than that to run. A private attribute of the pinned Gradio; tests/test_render.py
    checks it is still there."""
    q = getattr(demo, "_queue", None)
    for attr, seconds in (("sleep_when_free", QUEUE_POLL_SECONDS), ("progress_update_sleep_when_free", 0.05)):
        if q is not None and hasattr(q, attr):  # the second: progress bars, which this page does not use
            setattr(q, attr, max(getattr(q, attr), seconds))
