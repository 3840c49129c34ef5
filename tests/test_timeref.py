"""The time a question refers to, the half of a report a passage is in, and the year-aware ranking preference."""

from reportsearch.records import Passage
from reportsearch.timeref import (PLAN, REVIEW, TimeRef, asks_plan, covered, covered_year, in_library,
                                  passage_half, prefer_newest, prefer_time, question_time, time_match)

REV = ("一、2022年工作回顾",)
PLN = ("二、2023年工作安排", "（一）聚焦产业转型", "优化提升煤炭产业")


def P(pid, section, year=2023):
    return Passage(id=pid, doc=f"r{year}", section=section, text=pid, year=year)


def test_question_time():
    assert question_time("去年全县GDP是多少") == TimeRef(half=REVIEW)
    for q in ("上年一般公共预算收入", "过去一年原煤产量", "What was GDP last year?"):
        assert question_time(q).half == REVIEW, q
    for q in ("今年要新建多少个5G基站", "本年收入计划", "明年的打算", "GDP增长目标", "What is the target this year?"):
        assert question_time(q).half == PLAN, q
    assert question_time("前年的GDP") == TimeRef(half=REVIEW, back=2)
    assert question_time("2022年地区生产总值是多少") == TimeRef(year=2022)
    assert question_time("2023 年去年的数") == TimeRef(year=2023)  # an explicit year wins
    assert not question_time("教育方面有哪些安排") and not question_time("5G基站65座")


def test_passage_half_and_the_year_it_covers():
    assert passage_half(REV) == (REVIEW, 2022) and passage_half(PLN) == (PLAN, 2023)
    assert passage_half(()) == (None, None) and passage_half(("三、全面加强政府自身建设",)) == (None, None)
    assert covered_year(("一、过去一年工作回顾",), 2024) == (REVIEW, 2023)
    assert covered_year(("二、今年主要任务",), 2024) == (PLAN, 2024)


def test_relative_words_resolve_against_each_reports_own_year():
    last = question_time("去年GDP")
    assert time_match(last, REV, 2023) and time_match(last, ("一、2023年工作回顾",), 2024)
    assert time_match(last, PLN, 2023) is False and time_match(last, ("三、政府建设",), 2023) is None
    # an explicit year: the plan half of the 2023 report and the review half of the 2024 report both cover 2023
    y = question_time("2023年GDP增长")
    assert time_match(y, PLN, 2023) and time_match(y, ("一、2023年工作回顾",), 2024)
    assert time_match(y, REV, 2023) is False and time_match(y, ("二、2024年工作安排",), 2024) is False
    two = question_time("前年GDP")
    assert time_match(two, ("一、2022年工作回顾",), 2024) and time_match(two, REV, 2023) is False
    assert time_match(TimeRef(), REV, 2023) is None


def test_prefer_time_is_a_preference_not_a_filter():
    ps = [P("plan", PLN), P("review", REV), P("other", ("三、政府建设",))]
    ranked = [(0, 1.0), (1, 0.8), (2, 0.0)]
    out = prefer_time(ranked, ps, question_time("去年GDP"), boost=0.3)
    assert [i for i, _ in out] == [1, 0, 2] and abs(out[0][1] - 1.1) < 1e-9
    assert [i for i, _ in prefer_time(ranked, ps, question_time("去年GDP"), boost=0.1)] == [0, 1, 2]
    assert prefer_time(ranked, ps, TimeRef(), boost=0.3) == ranked
    assert prefer_time([], ps, question_time("去年"), boost=0.3) == []
    out = prefer_time(ranked, ps, question_time("今年目标"), boost=0.0, penalty=0.9)
    assert [i for i, _ in out] == [0, 2, 1]  # the review half loses 0.9 of the spread


def test_several_reports_a_2023_question_also_matches_the_2024_review():
    ps = [P("2024plan", ("二、2024年工作安排",), 2024), P("2024review", ("一、2023年工作回顾",), 2024),
          P("2023plan", PLN, 2023), P("2023review", REV, 2023)]
    out = prefer_time([(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.7)], ps, question_time("2023年GDP"), boost=1.0)
    assert [ps[i].id for i, _ in out][:2] == ["2024review", "2023plan"]
    out = prefer_time([(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.7)], ps, question_time("去年GDP"), boost=1.5)
    assert {ps[i].id for i, _ in out[:2]} == {"2024review", "2023review"}


def test_prefer_time_gives_each_passage_what_its_own_time_match_says():
    """The adjustment is worked out once per (top heading, report year): passages under one top heading with
    different lower headings, and the same headings in another year's report, each get their own time_match's."""
    ps = [P("a", PLN), P("b", ("二、2023年工作安排", "（二）民生")), P("c", ("二、2023年工作安排",), 2024),
          P("d", REV), P("e", ("一、2022年工作回顾", "（一）经济")), P("f", ("一、2022年工作回顾",), 2024),
          P("g", ()), P("h", ("三、政府建设",))]
    ranked = [(i, 1.0 - i / 10) for i in range(len(ps))]
    for q in ("去年GDP", "2023年GDP", "2022年GDP", "前年GDP", "今年目标"):
        ref = question_time(q)
        out = dict(prefer_time(ranked, ps, ref, boost=0.3, penalty=0.2))
        for i, s in ranked:
            m = time_match(ref, ps[i].section, ps[i].year)
            assert out[i] == s + (0.3 * 0.7 if m else -0.2 * 0.7 if m is False else 0.0), (q, ps[i].id)


def test_asks_plan():
    for q in ("2023年GDP增长目标是多少", "2022年教育方面有哪些安排", "2024年重点任务", "今年的计划"):
        assert asks_plan(q), q
    for q in ("2023年地区生产总值是多少", "2021年原煤产量完成了多少", "去年经济怎么样", "2023年主要目标完成情况"):
        assert not asks_plan(q), q
    for q in ("2023年计划完成固定资产投资多少", "2023年要完成哪些任务"):  # 计划完成: a plan (review: read as done)
        assert asks_plan(q), q


def test_a_number_with_a_unit_is_not_a_year():
    for q in ("举办2000场次文化活动", "造林2000亩", "投资2000万元", "新增1980个车位", "增长20.19%",
              "举办 2000 场次", "建设2000公里", "新增2000张床位", "近10年来"):
        assert question_time(q) == TimeRef(), q
    for q in ("2022年GDP", "2022 GDP", "2022地区生产总值", "GDP in 2022", "2022年，", "地区生产总值2022多少",
              "2022人均可支配收入", "2022项目建设", "2022年度", "22年GDP多少", "二〇二二年GDP", "二零二二年"):
        assert question_time(q) == TimeRef(year=2022), q
    assert question_time("大前年GDP") == TimeRef(half=REVIEW, back=3)  # not 前年 (walkthrough)


def test_prefer_newest():
    ps = [P("old", REV, 2022), P("new", REV, 2023), P("front", ())]
    ranked = [(0, 0.907), (1, 0.902), (2, 0.1)]
    out = prefer_newest(ranked, ps, 2023, weight=0.3)
    assert [i for i, _ in out] == [1, 0, 2] and abs(out[0][1] - (0.902 + 0.3 * 0.807)) < 1e-9
    assert prefer_newest(ranked, ps, None) == ranked and prefer_newest([], ps, 2023) == []


def test_covered():
    assert covered(TimeRef(year=2023), {2023}) and covered(TimeRef(year=2022), {2023})
    assert not covered(TimeRef(year=2000), {2022, 2023}) and covered(TimeRef(half=REVIEW), {2023})


def test_in_a_library_relative_words_count_from_the_newest_report():
    years = {2021, 2022, 2023, 2024}
    assert in_library(question_time("去年GDP多少"), years) == TimeRef(year=2023, half=REVIEW)
    assert in_library(question_time("前年GDP多少"), years) == TimeRef(year=2022, half=REVIEW)
    assert in_library(question_time("今年教育方面有什么安排"), years, plan=True) == TimeRef(year=2024)
    assert in_library(question_time("GDP增长目标"), years, plan=True) == TimeRef(year=2024)
    # only the newest report's review is about the year before it
    last = in_library(question_time("去年GDP"), years)
    assert time_match(last, ("一、2023年工作回顾",), 2024)
    # that year's target, not what happened, but not another year's either: neither preferred nor held back
    assert time_match(last, ("二、2023年工作安排",), 2023) is None
    assert time_match(last, ("一、2021年工作回顾",), 2022) is False
    # with the 2023 report's own year missing, 去年 is still the newest report's review
    assert in_library(question_time("去年GDP"), {2021, 2024}) == TimeRef(year=2023)


def test_in_a_library_a_year_two_reports_cover_is_the_plan_only_when_a_plan_is_asked_for():
    years = {2022, 2023, 2024}
    ref = question_time("2023年地区生产总值是多少")
    got = in_library(ref, years, plan=asks_plan("2023年地区生产总值是多少"))
    assert got == TimeRef(year=2023, half=REVIEW)
    assert time_match(got, ("一、2023年工作回顾",), 2024) and time_match(got, PLN, 2023) is None
    assert time_match(got, ("二、2024年工作安排",), 2024) is False and time_match(got, REV, 2023) is False
    got = in_library(question_time("2023年GDP增长目标"), years, plan=True)
    assert got == TimeRef(year=2023, half=PLAN)
    assert time_match(got, PLN, 2023) and time_match(got, ("一、2023年工作回顾",), 2024) is None
    # 去年 with a plan word: last year's plan (its target), in the report before the newest
    assert in_library(question_time("去年GDP增长目标是多少"), years, plan=True) == TimeRef(year=2023, half=PLAN)
    # a year only one report covers: either half of it, as in a single report
    assert in_library(question_time("2024年GDP"), years) == TimeRef(year=2024)
    assert in_library(question_time("2021年GDP"), years) == TimeRef(year=2021)


def test_one_report_keeps_each_reports_own_halves():
    for q in ("去年GDP", "前年GDP", "今年目标", "2023年GDP"):
        ref = question_time(q)
        assert in_library(ref, {2023}) is ref and in_library(ref, {2023, None}) is ref and in_library(ref, ()) is ref


def test_a_number_with_a_latin_unit_is_not_a_year():
    """`2000kW` was read as the year 2000: the question is folded to lower case, and no unit was in Latin
    letters."""
    for q in ("新增光伏装机2000kW", "新增光伏装机2000 kW", "装机 2000 KW", "2000kWh电量", "2000MW风电",
              "2020 MWh", "2000ｋＷ", "2000千瓦", "2000 千瓦", "运煤2000吨"):
        assert question_time(q) == TimeRef(), q
    for q in ("2023 kpi", "2023年新增2000kW", "2000kW光伏 2023年"):
        assert question_time(q) == TimeRef(year=2023), q


def test_a_question_naming_two_years_is_about_both():
    """`2022年和2023年GDP分别是多少` was read as 2022 alone: in a library the 2023 figure lost 0.3 of the spread as
    another year's. Each year named is read as one named alone; a passage about either is a match, about neither
    another time."""
    ref = question_time("2022年和2023年GDP分别是多少")
    assert ref == TimeRef(year=2022, also=(TimeRef(year=2023),))
    assert question_time("2022、2023、2022年地区生产总值") == TimeRef(year=2022, also=(TimeRef(year=2023),))
    assert question_time("2023年GDP").also == ()
    lib = in_library(ref, {2022, 2023, 2024})  # 2022 and 2023 each covered twice: what happened
    assert lib == TimeRef(year=2022, half=REVIEW, also=(TimeRef(year=2023, half=REVIEW),))
    review = ("一、2023年工作回顾",)  # the 2024 report's
    assert time_match(lib, review, 2024) is True and time_match(lib, ("一、2022年工作回顾",), 2023) is True
    assert time_match(lib, ("一、2021年工作回顾",), 2022) is False  # about neither
    assert time_match(lib, ("二、2023年工作安排",), 2023) is None  # 2023's other half: neither gains nor loses
    assert time_match(lib, ("二、2024年工作安排",), 2024) is False
    assert covered(TimeRef(year=2019, also=(TimeRef(year=2023),)), {2024}) and not covered(TimeRef(year=2019), {2024})
    # one report: each year as that report reads it (2023's plan is the report's own year)
    assert time_match(ref, ("二、2023年工作安排",), 2023) is True and time_match(ref, review, 2024) is True
