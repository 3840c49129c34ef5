"""Each reader on small real files: paragraphs, hints and metadata out; clear errors for files it cannot use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportsearch.errors import InputError
from reportsearch.readers import EXTENSIONS, read_source, reader_for
from reportsearch.readers.html import decode_html
from reportsearch.readers.pdf import PAGE_NUMBER, _Line, join_lines, remove_furniture
from reportsearch.readers.text import text_paragraphs


# ---------------------------------------------------------------- factory
@pytest.mark.parametrize("name,kind", [("a.txt", "text"), ("a.MD", "text"), ("a.pdf", "pdf"), ("a.docx", "docx"),
                                       ("a.html", "html"), ("a.HTM", "html")])
def test_factory_picks_the_reader_by_extension(name, kind):
    assert reader_for(name).kind == kind


@pytest.mark.parametrize("name,msg", [("a.xyz", "unsupported file type '.xyz'"), ("a", "no extension"),
                                      ("a.doc", "save it as .docx")])
def test_unknown_extension_is_one_clear_error(name, msg):
    with pytest.raises(InputError, match=msg) as e:
        reader_for(name)
    assert name in str(e.value) and "\n" not in str(e.value)
    if name != "a.doc":
        assert all(ext in str(e.value) for ext in EXTENSIONS)


# ---------------------------------------------------------------- text
def test_text_markdown_marks_become_hints():
    ps = text_paragraphs("# 政府工作报告\n\n**2022年工作回顾**\n\n**一是坚持政治引领**。始终把政治建设\n贯穿于全过程。")
    assert [(p.text, p.level, p.bold) for p in ps] == [
        ("政府工作报告", 1, False), ("2022年工作回顾", 0, True), ("一是坚持政治引领。始终把政治建设贯穿于全过程。", 0, False)]
    assert ps[2].bold_runs == ("一是坚持政治引领",)


# ---------------------------------------------------------------- PDF (shape rules on synthetic lines)
@pytest.mark.parametrize("text", ["— 3 —", "- 3 -", "-3-", "第3页", "第 3 页 共 30 页", "3/30", "3", "Page 3 of 30"])
def test_page_number_shapes(text):
    assert PAGE_NUMBER.match(text.replace(" ", ""))


@pytest.mark.parametrize("text", ["2023年工作安排", "一、回顾", "3.5亿元"])
def test_text_is_not_a_page_number(text):
    assert not PAGE_NUMBER.match(text)


def _page(k: int, body: list[tuple[str, float, float]], header: str = "某县政府工作报告") -> list[_Line]:
    lines = [_Line(header, 200, 400, 800, k)]
    lines += [_Line(t, x0, x1, 700 - 20 * i, k) for i, (t, x0, x1) in enumerate(body)]
    return lines + [_Line(f"— {k + 1} —", 280, 320, 40, k)]


def test_running_header_and_page_numbers_are_removed_and_a_sentence_joins_across_pages():
    full, left, right = 500.0, 100.0, 500.0
    p1 = _page(0, [("一、回顾", 132, 220), ("一年来，我们保大盘促增长，经济运行稳中", 132, full),
                   ("向好。地区生产总值完成426.8亿元，超出计", left, right)])
    p2 = _page(1, [("划11.7个百分点。", left, 260), ("今年是开局之年，工作很多。", 132, 420)])
    p3 = _page(2, [("各位代表！展望新时代，机遇与挑战并存。", 132, 460)])
    paras = join_lines(remove_furniture([p1, p2, p3]))
    assert paras == ["一、回顾", "一年来，我们保大盘促增长，经济运行稳中向好。地区生产总值完成426.8亿元，超出计划11.7个百分点。",
                     "今年是开局之年，工作很多。", "各位代表！展望新时代，机遇与挑战并存。"]


def test_a_line_that_appears_on_one_page_only_is_kept():
    p1 = _page(0, [("正文第一段。", 132, 300)], header="独有的一行")
    p2 = _page(1, [("正文第二段。", 132, 300)], header="另一行")
    assert join_lines(remove_furniture([p1, p2])) == ["独有的一行", "正文第一段。", "另一行", "正文第二段。"]


def test_an_unindented_heading_after_a_full_line_that_ends_a_sentence_starts_a_paragraph():
    """A paragraph's last line that ends in 。 within 1.5 em of the right edge, then `（八）…` at the left margin:
    the heading was joined to the paragraph, so its whole section was filed under the one before (QA, 2024 PDF)."""
    left, right = 76.0, 520.0
    p1 = _page(0, [("全年培育“小升规”企业5家以上、“四上”企业30家以上，新增", 98, right),
                   ("专精特新企业2家以上。聚焦民生改善，扎实办好民生实事。", left, 508.8),
                   ("（八）聚焦民生改善，交出高质量发展新答卷", 80.4, 330.5),
                   ("坚持教育优先。聚焦打造全省“优质·特色教育双一流县”目标，优", 98.9, right),
                   ("化教育资源配置。", left, 200)])
    assert join_lines([p1[1:-1]]) == [  # without the running header and page number
        "全年培育“小升规”企业5家以上、“四上”企业30家以上，新增专精特新企业2家以上。聚焦民生改善，扎实办好民生实事。",
        "（八）聚焦民生改善，交出高质量发展新答卷", "坚持教育优先。聚焦打造全省“优质·特色教育双一流县”目标，优化教育资源配置。"]


@pytest.mark.parametrize("heading", ["二、2024年工作安排", "第三部分 今年工作安排", "3.强化要素保障",
                                     "（2）深化国资国企改革", "（三）聚焦市场培育，点燃高质量发展新引擎"],
                         ids=["cn", "part", "num", "num_paren", "cn_paren"])
def test_every_numbered_heading_style_of_the_parser_starts_a_paragraph_after_a_full_line(heading):
    left, right = 76.0, 520.0
    p1 = _page(0, [("今年是全面贯彻落实党的二十大精神的开局之年，是实施规划承上启下", 98, right),
                   ("的关键之年，是疫情防控政策优化调整后的奋进之年，我们任务艰巨。", left, right - 4),
                   (heading, left, 300), ("围绕上述目标，重点做好九方面工作。", 98, 400)])
    assert join_lines([p1[1:-1]])[1:] == [heading, "围绕上述目标，重点做好九方面工作。"]


@pytest.mark.parametrize("body", [
    # a sentence ends at the right edge and the next one starts with a heading token: still the same paragraph
    [("坚持教育优先，推动全县教育事业高质量发展，办好人民满意教育。", 98, 520), ("（二）类学校全部达标，新建改扩建中小学和幼儿园五所，新增学位", 76, 520),
     ("两千个，城乡教育更加均衡。", 76, 250)],
    # a heading token in the middle of a sentence
    [("全年重点项目开工率在一季度达到四成以上，上半年全部开工，确保", 98, 520), ("一、二季度实现双过半，三季度态势稳定，四季度全面完成年度任务", 76, 520),
     ("。", 76, 90)],
    # a wrapped `1.` sentence that is too long for a heading
    [("今年全县经济社会发展的主要预期目标已经明确，具体安排如下：", 98, 520), ("1.地区生产总值增长百分之八左右，规上工业增加值增长百分之九点", 76, 520),
     ("五，固定资产投资增长百分之十。", 76, 300)],
], ids=["after-a-sentence", "mid-sentence", "long-numbered-item"])
def test_a_body_line_that_starts_with_a_heading_token_stays_in_its_paragraph(body):
    paras = join_lines([_page(0, body)[1:-1]])
    assert paras == ["".join(t for t, _, _ in body)]


def test_in_a_narrow_column_a_body_paragraph_is_judged_as_a_whole_not_by_its_first_lines():
    """Eleven characters a line: `一、二季度…` after a full line ending in 。 wraps onto four lines; its first three
    (33 characters, ending in `确保`) look like an `一、` heading, so the paragraph was split there (review of e73229b).
    Lines are joined up to parsing's heading length, not three lines."""
    left, right = 76.0, 208.0
    body = [("　推进重点项目，确保项", 100, right), ("目全面开工，早见成效。", left, right),
            ("一、二季度实现双过半，", left, right), ("三季度态势稳定，四季度", left, right),
            ("全面完成年度任务，确保", left, right), ("全年目标圆满实现。", left, 184)]
    assert join_lines([_page(0, body)[1:-1]]) == ["".join(t for t, _, _ in body)]


def test_in_a_narrow_column_a_heading_wrapped_onto_many_lines_still_starts_a_paragraph():
    left, right = 76.0, 148.0  # six characters a line
    body = [("　坚持教育优", 100, right), ("先，办好人民", left, right), ("满意的教育。", left, right),
            ("（八）聚焦民", left, right), ("生改善，交出", left, right), ("高质量发展新", left, right),
            ("答卷", left, 100), ("　坚持教育优", 100, right), ("先。", left, 100)]
    assert join_lines([_page(0, body)[1:-1]]) == [
        "　坚持教育优先，办好人民满意的教育。", "（八）聚焦民生改善，交出高质量发展新答卷", "　坚持教育优先。"]


@pytest.mark.parametrize("before", [
    [("　各位代表，过去一年成", 100, 196), ("绩来之不易，全县人民辛", 76, 196), ("勤付出，成就显著，谢谢", 76, 196),
     ("大家的支持和帮助。谢谢", 76, 196), ("各位代表的辛勤付出。", 76, 196)],
    [("　各位代表，过去一年成", 100, 196), ("绩来之不易。", 76, 148)],
], ids=["after-a-full-line", "after-a-short-line"])
def test_a_heading_whose_last_line_nearly_fills_the_column_ends_before_its_indented_body(before):
    """Ten characters a line: `（一）聚焦产业转型构` + `筑高质量发展新优势` (nine characters, within 1.5 em of the
    right margin, so `full`) then an indented body. Joining ran on past the heading into its body, so the heading was
    no heading and merged with the paragraph before it (review of 224bc0a); before that it took its body along.
    The joining stops where the text so far is a heading and the next line is indented."""
    left, right = 76.0, 196.0
    heading = [("（一）聚焦产业转型构", left, right), ("筑高质量发展新优势", left, 184)]
    body = [("　一年来我们坚持稳中", 100, right), ("求进工作总基调，经济运", left, right), ("行稳中向好。", left, 148)]
    paras = join_lines([_page(0, before + heading + body)[1:-1]])
    assert paras == ["".join(t for t, _, _ in before), "（一）聚焦产业转型构筑高质量发展新优势",
                     "".join(t for t, _, _ in body)]


def _print_pdf(html: str, out):
    """`html` printed to PDF by headless Chromium, as scripts/make_fixtures.py prints the format fixtures."""
    from playwright.sync_api import sync_playwright
    from scripts.make_fixtures import CHROMIUM, _browser

    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page()
        page.set_content(html, wait_until="load")
        page.pdf(path=str(out), prefer_css_page_size=True)
        browser.close()
    return out


# a 30 em column: a paragraph line holds 30 characters, its first line 28 after the 2 em indent
_COLUMN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 25mm; }}
body {{ font-family: 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif; margin: 0; }}
p, h3 {{ width: 30em; margin: 0; font-size: 16px; line-height: 1.8; }}
p {{ text-indent: 2em; text-align: justify; }} h3 {{ text-indent: 0; }}
</style></head><body>{body}</body></html>"""


def test_a_chromium_pdf_with_an_unindented_heading_after_a_full_last_line(tmp_path):
    """The QA report: a paragraph whose last line fills the column and ends in 。, then `（八）…` at the margin.
    A body line after a full 。 line that starts with `（二）` or `一、` stays in its paragraph."""
    paras = [("今年是全面贯彻落实二十大精神的开局之年，我们正面临难得的", "发展机遇，也面临不少风险挑战，必须保持定力，开创发展新局面。"),
             ("深化民营经济高质量发展三年行动，培育小升规企业五家以上，", "四上企业三十家以上，新增专精特新企业两家，民间投资持续回升。"),
             ("（八）聚焦民生改善，交出高质量发展新答卷",),
             ("坚持教育优先，推动全县教育事业高质量发展，办好人民教育。", "（二）类学校全部达标，新建改扩建中小学和幼儿园五所，新增学位",
              "两千个，城乡教育更加均衡。"),
             ("全年重点项目开工率在一季度达到四成以上，上半年全部开工，", "一、二季度实现双过半，三季度态势稳定，四季度全面完成任务。")]
    body = "".join(f"<h3>{p[0]}</h3>" if len(p) == 1 else f"<p>{''.join(p)}</p>" for p in paras)
    pdf = _print_pdf(_COLUMN_PAGE.format(body=body), tmp_path / "column.pdf")
    import pypdfium2 as pdfium

    from reportsearch.readers.pdf import _page_lines

    doc = pdfium.PdfDocument(str(pdf))
    lines = _page_lines(doc[0].get_textpage(), 0)
    doc.close()
    # the layout is the QA file's: lines as composed, the one before the heading full and ending in 。,
    # the heading not indented
    assert [ln.text for ln in lines] == [t for p in paras for t in p]
    before, heading, em = lines[3], lines[4], 12.0  # 16 px
    assert before.text.endswith("。") and before.x1 >= max(ln.x1 for ln in lines) - 1.5 * em
    assert heading.x0 - before.x0 < 0.8 * em
    assert lines[5].x0 - heading.x0 > 1.2 * em  # the paragraph after it is indented
    got = [p.text for p in read_source(pdf).paragraphs]
    assert got == ["".join(p) for p in paras]


# ---------------------------------------------------------------- Word
@pytest.fixture
def small_docx(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("政府工作报告")
    d.add_paragraph("（2023年2月21日在某县第一届人民代表大会第一次会议上）")
    d.add_heading("一、2022年工作回顾", level=1)
    p = d.add_paragraph()
    p.add_run("坚持教育优先。").bold = True
    p.add_run("完成桃园小学主体。")
    d.add_heading("（一）聚焦产业转型", level=2)
    d.add_paragraph("推进项目建设", style="List Number")
    d.add_paragraph("扩大有效投资", style="List Number")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "指标", "目标"
    t.cell(1, 0).text, t.cell(1, 1).text = "地区生产总值", "增长8.5%"
    d.add_paragraph("表后一段。")
    d.core_properties.title = "某县2023年政府工作报告"
    path = tmp_path / "r.docx"
    d.save(str(path))
    return path


def test_docx_paragraphs_styles_numbering_bold_and_tables(small_docx):
    src = read_source(small_docx)
    got = [(p.text, p.level) for p in src.paragraphs]
    assert got[:3] == [("政府工作报告", 0), ("（2023年2月21日在某县第一届人民代表大会第一次会议上）", 0),
                       ("一、2022年工作回顾", 1)]
    assert src.paragraphs[3].bold_runs == ("坚持教育优先。",) and not src.paragraphs[3].bold
    assert ("（一）聚焦产业转型", 2) in got
    assert ("1.推进项目建设", 1) in got and ("2.扩大有效投资", 1) in got  # Word's own list numbers, made visible
    assert ("指标　目标", 0) in got and ("地区生产总值　增长8.5%", 0) in got
    assert got[-1] == ("表后一段。", 0)  # tables keep their place in the reading order
    assert src.meta == {"title": "某县2023年政府工作报告"}


def test_empty_docx_is_refused(tmp_path):
    import docx

    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    with pytest.raises(InputError, match="empty.docx: the Word file has no text"):
        read_source(path)


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"plain text with a .docx name"])
def test_damaged_docx_is_refused(tmp_path, data):
    path = tmp_path / "bad.docx"
    path.write_bytes(data)
    with pytest.raises(InputError, match="bad.docx: damaged or not a Word .docx file"):
        read_source(path)


def test_a_damaged_pdf_says_why_in_one_clean_line(tmp_path):
    """The reason was cut out of PDFium's message at its last colon, leaving a stray `)`: `(Data format error).)`
    (new-user walkthrough)."""
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(InputError) as e:
        read_source(path)
    assert str(e.value) == f"{path}: damaged or not a PDF (data format error)"


# ---------------------------------------------------------------- web pages
PAGE = """<!DOCTYPE html><html><head><meta charset="{charset}"><title>某县2023年政府工作报告_某县人民政府</title>
<style>.x{{color:red}}</style><script>var a = "脚本里的字";</script></head><body>
<div class="header"><a href="/">首页</a><form><input placeholder="请输入关键词"><button>搜索</button></form></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/gk">政务公开</a></li></ul>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/gk">政务公开</a></div>
<div class="main"><h1>某县2023年政府工作报告</h1>
<p class="meta">发布时间：2023-02-27　来源：县政府办　浏览次数：88</p>
<div id="zoom"><h2>一、2022年工作回顾</h2><p>　　一年来，我们保大盘促增长，经济运行稳中向好。</p>
<p><strong>坚持教育优先。</strong>完成桃园小学主体，新建{rare}幼儿园。</p>
<p>第一行<br>第二行。</p></div>
<div class="share">分享到：<a>微信</a><a>微博</a></div></div>
<div class="footer"><p>版权所有：某县人民政府</p><p>晋ICP备12345678号</p></div></body></html>"""


@pytest.mark.parametrize("charset,encoding", [("gb2312", "gb18030"), ("GBK", "gbk"), ("utf-8", "utf-8")])
def test_html_article_only_in_its_declared_encoding(tmp_path, charset, encoding):
    rare = "䶮" if encoding == "gb18030" else "桃"  # U+4DAE: GB18030 only, not in GB2312/GBK
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.format(charset=charset, rare=rare).encode(encoding))
    src = read_source(path)
    texts = [p.text for p in src.paragraphs]
    assert texts == ["一、2022年工作回顾", "一年来，我们保大盘促增长，经济运行稳中向好。",
                     f"坚持教育优先。完成桃园小学主体，新建{rare}幼儿园。", "第一行", "第二行。"]
    assert src.paragraphs[0].level == 2
    assert src.paragraphs[2].bold_runs == ("坚持教育优先。",)
    assert src.meta == {"title": "某县2023年政府工作报告"}


def test_undeclared_gbk_page_is_decoded():
    text = "<html><body><p>政府工作报告。</p></body></html>"
    assert decode_html(text.encode("gbk")) == text


def test_html_without_an_article_is_refused(tmp_path):
    path = tmp_path / "list.html"
    path.write_text("<html><head><meta charset=utf-8><title>某县人民政府</title></head><body>"
                    "<div class=nav><a href=/>首页</a><a href=/a>政务公开</a></div>"
                    "<ul><li><a href=/1>关于春耕的通知</a></li><li><a href=/2>县政府召开常务会议</a></li></ul>"
                    "<div class=footer>版权所有：某县人民政府</div></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match="list.html: no article text found"):
        read_source(path)


def test_markdown_front_matter_is_metadata_not_text(tmp_path):
    path = tmp_path / "r.md"
    path.write_text("---\ntitle: 政府工作报告\nyear: 2022\nregion: 阳城县\nlayout: post\n---\n# 一、回顾\n\n坚持教育优先。",
                    encoding="utf-8")
    src = read_source(path)
    assert src.meta == {"title": "政府工作报告", "year": "2022", "region": "阳城县"}
    assert [p.text for p in src.paragraphs] == ["一、回顾", "坚持教育优先。"]
    from reportsearch.parsing import parse_file

    d = parse_file(path)
    assert (d.doc, d.meta["doc_title"]) == ("yangcheng-2022", "阳城县2022年政府工作报告")
