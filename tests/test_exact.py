"""Exact terms of a query and which of them a result lacks (reportsearch.exact), on hand-built inputs."""

import pytest

from reportsearch.exact import Exact, exact_terms, missing, numbers


def shown(q, expand=lambda t: ()):
    return [(e.shown, e.lone) for e in exact_terms(q, expand)]


@pytest.mark.parametrize("q,expected", [
    ("13710", [("13710", False)]),  # a number: lone as well, listed once
    ("１３７１０", [("１３７１０", False)]),  # shown as typed, matched folded
    ("乙类乙管", [("乙类乙管", True)]),
    ("  乡村振兴？", [("乡村振兴", True)]),
    ("“乙类乙管”是什么", [("乙类乙管", False)]),
    ("「放管服」改革", [("放管服", False)]),
    ('"13710"工作法', [("13710", False)]),
    ("999.9亿元是什么", [("999.9", False)]),
    ("2000千瓦", [("2000", False), ("2000千瓦", True)]),
    ("GDP", [("GDP", True)]),
])
def test_what_a_query_asks_for_word_for_word(q, expected):
    assert shown(q) == expected


@pytest.mark.parametrize("q", ["教育方面有哪些安排", "去年GDP多少", "2023年GDP", "增长8.5%", "的", "今年", "a",
                               "5G基站的进展怎么样"])
def test_questions_years_and_short_numbers_ask_for_nothing_exact(q):
    # a question is words to match by meaning, a year is read by the year rules, `8.5` is one digit before the point
    assert exact_terms(q) == ()


def test_a_year_is_not_an_exact_number_but_another_four_digits_is():
    assert numbers("2023年gdp", [2023]) == [] and numbers("2023 13710", [2023]) == ["13710"]
    assert [e.shown for e in exact_terms("2023年的13710")] == ["13710"]


def test_glossary_forms_count_as_the_term():
    (e,) = exact_terms("GDP", lambda t: ["地区生产总值"] if t == "gdp" else [])
    assert e == Exact("GDP", ("gdp", "地区生产总值"), True)
    assert missing([e], ["地区生产总值增长6%", "gdp 增长", "粮食产量"]) == [(), (), ("GDP",)]


def test_missing_per_text_spaces_ignored():
    terms = exact_terms("13710")
    assert missing(terms, ["用好“13710”等方式", "137 10", "依法履职提效能"]) == [(), (), ("13710",)]


def test_a_one_term_query_no_result_holds_was_words_not_a_term():
    # `教育安排` held by no result is two words (教育, 安排), not a term: nothing is marked
    assert missing(exact_terms("教育安排"), ["坚持教育优先", "统筹安排"]) == [(), ()]
    # a number is marked even when no result holds it: the figure asked for is not there
    assert missing(exact_terms("999.9亿元是什么"), ["426.8亿元", "其他"]) == [("999.9",), ("999.9",)]
    assert missing(exact_terms("乙类乙管"), ["实施“乙类乙管”", "疫情防控"]) == [(), ("乙类乙管",)]


def test_a_number_inside_a_missing_one_term_query_is_not_named_twice():
    terms = exact_terms("2000千瓦")
    assert missing(terms, ["新增2000千瓦", "2000吨", "无"]) == [(), ("2000千瓦",), ("2000千瓦",)]
    # no result holds the whole term: the number alone is what is asked for
    assert missing(terms, ["2000吨", "无"]) == [(), ("2000",)]
