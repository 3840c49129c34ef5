"""Exact terms of a query and which of them a result lacks (reportsearch.exact), on hand-built inputs."""

import pytest

from reportsearch.exact import MAX_TERMS, Exact, exact_terms, missing, numbers

GLOSSARY = {"gdp": ("地区生产总值",), "停车": ("车位",)}


def shown(q, glossary=None):
    return [(e.shown, e.number, e.lone) for e in exact_terms(q, glossary)]


@pytest.mark.parametrize("q,expected", [
    ("13710", [("13710", True, False)]),  # a number: a one-term query as well, listed once
    ("１３７１０", [("１３７１０", True, False)]),  # shown as typed, matched folded
    ("13,710", [("13,710", True, False)]),
    ("乙类乙管", [("乙类乙管", False, True)]),
    ("  乡村振兴？", [("乡村振兴", False, True)]),
    ("“乙类乙管”是什么", [("乙类乙管", False, False)]),
    ("「放管服」改革", [("放管服", False, False)]),
    ('"13710"工作法', [("13710", False, False)]),
    ("the county's 'rural revitalization' plan", [("rural revitalization", False, False)]),
    ("999.9亿元是什么", [("999.9", True, False)]),
    ("2000千瓦", [("2000", True, False)]),  # a quantity: its number is the term, the unit may be written otherwise
    ("1200MW", [("1200", True, False)]),
    ("GDP", [("GDP", False, True)]),
])
def test_what_a_query_asks_for_word_for_word(q, expected):
    assert shown(q) == expected


@pytest.mark.parametrize("q", ["教育方面有哪些安排", "去年GDP多少", "2023年GDP", "增长8.5%", "的", "今年", "a",
                               "5G基站的进展怎么样", "what's the county's GDP growth", "why can't we find it", "“”"])
def test_questions_years_apostrophes_and_short_numbers_ask_for_nothing_exact(q):
    # a question is words to match by meaning, a year is read by the year rules, `8.5` is one digit before the
    # point, an apostrophe between letters is English
    assert exact_terms(q) == ()


def test_a_year_is_not_an_exact_number_but_another_four_digits_is():
    assert numbers("2023年gdp", [2023]) == [] and numbers("2023 13710", [2023]) == ["13710"]
    assert [e.shown for e in exact_terms("2023年的13710")] == ["13710"]


def test_a_glossary_word_in_a_term_is_read_as_the_report_term_in_its_place():
    (e,) = exact_terms("GDP", GLOSSARY)
    assert e == Exact("GDP", ("gdp", "地区生产总值"), lone=True)
    assert missing([e], [("地区生产总值增长6%",), ("gdp 增长",), ("粮食产量",)]) == [(), (), ("GDP",)]
    # `停车收费`: 车位收费 is the term, 车位 alone is not (it says nothing of 收费)
    (e,) = exact_terms("停车收费", GLOSSARY)
    assert e.forms == ("停车收费", "车位收费")
    assert missing([e], [("增加车位供给",), ("规范车位收费",)]) == [("停车收费",), ()]


def test_spaces_and_punctuation_are_ignored_and_headings_count():
    terms = exact_terms("“优质特色教育”") + exact_terms("13710")
    texts = [("打造“优质·特色教育”品牌",), ("用好“13 710”",), ("其他", "（五）聚焦优质特色教育"), ("无",)]
    assert missing(terms, texts) == [("13710",), ("优质特色教育",), ("13710",), ("优质特色教育", "13710")]


def test_a_number_is_found_only_whole():
    terms = exact_terms("增长36%")
    assert missing(terms, [("增长36%",), ("投资3600万元",), ("到2036年",), ("36.5%",), ("第36条",)]) == [
        (), ("36",), ("36",), ("36",), ()]
    assert missing(exact_terms("426.8亿元"), [("完成426.8亿元",), ("完成426.85亿元",)]) == [(), ("426.8",)]


def test_a_one_term_query_no_result_holds_was_words_not_a_term():
    # `教育安排` held by no result is two words (教育, 安排), not a term: nothing is marked
    assert missing(exact_terms("教育安排"), [("坚持教育优先",), ("统筹安排",)]) == [(), ()]
    # in quotes it is a term, and a number always counts: the figure asked for is not there
    assert missing(exact_terms("“教育安排”"), [("坚持教育优先",)]) == [("教育安排",)]
    assert missing(exact_terms("999.9亿元是什么"), [("426.8亿元",), ("其他",)]) == [("999.9",), ("999.9",)]
    assert missing(exact_terms("乙类乙管"), [("实施“乙类乙管”",), ("疫情防控",)]) == [(), ("乙类乙管",)]


def test_a_long_list_of_numbers_names_the_first_few():
    q = " ".join(str(n) for n in range(100, 400))
    assert [e.shown for e in exact_terms(q)] == [str(n) for n in range(100, 100 + MAX_TERMS)]
