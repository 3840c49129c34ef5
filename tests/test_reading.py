"""Reading view, permalinks, passage payload and the figure table with its CSV (pure builders, hand-built passages)."""

import csv
import io
from urllib.parse import parse_qs, urlsplit

from reportsearch.web import reading as R
from reportsearch.records import Passage

REV = ("一、2022年工作回顾",)
L2 = ("二、2023年工作安排", "（一）聚焦产业转型，构筑高质量发展新优势")
PS = [
    Passage("a", "d", REV, "主要指标实现历史性突破，地区生产总值完成426.8亿元，增长11.3%；", doc_title="某县2023年政府工作报告",
            year=2023),
    Passage("b", "d", (*L2, "优化提升煤炭产业", "着力稳产保供"),
            "优化提升煤炭产业。着力稳产保供。原煤产量稳定在4000万吨左右。", year=2023),
    Passage("c", "d", (*L2, "优化提升煤炭产业", "有序提升产能"), "有序提升产能。开工建设铁路专用线<b>。", year=2023),
    Passage("e", "d", ("二、2023年工作安排", "（二）聚焦民生", "办好实事"), "办好实事。=SUM(1)新增5G基站65座。", year=2023),
]
OUTLINE = [list(REV), ["二、2023年工作安排"], list(L2), [*L2, "优化提升煤炭产业"], ["二、2023年工作安排", "（二）聚焦民生"]]


def test_links():
    assert R.permalink("qinshui-2023-abc") == "/?p=qinshui-2023-abc"
    link = R.question_link("去年GDP 是多少&x", "keyword")
    assert parse_qs(urlsplit(link).query) == {"q": ["去年GDP 是多少&x"], "mode": ["keyword"]}
    link = R.question_link("5G", "hybrid", k=3, doc="qinshui-2024", section="（一）产业&")  # a search's filters too
    assert parse_qs(urlsplit(link).query) == {"q": ["5G"], "mode": ["hybrid"], "k": ["3"], "doc": ["qinshui-2024"],
                                              "section": ["（一）产业&"]}
    assert R.question_link("5G", doc=None, section="") == "/?q=5G&mode=hybrid"  # no filter: none in the link
    cite = R.citation_with_link("", PS[0], "https://example.org/")
    assert cite.startswith("《某县2023年政府工作报告》一、2022年工作回顾：主要指标") and cite.endswith(
        "（链接：https://example.org/?p=a）")


def test_outline_is_clickable_and_keys_round_trip():
    out = R.outline_html("d", "某县报告", OUTLINE)
    assert out.count('class="rs-outline-link"') == len(OUTLINE) and "（一）聚焦产业转型" in out
    key = R.section_key("d", L2)
    assert f'data-section="{key}"' in out and R.section_by_key(OUTLINE, "d", key) == L2
    assert R.section_by_key(OUTLINE, "d", "nope") is None and R.section_key("d", L2) != R.section_key("x", L2)


def test_section_text_in_order_with_labels_and_highlight():
    assert [p.id for p in R.section_passages(PS, "d", L2)] == ["b", "c"]
    assert R.section_text(PS, "d", L2).split("\n") == [PS[1].text, PS[2].text]
    h = R.section_html(PS, "d", L2, highlight="c")
    assert h.index('id="p-b"') < h.index('id="p-c"')
    assert '<span class="rs-label">优化提升煤炭产业</span><span class="rs-label">着力稳产保供</span>原煤产量' in h
    assert 'id="p-c" class="rs-passage rs-highlight"' in h and 'id="p-b" class="rs-passage"' in h
    assert "&lt;b&gt;" in h and "<b>" not in h  # report text is escaped
    whole = R.section_html(PS, "d", ("二、2023年工作安排",))
    assert whole.count('class="rs-subhead"') == 2 and whole.index("（一）") < whole.index("（二）")
    assert 'href="/?p=b"' in h


def test_passage_view_payload():
    v = R.passage_view(PS, "b", neighbors=["c"])
    assert v["text"] == PS[1].text and v["doc"] == "d" and v["section"] == list(PS[1].section)
    assert v["neighbors"] == ["c"] and v["section_path"] == list(L2) and v["permalink"] == "/?p=b"
    assert v["section_text"] == PS[1].text + "\n" + PS[2].text and v["doc_title"] == "d"
    assert R.passage_view(PS, "a")["doc_title"] == "某县2023年政府工作报告"
    assert R.passage_view(PS, "zzz") is None


def test_figure_rows():
    rows = R.figure_rows(PS)
    got = [(r["value"], r["unit"], r["measure"], r["half"]) for r in rows]
    assert got == [("426.8", "亿元", "地区生产总值", "回顾"), ("11.3", "%", "地区生产总值增长", "回顾"),
                   ("4000", "万吨", "原煤产量", "安排"), ("65", "座", "新增5G基站", "安排")]
    for r in rows:
        p = next(p for p in PS if p.id == r["id"])
        assert p.text[r["start"]:r["end"]] == r["value"] + r["unit"] and r["sentence"] in p.text
        assert r["link"] == f"/?p={p.id}"
    assert rows[2]["section"] == " › ".join(PS[1].section)
    assert [r["value"] for r in R.filter_rows(rows, "地区生产总值 回顾")] == ["426.8", "11.3"]
    assert R.filter_rows(rows, "") == rows and R.filter_rows(rows, "不存在") == []
    # GDP found nothing in the 数据 tab though search maps it to 地区生产总值: the glossary now applies here too
    assert R.filter_rows(rows, "GDP") == [] and R.filter_rows(rows, "gdp", {"gdp": ["地区生产总值"]}) == rows[:2]
    from reportsearch.glossary import load_glossary

    assert [r["value"] for r in R.filter_rows(rows, "GDP 回顾", load_glossary())] == ["426.8", "11.3"]


def test_figures_csv_has_a_bom_and_reads_back_with_the_chinese_intact():
    rows = R.figure_rows(PS)
    data = R.figures_csv(rows, base_url="http://127.0.0.1:7860/")
    assert data.startswith(b"\xef\xbb\xbf")
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert back[0] == list(R.CSV_COLUMNS) and len(back) == len(rows) + 1
    assert back[1][:4] == ["426.8", "亿元", "地区生产总值", "回顾"] and back[1][-1] == "http://127.0.0.1:7860/?p=a"
    assert back[4][5] == "'=SUM(1)新增5G基站65座。" and not any(c.startswith("=") for row in back for c in row)


def test_figures_csv_links_are_absolute_under_the_apps_root_path(lib, fake_embedder):
    """A spreadsheet cannot follow `/?p=…`: each row's link starts with the request's base URL, root path included."""
    from starlette.testclient import TestClient

    from reportsearch.engine import SearchEngine
    from reportsearch.ingest import build_index
    from reportsearch.web.api import create_api
    from reportsearch.web.server import build_service

    src, index = lib
    build_index(sorted(src.iterdir()), index_dir=index, embedder=fake_embedder, progress=False)
    app = create_api(build_service(SearchEngine.load(index, embedder=fake_embedder)))
    for root, base in (("", "http://testserver/?p="), ("/rs", "http://testserver/rs/?p=")):
        r = TestClient(app, root_path=root).get("/api/figures.csv")
        links = [row[-1] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))][1:]
        assert r.status_code == 200 and links and all(link.startswith(base) for link in links), links


def test_table_html_escapes_and_limits():
    rows = R.figure_rows(PS)
    h = R.figures_table_html(rows)
    assert h.count("<tr data-id=") == len(rows) and "&lt;b&gt;" not in h and "<b>" not in h
    assert "只显示前 2 条" in R.figures_table_html(rows, limit=2)
    assert "没有符合条件的数字" in R.figures_table_html([])
    one = [dict(r, doc="某县2023年政府工作报告") for r in rows]
    assert 'class="rs-figures-wrap"' in h and "<th>报告</th>" not in R.figures_table_html(one)  # no report column
    two = [dict(one[0], doc="沁水县2024年政府工作报告"), *one[1:]]
    h2 = R.figures_table_html(two)
    assert "<th>报告</th>" in h2 and h2.count("<td>沁水县2024年政府工作报告</td>") == 1
    assert R.figure_card_html("65座<") == '<div class="rs-figure">65座&lt;</div>'


# ---------------------------------------------------------------- over real HTTP and in a real browser
def test_passage_api_over_http(server):
    import requests

    hit = requests.get(server + "/api/search", params={"q": "今年原煤产量计划多少", "k": 1}, timeout=60).json()
    pid = hit["results"][0]["id"]
    r = requests.get(f"{server}/api/passages/{pid}", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    v = r.json()
    assert v["id"] == pid and v["text"] == hit["results"][0]["text"] and v["doc_title"] == "沁水县2023年政府工作报告"
    assert v["section"] == hit["results"][0]["section"] and v["neighbors"] == hit["results"][0]["neighbors"]
    assert v["text"] in v["section_text"] and v["section_path"] == v["section"][:2] and v["permalink"] == f"/?p={pid}"
    for bad in ("no-such-passage", "%E4%B8%AD", "x" * 300):
        r = requests.get(f"{server}/api/passages/{bad}", timeout=30)
        assert r.status_code == 404 and "error" in r.json()
    csv_r = requests.get(server + "/api/figures.csv", params={"q": "亿元 回顾"}, timeout=30)
    assert csv_r.status_code == 200 and csv_r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert rows[0] == list(R.CSV_COLUMNS) and ["426.8", "亿元", "地区生产总值", "回顾"] == rows[1][:4]


def test_reading_view_permalinks_question_links_and_csv_in_a_browser(server, tmp_path):
    import os
    from pathlib import Path

    import pytest

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists() and not os.environ.get("CI"):
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    from conftest import open_page
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless=new", "--disable-gpu"])
        page = b.new_page(viewport={"width": 1280, "height": 900})
        open_page(page, server + "/")
        page.get_by_role("tab", name="目录").click()
        page.locator("#rs-outline a.rs-outline-link", has_text="（一）聚焦产业转型").first.click()
        reading = page.locator("#rs-reading .rs-reading")
        reading.wait_for(timeout=60_000)
        assert "（一）聚焦产业转型" in reading.locator(".rs-reading-title").inner_text()
        assert "原煤产量稳定在4000万吨左右" in reading.inner_text() and reading.locator(".rs-label").count() > 5

        import requests

        pid = requests.get(server + "/api/search", params={"q": "新增5G基站65座", "k": 1, "mode": "keyword"},
                           timeout=60).json()["results"][0]["id"]
        fresh = b.new_page(viewport={"width": 390, "height": 844})  # a phone: the passage is far below the fold
        open_page(fresh, f"{server}/?p={pid}")
        marked = fresh.locator(f"#rs-reading #p-{pid}.rs-highlight")
        marked.wait_for(timeout=60_000)
        assert "新增5G基站65座" in marked.inner_text() and fresh.locator("#rs-reading .rs-highlight").count() == 1
        box = marked.bounding_box()  # brought into view once the page is ready (it stayed at y ≈ 1190)
        assert fresh.evaluate("scrollY") > 0 and 0 <= box["y"] and box["y"] + box["height"] <= 844, box

        asked = b.new_page()
        open_page(asked, server + "/?" + "q=%E4%BB%8A%E5%B9%B4%E8%A6%81%E6%96%B0%E5%BB%BA%E5%A4%9A%E5%B0%91%E4%B8%AA5G"
                  "%E5%9F%BA%E7%AB%99&mode=keyword")
        asked.locator("#rs-results .rs-card").first.wait_for(timeout=60_000)
        assert asked.locator("#rs-results .rs-figure").first.inner_text() == "65座"
        assert asked.locator("#rs-query textarea").input_value() == "今年要新建多少个5G基站"
        cite = asked.locator("#rs-results .rs-card .rs-btn").first.get_attribute("data-cite")
        assert "（链接：/?p=" in cite

        asked.get_by_role("tab", name="数据").click()
        asked.locator("#rs-figure-filter textarea").fill("亿元")
        asked.locator("#rs-figures a.rs-csv", has_text="下载 CSV（").wait_for(timeout=30_000)
        asked.wait_for_function("document.querySelector('#rs-figures a.rs-csv').href.includes('q=')",
                                timeout=30_000)
        with asked.expect_download() as dl:
            asked.locator("#rs-figures a.rs-csv").click()
        data = Path(dl.value.path()).read_bytes()
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert data.startswith(b"\xef\xbb\xbf") and rows[0] == list(R.CSV_COLUMNS)
        assert len(rows) > 5 and all(r[1].endswith("元") or "亿元" in r[5] for r in rows[1:])
        assert any(r[2] == "地区生产总值" and r[0] == "426.8" for r in rows)
        b.close()


# ---------------------------------------------------------------- the report a reading view shows; rows newest first
def _engine(passages, years):
    """An engine as the reading view and the 数据 tab use it: passages in the order the reports were added."""
    from types import SimpleNamespace

    docs = list(dict.fromkeys(p.doc for p in passages))
    reports = sorted(({"doc": d, "doc_title": next(p.doc_title for p in passages if p.doc == d) or d,
                       "year": years[d]} for d in docs), key=lambda r: (-(r["year"] or 0), r["doc"]))
    outline = {d: {"outline": [list(p.section[:1]) for p in passages if p.doc == d][:1]} for d in docs}
    return SimpleNamespace(passages=passages, reports=lambda: reports, glossary=None,
                           passage=lambda pid: next((p for p in passages if p.id == pid), None),
                           store=SimpleNamespace(documents=outline, version=object()))  # a fresh figure-row cache


def _year_copy(p, year, title=None):
    return Passage(f"{p.id}{year}", f"q{year}", p.section, p.text, doc_title=f"某县{year}年政府工作报告"
                   if title is None else title, year=year)


def test_the_reading_view_names_its_report():
    """`/?p=` and `/?s=` showed only the section heading (`三、全面加强政府自身建设`, worded alike every year): a shared
    link did not say which year's report it opened. The report's title heads the view, the year added when the
    title lacks it."""
    ps = [_year_copy(PS[0], 2023), _year_copy(PS[0], 2024), _year_copy(PS[0], 2022, title="某县政府工作报告")]
    e = _engine(ps, {"q2023": 2023, "q2024": 2024, "q2022": 2022})
    h = R.engine_reading_html(e, {"p": "a2024"})
    assert '<div class="rs-reading-doc">《某县2024年政府工作报告》</div>' in h and 'id="p-a2024"' in h
    assert h.index("rs-reading-doc") < h.index('class="rs-reading-title"') < h.index('id="p-a2024"')
    key = R.section_key("q2023", REV)
    s = R.engine_reading_html(e, {"s": key})
    assert '<div class="rs-reading-doc">《某县2023年政府工作报告》</div>' in s and 'id="p-a2023"' in s
    assert "《某县政府工作报告》（2022年）" in R.engine_reading_html(e, {"p": "a2022"})
    assert R.report_heading("某县2024年政府工作报告", 2024) == "《某县2024年政府工作报告》"
    assert R.report_heading("notes") == "《notes》"
    # the JSON of the same passage names its report and year too
    v = R.passage_view(ps, "a2024")
    assert v["doc_title"] == "某县2024年政府工作报告" and v["year"] == 2024


def test_the_figures_tab_and_csv_list_the_newest_report_first():
    """Rows came in the order the reports were added (2023, 2024, 2022): newest report first now, each report's rows
    in its own order (the 数据 tab and /api/figures.csv both read engine_figure_rows)."""
    added = [(2023, PS[0]), (2023, PS[3]), (2024, PS[0]), (2024, PS[3]), (2022, PS[0]), (2022, PS[3])]
    ps = [_year_copy(p, y) for y, p in added]
    rows = R.engine_figure_rows(_engine(ps, {"q2023": 2023, "q2024": 2024, "q2022": 2022}))
    got = [(r["doc"][2:6], r["value"]) for r in rows]
    per_report = ["426.8", "11.3", "65"]
    assert got == [(y, v) for y in ("2024", "2023", "2022") for v in per_report], got
    html_rows = R.figures_tab_html(_engine(ps, {"q2023": 2023, "q2024": 2024, "q2022": 2022}))
    assert html_rows.index("某县2024年") < html_rows.index("某县2023年") < html_rows.index("某县2022年")


def test_the_figures_tab_names_the_report_whenever_the_index_holds_several_and_opens_passages_in_a_new_tab():
    """With two reports in the index, filtering the 数据 tab down to one report's rows dropped the 报告 column, and
    nothing said which report the figures came from; its 原文 links opened in the same tab (going back lost the
    filter), where the result cards' open a new one."""
    ps = [_year_copy(p, y) for y, p in [(2023, PS[0]), (2023, PS[3]), (2024, PS[0])]]
    two = _engine(ps, {"q2023": 2023, "q2024": 2024})
    only_2023 = R.figures_tab_html(two, "65")  # a figure only the 2023 report has
    assert only_2023.count("<tr data-id=") == 1 and "<th>报告</th>" in only_2023
    assert "<td>某县2023年政府工作报告</td>" in only_2023
    assert "<th>报告</th>" in R.figures_tab_html(two)
    one = R.figures_tab_html(_engine(ps[:2], {"q2023": 2023}))  # one report in the index: no column needed
    assert one.count("<tr data-id=") == 3 and "<th>报告</th>" not in one
    links = [a for a in only_2023.split("<a ")[1:] if ">原文</a>" in a]
    assert len(links) == 1 and 'href="/?p=e2023"' in links[0]
    assert 'target="_blank"' in links[0] and 'rel="noopener"' in links[0]
