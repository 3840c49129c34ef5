"""Pure ranking pieces on hand-built inputs: fusion, normalization, tokenizer, glossary, highlights, answers, metrics."""

import math

import pytest

from reportsearch.answer import choose_answer, highlight_spans, sentence_spans
from reportsearch.fusion import fuse, minmax, ranking, rrf, weighted_sum
from reportsearch.glossary import expand, load_glossary, parse_glossary
from reportsearch.keyword import KeywordIndex
from reportsearch.metrics import hit_at, is_relevant, match_key, mrr_at, ndcg_at, score_ranking
from reportsearch.web.render import mark_text
from reportsearch.textnorm import fold, split_sentences
from reportsearch.tokenize import content_words, grouped_numbers, join_digit_groups, query_terms, tokenize


# ---------------------------------------------------------------- fusion
def test_minmax_edges():
    assert minmax({}) == {}
    assert minmax({1: 3.0}) == {1: 1.0}
    assert minmax({1: 0.0, 2: 0.0}) == {1: 0.0, 2: 0.0}
    assert minmax({1: 1.0, 2: 3.0}) == {1: 0.0, 2: 1.0}


def test_weighted_sum_with_one_side_empty():
    assert weighted_sum({1: 0.9, 2: 0.5}, {}, 0.5) == {1: 0.5, 2: 0.0}
    assert weighted_sum({}, {3: 7.0}, 0.5) == {3: 0.5}
    assert fuse({}, {}) == []


def test_weighted_sum_prefers_agreement():
    fused = fuse({1: 0.9, 2: 0.8, 3: 0.1}, {2: 5.0, 3: 4.0, 1: 0.0}, "weighted", 0.5)
    assert [i for i, _ in fused][0] == 2


def test_rrf_known_values_and_empty_side():
    got = rrf([[1, 2], [2, 3]], k=60)
    assert math.isclose(got[2], 1 / 62 + 1 / 61)
    assert math.isclose(got[1], 1 / 61) and math.isclose(got[3], 1 / 62)
    assert rrf([[], [5]], k=60) == {5: 1 / 61}
    with pytest.raises(ValueError):
        rrf([[1]], weights=[1, 2])


def test_ranking_ties_are_deterministic():
    assert ranking({3: 1.0, 1: 1.0, 2: 2.0}) == [2, 1, 3]


def test_unknown_fusion_method_lists_choices():
    with pytest.raises(ValueError, match="weighted, rrf"):
        fuse({1: 1.0}, {}, "max")


# ---------------------------------------------------------------- normalization and tokenizer
def test_fold_is_length_preserving_t2s_and_halfwidth():
    src = "醫療衛生（五）ＡＢＣ１２３"
    out = fold(src)
    assert out == "医疗卫生(五)abc123" and len(out) == len(src)


def test_tokenizer_scores_chinese_terms_above_zero():
    texts = ["全面落实“乙类乙管”要求，强化医药物资保障。", "新增5G基站65座。", "用好督查督办、“13710”等方式。"]
    ki = KeywordIndex.build(texts)
    for q, want in (("乙类乙管", 0), ("5G基站", 1), ("13710", 2), ("乙類乙管", 0)):
        s = ki.query_scores(q)
        assert s[want] > 0 and s.argmax() == want, q


def test_tokenizer_cuts_a_clause_without_spaces():
    # a \w+ tokenizer would make one token of the whole clause, and every BM25 score would be 0
    toks = tokenize("全面落实乙类乙管要求")
    assert {"乙类", "乙管", "要求"} <= set(toks) and "全面落实乙类乙管要求" not in toks


def test_tokens_for_numbers_and_latin():
    toks = tokenize("地区生产总值完成426.8亿元，LNG 5G")
    assert {"426.8", "亿元", "lng", "5g"} <= set(toks)


def test_a_query_number_loses_its_thousands_separators_and_nothing_else():
    cases = {"13,710": "13710", "1,234.5亿": "1234.5亿", "12,345,678元": "12345678元", "13,710,": "13710,",
             "乙类乙管,13,710,乙类": "乙类乙管,13710,乙类",
             # not thousands separators: a list of years, groups not of three, a version, a list of numbers
             "2022,2023年": "2022,2023年", "1,2": "1,2", "5,60": "5,60", "13,7100": "13,7100", "v1,234": "v1,234",
             "1,234,56": "1,234,56", "0,123": "0,123",
             # a list written with commas reads as one number (a list is written with 、)
             "100,200,300": "100200300"}
    for q, joined in cases.items():
        assert join_digit_groups(fold(q)) == joined, q
    assert join_digit_groups(fold("１３，７１０")) == "13710"  # full-width, folded first
    assert tokenize(join_digit_groups(fold("13,710"))) == ["13710"]
    assert grouped_numbers(fold("投资1,234万元和13，710")) == ["1,234", "13,710"] and grouped_numbers("13710") == []


def test_query_terms_drop_question_words():
    assert query_terms("教育方面有哪些安排") == ["教育", "安排"]
    assert "13710" in query_terms("13710是什么")


def test_content_words_fall_back_to_bigrams():
    assert content_words("一厅通办")  # jieba leaves single characters; bigrams keep the query judgeable


def test_content_words_keep_latin_words_and_numbers():
    assert content_words("去年gdp ") == ["去年", "gdp"]
    assert content_words("lng储备 5g 426.8") == ["lng", "储备", "5g", "426.8"]
    assert content_words("a 教育") == ["教育"]  # one letter carries nothing


def test_equal_scores_go_to_the_newer_report_and_nothing_else_moves():
    from reportsearch.fusion import newer_first_on_ties

    years = {0: 2023, 1: 2024, 2: 2025, 3: None, 4: 2023, 5: 2025}
    ranked = [(4, 0.9), (0, 0.5), (1, 0.5), (3, 0.5), (2, 0.5), (5, 0.2), (0, 0.1)]
    got = newer_first_on_ties(ranked, years.get)
    assert got == [(4, 0.9), (2, 0.5), (1, 0.5), (0, 0.5), (3, 0.5), (5, 0.2), (0, 0.1)]
    same_year = [(0, 0.5), (4, 0.5), (1, 0.4)]  # a tie within one year keeps its order
    assert newer_first_on_ties(same_year, years.get) == same_year
    assert newer_first_on_ties([], years.get) == []


def test_a_function_character_left_alone_is_no_highlight_term():
    assert "有" not in query_terms("看病就醫方面有什麼新舉措")  # it marked every 有 of the passage
    assert query_terms("看病就醫方面有什麼新舉措") == ["看病", "病就", "就医", "新举", "举措"]
    assert query_terms("有机农业") == ["有机", "机农", "农业"]  # inside a word it stays


def test_a_query_of_function_characters_and_punctuation_gives_nothing_to_look_for():
    from reportsearch.tokenize import nothing_to_look_for, strip_question_words

    for q in ("的", "x", "？", "。。。！？", "\ufffd\ufffd", "", "是什么", "有哪些", "的了吗", "a b"):
        assert nothing_to_look_for(strip_question_words(fold(q))), q
    for q in ("税", "教育", "1", "13710", "gdp", "的税", "沁水的GDP是多少", "一厅通办"):
        assert not nothing_to_look_for(strip_question_words(fold(q))), q
    assert not nothing_to_look_for("的", words=["教育"])  # the caller's words are used as given


def test_answers_another_time_when_every_top_hit_sits_in_another_part():
    from reportsearch.timeref import answers_another_time, question_time

    review, plan, front = ("一、2022年工作回顾",), ("二、2023年工作安排",), ()
    now, last, two_back = question_time("今年"), question_time("去年"), question_time("前年")
    assert answers_another_time(now, [(review, 2023), (review, 2023)])  # asked for the plan, only the review came
    assert not answers_another_time(now, [(review, 2023), (plan, 2023)])
    assert not answers_another_time(last, [(review, 2023)])
    assert answers_another_time(two_back, [(review, 2023), (plan, 2023)], newest=2023)  # 2021: neither part
    assert not answers_another_time(two_back, [(review, 2023), (front, 2023)], newest=2023)  # unknown: not wrong
    # in a library, the year before last is the review of the report before the newest one
    assert not answers_another_time(two_back, [(("一、2021年工作回顾",), 2022)], newest=2023)
    assert answers_another_time(two_back, [(review, 2023)], newest=2023)
    assert not answers_another_time(now, [])


def test_relative_time_words_include_their_longer_forms():
    from reportsearch.timeref import is_relative_time_word

    assert all(is_relative_time_word(w) for w in ("去年底", "今年以来", "过去一年", "上年度"))


def test_relative_time_words():
    from reportsearch.timeref import is_relative_time_word

    assert all(is_relative_time_word(w) for w in ("去年", "今年", "明年", "前年", "上年"))
    assert not any(is_relative_time_word(w) for w in ("目标", "2022年", "教育"))


def test_split_sentences_keeps_closing_quotes():
    assert split_sentences("甲。“乙！”丙") == ["甲。", "“乙！”", "丙"]


# ---------------------------------------------------------------- glossary
def test_glossary_parse_and_expand():
    g = parse_glossary("# comment\n停车\t车位|停车场\nGDP\t地区生产总值\n")
    assert expand(fold("停车难怎么办"), g) == ["车位", "停车场"]
    assert expand(fold("今年ＧＤＰ"), g) == ["地区生产总值"]
    assert expand("无关", g) == []
    with pytest.raises(ValueError, match="TAB"):
        parse_glossary("broken line")


def test_bundled_glossary_loads():
    g = load_glossary()
    assert "gdp" in g and "停车" in g and len(g) > 50


# ---------------------------------------------------------------- highlights and answers
def test_highlight_spans_merge_and_map_to_original():
    text = "逐步解决停车难、充电难問題"
    spans = highlight_spans(fold(text), ["停车", "车难", "问题"])
    assert spans == [(4, 7), (11, 13)]
    assert text[4:7] == "停车难" and text[11:13] == "問題"


def test_highlight_spans_empty_terms():
    assert highlight_spans("abc", []) == [] and highlight_spans("abc", [""]) == []


def test_sentence_spans_and_answer_choice():
    text = "加快智能改造。续建10个煤矿智能化工作面；提高先进产能占比。"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["加快智能改造。", "续建10个煤矿智能化工作面；", "提高先进产能占比。"]
    hl = highlight_spans(fold(text), ["工作面"])
    assert choose_answer(spans, hl, None, skip_first=True) == 1
    assert choose_answer(spans, [], [0.1, 0.2, 0.9], skip_first=True) == 2
    assert choose_answer(spans, [], [0.9, 0.2, 0.1], skip_first=True) == 1  # never the bare label
    assert choose_answer([], [], None) == -1


def test_mark_text_escapes_and_nests():
    out = mark_text("<b>甲乙</b>丙", [(3, 5)], (3, 6))
    assert "&lt;b&gt;" in out and "<mark>甲乙</mark>" in out
    assert out.index('<strong class="answer">') < out.index("<mark>")


# ---------------------------------------------------------------- metrics
def test_relevance_ignores_whitespace_and_punctuation():
    assert match_key("“13710” 等方式") == "13710等方式"
    assert is_relevant("用好督查督办、“13710”等方式", ["13710等"])
    assert is_relevant("新增5G基站65座", ["5g 基站"])
    assert not is_relevant("新增5G基站65座", ["地铁"])
    assert not is_relevant("anything", ["", "  "])


def test_metric_values_on_hand_built_rankings():
    rels = [False, True, False, True]
    assert hit_at(rels, 1) == 0 and hit_at(rels, 3) == 1
    assert mrr_at(rels) == 0.5 and mrr_at([False] * 12) == 0.0 and mrr_at([False] * 10 + [True]) == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert math.isclose(ndcg_at(rels, 2), (1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert ndcg_at([True], 1) == 1.0 and ndcg_at([False], 0) == 0.0
    s = score_ranking([True], 3)
    assert s["hit@1"] == 1 and s["mrr@10"] == 1 and s["ndcg@10"] < 1


def test_ranked_items_and_the_preferences_break_ties_as_before():
    """Descending score, ties by id (ranked_items) or by incoming order (the preferences); -0.0 ties 0.0."""
    from reportsearch.figures import prefer_measure
    from reportsearch.fusion import ranked_items
    from reportsearch.timeref import TimeRef, prefer_time

    scores = {7: 0.5, 3: 0.5, 9: 1.0, 1: -0.0, 4: 0.0, 2: 0.5}
    assert ranked_items(scores) == [(9, 1.0), (2, 0.5), (3, 0.5), (7, 0.5), (1, -0.0), (4, 0.0)]
    assert ranking(scores) == [i for i, _ in ranked_items(scores)]
    assert fuse({5: 0.2, 6: 0.2}, {}) == [(5, 0.5), (6, 0.5)] and fuse({6: 0.2, 5: 0.2}, {}) == [(5, 0.5), (6, 0.5)]
    ranked = [(8, 0.5), (2, 0.5), (5, 0.5)]
    assert prefer_measure(ranked, ["x"] * 9, "城镇居民人均可支配收入多少") == ranked  # no passage holds it: order kept
    assert prefer_time(ranked, [None] * 9, TimeRef()) == ranked


def test_fold_keeps_one_character_for_one():
    """Spans found in folded text are used on the original: every BMP character folds to one character
    (`İ`.lower() would be two)."""
    bad = [hex(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000 and len(fold(chr(c))) != 1]
    assert bad == []
    assert fold("İstanbul ＧＤＰ 發展") == "İstanbul gdp 发展"


def test_weighted_sum_is_the_formula_bit_for_bit():
    """alpha·minmax(dense) + (1 − alpha)·minmax(keyword), a missing side counting 0.0: exactly, not nearly."""
    import random

    rng = random.Random(3)
    for _ in range(200):
        dense = {rng.randrange(60): rng.uniform(-1, 1) for _ in range(rng.randrange(0, 40))}
        keyword = {rng.randrange(60): rng.choice([0.0, rng.uniform(0, 30)]) for _ in range(rng.randrange(0, 40))}
        alpha = rng.choice([0.0, 0.3, 0.5, 0.77, 1.0])
        d, k = minmax(dense), minmax(keyword)
        want = {i: alpha * d.get(i, 0.0) + (1 - alpha) * k.get(i, 0.0) for i in set(d) | set(k)}
        got = weighted_sum(dense, keyword, alpha)
        assert got == want and all(math.copysign(1, got[i]) == math.copysign(1, want[i]) for i in got)


def test_a_lone_year_character_is_not_a_highlight():
    """`2023年gdp多少` marked the 年 of every 今年 (walkthrough)."""
    assert "年" not in query_terms("2023年GDP多少") and "2023" in query_terms("2023年GDP多少")
