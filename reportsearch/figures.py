"""Figures in report text (number + unit, with the measure they belong to) and the figure a question asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Iterable, Sequence

from .fusion import spread
from .textnorm import fold

# Longest first, so `个百分点` wins over `个` and `亿元` over `元`.
UNITS = tuple(sorted({
    "个百分点", "百分点", "%", "％", "‰", "倍", "成",
    "万亿元", "亿元", "千万元", "万元", "千元", "元", "亿美元", "万美元", "美元",
    "亿吨", "万吨", "吨", "吨标煤", "万吨标煤", "亿方", "万方", "亿立方米", "万立方米", "立方米", "方",
    "万千瓦", "千瓦", "兆瓦", "吉瓦", "亿千瓦时", "万千瓦时", "千瓦时", "度",
    "万亩", "亩", "公顷", "平方公里", "万平方米", "平方米", "公里", "千米", "米",
    "万个", "个", "万户", "户", "万人次", "人次", "万人", "人", "名", "位", "座", "件", "家", "所", "条", "场次",
    "场", "口", "项", "辆", "套", "处", "张", "台", "间", "栋", "批", "部", "次", "家次", "款", "只", "头", "株",
    "棵", "篇", "册", "本", "期", "轮", "类", "支", "村", "镇", "床", "小时", "分钟", "天", "个月", "年",
}, key=len, reverse=True))
# units written in Latin letters, as a question types them (`2000kW`, `3000 MW`): only a question's years look at
# them (timeref), in their folded lower case; a report's figures keep to UNITS
LATIN_UNITS = ("kWh", "MWh", "GWh", "kW", "MW", "GW", "kV", "km", "kg")

RATE_UNITS = frozenset({"个百分点", "百分点", "%", "％", "‰", "倍", "成"})
MONEY_UNITS = frozenset(u for u in UNITS if u.endswith("元"))
_UNIT_GROUPS = {  # words in a question that call for a kind of unit
    "money": (("钱", "资金", "投资", "收入", "产值", "总值", "金额", "预算", "资产", "经费", "税", "元", "价",
               "消费", "贷款", "融资", "债", "补贴", "奖励", "income", "revenue", "gdp", "money", "invest"),
              MONEY_UNITS),
    "mass": (("产量", "吨", "煤"), frozenset(u for u in UNITS if "吨" in u)),
    "gas": (("抽采", "气", "方"), frozenset(u for u in UNITS if "方" in u)),
    "power": (("装机", "容量", "瓦", "发电"), frozenset(u for u in UNITS if "瓦" in u)),
    "area": (("面积", "亩", "农田", "造林", "公顷", "平方"), frozenset({"万亩", "亩", "公顷", "平方公里",
                                                                    "万平方米", "平方米"})),
    "length": (("多长", "长度", "里程", "公里", "道路", "线"), frozenset({"公里", "千米", "米"})),
    "people": (("就业", "人数", "劳动力", "人口", "多少人", "几人", "people"), frozenset({"万人", "人", "名",
                                                                                      "人次", "万人次", "位"})),
}

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_FIGURE = re.compile(rf"(?<![A-Za-z\d.])({_NUM})(\s*)({'|'.join(map(re.escape, UNITS))})?(?![A-Za-z\d])")
_CLAUSE_BREAK = re.compile(r"[，,；;。：:、！？!?（）()“”\"\n]")
_SPACE = re.compile(r"\s+")
_VERBS = ("稳定在", "保持在", "控制在", "达到了", "达到", "完成了", "完成", "实现了", "实现", "增长了", "增长",
          "增加了", "增加", "提高了", "提高", "提升", "下降了", "下降", "降低", "减少", "突破", "超过", "超出",
          "超", "达", "为", "是", "约", "共计", "共", "累计", "总计", "合计", "新增", "净增", "拿出", "发放", "投入",
          "争取", "力争", "确保", "不低于", "不少于", "以上", "左右", "占", "同比", "比上年", "全年", "其中", "年均")
_LEAD = re.compile(r"^(?:全年|其中|今年|去年|当年|累计|同时)+")
RELATION_VERBS = ("增长", "增加", "提高", "提升", "下降", "降低", "减少", "占", "超出", "高于", "低于", "比")

QUANTITY_WORDS = ("多少", "几", "多大", "多长", "多高", "多远", "多重", "多久", "哪年", "哪一年", "什么时候", "何时",
                  "百分之")
# words that ask for a figure only when the passage has one that fits the measure well (`增长目标`, `比重`)
WEAK_QUANTITY_WORDS = ("目标", "数量", "规模", "比重", "占比", "增速", "增幅", "总额", "总量", "指标", "产量")
WEAK_MIN_SCORE = 0.6
_QUANTITY_EN = re.compile(r"\b(how (?:much|many|big|large|long|far|high|fast)|what (?:share|percentage|amount|"
                          r"number|year)|which year|when|(?:what|which) (?:is|was|are|were)\b.*\b(?:gdp|growth|"
                          r"target|rate|number|amount|output|income|revenue|investment|share|percentage|total|"
                          r"capacity|production))\b")
_YEAR_Q = ("哪年", "哪一年", "什么时候", "何时", "which year", "what year", "when")
_RATE_Q = ("增长了多少", "增长多少", "增长几", "增速", "增幅", "百分之", "比重", "占比", "提高了多少", "提高多少",
           "下降了多少", "下降多少", "增长目标", "增长率", "率", "占", "percent", "growth", "%", "几成", "几倍",
           "多少倍", "share")
_STOP_Q = ("是多少", "有多少", "多少", "是几", "几个", "几", "多大", "多长", "多高", "什么时候", "何时", "哪一年",
           "哪年", "去年", "今年", "明年", "前年", "上年", "本年", "过去一年", "全年", "目标", "计划", "预期", "要",
           "了", "的", "吗", "呢", "啊", "？", "?", "，", ",", "。", "全县", "我县", "县里", "咱们", "我们")


@dataclass(frozen=True)
class Figure:
    """A number with its unit, as a span of the text, and what it measures (the words before it)."""

    text: str
    value: float
    unit: str
    start: int
    end: int
    measure: str = ""
    verb: str = ""
    context: str = ""  # the clause it sits in, for matching a question against

    @property
    def is_rate(self) -> bool:
        return self.unit in RATE_UNITS

    @property
    def is_year(self) -> bool:
        return self.unit == "年" and "." not in self.text and 1900 <= self.value <= 2100

    @cached_property
    def match_text(self) -> str:
        """Its clause and measure, folded: what a question's words are matched against."""
        return fold(self.context + self.measure)

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end}


def _strip_verbs(s: str) -> tuple[str, str]:
    """(noun, verb): drop verbs and fillers from the end of the words before a number."""
    verb = ""
    changed = True
    while changed and s:
        changed = False
        for v in _VERBS:
            if s.endswith(v):
                s, verb = s[: -len(v)], verb or v
                changed = True
                break
    return s.strip(), verb


def _leading_relation(s: str) -> str:
    return next((v for v in RELATION_VERBS if s.startswith(v)), "")


def find_figures(text: str, include_bare: bool = False) -> list[Figure]:
    """Every number with a unit in `text`, left to right; bare numbers only when `include_bare`.

    A figure's `text` is the exact slice text[start:end] (`37338 元` keeps the report's space).
    Numbers glued to Latin letters (`5G`, `PM2.5`) are not figures. Remembered per text (each search asks
    again for the same passages).
    """
    return list(_find_figures(text, include_bare))


@lru_cache(maxsize=8192)
def _find_figures(text: str, include_bare: bool) -> tuple[Figure, ...]:
    out: list[Figure] = []
    prev_end, prev_measure = 0, ""
    for m in _FIGURE.finditer(text):
        num, unit = m.group(1), m.group(3) or ""
        if not unit and not include_bare:
            continue
        if text[max(0, m.start() - 1):m.start()].isalpha() and text[m.start() - 1].isascii():
            continue  # `G20`, `PM2.5`
        start, end = m.start(), (m.end() if unit else m.start() + len(num))
        # the clause before the number, not reaching back past the previous figure
        left = text[:start]
        cut = max((b.end() for b in _CLAUSE_BREAK.finditer(left)), default=0)
        before = _SPACE.sub("", left[max(cut, prev_end):])
        noun, verb = _strip_verbs(before)
        noun = _LEAD.sub("", noun).strip("的和及与、")  # `全年市场主体` -> `市场主体`; a bare `的` is no measure
        rel = _leading_relation(before)
        right = text[end:]
        nxt = _CLAUSE_BREAK.search(right)
        after = _SPACE.sub("", right[: nxt.start() if nxt else len(right)])
        after = re.split(rf"{_NUM}", after)[0]
        if rel and prev_measure:
            measure, verb = prev_measure + noun, rel  # `地区生产总值完成426.8亿元，增长11.3%`
        elif noun:
            measure = noun
        elif after:
            measure = after  # `25 个老旧小区`
        else:
            measure = prev_measure
        context = _SPACE.sub("", text[cut:end]) + after
        if measure == prev_measure + noun and prev_measure:
            context = prev_measure + context
        value = float(num.replace(",", ""))
        out.append(Figure(text=text[start:end], value=value, unit=unit, start=start, end=end,
                          measure=measure, verb=verb, context=context))
        prev_end = end
        if not rel:
            prev_measure = measure
    return tuple(out)


def is_quantity_question(query: str, weak: bool = False) -> bool:
    """Does the question ask for a number (多少、几、多大、哪年、how much/how many …)? With `weak`, words
    such as 目标、比重、增速 count too (the caller then asks for a good figure match)."""
    q = fold(query)
    if _QUANTITY_EN.search(q) or any(w in q for w in QUANTITY_WORDS):
        return True
    return weak and any(w in q for w in WEAK_QUANTITY_WORDS)


def wants_rate(query: str) -> bool:
    q = fold(query)
    return any(w in q for w in _RATE_Q)


def wants_year(query: str) -> bool:
    q = fold(query)
    return any(w in q for w in _YEAR_Q)


@lru_cache(maxsize=1024)
def question_measure(query: str) -> str:
    """The question without question, time and filler words: what it asks the quantity of."""
    q = fold(query)
    q = re.sub(r"(?:19|20)\d\d年?", "", q)
    for w in _STOP_Q:
        q = q.replace(w, " ")
    return _SPACE.sub(" ", q).strip()


@lru_cache(maxsize=1024)
def _grams(s: str) -> frozenset[str]:
    s = _SPACE.sub("", s)
    grams = {s[i:i + 2] for i in range(len(s) - 1)}
    return frozenset({g for g in grams if not g.isdigit()} or ({s} if s else set()))


def _unit_hint(q: str) -> str:
    """The unit written right after 多少/几 (`多少亩`, `几个`, `多少家`), if any."""
    m = re.search(r"(?:多少|几)(个百分点|万亩|万吨|万元|亿元|公里|平方米|场次|[^\s，,。？?的是了]?)", q)
    return m.group(1) if m else ""


_COUNT_HINTS = ("个", "家", "件", "座", "户", "人", "亩", "条", "场", "口", "项", "所", "名", "次", "场次", "公里",
                "万亩", "万吨", "万元", "亿元", "平方米", "个百分点", "倍", "辆", "套", "处", "台")


@dataclass(frozen=True)
class Ask:
    """What a question asks for, worked out once per search (every candidate sentence and figure is judged
    against it): its measure bigrams, glossary expansions and the kind of quantity and unit it wants."""

    query: str  # as asked, for the reader of a repr
    extra: tuple[str, ...]  # folded glossary expansions (`地区生产总值` for `gdp`)
    grams: frozenset[str]
    quantity: bool  # 多少, 几, how much …
    weak_quantity: bool  # … or 目标, 比重, 增速
    rate: bool
    year: bool
    hint: str  # a unit written after 多少/几 that a figure should have (`多少家`), or ""
    unit_sets: tuple[frozenset[str], ...]  # the kinds of unit its words call for (money, area …)

    @classmethod
    def of(cls, query: "str | Ask", extra: Iterable[str] = ()) -> "Ask":
        if isinstance(query, Ask):
            if extra:
                raise TypeError("an Ask holds its glossary expansions already: give `extra` to Ask.of, not here")
            return query
        q = fold(query)
        hint = _unit_hint(q)
        return cls(query=query, extra=tuple(fold(e) for e in extra if e),
                   grams=_grams(question_measure(query)), quantity=is_quantity_question(query),
                   weak_quantity=is_quantity_question(query, weak=True), rate=wants_rate(query),
                   year=wants_year(query),
                   hint=hint if hint in _COUNT_HINTS else "",
                   unit_sets=tuple(units for words, units in _UNIT_GROUPS.values() if any(w in q for w in words)))


def figure_score(fig: Figure, ask: Ask) -> float:
    """How well a figure answers the question: measure overlap, unit fit, rate fit. Higher is better."""
    ctx = fig.match_text
    score = 0.0
    if ask.grams:
        score += sum(g in ctx for g in ask.grams) / len(ask.grams)
    if any(e in ctx for e in ask.extra):
        score += 0.5
    if fig.is_rate:
        score += 0.6 if ask.rate else -0.6
    elif ask.rate:
        score -= 0.2
    if fig.is_year:
        score += 1.0 if ask.year else -2.0
    elif ask.year:
        score -= 1.0
    if ask.hint:
        score += 0.5 if fig.unit.endswith(ask.hint) or fig.unit == ask.hint else -0.3
    for units in ask.unit_sets:
        score += 0.3 if fig.unit in units else 0.0
    return score


def choose_figure(query: "str | Ask", text: str, prefer: tuple[int, int] | None = None,
                  extra: Sequence[str] = ()) -> Figure | None:
    """The figure in `text` that answers a quantity question, or None (not a quantity question, or no figure).

    `prefer` is a span (the answer sentence) whose figures get a small bonus; `extra` are expansions of the
    question's words (the glossary's `地区生产总值` for `GDP`), given only with a str `query` (an `Ask` holds them).
    """
    ask = Ask.of(query, extra)
    if not ask.weak_quantity:
        return None
    figs = [f for f in find_figures(text) if not f.is_year or ask.year]
    if not figs:
        return None
    best, best_score = None, float("-inf")
    for f in figs:
        s = figure_score(f, ask)
        if prefer and prefer[0] <= f.start and f.end <= prefer[1]:
            s += 0.15
        if s > best_score + 1e-9:
            best, best_score = f, s
    return best if ask.quantity or best_score >= WEAK_MIN_SCORE else None


def measure_phrases(query: str, min_len: int = 4) -> tuple[str, ...]:
    """The question's measure as runs of >= `min_len` characters (question and time words removed)."""
    return tuple(x for x in question_measure(query).split() if len(x) >= min_len)


def phrase_share(query: str, text: str, min_len: int = 4, folded: bool = False,
                 phrases: Sequence[str] | None = None) -> float:
    """Share of the question's measure (its runs of >= `min_len` characters, question and time words
    removed) found verbatim in `text`: `城镇居民人均可支配收入` is in the urban sentence, not the rural one.
    `phrases`: `measure_phrases(query, min_len)` when the caller has them (one search asks for many texts)."""
    segs = measure_phrases(query, min_len) if phrases is None else phrases
    total = sum(map(len, segs))
    if not total:
        return 0.0
    t = text if folded else fold(text)
    return sum(len(x) for x in segs if x in t) / total


def prefer_measure(ranked: Sequence[tuple[int, float]], texts: Sequence[str], query: str, weight: float = 0.1,
                   depth: int = 20) -> list[tuple[int, float]]:
    """Re-rank (row, score) over folded `texts`: among the first `depth`, a passage holding the question's measure verbatim gains
    `weight` × the spread of the scores × `phrase_share`. A preference: nothing is dropped."""
    ranked = list(ranked)
    if not ranked or weight == 0:
        return ranked
    phrases = measure_phrases(query)
    if not phrases:
        return ranked  # nothing long enough to hold verbatim
    scores = [float(s) for _, s in ranked]
    gain = weight * spread(scores)
    out = [(i, s + gain * phrase_share(query, texts[i], folded=True, phrases=phrases)) if n < depth else (i, s + 0.0)
           for n, ((i, _), s) in enumerate(zip(ranked, scores))]  # + 0.0: a -0.0 reads 0.0, as before
    return sorted(out, key=itemgetter(1), reverse=True)  # stable: equal scores keep their order


def measure_overlap(query: "str | Ask", sentence: str, extra: Sequence[str] = (), folded: bool = False) -> float:
    """Share of the question's measure bigrams (and whole glossary expansions) found in a sentence, 0..1.
    `folded=True`: the sentence is already folded; `extra` goes with a str `query` only (an `Ask` holds them)."""
    ask = Ask.of(query, extra)
    if not ask.grams:
        return 0.0
    s = sentence if folded else fold(sentence)
    got = sum(g in s for g in ask.grams) / len(ask.grams)
    if any(e in s for e in ask.extra):
        got = max(got, 0.5) + 0.25
    return min(got, 1.0)


def figure_accuracy(questions: Sequence[dict], results: Sequence[dict]) -> dict:
    """Share of questions with a `figure` whose rank-1 `answer.figure.text` is that figure (spaces ignored).

    `results` are SearchResponse.to_dict() rows in the order of `questions`. Returns
    {"figure_accuracy": share or None, "n": count, "misses": [ids]}.
    """
    def key(s: str) -> str:
        return _SPACE.sub("", fold(s or ""))

    n = ok = 0
    misses = []
    for q, res in zip(questions, results):
        if not q.get("figure"):
            continue
        n += 1
        top = (res.get("results") or [None])[0]
        fig = ((top or {}).get("answer") or {}).get("figure") or {}
        if key(fig.get("text", "")) == key(q["figure"]):
            ok += 1
        else:
            misses.append(q.get("id"))
    return {"figure_accuracy": round(ok / n, 4) if n else None, "n": n, "misses": misses}
