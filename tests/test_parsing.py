"""Parser rules on tiny inputs, and golden structure checks on the bundled report."""

import pytest

from conftest import REPORT
from reportsearch.errors import InputError
from reportsearch.parsing import (decode_bytes, heading_level, heading_title, is_clause_label, is_topic_sentence,
                                  parse, parse_file, read_report)
from reportsearch.textnorm import fix_spacing

L1 = "二、2023年工作安排"
L2_1 = "（一）聚焦产业转型，构筑高质量发展新优势"
L2_5 = "（五）聚焦乡村振兴，提升高质量发展新能级"
L2_8 = "（八）聚焦民生改善，交出高质量发展新答卷"


# ---------------------------------------------------------------- unit rules
def test_page_break_joins_a_sentence_cut_in_half():
    d = parse("一、回顾\n\n实施重点项目142个，超出计\n\n划 11.7 个百分点；全市第一。", "t")
    assert [s.text for s in d.segments] == ["实施重点项目142个，超出计划11.7个百分点；全市第一。"]


def test_page_break_does_not_swallow_a_heading():
    d = parse("一、回顾\n\n这一段没有结束\n\n（一）下一个标题\n\n正文。", "t")
    assert d.segments[0].text == "这一段没有结束"
    assert d.segments[1].section == ("一、回顾", "（一）下一个标题")


def test_page_break_drops_a_repeated_opening_quote():
    d = parse("一、甲\n\n拓展“承诺制+标准\n\n“**地+全代办**”改革成效。", "t")
    assert d.segments[0].text == "拓展“承诺制+标准地+全代办”改革成效。"


@pytest.mark.parametrize("raw,clean", [
    ("增长 15.2%", "增长15.2%"), ("完成 102.9 亿元", "完成102.9亿元"), ("新增 5G 基站 65 座", "新增5G基站65座"),
    ("hello world", "hello world"), ("2022 年度“美丽中国”", "2022年度“美丽中国”"),
])
def test_spacing_between_cjk_and_numbers(raw, clean):
    assert fix_spacing(raw) == clean


def test_bold_markers_are_removed_and_labels_found_by_shape():
    d = parse("一、甲\n\n（一）乙\n\n优化提升煤炭产业。着力稳产保供。在确保安全的前提下，原煤稳定。**有序提升产能。**"
              "服务矿井建设，厚植潜力。加快智能改造。续建10个工作面。", "t")
    assert [s.section[-1] for s in d.segments] == ["着力稳产保供", "有序提升产能", "加快智能改造"]
    assert all("**" not in s.text for s in d.segments)
    assert d.segments[0].text.startswith("优化提升煤炭产业。着力稳产保供。")


@pytest.mark.parametrize("text,level", [
    ("一、2022年工作回顾", 1), ("十二、附则", 1), ("（五）聚焦乡村振兴，提升高质量发展新能级", 2),
    ("(五) 聚焦乡村振兴，提升高质量发展新能级", 2), ("一是坚持政治引领。", 0), ("一年来，我们保大盘促增长。", 0),
    ("二〇二三年二月二十日印", 0), ("一、这是一个很长的句子而且以句号结尾所以它不是标题。", 0),
])
def test_heading_levels(text, level):
    assert heading_level(text) == level


def test_digit_test_pitfall_is_avoided():
    assert heading_level("一年来，我们坚持稳中求进") == 0


def test_ascii_parenthesis_heading_is_canonicalised():
    assert heading_title("(五) 聚焦乡村振兴") == "（五）聚焦乡村振兴"


@pytest.mark.parametrize("s,topic,label", [
    ("优化提升煤炭产业。", True, True), ("加快“中游”延链。", True, True), ("各位代表！", False, False),
    ("全年新增市场主体3700户。", False, False), ("一切围绕项目转，一切围绕项目干。", False, False),
    ("延伸打造“太行一号”示范带。", True, True),
])
def test_topic_and_label_shapes(s, topic, label):
    assert is_topic_sentence(s) is topic
    assert is_clause_label(s) is label


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_are_detected(encoding):
    text = "政府工作报告。坚持教育优先。"
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize("data,msg", [
    (b"", "empty"), (b"   \n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"), (b"caf\xe9 \xff\xfe\xfd", "decode"),
])
def test_bad_bytes_are_refused_with_one_clear_line(data, msg):
    with pytest.raises(InputError, match=msg):
        decode_bytes(data)


def test_file_without_chinese_is_refused(tmp_path):
    p = tmp_path / "english.txt"
    p.write_text("Only English here.", encoding="utf-8")
    with pytest.raises(InputError, match="no Chinese"):
        read_report(p)


# ---------------------------------------------------------------- golden: the bundled report
@pytest.fixture(scope="module")
def doc():
    return parse_file(REPORT)


def test_front_matter_becomes_metadata(doc):
    assert doc.meta["title"] == "政府工作报告"
    assert doc.meta["date"] == "2023-02-21"
    assert "闫晋中" in doc.meta["speaker"]
    assert all("闫晋中" not in s.text for s in doc.segments)
    assert doc.meta["back_matter"] == ["大会秘书处", "二〇二三年二月二十日印"]


GOLDEN_OUTLINE_L1_L2 = [
    ("一、2022年工作回顾",), (L1,), (L1, L2_1), (L1, "（二）聚焦扩大投资，积蓄高质量发展新动能"),
    (L1, "（三）聚焦市场培育，点燃高质量发展新引擎"), (L1, "（四）聚焦城市更新，建强高质量发展新支撑"), (L1, L2_5),
    (L1, "（六）聚焦生态建设，绘就高质量发展新画卷"), (L1, "（七）聚焦深化改革，催生高质量发展新活力"), (L1, L2_8),
    (L1, "（九）聚焦风险防范，筑牢高质量发展新屏障"), ("三、全面加强政府自身建设",),
]
GOLDEN_L3 = {
    L2_1: ["优化提升煤炭产业", "做精做优煤层气产业", "发展壮大先进制造业", "做大做强新能源产业", "提质增效现代服务业",
           "融合发展文旅康养产业", "赋能发力数字产业"],
    "（二）聚焦扩大投资，积蓄高质量发展新动能": ["系统谋划项目", "精准招引项目", "优质服务项目", "高效推进项目"],
    "（三）聚焦市场培育，点燃高质量发展新引擎": ["助企纾困保主体", "创新引领强主体", "创优环境活主体"],
    "（四）聚焦城市更新，建强高质量发展新支撑": ["完善城镇基础", "提升城市品质", "加强市政管理"],
    L2_5: ["提速建设沁河生态经济带", "延伸打造“太行一号”示范带", "发展特优高效农业", "建设宜居和美乡村", "提高农村居民收入"],
    "（六）聚焦生态建设，绘就高质量发展新画卷": ["持续优化生态空间", "持续强化污染防治", "持续推动降碳增效"],
    "（七）聚焦深化改革，催生高质量发展新活力": ["深化开发区改革创新", "深化国资国企改革", "大力发展战略性新兴产业"],
    L2_8: ["坚持教育优先", "建设健康沁水", "强化社会保障", "繁荣文化事业"],
    "（九）聚焦风险防范，筑牢高质量发展新屏障": ["守住安全底线", "守好防控阵地", "守牢稳定防线"],
    "三、全面加强政府自身建设": ["政治引领稳航向", "恪守初心办实事", "躬身入局抓落实", "依法履职提效能", "清正廉洁守红线"],
}


def test_golden_outline(doc):
    assert [o for o in doc.outline if len(o) <= 2 and not (len(o) == 2 and o[0].startswith("三"))] \
        == GOLDEN_OUTLINE_L1_L2
    l3 = {}
    for o in doc.outline:
        if (len(o) == 3) or (len(o) == 2 and o[0].startswith("三")):
            l3.setdefault(o[-2], []).append(o[-1])
    assert l3 == GOLDEN_L3


GOLDEN_CLAUSES = [
    ("续建10个煤矿智能化工作面", (L1, L2_1, "优化提升煤炭产业", "加快智能改造")),
    ("开工建设郑庄铁路专用线", (L1, L2_1, "优化提升煤炭产业", "有序提升产能")),
    ("京津冀LNG调峰储备中心", (L1, L2_1, "做精做优煤层气产业", "加快“中游”延链")),
    ("新增5G基站65座", (L1, L2_1, "赋能发力数字产业", "优化基础布局")),
    ("继续开展数字券促销活动", (L1, L2_1, "提质增效现代服务业", "释放消费潜力")),
    ("容缺受理", (L1, "（二）聚焦扩大投资，积蓄高质量发展新动能", "优质服务项目", "强化审批服务")),
    ("逐步解决停车难、充电难问题", (L1, "（四）聚焦城市更新，建强高质量发展新支撑", "加强市政管理", "增加车位供给")),
    ("统筹推进拆、治、建", (L1, L2_5, "提速建设沁河生态经济带")),
    ("建成吕村至四十亩段旅游公路", (L1, L2_5, "延伸打造“太行一号”示范带", "畅通路")),
    ("完成桃园小学", (L1, L2_8, "坚持教育优先")),
    ("建设公益性零工市场", (L1, L2_8, "强化社会保障", "落实就业优先政策")),
    ("全面落实“乙类乙管”要求", (L1, "（九）聚焦风险防范，筑牢高质量发展新屏障", "守好防控阵地")),
    ("“13710”", ("三、全面加强政府自身建设", "躬身入局抓落实", "坚持跟踪问效")),
    ("地区生产总值完成426.8亿元", ("一、2022年工作回顾",)),
]


@pytest.mark.parametrize("needle,section", GOLDEN_CLAUSES)
def test_golden_clause_paths(doc, needle, section):
    hits = [s for s in doc.segments if needle in s.text]
    assert hits, needle
    assert hits[0].section == section


# ---------------------------------------------------------------- heading styles, hints, metadata (issue 9)
from reportsearch.parsing import doc_id, heading_style, parse_paragraphs, report_meta  # noqa: E402
from reportsearch.readers import Paragraph  # noqa: E402


@pytest.mark.parametrize("text,style", [
    ("第一部分　2022年工作回顾", 0), ("第三章 附则", 0), ("一、回顾", 1), ("（一）聚焦产业", 2), ("1. 聚焦产业", 3),
    ("1．聚焦产业", 3), ("（1）完善基础", 4), ("(12) 完善基础", 4), ("1.8万平方米", None), ("2022年是开局之年", None),
    ("一是坚持政治引领", None), ("1. 这一句以句号结尾。", None),
])
def test_numbered_heading_styles(text, style):
    assert heading_style(text) == style


def test_levels_follow_the_styles_a_report_uses():
    d = parse("第一部分 回顾\n\n（1）小节\n\n正文一句。\n\n第二部分 安排\n\n正文二句。", "t")
    assert [s.section for s in d.segments] == [("第一部分 回顾", "（1）小节"), ("第二部分 安排",)]


def test_format_hints_make_unnumbered_headings_but_not_in_front_matter():
    paras = [Paragraph("政府工作报告", level=1), Paragraph("各位代表："), Paragraph("现在报告工作。"),
             Paragraph("过去一年工作回顾", level=2), Paragraph("经济稳中向好。"),
             Paragraph("今年工作安排", bold=True, bold_runs=("今年工作安排",)), Paragraph("坚持教育优先。完成小学主体。"),
             Paragraph("这一段没有结束"), Paragraph("而是接着下一段。")]
    d = parse_paragraphs(paras, "t")
    assert d.meta["title"] == "政府工作报告"
    assert [(s.section, s.text) for s in d.segments] == [
        ((), "现在报告工作。"), (("过去一年工作回顾",), "经济稳中向好。"),
        (("过去一年工作回顾", "今年工作安排", "坚持教育优先"), "坚持教育优先。完成小学主体。"),
        (("过去一年工作回顾", "今年工作安排"), "这一段没有结束而是接着下一段。")]


@pytest.mark.parametrize("text,date", [("（2023年2月21日在沁水县第十七届人民代表大会第四次会议上）", "2023-02-21"),
                                       ("（二〇二三年二月二十一日在某县人民代表大会会议上）", "2023-02-21"),
                                       ("（2024年1月5日）", "2024-01-05"), ("（2024年13月5日）", None)])
def test_meeting_dates(text, date):
    d = parse(f"政府工作报告\n\n{text}\n\n各位代表：\n\n正文一句。", "t")
    assert d.meta.get("date") == date


def test_meta_from_front_matter_wins_over_fallbacks():
    m = report_meta({"title": "政府工作报告", "date": "2023-02-21", "speaker": "沁水县人民政府县长 闫晋中"},
                    {"title": "别的标题"}, "whatever-2020", {"title": "X", "year": 1999, "region": "某县"})
    assert (m["region"], m["issuer"], m["year"], m["doc_title"]) == ("沁水县", "沁水县人民政府", 2023,
                                                                     "沁水县2023年政府工作报告")


def test_meta_fallbacks_in_order():
    m = report_meta({}, {"title": "阳城县2022年政府工作报告"}, "report")
    assert (m["region"], m["year"], m["title"]) == ("阳城县", 2022, "阳城县2022年政府工作报告")
    m = report_meta({}, {}, "gov-report-2021")
    assert (m.get("region"), m["year"], m["doc_title"]) == (None, 2021, "2021年政府工作报告")
    m = report_meta({}, {}, "report", {"title": "政府工作报告", "year": 2019, "region": "高平市"})
    assert m["doc_title"] == "高平市2019年政府工作报告" and m["issuer"] == "高平市人民政府"


@pytest.mark.parametrize("region,year,stem,doc", [
    ("沁水县", 2023, "x", "qinshui-2023"), ("晋城市", 2024, "x", "jincheng-2024"), ("沁县", 2023, "x", "qinxian-2023"),
    ("山西省", None, "x", "shanxi"), (None, 2023, "qinshui-2023-government-work-report", "qinshui-2023-government-work-report"),
    (None, None, "My Report", "my-report"), (None, 2022, "政府工作报告", "zhengfugongzuobaogao-2022"),
])
def test_doc_ids_are_short_and_stable(region, year, stem, doc):
    assert doc_id(region, year, stem) == doc


def test_meta_flags_fill_what_a_bare_file_lacks(tmp_path):
    p = tmp_path / "report.txt"
    p.write_text("一、回顾\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    assert parse_file(p).doc == "report"
    d = parse_file(p, title="政府工作报告", year=2023, region="沁水县")
    assert d.doc == "qinshui-2023" and d.meta["doc_title"] == "沁水县2023年政府工作报告"


@pytest.mark.parametrize("text,region", [
    ("在晋城市沁水县第十七届人民代表大会第四次会议上", "沁水县"), ("杭州市余杭区人民政府区长 某某", "余杭区"),
    ("郑州市人民政府市长 某某", "郑州市"), ("市中区人民政府区长 某某", "市中区"), ("晋城市城区人民政府", "城区"),
    ("内蒙古自治区鄂尔多斯市人民政府", "鄂尔多斯市"), ("阳城县2022年政府工作报告", "阳城县"), ("政府工作报告", None),
    ("政府工作报告 沁水县人民政府县长闫晋中", "沁水县"), ("政府工作报告晋城市沁水县人民政府", "沁水县"),
    ("2021年沁水县政府工作报告 县人民政府", None),
    ("——2023年2月21日在沁水县第十七届人民代表大会第四次会议上", "沁水县"),
    ("——2023年2月21日在沁水县第十七届人民代表大会第四次会议上 沁水县人民政府县长 闫晋中", "沁水县"),
    ("在上海市第十六届人民代表大会第一次会议上", "上海市"),
])
def test_region_is_the_innermost_government(text, region):
    from reportsearch.parsing import _region_in

    assert _region_in(text) == region


def test_a_title_line_before_the_speaker_is_no_part_of_the_region_or_issuer():
    """`政府工作报告 沁水县人民政府县长…` as one speaker text gave the region 政府工作报告沁水县 (QA, 2021 page)."""
    m = report_meta({"title": "2021年沁水县政府工作报告", "speaker": "政府工作报告 沁水县人民政府县长 闫晋中"})
    assert (m["region"], m["issuer"]) == ("沁水县", "沁水县人民政府")


# the county site's page: its own <h1> headline above the report's title line, then meeting, speaker, salutation
HEADLINE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>2021年沁水县政府工作报告_沁水县人民政府</title>
</head><body><div class="nav"><a href="/">首页</a> <a href="/zwgk">政务公开</a></div>
<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府工作报告</div>
<div class="article"><h1>2021年沁水县政府工作报告</h1>
<div class="info">发布时间：2021-03-02 来源：沁水县人民政府办公室 浏览次数：1234</div>
<p style="text-align:center">政府工作报告</p>
<p style="text-align:center">（2021年2月21日在沁水县第十七届人民代表大会第一次会议上）</p>
<p style="text-align:center">沁水县人民政府县长闫晋中</p>
<p style="text-align:center">各位代表：</p>
<p>现在，我代表县人民政府向大会报告工作，请予审议，并请政协委员和其他列席会议同志提出意见。</p>
<h2>一、2020年工作回顾</h2>
<p>一年来，我们保大盘促增长，经济运行稳中向好。地区生产总值完成301.2亿元，增长4.1%。</p>
<h2>二、2021年工作安排</h2>
<p>今年全县经济社会发展的主要预期目标为：地区生产总值增长8%，争取更好成绩。</p>
</div><div class="footer">版权所有：沁水县人民政府</div></body></html>"""


@pytest.mark.parametrize("fallbacks", [{}, {"region": "沁水县"}, {"title": "政府工作报告", "region": "沁水县"}])
def test_a_page_headline_above_the_reports_title_line(tmp_path, fallbacks):
    """The page's <h1> took the title, so the report's own `政府工作报告` line joined the speaker and the region
    read 政府工作报告沁水县 (doc id zhengfugongzuobaogaoqinshui-2021); `--region` did not help."""
    p = tmp_path / "qinshui-2021.html"
    p.write_text(HEADLINE_PAGE, encoding="utf-8")
    d = parse_file(p, **fallbacks)
    m = d.meta
    assert d.doc == "qinshui-2021"
    assert (m["region"], m["issuer"], m["title"], m["doc_title"], m["year"]) == (
        "沁水县", "沁水县人民政府", "政府工作报告", "沁水县2021年政府工作报告", 2021)
    assert m["speaker"] == "沁水县人民政府县长闫晋中" and m["headline"] == ["2021年沁水县政府工作报告"]
    assert m["meeting"] == "沁水县第十七届人民代表大会第一次会议"


def test_a_report_title_line_after_the_meeting_line_stays_out_of_the_title():
    d = parse("政府工作报告\n\n（2023年2月21日在沁水县第十七届人民代表大会第四次会议上）\n\n"
              "沁水县人民政府县长 闫晋中\n\n各位代表：\n\n正文一句。", "t")
    assert d.meta["title"] == "政府工作报告" and "headline" not in d.meta


_BODY = "各位代表：\n\n现在，我代表县人民政府向大会报告工作。\n\n一、2022年工作回顾\n\n一年来，经济运行稳中向好。"
_MEETING = "沁水县第十七届人民代表大会第四次会议"


@pytest.mark.parametrize("subtitle", [
    f"——在{_MEETING}上的报告", f"——2023年2月21日在{_MEETING}上的报告", f"——2023年2月21日在{_MEETING}上",
    f"-在{_MEETING}上的报告", f"（2023年2月21日在{_MEETING}上）", f"2023年2月21日在{_MEETING}上",
])
def test_a_subtitle_under_the_title_is_the_meeting_line_not_the_title(tmp_path, subtitle):
    """`——在…会议上的报告` ends in 报告, so it was taken for the report's title line: the title became the subtitle
    (doc_title 2023年——在沁水县…的报告) and the real title moved to `headline` (review of e73229b)."""
    p = tmp_path / "report.txt"
    p.write_text(f"沁水县2023年政府工作报告\n\n{subtitle}\n\n县长 闫晋中\n\n{_BODY}", encoding="utf-8")
    d = parse_file(p)
    m = d.meta
    assert d.doc == "qinshui-2023" and "headline" not in m
    assert (m["title"], m["doc_title"], m["region"], m["year"], m["meeting"], m["speaker"]) == (
        "沁水县2023年政府工作报告", "沁水县2023年政府工作报告", "沁水县", 2023, _MEETING, "县长闫晋中")


@pytest.mark.parametrize("speaker", ["县长 闫晋中", "沁水县人民政府县长 闫晋中"])
def test_a_dash_meeting_line_gives_the_date_and_meeting_like_a_bracketed_one(tmp_path, speaker):
    """`——2023年2月21日在…会议上` was read as speaker text: the region came out 日在沁水县 (doc id rizaiqinshui) or,
    with the speaker's `沁水县人民政府` after it, 上沁水县 (shangqinshui), and there was no date or year."""
    p = tmp_path / "report.txt"
    p.write_text(f"政府工作报告\n\n——2023年2月21日在{_MEETING}上\n\n{speaker}\n\n{_BODY}", encoding="utf-8")
    d = parse_file(p)
    m = d.meta
    assert d.doc == "qinshui-2023"
    assert (m["region"], m["issuer"], m["year"], m["date"], m["meeting"], m["title"], m["doc_title"]) == (
        "沁水县", "沁水县人民政府", 2023, "2023-02-21", _MEETING, "政府工作报告", "沁水县2023年政府工作报告")
    assert m["speaker"] == speaker.replace(" ", "")


@pytest.mark.parametrize("text,is_title", [
    ("政府工作报告", True), ("2021年沁水县政府工作报告", True), ("政府工作报告（摘要）", True),
    (f"——在{_MEETING}上的报告", False), (f"—— 2023年2月21日在{_MEETING}上的报告", False),
    (f"-在{_MEETING}上的报告", False), (f"在{_MEETING}上的报告", False), (f"（2023年2月21日在{_MEETING}上的报告）", False),
    ("关于沁水县财政预算执行情况的报告", False), ("沁水县人民政府工作报告", False),
])
def test_a_title_line_is_a_work_report_title_not_a_subtitle(text, is_title):
    from reportsearch.parsing import _is_title_line

    assert _is_title_line(text) is is_title


@pytest.mark.parametrize("front,title,date", [
    (f"在{_MEETING}上的政府工作报告\n\n县长 闫晋中", f"在{_MEETING}上的政府工作报告", None),
    (f"2023年2月21日在{_MEETING}上的政府工作报告\n\n县长 闫晋中", f"2023年2月21日在{_MEETING}上的政府工作报告",
     "2023-02-21"),
    (f"政府工作报告\n\n在{_MEETING}上的政府工作报告\n\n县长 闫晋中", "政府工作报告", None),
], ids=["first-line", "first-line-dated", "under-a-title"])
def test_a_line_ending_in_work_report_is_a_title_line_not_the_meeting_line(tmp_path, front, title, date):
    """`在…会议上的政府工作报告` as the first front line was taken for the meeting line, so the speaker line became
    the title (`县长闫晋中`, doc_title 沁水县县长闫晋中; review of 224bc0a). It is the title; its meeting is still read."""
    p = tmp_path / "report.txt"
    p.write_text(f"{front}\n\n{_BODY}", encoding="utf-8")
    m = parse_file(p).meta
    assert (m["title"], m["meeting"], m.get("date"), m["speaker"], m["region"]) == (
        title, _MEETING, date, "县长闫晋中", "沁水县")
    assert m["doc_title"] == (title if "沁水县" in title else f"沁水县{title}") and "headline" not in m


@pytest.mark.parametrize("text,is_meeting", [
    (f"在{_MEETING}上的政府工作报告", False), (f"2023年2月21日在{_MEETING}上的政府工作报告", False),
    (f"——在{_MEETING}上的政府工作报告", True), (f"在{_MEETING}上", True), (f"——在{_MEETING}上的报告", True),
])
def test_only_an_undecorated_work_report_line_is_kept_out_of_the_meeting_lines(text, is_meeting):
    from reportsearch.parsing import _is_meeting_line

    assert _is_meeting_line(text) is is_meeting


@pytest.mark.parametrize("lines", [
    ["——2023年2月21日在沁水县第十七届人民代表大会", "第四次会议上"],
    ["——2023年2月21日在沁水县第十七届", "人民代表大会第四次", "会议上"],
    ["——2023年2月21日", f"在{_MEETING}上"],
    ["——2023年2月21日在沁水县第十七届人民代表大会第四次会", "议上的报告"],
    ["（2023年2月21日在沁水县第十七届", "人民代表大会第四次会议上）"],
    ["（2023年2月21日在沁水县第十七届", "人民代表大会第四次", "会议上）"],
    ["一一2023年2月21日在沁水县第十七届人民代表大会", "第四次会议上"],
], ids=["dash", "dash-3", "dash-after-date", "dash-report", "bracket", "bracket-3", "yiyi"])
def test_a_meeting_line_wrapped_over_front_lines_is_read_as_one(tmp_path, lines):
    """A centred PDF subtitle wraps: `——2023年2月21日在沁水县第十七届人民代表大会` + `第四次会议上` gave no date or
    year (doc id qinshui) and the speaker took both lines; the bracketed one gave issuer `）沁水县人民政府` (review
    of 224bc0a). The lines are joined up to 会议上 / the closing bracket."""
    p = tmp_path / "report.txt"
    p.write_text("政府工作报告\n\n" + "\n\n".join(lines) + f"\n\n沁水县人民政府县长 闫晋中\n\n{_BODY}", encoding="utf-8")
    d = parse_file(p)
    m = d.meta
    assert d.doc == "qinshui-2023"
    assert (m["date"], m["meeting"], m["speaker"], m["issuer"], m["title"], m["doc_title"]) == (
        "2023-02-21", _MEETING, "沁水县人民政府县长闫晋中", "沁水县人民政府", "政府工作报告", "沁水县2023年政府工作报告")


def test_a_wrapped_meeting_line_joins_only_up_to_its_close():
    """A dashed line that never reaches 会议上 within a few lines, and a bracketed line that is no meeting, stay as
    they are: nothing after them is swallowed."""
    from reportsearch.parsing import _join_wrapped_meeting

    front = ["政府工作报告", "——记沁水县的一年", "沁水县人民政府县长 闫晋中", "各位代表："]
    assert _join_wrapped_meeting(front) == front
    front = ["政府工作报告", "（草案", "提请审议）", "县长 闫晋中"]
    assert _join_wrapped_meeting(front) == front


def test_the_issuer_keeps_no_stray_bracket_before_the_place_name():
    from reportsearch.parsing import report_meta

    m = report_meta({"title": "政府工作报告", "speaker": "第四次会议上） 沁水县人民政府县长闫晋中"})
    assert (m["issuer"], m["region"]) == ("沁水县人民政府", "沁水县")


@pytest.mark.parametrize("dash", ["一一", "━━", "━", "一一 ", "——"])
@pytest.mark.parametrize("subtitle", [f"2023年2月21日在{_MEETING}上", f"2023年2月21日在{_MEETING}上的报告"])
def test_yiyi_and_heavy_dashes_open_a_meeting_line(tmp_path, dash, subtitle):
    """`一一` (two 一 set as a dash) and `━━` were not read as a dash: no date, and the line went into the speaker."""
    p = tmp_path / "report.txt"
    p.write_text(f"沁水县2023年政府工作报告\n\n{dash}{subtitle}\n\n县长 闫晋中\n\n{_BODY}", encoding="utf-8")
    m = parse_file(p).meta
    assert (m["date"], m["meeting"], m["speaker"], m["title"], m["meeting_line"]) == (
        "2023-02-21", _MEETING, "县长闫晋中", "沁水县2023年政府工作报告", subtitle)


@pytest.mark.parametrize("text,is_meeting,is_title", [
    (f"一一在{_MEETING}上", True, False), (f"━━在{_MEETING}上的报告", True, False),
    ("一一对应，逐项落实", False, False), (f"一一落实在{_MEETING}上的部署", False, False),
    ("一一二〇二三年沁水县政府工作报告", False, True), ("一年来在县委的领导下召开会议上", False, False),
])
def test_yiyi_is_a_dash_only_before_a_date_or_a_meeting(text, is_meeting, is_title):
    """`一一` opens a meeting line only before a date or 在…会议: a title or heading starting with 一 keeps its text."""
    from reportsearch.parsing import _front_meta, _is_meeting_line, _is_title_line

    assert (_is_meeting_line(text), _is_title_line(text)) == (is_meeting, is_title)
    if not is_meeting:
        assert _front_meta([text, "县长 闫晋中"], [])["title"] == text


@pytest.mark.parametrize("subtitle", [
    f"——2023年2月21日在{_MEETING[:-2]}全体会上", f"（2023年2月21日在{_MEETING[:-2]}全体会上）",
    f"2023年2月21日在{_MEETING[:-2]}全体会上", f"——2023年2月21日在{_MEETING[:-2]}全体会上的报告",
])
def test_a_meeting_line_ending_in_quanti_hui_shang_is_the_meeting_line(tmp_path, subtitle):
    """`…第四次全体会上` (for `…第四次全体会议上`) was no meeting line: no date or year, and it went into the
    speaker. It names the meeting as written, `…第四次全体会`."""
    p = tmp_path / "report.txt"
    p.write_text(f"政府工作报告\n\n{subtitle}\n\n沁水县人民政府县长 闫晋中\n\n{_BODY}", encoding="utf-8")
    d = parse_file(p)
    m = d.meta
    assert (d.doc, m["date"], m["meeting"], m["speaker"], m["issuer"], m["title"]) == (
        "qinshui-2023", "2023-02-21", f"{_MEETING[:-2]}全体会", "沁水县人民政府县长闫晋中", "沁水县人民政府", "政府工作报告")


def test_a_wrapped_quanti_hui_shang_meeting_line_is_read_as_one():
    from reportsearch.parsing import _front_meta

    m = _front_meta(["政府工作报告", "——2023年2月21日在沁水县第十七届人民代表大会", "第四次全体会上", "县长 闫晋中"], [])
    assert (m["date"], m["meeting"], m["speaker"]) == ("2023-02-21", f"{_MEETING[:-2]}全体会", "县长 闫晋中")


@pytest.mark.parametrize("line,title", [
    (f"政府工作报告——2023年2月21日在{_MEETING}上", "政府工作报告"),
    (f"沁水县政府工作报告 ——在{_MEETING}上的报告", "沁水县政府工作报告"),
    (f"政府工作报告━━2023年2月21日在{_MEETING}上", "政府工作报告"),
    (f"政府工作报告一一2023年2月21日在{_MEETING}上", "政府工作报告"),
    (f"政府工作报告--2023年2月21日在{_MEETING}上", "政府工作报告"),
    (f"政府工作报告（摘要）——2023年2月21日在{_MEETING[:-2]}全体会上", "政府工作报告（摘要）"),
])
def test_a_title_and_its_dashed_subtitle_on_one_line_are_split(tmp_path, line, title):
    """`政府工作报告——2023年2月21日在…会议上` on one line was all title, with no date or meeting: it is read as the
    title line and the meeting line."""
    p = tmp_path / "report.txt"
    p.write_text(f"{line}\n\n县长 闫晋中\n\n{_BODY}", encoding="utf-8")
    m = parse_file(p).meta
    assert (m["title"], m["meeting"], m["speaker"], m["region"]) == (
        title, _MEETING if "全体会" not in line else f"{_MEETING[:-2]}全体会", "县长闫晋中", "沁水县")
    assert (m.get("date"), m.get("year")) == (("2023-02-21", 2023) if "2023年" in line else (None, None))


@pytest.mark.parametrize("line", [
    "沁水县政府工作报告——高质量发展之年", "政府工作报告——2023年2月21日",
    "政府工作报告——记沁水县的一年", "一一二〇二三年沁水县政府工作报告",
    # a theme that starts with 在 and a bracketed meeting line after it: the meeting was read from the theme's 在
    # on (`新的起点上再出发（2023年…会议`; review), as the title stays whole as before
    "政府工作报告——在新的起点上再出发（2023年2月21日在沁水县第十七届人民代表大会第四次会议上）",
])
def test_a_title_with_a_dash_but_no_meeting_after_it_stays_whole(line):
    from reportsearch.parsing import _front_meta

    assert _front_meta([line, "县长 闫晋中"], [])["title"] == line


def test_the_issuer_keeps_no_quanti_hui_shang_before_the_place_name():
    from reportsearch.parsing import report_meta

    m = report_meta({"title": "政府工作报告", "speaker": "第四次全体会上） 沁水县人民政府县长闫晋中"})
    assert (m["issuer"], m["region"]) == ("沁水县人民政府", "沁水县")
