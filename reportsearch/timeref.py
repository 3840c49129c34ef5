"""The time a question refers to, the half of a report a passage sits in, and a year-aware ranking preference."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from operator import itemgetter
from typing import Collection, Sequence

from .figures import LATIN_UNITS, UNITS
from .fusion import spread
from .textnorm import fold

REVIEW, PLAN = "review", "plan"

# relative words -> (half of each report, offset from that report's own year for the year it is about)
_PAST = ("过去一年", "过去的一年", "上一年", "上年", "去年", "last year", "past year", "previous year")
_THREE_BACK = ("大前年",)
_TWO_BACK = ("前年", "year before last")
_NOW = ("今年", "本年", "this year", "明年", "next year")
_PLAN_WORDS = ("目标", "计划", "预期", "打算", "target", "plan")
# with a year that two reports cover (the plan of 2023 in the 2023 report, its review in the 2024 one): these ask
# for the plan; anything else (多少, 完成, 怎么样) for what happened
_PLAN_ASK = _PLAN_WORDS + ("安排", "任务", "部署")
_DONE = ("完成情况", "完成了", "完成得", "是否完成", "实际完成", "完成没有", "完成的怎么样", "完成得怎么样")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年?(?!\d)")
_QUESTION_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")
_SHORT_YEAR = re.compile(r"(?<![\d.])(\d\d)\s*年(?![来间内代度])")  # `23年GDP`: 2023 (not `近10年来`)
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CN_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}(?=\s*年)")  # `二〇二三年`
# in a question, a number followed by a unit is a quantity, not a year (`举办2000场次`, `造林 2000 亩`), unless
# the unit's character begins a word (`2023人均收入`, `2023项目`, `2023元旦`); Latin units (`2000kW`) in the folded
# question's lower case, and not when a word goes on (`2000kWh` is kWh, `2023 kpi` no unit)
_UNIT_AFTER = re.compile(r"\s*(?:%s|(?:%s)(?![a-z]))" % ("|".join(map(re.escape, (u for u in UNITS if u != "年"))),
                                                       "|".join(re.escape(u.lower()) for u in LATIN_UNITS)))
_NOT_A_UNIT = ("人均", "人口", "人民", "项目", "元旦", "千万", "个人", "名单", "家庭", "家乡", "所有", "所属",
               "条件", "部署", "部门", "次年", "期间", "本年")
_REVIEW_HEAD = ("回顾", "总结", "过去", "成就", "成绩")
_PLAN_HEAD = ("安排", "任务", "目标", "计划", "打算", "部署", "思路", "展望")


_RELATIVE = tuple(w for w in _PAST + _TWO_BACK + _NOW if not w.isascii())


def is_relative_time_word(word: str) -> bool:
    """`去年`, `今年`, `前年`, `去年底`, `今年以来`…: words that name a part of every report, not words its passages
    hold."""
    return any(w in word for w in _RELATIVE)


def answers_another_time(ref: TimeRef, places: Sequence[tuple[Sequence[str], int | None]],
                         newest: int | None = None) -> bool:
    """True when every (section path, report year) in `places` is known to be about another time than `ref`:
    the results answer for another year. `前年` counts back from the `newest` report's year when given (in a
    library, the year before last is an earlier report's review), else from each passage's own report."""
    if ref.year is None and ref.half == REVIEW and ref.back > 1 and newest is not None:
        ref = TimeRef(year=newest - ref.back)
    return bool(places) and all(time_match(ref, section, year) is False for section, year in places)


@dataclass(frozen=True)
class TimeRef:
    """What a question refers to: an absolute year, or a half of each report (relative words), or nothing."""

    year: int | None = None  # an explicit year (`2022年`)
    half: str | None = None  # REVIEW or PLAN, for relative words (`去年`, `今年`, `目标`); with a year: that
    # year's review or plan only (in_library)
    back: int = 1  # for REVIEW: how many years before the report (`前年` = 2)
    # the further years a question names (`2022年和2023年GDP`), each read as `year` is; a passage about any of them
    # is about the question's time
    also: tuple["TimeRef", ...] = ()

    def __bool__(self) -> bool:
        return self.year is not None or self.half is not None

    def each(self) -> tuple["TimeRef", ...]:
        """This time and the further years, one TimeRef a year."""
        return (replace(self, also=()), *self.also) if self.also else (self,)


def question_years(q: str) -> list[int]:
    """The years a folded question names, in order: `2023年`, `2023 GDP`, `23年`, not `2000场次` (a quantity)."""
    found = []
    for m in _QUESTION_YEAR.finditer(q):
        rest = q[m.end():]
        unit = _UNIT_AFTER.match(rest)
        if unit and not re.match(r"\s*年", rest) and not rest[unit.start():].lstrip().startswith(_NOT_A_UNIT):
            continue
        found.append((m.start(), int(m.group(1))))
    found += [(m.start(), 2000 + int(m.group(1))) for m in _SHORT_YEAR.finditer(q)]
    return [y for _, y in sorted(found)]


def question_time(query: str) -> TimeRef:
    """Detect the time a question refers to. Explicit years win over words; past words over plan words.

    `去年/上年/过去一年/last year` -> the review half of each report; `前年` -> two years back;
    `今年/本年/明年/目标/计划/this year` -> the plan half; `2022年` -> the year 2022 wherever it is covered.
    """
    q = _CN_YEAR.sub(lambda m: m.group().translate(_CN_DIGITS), fold(query))
    years = list(dict.fromkeys(question_years(q)))
    if years:
        return TimeRef(year=years[0], also=tuple(TimeRef(year=y) for y in years[1:]))
    if any(w in q for w in _THREE_BACK):
        return TimeRef(half=REVIEW, back=3)
    if any(w in q for w in _TWO_BACK):
        return TimeRef(half=REVIEW, back=2)
    if any(w in q for w in _PAST):
        return TimeRef(half=REVIEW)
    if any(w in q for w in _NOW) or any(w in q for w in _PLAN_WORDS):
        return TimeRef(half=PLAN)
    return TimeRef()


def asks_plan(query: str) -> bool:
    """Whether a question asks for a plan (目标, 安排, 任务…; `计划完成多少`) rather than for what happened
    (`目标完成情况`, `完成了多少`)."""
    q = fold(query)
    return any(w in q for w in _PLAN_ASK) and not any(w in q for w in _DONE)


def in_library(ref: TimeRef, years: Collection[int | None], plan: bool = False) -> TimeRef:
    """`ref` read in a library of reports of these `years` (those a search may return), as one reader today
    would: `去年` is the newest report's review (the year before it), `前年` the review of the year before that,
    `今年` (and a plan word alone) the newest report's plan. A year that two reports cover (the plan of 2023 and
    the 2024 report's review of 2023) is the plan when the question asks for one (`plan`, asks_plan: `2023年GDP
    目标`, `去年的目标`), else the review: what happened. With fewer than two years, `ref` as it is (each
    report's own halves)."""
    known = {y for y in years if y is not None}
    if not ref or len(known) < 2:
        return ref
    if ref.also:
        main, *rest = (in_library(r, known, plan) for r in ref.each())
        return replace(main, also=tuple(rest))
    year = ref.year
    if year is None:  # a relative word: counted from the newest report
        year = max(known) - (0 if ref.half == PLAN else ref.back)
        plan = plan or ref.half == PLAN
    if year in known and year + 1 in known:
        return TimeRef(year=year, half=PLAN if plan else REVIEW)
    return TimeRef(year=year)


def covered(ref: TimeRef, years: Collection[int | None]) -> bool:
    """Whether reports of these `years` say anything about `ref`'s year (the plan of that year, or the next
    year's review); a ref without a year is about every report."""
    return ref.year is None or any({r.year, r.year + 1} & set(years) for r in ref.each())


def passage_half(section: Sequence[str]) -> tuple[str | None, int | None]:
    """(REVIEW or PLAN or None, the year its top heading names or None), from the section path.

    `一、2022年工作回顾` -> (review, 2022); `二、2023年工作安排` -> (plan, 2023); front matter -> (None, None).
    """
    return _passage_half(tuple(section))


@lru_cache(maxsize=16384)  # one search asks for every candidate's
def _passage_half(section: tuple[str, ...]) -> tuple[str | None, int | None]:
    if not section:
        return None, None
    head = section[0]
    m = _YEAR.search(head)
    year = int(m.group(1)) if m else None
    if any(w in head for w in _REVIEW_HEAD):
        return REVIEW, year
    if any(w in head for w in _PLAN_HEAD):
        return PLAN, year
    return None, year


def covered_year(section: Sequence[str], report_year: int | None) -> tuple[str | None, int | None]:
    """(half, the calendar year the passage is about): a review half covers the year before the report,
    a plan half the report's own year; a heading's own year wins when it names one."""
    half, head_year = passage_half(section)
    if head_year is not None:
        return half, head_year
    if report_year is None or half is None:
        return half, None
    return half, report_year - 1 if half == REVIEW else report_year


def time_match(ref: TimeRef, section: Sequence[str], report_year: int | None) -> bool | None:
    """True when the passage is in the part of its report the question asks about, False when it is in
    the other part or about another year, None when either side is unknown, or when it is about the year asked
    but from its other half (`2023年GDP多少` read as the review: the 2023 plan is not another year's)."""
    if not ref:
        return None
    if ref.also:  # several years: about one of them is a match, about none of them another time
        found = [time_match(r, section, report_year) for r in ref.each()]
        return True if True in found else (False if all(m is False for m in found) else None)
    half, year = covered_year(section, report_year)
    if half is None:
        return None
    if ref.year is not None:
        if year is None:
            return None
        if year != ref.year:
            return False
        return True if ref.half in (None, half) else None
    if ref.half == REVIEW and ref.back > 1:
        if half != REVIEW:
            return False
        if report_year is None or year is None:
            return None
        return year == report_year - ref.back
    return half == ref.half


def prefer_time(ranked: Sequence[tuple[int, float]], passages: Sequence, ref: TimeRef,
                boost: float = 0.15, penalty: float = 0.0) -> list[tuple[int, float]]:
    """Re-rank (row, score) pairs: a passage in the matching part gains `boost` × the spread of the scores,
    one in the other part loses `penalty` × the spread. A preference, not a filter: every row stays in the list.

    `passages[row]` needs `section` and `year`.
    """
    ranked = list(ranked)
    if not ref or not ranked or (boost == 0 and penalty == 0):
        return ranked
    scores = [float(s) for _, s in ranked]
    scale = spread(scores)
    out = []
    # (top heading, year) -> adjustment: a passage's part of its report is read from its top heading alone
    # (passage_half), and the candidates of one search share a handful of those
    seen: dict = {}
    for (i, _), s in zip(ranked, scores):
        p = passages[i]
        key = (p.section[0] if p.section else None, p.year)
        adj = seen.get(key)
        if adj is None:
            m = time_match(ref, p.section, p.year)
            adj = seen[key] = boost * scale if m else (-penalty * scale if m is False else 0.0)
        out.append((i, s + adj))
    return sorted(out, key=itemgetter(1), reverse=True)  # stable: equal scores keep their order


def prefer_newest(ranked: Sequence[tuple[int, float]], passages: Sequence, newest: int | None,
                  weight: float = 0.3) -> list[tuple[int, float]]:
    """Re-rank (row, score): passages of the `newest` report gain `weight` × the spread of the scores. For a
    question that names no time in a library, where the same paragraph with another year's figures scores
    within a hair of this year's (0.907 against 0.902): the reader wants the latest. A preference, not a filter."""
    ranked = list(ranked)
    if newest is None or not ranked or weight == 0:
        return ranked
    scores = [float(s) for _, s in ranked]
    gain = weight * spread(scores)
    out = [(i, s + gain) if passages[i].year == newest else (i, s) for (i, _), s in zip(ranked, scores)]
    return sorted(out, key=itemgetter(1), reverse=True)  # stable: equal scores keep their order
