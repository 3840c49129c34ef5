"""The page renderer's escaping, without a browser: mark_text and render_results on hostile report text."""

from html.parser import HTMLParser

import pytest

from conftest import FakeEmbedder, fake_engine
from reportsearch.engine import SearchEngine
from reportsearch.ingest import build_index
from reportsearch.records import Answer, Hit, SearchResponse
from reportsearch.web.render import mark_text

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> "引号" \'单引号\''
ALLOWED = {"div", "span", "mark", "strong", "details", "summary", "p", "button", "a"}
VOID: set[str] = set()


class TagCheck(HTMLParser):
    """Collects the tags of an HTML fragment and checks that they nest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> TagCheck:
    p = TagCheck()
    p.feed(fragment)
    p.close()
    assert p.stack == [], f"unclosed tags {p.stack}"
    return p


# ---------------------------------------------------------------- mark_text
def test_mark_text_escapes_everything_between_tags():
    text = "a<b>&\"c'"
    out = mark_text(text, [(1, 4)], None)
    assert out == "a<mark>&lt;b&gt;</mark>&amp;&quot;c&#x27;"
    assert "".join(parse(out).text) == text  # the visible text is exactly the original


def test_mark_text_splits_marks_at_the_answer_boundary():
    text = "甲乙丙丁戊己"
    out = mark_text(text, [(1, 4)], (2, 5))  # the mark crosses the start of the answer
    assert out == '甲<mark>乙</mark><strong class="answer"><mark>丙丁</mark>戊</strong>己'
    assert [t for t in parse(out).tags] == ["mark", "strong", "mark"]


@pytest.mark.parametrize("highlights,answer", [
    ([], None), ([(0, 6)], None), ([], (0, 6)), ([(0, 6)], (0, 6)), ([(0, 1), (5, 6)], (1, 5)),
    ([(0, 3), (3, 6)], (2, 4)), ([(2, 2)], (3, 3)),
])
def test_mark_text_nests_and_keeps_the_text(highlights, answer):
    text = "<&>\"'x"
    out = mark_text(text, highlights, answer)
    p = parse(out)
    assert "".join(p.text) == text and set(p.tags) <= {"mark", "strong"}
    assert "<&" not in out and "&>" not in out


def test_mark_text_custom_tags_for_the_terminal():
    assert mark_text("停车难", [(0, 2)], None, "【", "】", escape=lambda s: s) == "【停车】难"


# ---------------------------------------------------------------- to_text (the CLI)
def _report_hit(doc, title, rank, year=None):
    from reportsearch.records import Passage

    p = Passage(id=f"{doc}-{rank}", doc=doc, section=("一、回顾", "坚持教育优先"), text="坚持教育优先。", doc_title=title,
                year=year)
    return Hit(passage=p, score=0.5, rank=rank)


def test_the_text_output_names_the_report_of_each_hit():
    """With several reports in the index a user could not tell which report a passage came from (new-user
    walkthrough): hits from several reports each lead with their report's title; hits all from one name it once,
    in the first line; a passage of an older index without a title is named by its doc id."""
    from reportsearch.web.render import to_text

    new, old = _report_hit("qinshui-2024", "沁水县2024年政府工作报告", 1), _report_hit("qinshui-2023", "沁水县2023年政府工作报告", 2)
    lines = to_text(SearchResponse(query="教育", mode="hybrid", results=(new, old))).splitlines()
    assert lines[0] == "问：教育    （模式：hybrid，2 条结果）"
    assert "1. [0.500] 《沁水县2024年政府工作报告》一、回顾 › 坚持教育优先  (qinshui-2024-1)" in lines
    assert "2. [0.500] 《沁水县2023年政府工作报告》一、回顾 › 坚持教育优先  (qinshui-2023-2)" in lines
    same = _report_hit("qinshui-2024", "沁水县2024年政府工作报告", 2)
    one = to_text(SearchResponse(query="教育", mode="hybrid", results=(new, same)))
    assert one.splitlines()[0] == "问：教育    （模式：hybrid，2 条结果，均出自《沁水县2024年政府工作报告》）"
    assert one.count("沁水县2024年政府工作报告") == 1 and "1. [0.500] 一、回顾 › 坚持教育优先" in one
    untitled = to_text(SearchResponse(query="教育", mode="keyword", results=(_report_hit("notes", "", 1),)))
    assert "均出自《notes》" in untitled
    assert to_text(SearchResponse(query="教育", mode="keyword")).splitlines()[0] == "问：教育    （模式：keyword，0 条结果）"


# ---------------------------------------------------------------- render_results
@pytest.fixture(scope="module")
def small_engine(tmp_path_factory):
    return fake_engine(tmp_path_factory.mktemp("render"), "evil.txt",
                       "一、回顾\n\n（一）民生\n\n坚持教育优先。" + HOSTILE + "完成桃园小学主体。\n\n"
                       "建设健康沁水。加快大医院建设<b>加粗</b>，力争投入使用。\n\n"
                       "提高公卫水平。扩大家庭医生签约“覆盖率”&其他。")


def _hit(engine, i, rank):
    p = engine.passages[i]
    a = p.text.index("<") if "<" in p.text else 0
    return Hit(passage=p, score=0.5, rank=rank, highlights=((a, a + 8),), answer=Answer(p.text[a:a + 12], a, a + 12),
               neighbors=engine.neighbors[i])


def test_render_results_escapes_report_text_and_notices(small_engine):
    from reportsearch.web.ui import render_results

    e = small_engine
    evil = next(i for i, p in enumerate(e.passages) if "<script>" in p.text)
    other = next(i for i, p in enumerate(e.passages) if "<b>" in p.text)
    r = SearchResponse(query="<script>q</script>", mode="hybrid", low_confidence=False,
                       results=(_hit(e, evil, 1), _hit(e, other, 2)), notices=("注意 <i>notice</i> & more",))
    out = render_results(e, r)
    assert "<script" not in out and "<img" not in out and "<b>" not in out and "<i>" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out and "&lt;i&gt;notice" in out
    p = parse(out)
    assert set(p.tags) <= ALLOWED
    assert not [k for k, _ in p.attrs if k.startswith("on")]  # no event handler got into an attribute
    cites = [v for k, v in p.attrs if k == "data-cite"]
    assert len(cites) == 2 and HOSTILE in cites[0]  # the citation carries the original text, safely quoted
    assert out.count('class="rs-card"') == 2 and "第1条" in out and "第2条" in out
    assert "<mark>" in out and '<strong class="answer">' in out
    assert "展开上下文" in out  # neighbours are shown, escaped like the rest
    assert "".join(p.text).count('<script>alert("x")</script>') >= 2  # card text and context read as text


def test_cards_link_their_passage_and_name_the_same_text_in_other_reports(small_engine):
    """A result card had no link to read its passage in place; 按年份对比 cards had neither that link nor 复制引用; a
    paragraph the engine shows once for several years (Hit.also_in) did not say where else it stands. Each card now
    has 原文 (the permalink), a result card names the other reports, each linking to its copy; a 按年份对比 card does
    not (each report has its own column there)."""
    from dataclasses import replace

    from reportsearch.records import Comparison, ReportHit
    from reportsearch.web.ui import render_comparison, render_results

    e = small_engine
    hit = _hit(e, 0, 1)
    p = hit.passage
    copies = tuple(replace(p, id=f"old-{y}<", doc=f"x-{y}", doc_title=f"某县{y}年政府工作报告", year=y)
                   for y in (2023, 2022))
    out = render_results(e, SearchResponse(query="教育", mode="hybrid", results=(replace(hit, also_in=copies),
                                                                               _hit(e, 1, 2))))
    parse(out)
    cards = out.split('<div class="rs-card"')[1:]
    assert all(f'<a class="rs-open" href="/?p={c.split(chr(34))[1]}"' in c for c in cards), cards  # data-id="…"
    assert f'href="/?p={p.id}"' in cards[0] and ">原文</a>" in cards[0]
    assert ('<div class="rs-also">原文相同的段落也见于<a class="rs-also-link" href="/?p=old-2023%3C"'
            in cards[0]) and "《某县2023年政府工作报告》</a>" in cards[0] and "《某县2022年政府工作报告》</a>" in cards[0]
    assert cards[0].index("2023年") < cards[0].index("2022年") and "rs-also" not in cards[1]
    from reportsearch.web.render import also_in_line

    assert also_in_line(replace(hit, also_in=copies)) == "原文相同的段落也见于《某县2023年政府工作报告》《某县2022年政府工作报告》"

    c = Comparison(query="教育", mode="hybrid", reports=(
        ReportHit(doc=p.doc, doc_title="某县2024年政府工作报告", year=2024, hit=replace(hit, also_in=copies)),
        ReportHit(doc="x-2023", doc_title="某县2023年政府工作报告", year=2023, hit=None)))
    cmp_html = render_comparison(e, c)
    parse(cmp_html)
    col = cmp_html.split('<div class="rs-card rs-col"')[1]
    assert f'<a class="rs-open" href="/?p={p.id}"' in col and 'class="rs-btn" data-cite="' in col
    assert "（链接：/?p=" in col and "rs-also" not in cmp_html and "原文相同" not in cmp_html
    assert cmp_html.count('class="rs-btn"') == 1  # a report with no answer has nothing to cite


def test_render_results_low_confidence_and_empty(small_engine):
    from reportsearch.web.ui import render_results

    e = small_engine
    low = SearchResponse(query="地铁", mode="semantic", low_confidence=True, results=(_hit(e, 0, 1),))
    out = render_results(e, low)
    assert "报告中可能没有直接回答这个问题的内容" in out and "相关度低" in out
    parse(out)
    empty = render_results(e, SearchResponse(query="<x>", mode="keyword", notices=("<x>",)))
    assert "没有找到相关内容" in empty and "<x>" not in empty and "&lt;x&gt;" in empty
    parse(empty)


def test_the_page_says_an_empty_box_and_a_report_gone_in_chinese(small_engine):
    """The Chinese page showed `the query is empty: …` and `unknown report '…'` as the package words them."""
    from reportsearch.errors import EmptyQueryError, QueryError, UnknownFilterError
    from reportsearch.web.ui import error_notice

    e = small_engine
    with pytest.raises(EmptyQueryError) as empty:
        e.search("   ")
    assert "请先输入问题或关键词" in error_notice(empty.value) and "query" not in error_notice(empty.value)
    with pytest.raises(UnknownFilterError) as gone:
        e.search("教育", docs=["<gone>"])
    out = error_notice(gone.value)
    assert "请刷新页面" in out and "unknown report &#x27;&lt;gone&gt;&#x27;" in out and "<gone>" not in out
    with pytest.raises(UnknownFilterError):
        e.search("教育", year=1999)
    assert error_notice(QueryError("other <b>")) == '<div class="rs-notice">other &lt;b&gt;</div>'


def test_page_queue_polls_every_10_ms_not_every_1(small_engine):
    """Gradio's queue polls for page events every 1 ms on Linux (~8% of a core on an idle server); the page
    slows that to 10 ms through a private attribute of the pinned Gradio, so a Gradio upgrade that renames
    it fails here instead of silently bringing the busy loop back."""
    from reportsearch.web.service import Service
    from reportsearch.web.ui import QUEUE_POLL_SECONDS, create_ui

    demo = create_ui(Service(small_engine))
    assert QUEUE_POLL_SECONDS == 0.01 and demo._queue.sleep_when_free == QUEUE_POLL_SECONDS
    assert demo._queue.progress_update_sleep_when_free >= 0.05


# ---------------------------------------------------------------- a shared `/?q=…` link sets the page's controls
@pytest.fixture(scope="module")
def three_reports(tmp_path_factory):
    """qinshui-2023, qinshui-2024 and yangcheng-2024: one report of 2023, two of 2024, headings of their own."""
    d = tmp_path_factory.mktemp("links")
    (d / "data").mkdir()
    texts = {"qinshui-2023": "一、安排\n\n（一）产业\n\n新建5G基站65座。推进煤炭转型。\n\n（二）民生\n\n坚持教育优先。",
             "qinshui-2024": "一、安排\n\n（一）产业\n\n新建5G基站80座。推进煤炭转型。\n\n（三）生态\n\n植树造林。",
             "yangcheng-2024": "一、安排\n\n（一）产业\n\n新建5G基站9座。"}
    for name, text in texts.items():
        (d / "data" / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index(sorted((d / "data").iterdir()), index_dir=d / "index", embedder=FakeEmbedder(), progress=False)
    return SearchEngine.load(d / "index", embedder=FakeEmbedder())


def _link(engine, query):
    from urllib.parse import parse_qsl

    from reportsearch.web.ui import link_controls

    c = link_controls(engine, parse_qsl(query, keep_blank_values=True))
    return (c["query"], c["mode"], c["k"], c["report"], c["section"]), c["notices"]


def test_a_shared_link_sets_the_controls_it_names(three_reports):
    """`/?q=…&doc=…&year=…&k=…` ran an unfiltered 5-result search: the page read `q` and `mode` only."""
    e = three_reports
    assert _link(e, "q=5G") == (("5G", "智能（推荐）", 5, "全部报告", "全部章节"), [])
    assert _link(e, "q=5G&mode=keyword&k=2&doc=qinshui-2024&section=（三）生态") == (
        ("5G", "关键词", 2, "qinshui-2024", "（三）生态"), [])
    assert _link(e, "q=5G&year=2023") == (("5G", "智能（推荐）", 5, "qinshui-2023", "全部章节"), [])  # its one report
    assert _link(e, "q=5G&doc=qinshui-2023&year=2023&year=2023&k=&mode=&doc=&section=")[1] == []  # empty: none
    assert _link(e, "q=5G&k=2&k=3")[0][2] == 3  # the last value, as /api/search reads it


@pytest.mark.parametrize("query,controls,notice", [
    ("q=5G&doc=qinshui-2022&year=2022", ("全部报告", "全部章节"), "索引中没有链接所指的报告“qinshui-2022”，已在全部报告中检索。"),
    ("q=5G&doc=qinshui-2023&doc=qinshui-2024", ("全部报告", "全部章节"), "页面一次只能限定一份报告"),
    ("q=5G&year=2024", ("全部报告", "全部章节"), "索引中有2份2024年的报告，页面不能按年份限定，已在全部报告中检索。"),
    ("q=5G&year=1999", ("全部报告", "全部章节"), "索引中没有1999年的报告，已在全部报告中检索。"),
    ("q=5G&year=abc", ("全部报告", "全部章节"), "链接中的年份“abc”无效，已忽略。"),
    ("q=5G&year=2023&year=2024", ("全部报告", "全部章节"), "链接中的年份“2023、2024”无效，已忽略。"),
    ("q=5G&doc=qinshui-2024&year=2023", ("qinshui-2024", "全部章节"), "所选报告不是2023年的报告，已忽略链接中的年份。"),
    ("q=5G&section=没有<b>", ("全部报告", "全部章节"), "报告中没有链接所指的章节“没有<b>”，已在全部章节中检索。"),
    ("q=5G&doc=qinshui-2023&section=（三）生态", ("qinshui-2023", "全部章节"), "所选报告中没有链接所指的章节“（三）生态”"),
])
def test_what_a_link_asks_and_the_page_cannot_do_is_a_chinese_notice(three_reports, query, controls, notice):
    got, notices = _link(three_reports, query)
    assert got[3:] == controls and len(notices) >= 1 and notices[0].startswith(notice), notices


def test_a_link_with_a_mode_or_k_the_page_lacks_says_so():
    from types import SimpleNamespace

    e = SimpleNamespace(reports=lambda: [], sections=lambda doc=None: [])
    assert _link(e, "q=x&mode=fuzzy&k=abc") == (("x", "智能（推荐）", 5, "全部报告", "全部章节"), [
        "链接中的检索方式“fuzzy”无效，已按“智能”检索。", "链接中的结果条数“abc”不是整数，已显示5条。"])
    assert _link(e, "q=x&k=50") == (("x", "智能（推荐）", 20, "全部报告", "全部章节"), ["页面可显示1到20条结果，已显示20条。"])
    assert _link(e, "q=x&k=0")[0][2] == 1 and _link(e, "q=" + "长" * 1200)[0][0] == "长" * 1000
    from reportsearch.web.ui import notices_html

    assert notices_html(["“没有<b>”"]) == '<div class="rs-notice">“没有&lt;b&gt;”</div>'  # a link's words, escaped


def test_the_results_copy_their_own_link_which_sets_the_same_controls(three_reports):
    """复制链接 above the results: the `/?q=…` link of the search on screen, read back as the same controls; the
    copy script (COPY_JS) copies `data-link` as it copies `data-cite`, and puts the button's own label back."""
    from dataclasses import replace
    from urllib.parse import parse_qsl, urlsplit

    from reportsearch.web.reading import question_link
    from reportsearch.web.ui import COPY_JS, link_controls, render_results

    e = three_reports
    r = e.search("5G", mode="keyword", top_k=2, docs=["qinshui-2024"], section="（一）产业")
    link = question_link("5G <&>", "keyword", k=2, doc="qinshui-2024", section="（一）产业")
    out = render_results(e, r, link)
    p = parse(out)
    assert set(p.tags) <= ALLOWED and [v for k, v in p.attrs if k == "data-link"] == [link]
    assert out.index("复制链接") < out.index('class="rs-card"')
    c = link_controls(e, parse_qsl(urlsplit(link).query))
    assert (c["query"], c["mode"], c["k"], c["report"], c["section"], c["notices"]) == (
        "5G <&>", "关键词", 2, "qinshui-2024", "（一）产业", [])
    assert "复制链接" not in render_results(e, r)  # 按年份对比 and the tests: no link given
    assert "复制链接" not in render_results(e, replace(r, results=()), link)  # nothing found: nothing to share
    assert "data-link" in COPY_JS and "'复制引用'" not in COPY_JS  # one script; the label is the button's own


def test_a_result_without_the_exact_term_says_so_on_card_and_cli(small_engine):
    """Hit.missing (a number, quoted phrase or one-term query the passage does not hold) is a tag beside the
    relevance cue on a result card and on a 按年份对比 column, and a line under the heading in the CLI; escaped."""
    from dataclasses import replace

    from reportsearch.records import Comparison, ReportHit
    from reportsearch.web.render import missing_line, to_text
    from reportsearch.web.ui import render_comparison, render_results

    e = small_engine
    lacks = replace(_hit(e, 1, 2), missing=("13710", "<b>"))
    r = SearchResponse(query="13710", mode="hybrid", results=(_hit(e, 0, 1), lacks))
    out = render_results(e, r)
    parse(out)
    cards = out.split('<div class="rs-card"')[1:]
    assert "rs-missing" not in cards[0]
    assert ('<span class="rs-missing" title="这段原文中没有「13710」、「&lt;b&gt;」">不含「13710」「&lt;b&gt;」</span>'
            in cards[1])
    assert missing_line(lacks) == "不含「13710」「<b>」" and missing_line(_hit(e, 0, 1)) == ""
    text = to_text(r).splitlines()
    i = next(n for n, line in enumerate(text) if line.startswith("2. "))
    assert text[i + 1] == "   （不含「13710」「<b>」）" and "不含" not in "".join(text[:i])
    c = Comparison(query="13710", mode="hybrid", reports=(
        ReportHit(doc="a", doc_title="某县2024年政府工作报告", year=2024, hit=lacks),
        ReportHit(doc="b", doc_title="某县2023年政府工作报告", year=2023, hit=None)))
    cmp_html = render_comparison(e, c)
    parse(cmp_html)
    assert cmp_html.count("rs-missing") == 1 and "不含「13710」" in cmp_html.split("rs-col")[1]
