"""Year-aware answers in a library of three years' reports, with the real model: 去年, 前年, 今年 and named years."""

import shutil

import pytest

from conftest import REPORT
from reportsearch.engine import SearchEngine
from reportsearch.ingest import ingest_paths

# (report year, the year its review covers, GDP that year, GDP growth target of the report's own year)
YEARS = ((2022, 2021, "383.5亿元", "9%"), (2024, 2023, "458.6亿元", "7%"))


def _year_copy(text: str, year: int, reviewed: int, gdp: str, target: str) -> str:
    """The bundled 2023 report made into another year's: its date, headings, GDP and GDP target."""
    for old, new in (("2023年2月21日", f"{year}年2月20日"), ("一、2022年工作回顾", f"一、{reviewed}年工作回顾"),
                     ("二、2023年工作安排", f"二、{year}年工作安排"), ("地区生产总值完成426.8亿元", f"地区生产总值完成{gdp}"),
                     ("地区生产总值增长8.5%", f"地区生产总值增长{target}")):
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def three_years(real_index, real_embedder, tmp_path_factory):
    """The bundled 2023 report with a 2022 and a 2024 copy (other headings and figures), added to its index."""
    root = tmp_path_factory.mktemp("three-years")
    index = root / "index"
    shutil.copytree(real_index, index)
    text = REPORT.read_text(encoding="utf-8")
    paths = []
    for year, reviewed, gdp, target in YEARS:
        path = root / f"qinshui-{year}.txt"
        path.write_text(_year_copy(text, year, reviewed, gdp, target), encoding="utf-8")
        paths.append(path)
    r = ingest_paths(paths, index, rebuild=False, embedder=real_embedder, progress=False)
    assert sorted(r.added) == ["qinshui-2022", "qinshui-2024"]
    return SearchEngine.load(index, embedder=real_embedder)


def top(engine, q, **filters):
    r = engine.search(q, top_k=3, **filters)
    h = r.results[0]
    return h.passage.year, h.passage.section[0], h.answer.figure.text if h.answer.figure else None, r.low_confidence


def test_relative_words_mean_the_newest_report(three_years):
    """去年 is the newest report's review, not each report's (the 2021 figure came first: new-user walkthrough)."""
    assert top(three_years, "去年GDP多少") == (2024, "一、2023年工作回顾", "458.6亿元", False)
    assert top(three_years, "前年GDP多少") == (2023, "一、2022年工作回顾", "426.8亿元", False)
    assert top(three_years, "今年GDP增长目标是多少")[:3] == (2024, "二、2024年工作安排", "7%")
    year, head, _, _ = top(three_years, "今年教育方面有什么安排")
    assert (year, head) == (2024, "二、2024年工作安排")


def test_relative_words_within_a_chosen_report_are_that_reports_own(three_years):
    assert top(three_years, "去年GDP多少", docs=["qinshui-2022"])[:3] == (2022, "一、2021年工作回顾", "383.5亿元")
    c = three_years.compare("去年GDP多少").to_dict()
    got = [(x["year"], x["hit"]["answer"]["figure"]["text"]) for x in c["reports"]]
    assert got == [(2024, "458.6亿元"), (2023, "426.8亿元"), (2022, "383.5亿元")]


def test_a_named_year_is_what_happened_unless_a_plan_is_asked_for(three_years):
    """2023 is covered twice: the 2023 report's plan (a target) and the 2024 report's review (what happened)."""
    assert top(three_years, "2023年地区生产总值是多少") == (2024, "一、2023年工作回顾", "458.6亿元", False)
    assert top(three_years, "2023年GDP增长目标是多少")[:3] == (2023, "二、2023年工作安排", "8.5%")
    assert top(three_years, "2021年GDP多少")[:3] == (2022, "一、2021年工作回顾", "383.5亿元")
    year, head, _, low = top(three_years, "2022年教育方面有哪些安排")
    assert (year, head, low) == (2022, "二、2022年工作安排", False)


def test_a_named_year_counts_as_found_in_a_passage_about_it(engine):
    """`2023年教育方面有哪些安排` found the right passage but was flagged: 2023 is in its heading, not its text."""
    for q in ("2023年教育方面有哪些安排", "2023年医疗方面有什么安排", "2022年地区生产总值是多少"):
        r = engine.search(q, top_k=3)
        assert not r.low_confidence, q
    for q in ("2019年GDP多少", "2025年教育方面有哪些安排"):  # years this report says nothing about
        r = engine.search(q, top_k=3)
        assert r.low_confidence, q


def test_a_paragraph_kept_from_year_to_year_is_one_result(three_years):
    """The parking paragraph is in all three reports word for word: one result, the newest copy, naming the
    others, and the next results are other passages (they were the same text three times)."""
    r = three_years.search("停车难怎么解决", top_k=3)
    first = r.results[0]
    assert first.passage.year == 2024 and "停车难" in first.passage.text
    assert [o.year for o in first.also_in] == [2023, 2022]
    assert all(h.passage.text != first.passage.text for h in r.results[1:])
    assert len({h.passage.id for h in r.results}) == 3

    from reportsearch.web.render import to_text

    assert "原文相同的段落也见于《沁水县2023年政府工作报告》《沁水县2022年政府工作报告》" in to_text(r)


def test_the_section_choices_of_all_reports_are_newest_first(three_years):
    """With 全部报告 the 限定章节 list followed the order the reports were added (new-user walkthrough)."""
    got = three_years.sections()
    assert got[:2] == ["一、2023年工作回顾", "二、2024年工作安排"]
    assert got.index("一、2022年工作回顾") < got.index("一、2021年工作回顾") < got.index("二、2022年工作安排")
    assert len(got) == len(set(got))
