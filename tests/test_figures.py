"""Figures in report text, the measure each belongs to, and the figure a question asks for (hand-built inputs)."""

import pytest

from reportsearch.answer import choose_answer_for, sentence_spans
from reportsearch.figures import (choose_figure, figure_accuracy, find_figures, is_quantity_question,
                                  phrase_share, prefer_measure, question_measure, wants_rate)
from reportsearch.textnorm import fold

GDP = "主要指标实现历史性突破，地区生产总值完成426.8亿元，增长11.3%；规上工业增加值增长15.2%；"
INCOME = "城镇居民人均可支配收入达到 37338 元，增长 7.1%；农村居民人均可支配收入达到 17353 元，增长 8%。"


def test_figures_with_units_spans_and_measures():
    figs = find_figures(GDP)
    assert [f.text for f in figs] == ["426.8亿元", "11.3%", "15.2%"]
    assert all(GDP[f.start:f.end] == f.text for f in figs)
    assert [f.measure for f in figs] == ["地区生产总值", "地区生产总值", "规上工业增加值"]
    assert [f.verb for f in figs] == ["完成", "增长", "增长"]
    assert figs[0].unit == "亿元" and figs[0].value == 426.8 and figs[1].is_rate and not figs[0].is_rate


def test_the_reports_own_spacing_is_kept_in_the_span():
    f = find_figures(INCOME)[0]
    assert f.text == "37338 元" and INCOME[f.start:f.end] == f.text and f.measure == "城镇居民人均可支配收入"


def test_longest_unit_wins_and_classifiers_take_the_noun_after():
    text = "超出计划11.7个百分点；25个老旧小区、23条背街小巷完成改造，新增5G基站65座，拆除建筑物1.8万平方米。"
    figs = {f.text: f for f in find_figures(text)}
    assert set(figs) == {"11.7个百分点", "25个", "23条", "65座", "1.8万平方米"}
    assert figs["25个"].measure == "老旧小区" and figs["23条"].measure.startswith("背街小巷")
    assert figs["65座"].measure == "新增5G基站"


def test_not_figures():
    assert find_figures("实施5G网络，PM2.5浓度下降，推进“十四五”规划") == []
    assert [f.text for f in find_figures("2022年是关键之年")] == ["2022年"]
    assert find_figures("2022年是关键之年")[0].is_year


def test_quantity_questions():
    for q in ("今年要新建多少个5G基站", "有几件民生实事", "面积多大", "环线有多长", "哪年建成",
              "How many 5G base stations?", "how much was invested", "What was the county's GDP last year?"):
        assert is_quantity_question(q), q
    for q in ("教育方面有哪些安排", "停车难怎么解决", "what about schools"):
        assert not is_quantity_question(q), q
    assert not is_quantity_question("今年GDP增长目标") and is_quantity_question("今年GDP增长目标", weak=True)


def test_the_figure_that_answers_the_measure_not_the_first_number():
    assert choose_figure("去年全县GDP是多少", GDP, extra=["地区生产总值"]).text == "426.8亿元"
    assert choose_figure("2022年地区生产总值是多少", GDP).text == "426.8亿元"
    assert choose_figure("去年GDP增长了多少", GDP, extra=["地区生产总值"]).text == "11.3%"
    assert choose_figure("规上工业增加值增长了多少", GDP).text == "15.2%"
    assert choose_figure("今年GDP增长目标是多少", "预期目标为：地区生产总值增长8.5%，争取更好成绩；").text == "8.5%"
    assert choose_figure("城镇居民人均可支配收入多少", INCOME).text == "37338 元"
    assert choose_figure("农村居民人均可支配收入是多少", INCOME).text == "17353 元"
    assert choose_figure("农村居民收入增长了多少", INCOME).text == "8%"
    assert choose_figure("煤层气产量占全市多少", "煤层气产量达到42.85亿方，占全市84%，全省第一。").text == "84%"
    assert choose_figure("今年要建多少亩高标准农田", "完成3万亩高标准农田改造，粮食播种面积保持在34万亩以上").text == "3万亩"
    assert choose_figure("今年要提升多少公里农村公路", "提升5.5公里乡道、38.6公里农村公路。").text == "38.6公里"


def test_no_figure_for_other_questions_or_texts():
    assert choose_figure("教育方面有哪些安排", GDP) is None
    assert choose_figure("有多少个学校", "坚持教育优先，优化学校布局。") is None
    assert choose_figure("教育目标", GDP) is None  # a weak cue and no figure that fits the measure
    assert choose_figure("今年开发区工业增加值增长目标", "确保开发区工业增加值增长15%以上。").text == "15%"


def test_question_measure_and_rate():
    assert question_measure("去年全县GDP是多少") == "gdp"
    assert question_measure("2022年原煤产量有多少") == "原煤产量"
    assert wants_rate("去年GDP增长了多少") and wants_rate("煤层气产量占全市的比重") and not wants_rate("GDP是多少")


def test_answer_sentence_holds_the_measure_and_the_figure():
    spans = sentence_spans(INCOME)
    # equal similarity and equal highlight counts: the measure decides
    hl = [(INCOME.index("居民人均可支配收入"), INCOME.index("居民人均可支配收入") + 9),
          (INCOME.rindex("居民人均可支配收入"), INCOME.rindex("居民人均可支配收入") + 9)]
    k, fig = choose_answer_for(INCOME, spans, hl, [0.8, 0.8], 0, "城镇居民人均可支配收入")
    assert k == 0 and fig is None
    k, fig = choose_answer_for(INCOME, spans, hl, [0.9, 0.8], 0, "农村居民人均可支配收入多少")
    assert k == 1 and fig[0] == "17353 元" and INCOME[fig[1]:fig[2]] == fig[0]
    assert choose_answer_for(INCOME, spans, hl, [0.8, 0.9], 0, None) == (1, None)


def test_phrase_preference_reorders_without_dropping():
    texts = ["农村居民人均可支配收入达到17353元", "城镇居民人均可支配收入达到37338元", "无关"]
    assert phrase_share("城镇居民人均可支配收入", texts[1]) == 1.0 and phrase_share("城镇居民人均可支配收入", texts[0]) == 0
    out = prefer_measure([(0, 1.0), (1, 0.9), (2, 0.0)], texts, "城镇居民人均可支配收入", weight=0.25)
    assert [i for i, _ in out] == [1, 0, 2] and len(out) == 3
    assert prefer_measure([(0, 1.0), (1, 0.9)], texts, "城镇居民人均可支配收入", weight=0) == [(0, 1.0), (1, 0.9)]
    assert prefer_measure([], texts, "x") == []


def test_figure_accuracy_compares_the_rank1_figure_ignoring_spaces():
    qs = [{"id": "a", "figure": "37338元"}, {"id": "b", "figure": "8%"}, {"id": "c"}]
    hit = lambda fig: {"results": [{"answer": {"text": "…", "start": 0, "end": 1, "figure": fig}}]}  # noqa: E731
    res = [hit({"text": "37338 元", "start": 0, "end": 7}), hit(None), hit(None)]
    assert figure_accuracy(qs, res) == {"figure_accuracy": 0.5, "n": 2, "misses": ["b"]}
    assert figure_accuracy([], [])["figure_accuracy"] is None
    assert figure_accuracy([{"id": "x", "figure": "1个"}], [{"results": []}])["misses"] == ["x"]


# ---------------------------------------------------------------- on the real report, real model
def test_last_year_gdp_gets_the_review_figure_at_rank_1(engine):
    h = engine.search("去年全县GDP是多少", top_k=3).results[0]
    assert h.passage.section[0] == "一、2022年工作回顾" and h.answer.figure.text == "426.8亿元"
    f = h.answer.figure
    assert h.passage.text[f.start:f.end] == f.text and h.answer.start <= f.start < f.end <= h.answer.end
    plan = engine.search("今年GDP预期增长多少", top_k=3).results[0]
    assert plan.passage.section[0] == "二、2023年工作安排" and plan.answer.figure.text == "8.5%"
    assert len(engine.search("去年全县GDP是多少", top_k=10).results) == 10  # a preference, not a filter


def test_urban_income_question_gets_the_urban_sentence(engine):
    for q in ("城镇居民人均可支配收入", "去年城镇居民人均可支配收入多少"):
        h = engine.search(q, top_k=1).results[0]
        assert "城镇居民人均可支配收入达到37338元" in h.answer.text, (q, h.answer.text)
    assert engine.search("去年城镇居民人均可支配收入多少", top_k=1).results[0].answer.figure.text == "37338元"


def test_figure_is_in_the_json_and_null_when_no_quantity_is_asked(engine):
    d = engine.search("今年要新建多少个5G基站", top_k=1).to_dict()["results"][0]
    assert d["answer"]["figure"] == {"text": "65座", "start": d["text"].index("65座"),
                                     "end": d["text"].index("65座") + 3}
    assert engine.search("教育方面有哪些安排", top_k=1).to_dict()["results"][0]["answer"]["figure"] is None


def test_cli_answer_line_marks_the_figure(engine):
    from reportsearch.web.render import answer_line, to_text

    r = engine.search("今年要新建多少个5G基站", top_k=1)
    assert answer_line(r.results[0]).endswith("新增5G基站【65座】。")
    assert "答：实施网络信号补盲工程，新增5G基站【65座】。" in to_text(r)
    assert "【" not in answer_line(engine.search("教育方面有哪些安排", top_k=1).results[0])


def test_ask_holds_what_the_question_functions_say():
    """`Ask` is worked out once per search; its flags are the per-call functions' answers."""
    from reportsearch.figures import Ask, wants_year

    for q in ["去年GDP增长了多少", "今年GDP增长目标", "哪一年建成", "有多少家企业", "教育方面有哪些安排",
              "How many 5G base stations?", "煤层气产量占全市的比重", "今年要建多少亩高标准农田", "城镇居民收入"]:
        ask = Ask.of(q, ["地区生产总值"])
        assert (ask.quantity, ask.weak_quantity) == (is_quantity_question(q), is_quantity_question(q, weak=True)), q
        assert (ask.rate, ask.year) == (wants_rate(q), wants_year(q)), q
        assert ask.extra == ("地区生产总值",) and Ask.of(ask) is ask
    assert Ask.of("今年要建多少亩高标准农田").hint == "亩" and Ask.of("教育多少").hint == ""


def test_an_ask_with_extra_beside_it_is_refused():
    from reportsearch.figures import Ask, measure_overlap

    assert measure_overlap("gdp多少", "地区生产总值426亿元", extra=["地区生产总值"]) == 0.75
    assert measure_overlap(Ask.of("gdp多少", ["地区生产总值"]), "地区生产总值426亿元") == 0.75
    with pytest.raises(TypeError):
        measure_overlap(Ask.of("gdp多少"), "地区生产总值426亿元", extra=["地区生产总值"])


def test_the_glossary_term_counts_for_a_figure():
    from reportsearch.figures import Ask, figure_score

    fig = find_figures(GDP)[0]
    assert fig.match_text == fold(fig.context + fig.measure)
    plain, expanded = figure_score(fig, Ask.of("去年gdp多少")), figure_score(fig, Ask.of("去年gdp多少", ["地区生产总值"]))
    assert expanded == pytest.approx(plain + 0.5)


def test_answer_choice_is_the_same_from_an_ask_and_the_folded_text():
    """The engine passes an `Ask` and the passage's folded text; a str question and no folded text must choose
    the same sentence and figure, also where folding would change the text's length (it must not)."""
    from reportsearch.figures import Ask

    for text in (INCOME, GDP, "İ" * 12 + INCOME, "城鎮居民人均可支配收入達到 37338 元。農村居民人均可支配收入達到 17353 元。"):
        assert len(fold(text)) == len(text)
        spans = sentence_spans(text)
        for q, extra in (("城镇居民人均可支配收入", ()), ("农村居民收入增长了多少", ()), ("去年gdp多少", ["地区生产总值"])):
            want = choose_answer_for(text, spans, [], [0.8] * len(spans), 0, q, extra)
            assert choose_answer_for(text, spans, [], [0.8] * len(spans), 0, Ask.of(q, extra), folded=fold(text)) == want


def test_prefer_measure_with_the_phrases_worked_out_once_scores_as_each_text_alone():
    q = "城镇居民人均可支配收入是多少"
    texts = [fold(t) for t in ("农村居民人均可支配收入达到 17353 元", INCOME, "城镇居民", "无关")]
    ranked = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.1)]
    got = prefer_measure(ranked, texts, q, weight=0.5, depth=3)
    scale = 0.9 - 0.1
    want = {i: s + (0.5 * scale * phrase_share(q, texts[i], folded=True) if n < 3 else 0.0)
            for n, (i, s) in enumerate(ranked)}
    assert dict(got) == want and [i for i, _ in got] == [1, 0, 2, 3]
    assert all(type(s) is float for _, s in got)
