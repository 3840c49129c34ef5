"""From raw report text to cleaned paragraphs under a section tree (L1 一、 › L2 （一） › L3 topic › L4 clause)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .cache import remembered
from .errors import InputError
from .readers import Paragraph, read_source
from .readers.base import read_bytes
from .readers.text import decode_bytes, text_paragraphs
from .textnorm import count_cjk, fix_spacing, split_sentences

__all__ = ["Document", "Segment", "decode_bytes", "parse", "parse_file", "parse_paragraphs", "read_report",
           "report_meta", "doc_id"]

_NUM = "一二三四五六七八九十"
L1_RE = re.compile(rf"^([{_NUM}]{{1,3}})、\s*(.+)$")
L2_RE = re.compile(rf"^[（(]\s*([{_NUM}]{{1,3}})\s*[）)]\s*(.+)$")
PART_RE = re.compile(rf"^(第[{_NUM}百]{{1,4}}(?:部分|章|篇|编))\s*[：:、　]?\s*(.*)$")
NUM_RE = re.compile(r"^(\d{1,2})[.．、](?![\d.．])\s*(.+)$")
NUM_PAREN_RE = re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*(.+)$")
# numbered heading styles, outermost first; a document's levels are the styles it uses, in this order
HEADING_STYLES = (("part", PART_RE), ("cn", L1_RE), ("cn_paren", L2_RE), ("num", NUM_RE), ("num_paren", NUM_PAREN_RE))
_ORDINAL = re.compile(rf"^[{_NUM}]{{1,3}}是")  # `一是坚持政治引领。`: a list item, not a heading
_HEADING_MAX = 40
_TOPIC_MAX = 20  # an L3 topic sentence: `优化提升煤炭产业。`
_LABEL_MAX = 14  # an L4 clause label: `有序提升产能。`, `加快“中游”延链。`
_INNER_PUNCT = re.compile(r"[，,、；;：:（）()《》<>\d]")
_TERMINAL = "。！？!?：:…"
_CLOSERS = "”’」』\"'"


@dataclass(frozen=True)
class Segment:
    """A run of report text under one full section path (an L4 run opens with its clause label)."""

    section: tuple[str, ...]
    text: str
    start: int  # offset in the document's cleaned text


@dataclass
class Document:
    """A parsed report: metadata from the front/back matter and its text segments in order."""

    doc: str
    path: str
    meta: dict = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    text: str = ""  # cleaned body text, paragraphs joined by "\n"
    outline: list[tuple[str, ...]] = field(default_factory=list)  # every L1/L2/L3 path, in order


# ---------------------------------------------------------------- reading
def read_report(path: str | Path) -> str:
    """The raw text of a .txt/.md report (kept for callers that want the text itself)."""
    p = Path(path)
    text = decode_bytes(read_bytes(p), str(p))
    if count_cjk(text) == 0:
        raise InputError(f"{p}: no Chinese text found; is this a government report?")
    return text


# ---------------------------------------------------------------- shape rules
def clean_paragraph(raw: str) -> str:
    """Join the lines of one paragraph, drop `**` and Markdown `#`, repair spacing around CJK."""
    lines = [re.sub(r"^#+\s*", "", ln.strip()) for ln in raw.splitlines()]
    text = "".join(ln for ln in lines if ln)
    return fix_spacing(text.replace("**", "")).strip()


def ends_terminal(text: str) -> bool:
    """True when a paragraph ends a sentence (。！？：…, optionally followed by a closing quote)."""
    t = text.rstrip(_CLOSERS)
    if t != text and t and t[-1] in _TERMINAL:
        return True
    return bool(text) and text[-1] in _TERMINAL


def _heading_shape(text: str) -> bool:
    return bool(text) and len(text) <= _HEADING_MAX and text[-1] not in "。！？；;，,"


def heading_style(text: str) -> int | None:
    """Index into HEADING_STYLES of a numbered heading (`第一部分`, `一、`, `（一）`, `1.`, `（1）`), else None."""
    if not _heading_shape(text):
        return None
    for k, (_, rx) in enumerate(HEADING_STYLES):
        if rx.match(text):
            return k
    return None


def heading_level(text: str) -> int:
    """1 for `一、…`, 2 for `（一）…` or `(一)…`, else 0. Ordinal words like `一是` are not headings."""
    k = heading_style(text)
    return {1: 1, 2: 2}.get(k, 0) if k is not None else 0


def heading_title(text: str) -> str:
    """Canonical heading text: `(五) 聚焦…` → `（五）聚焦…`, `（1）` likewise; `第一部分　回顾` → `第一部分 回顾`."""
    m = L2_RE.match(text) or NUM_PAREN_RE.match(text)
    if m:
        return f"（{m.group(1)}）{m.group(2).strip()}"
    m = L1_RE.match(text)
    if m:
        return f"{m.group(1)}、{m.group(2).strip()}"
    m = PART_RE.match(text)
    if m:
        return f"{m.group(1)} {m.group(2).strip()}".strip()
    return text


def _short_plain(sentence: str, limit: int) -> bool:
    if not sentence.endswith("。"):  # `各位代表！` is an address, not a heading
        return False
    body = sentence[:-1]
    return 2 <= len(body) <= limit and not _INNER_PUNCT.search(body)


def is_topic_sentence(sentence: str) -> bool:
    """An L3 topic: the short, unpunctuated first sentence of a paragraph (`优化提升煤炭产业。`)."""
    return _short_plain(sentence, _TOPIC_MAX)


def is_clause_label(sentence: str) -> bool:
    """An L4 label: a short sentence with no inner punctuation or digits (`有序提升产能。`)."""
    return _short_plain(sentence, _LABEL_MAX)


def label_title(sentence: str) -> str:
    """The section title of a topic or label sentence: no full stop, no list ordinal (`一是有序提升产能。`)."""
    return _ORDINAL.sub("", sentence[:-1]) or sentence[:-1]


# ---------------------------------------------------------------- structure
def _is_hinted_heading(p: Paragraph) -> bool:
    """A heading the format marks (Word style, <hN>, Markdown #, a whole bold line) that has no number."""
    return (p.level > 0 or p.bold) and _heading_shape(p.text) and not _ORDINAL.match(p.text) \
        and not re.search(r"[。！？；]", p.text)


def _is_heading(p: Paragraph) -> bool:
    return heading_style(p.text) is not None or _is_hinted_heading(p)


def _join_page_breaks(paras: list[Paragraph]) -> list[Paragraph]:
    """A paragraph that does not end a sentence continues into the next, unless either one is a heading."""
    out: list[Paragraph] = []
    for p in paras:
        prev = out[-1] if out else None
        if prev and not ends_terminal(prev.text) and not _is_heading(prev) and not _is_heading(p):
            text = p.text
            # an opening quote repeated at the top of the new page: `“承诺制+标准` + `“地+全代办”`
            if text.startswith("“") and prev.text.count("“") > prev.text.count("”"):
                text = text[1:]
            out[-1] = Paragraph(prev.text + text, prev.level, False, prev.bold_runs + p.bold_runs)
        else:
            out.append(p)
    return out


def _split_front_back(paras: list[Paragraph]) -> tuple[list[Paragraph], list[Paragraph], list[Paragraph]]:
    """Front matter: leading paragraphs before the first sentence or numbered heading. Back matter: short trailing
    lines. Format hints do not count here: a report's title is often a styled heading."""
    i = 0
    while i < len(paras) and heading_style(paras[i].text) is None and not re.search(r"[。！？!?]", paras[i].text):
        i += 1
    if i == len(paras):  # no sentence at all: treat everything as body
        i = 0
    j = len(paras)
    while j > i + 1 and len(paras[j - 1].text) <= 30 and not re.search(r"[。！？!?；]", paras[j - 1].text) \
            and not _is_heading(paras[j - 1]):
        j -= 1
    return paras[:i], paras[i:j], paras[j:]


# ---------------------------------------------------------------- metadata
_UNIT = "省|自治区|市|自治州|州|盟|地区|县|自治县|旗|自治旗|区|特区|林区|镇|乡"
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0}


def _cn_int(s: str) -> int | None:
    """二〇二三 → 2023, 二十一 → 21, 十 → 10; Arabic digits pass through."""
    if s.isdigit():
        return int(s)
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_DIGIT.get(a, 1) if a else 1) * 10 + (_CN_DIGIT.get(b, 0) if b else 0)
    try:
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    except KeyError:
        return None


_DATE = re.compile(r"([0-9〇○零一二三四五六七八九]{4})\s*年\s*([0-9一二三四五六七八九十]{1,3})\s*月"
                   r"\s*([0-9一二三四五六七八九十]{1,3})\s*日")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _date(text: str) -> str | None:
    m = _DATE.search(text)
    if not m:
        return None
    y, mo, d = (_cn_int(g) for g in m.groups())
    if not (y and mo and d) or not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _innermost(region: str) -> str:
    """`晋城市沁水县` → 沁水县, `杭州市余杭区` → 余杭区; `郑州市`, `市中区` stay whole (both sides need two chars)."""
    cuts = [m.end() for m in re.finditer(rf"(?:{_UNIT})", region) if m.end() >= 2 and len(region) - m.end() >= 2]
    return region[max(cuts, default=0):]


# the meeting a subtitle names: `在…第四次会议上` (group 1 `…第四次会议`), also `在…第二次全体会上` (`…第二次全体会`)
_IN_MEETING = r"在([^（(]+?(?:会议|全体会(?=上)))"
# what closes a meeting line's words: `会议上`, `全体会议上`, `全体会上`
_MEETING_CLOSE = re.compile(r"会议上|全体会上")
# words no place name holds: what a match runs on from before the name (`政府工作报告 沁水县人民政府…` as one line,
# `…日在沁水县第十七届…`, `…第四次会议上 沁水县人民政府县长…`, `…第二次全体会上 沁水县人民政府…`)
_NOT_PLACE = re.compile(r"^.*(?:报告|政府|会议上?|全体会上|在)")


def _region_in(text: str) -> str | None:
    """The government's place name: `沁水县人民政府…` → 沁水县, `在沁水县第十七届…` → 沁水县, `沁水县2023年…`;
    never a title before it (`政府工作报告 沁水县人民政府…` → 沁水县)."""
    for rx in (rf"^(?:\S*?)([\u4e00-\u9fff]{{1,12}}?(?:{_UNIT}))人民政府",
               rf"([\u4e00-\u9fff]{{2,12}}?(?:{_UNIT}))第[{_NUM}百]+届人民代表大会",
               rf"^([\u4e00-\u9fff]{{2,12}}?(?:{_UNIT}))\s*(?:\d{{4}}年|[〇零一二三四五六七八九]{{4}}年)?\s*政府工作报告"):
        m = re.search(rx, text.replace(" ", ""))
        name = _NOT_PLACE.sub("", m.group(1)) if m else ""
        if len(name) >= 2:
            return _innermost(name)
    return None


_DASHES = "—–-－─―━"
# what opens a subtitle: a run of dashes (`——`, `━━`), or `一一` set as a dash, but only before a date or
# `在…会议` (`一一2023年2月21日在…`), never a title or heading that merely starts with 一
_DASH_OPEN = re.compile(rf"^(?:[{re.escape(_DASHES)}]+|一一+(?=(?:{_DATE.pattern})|{_IN_MEETING}))")
# the same opening on a subtitle's first line when it wraps before its 会议 (`一一2023年2月21日在沁水县第十七届…`)
_DASH_OPEN_WRAPPED = re.compile(rf"^(?:[{re.escape(_DASHES)}]+|一一+(?=(?:{_DATE.pattern})|在))")
_WORK_REPORT = r"工作报告(?:[（(][^（）()]*[）)])?"
_WORK_REPORT_END = re.compile(rf"{_WORK_REPORT}$")
# a title and its dashed subtitle on one line: `政府工作报告——2023年…`, `沁水县政府工作报告 ——在…` (`━━`, `一一`, `--`)
_TITLE_THEN_DASH = re.compile(rf"^(.+?{_WORK_REPORT})\s*(?=[{re.escape(_DASHES)}]|一一)")


def _undashed(text: str) -> str:
    """`——2023年…`, `━━2023年…`, `一一2023年…` → `2023年…` (spaces dropped)."""
    t = text.replace(" ", "")
    return _DASH_OPEN.sub("", t)


def _is_title_line(text: str) -> bool:
    """A report's title line: `政府工作报告`, `2021年沁水县政府工作报告`, `…工作报告（摘要）`; not a speaker line,
    nor a subtitle (`——在沁水县第十七届人民代表大会第四次会议上的报告`, `（2023年2月21日在…会议上）`)."""
    return bool(_WORK_REPORT_END.search(text)) and "人民政府" not in text \
        and _undashed(text) == text.replace(" ", "") and not _MEETING_CLOSE.search(text)


def _is_meeting_line(text: str) -> bool:
    """The line naming the meeting: `（2023年2月21日在…会议上）`, `——2023年2月21日在…会议上` (also `━━`, `一一`),
    `——在…会议上的报告`, also undecorated (`2023年2月21日在…会议上`), also `…全体会上`. An undecorated line that
    ends in 工作报告 (`在沁水县第十七届人民代表大会第四次会议上的政府工作报告`) is the report's title, not its meeting
    line."""
    if text.startswith(("（", "(")):
        return True
    t = _undashed(text)
    if t == text.replace(" ", "") and _WORK_REPORT_END.search(t):
        return False
    return bool(re.match(rf"(?:{_DATE.pattern})?{_IN_MEETING}", t)) \
        and (t != text.replace(" ", "") or bool(_MEETING_CLOSE.search(t)))


def _split_title_subtitle(front: list[str]) -> list[str]:
    """A title line and its dashed meeting line set on one line are read as the two lines they stand for."""
    out: list[str] = []
    for p in front:
        m = _TITLE_THEN_DASH.match(p)
        if m and _is_title_line(m.group(1)) and _is_meeting_line(p[m.end():]):
            out += [m.group(1), p[m.end():]]
        else:
            out.append(p)
    return out


def _opens_wrapped_meeting(text: str) -> str | None:
    """What closes a subtitle that `text` opens without closing (a centred PDF subtitle wraps): `）` for
    `（2023年2月21日在沁水县第十七届`, `会议上` for `——2023年2月21日在沁水县第十七届人民代表大会`; else None."""
    t = text.replace(" ", "")
    if t.startswith(("（", "(")):
        return None if re.search(r"[）)]", t) else "）"
    rest = _DASH_OPEN_WRAPPED.sub("", t)
    if rest != t and not _MEETING_CLOSE.search(rest):
        return "会议上"
    return None


_WRAP_LINES = 3  # a subtitle wraps onto this many more lines at the most


def _join_wrapped_meeting(front: list[str]) -> list[str]:
    """A bracketed or dashed meeting line wrapped over several front lines is read as one line: the lines are
    joined up to its closing `）` / `会议上` (`全体会上`), and only when the joined line is a meeting line."""
    out: list[str] = []
    k = 0
    while k < len(front):
        p = front[k]
        close = _opens_wrapped_meeting(p)
        joined = None
        if close:
            text = p.replace(" ", "")
            for j in range(k + 1, min(len(front), k + 1 + _WRAP_LINES)):
                nxt = front[j].replace(" ", "")
                if nxt.endswith(("：", ":")) or nxt.startswith(("（", "(")) or _DASH_OPEN_WRAPPED.match(nxt):
                    break
                text += nxt
                found = bool(re.search(r"[）)]", nxt)) if close == "）" else bool(_MEETING_CLOSE.search(text))
                if found:
                    if _is_meeting_line(text) and re.search(_IN_MEETING, text):
                        joined = (text, j)
                    break
        if joined:
            out.append(joined[0])
            k = joined[1] + 1
        else:
            out.append(p)
            k += 1
    return out


def _read_meeting(p: str, meta: dict, keep: bool = False) -> None:
    """The date and meeting a line names (`2023年2月21日`, `沁水县第十七届人民代表大会第四次会议`); `keep`: what
    meta already holds stays."""
    t = _undashed(p)
    date = _date(t)
    if date and not (keep and "date" in meta):
        meta["date"] = date
    m = re.search(_IN_MEETING, t)
    if m and not (keep and "meeting" in meta):
        meta["meeting"] = m.group(1)


def _front_meta(front: list[str], back: list[str]) -> dict:
    meta: dict = {}
    rest = []
    for p in _join_wrapped_meeting(_split_title_subtitle(front)):
        if _is_meeting_line(p):
            meta["meeting_line"] = _DASH_OPEN.sub("", p.strip("（）() " + _DASHES)).strip()
            _read_meeting(p, meta)
            continue
        if _WORK_REPORT_END.search(p) and re.search(_IN_MEETING, p.replace(" ", "")):
            # `在…会议上的政府工作报告`: a title line that also names the meeting
            _read_meeting(p, meta, keep=True)
            if "title" in meta:
                continue
        if "title" not in meta and not p.endswith(("：", ":")):
            meta["title"] = p
        elif _is_title_line(p) and not rest and "meeting_line" not in meta and "salutation" not in meta:
            # a web page's own headline (`<h1>2021年沁水县政府工作报告`) above the report's title line
            # (`政府工作报告`): the report's line is the title, the line above it the headline
            meta.setdefault("headline", []).append(meta["title"])
            meta["title"] = p
        elif p.endswith(("：", ":")):
            meta["salutation"] = p
        else:
            rest.append(p)
    if rest:
        meta["speaker"] = " ".join(rest)
    if back:
        meta["back_matter"] = back
    return meta


SLUG_VERSION = 1  # raise it when `make` below changes: remembered slugs of the old rule are then not reused


def _pinyin_slug(region: str) -> str:
    """`qinshui` for 沁水县; remembered in the cache folder (importing pypinyin costs ~0.5 s of every ingest)."""
    from importlib.metadata import version

    short = re.sub(rf"(?:{_UNIT}|人民政府)$", "", region) if len(region) > 2 else region

    def make() -> str:
        from pypinyin import lazy_pinyin

        return re.sub(r"[^a-z0-9]+", "", "".join(lazy_pinyin(short or region)).lower())

    return remembered(f"pinyin-{version('pypinyin')}-slug{SLUG_VERSION}.json", short or region, make)


def doc_id(region: str | None, year: int | None, stem: str = "") -> str:
    """A stable short id: `qinshui-2023` from 沁水县 + 2023; without a region, a slug of the file name."""
    if region:
        base = _pinyin_slug(region)
    else:
        base = re.sub(r"[^0-9a-z]+", "-", stem.lower()).strip("-")
        if not base or not re.search(r"[a-z]", base):
            base = re.sub(r"[^0-9a-z]+", "-", "".join(_pinyin_slug(c) if "\u4e00" <= c <= "\u9fff" else c
                                                         for c in stem).lower()).strip("-") or "report"
        if year and str(year) in base:
            return base[:40]
    return f"{base[:32]}-{year}" if year else base[:40]


def report_meta(front_meta: dict, source_meta: dict | None = None, stem: str = "",
                fallback: dict | None = None) -> dict:
    """Region, issuer, title, year and display title, from the front matter, then the format's own metadata
    (HTML <title>, PDF/Word Title), then the file name, then the caller's fallbacks (`--title/--year/--region`)."""
    meta = dict(front_meta)
    source_meta = source_meta or {}
    fallback = {k: v for k, v in (fallback or {}).items() if v not in (None, "")}
    ext_title = source_meta.get("title", "")
    stem_cjk = stem if re.search(r"[\u4e00-\u9fff]", stem) else ""
    speaker = meta.get("speaker", "")
    if "人民政府" in speaker:
        issuer = speaker.replace(" ", "")
        # no stray bracket or dash a wrapped subtitle left before it (`…会议上）沁水县人民政府`)
        issuer = re.sub(r"^[^\u4e00-\u9fff]+", "", _NOT_PLACE.sub("", issuer[: issuer.index("人民政府")])) + "人民政府"
        if len(issuer) >= len("沁县人民政府"):  # a place name before it, not `县人民政府县长`
            meta["issuer"] = issuer
    headlines = meta.get("headline", [])
    region = None
    for text in (speaker, meta.get("title", ""), meta.get("meeting", ""), *headlines, ext_title):
        region = _region_in(text) if text else None
        if region:
            break
    region = region or source_meta.get("region") or (_region_in(stem_cjk) if stem_cjk else None) \
        or fallback.get("region")
    if region:
        meta["region"] = region
        meta.setdefault("issuer", f"{region}人民政府")
    year = int(meta["date"][:4]) if meta.get("date") else None
    for text in (meta.get("title", ""), *headlines, ext_title, str(source_meta.get("year", "")), stem):
        if year:
            break
        m = _YEAR_IN_TEXT.search(text or "")
        year = int(m.group(1)) if m else None
    year = year or (int(fallback["year"]) if fallback.get("year") else None)
    if year:
        meta["year"] = year
    title = meta.get("title") or ext_title or stem_cjk or fallback.get("title") or "政府工作报告"
    meta["title"] = title
    display = title
    if year and str(year) not in display:
        display = f"{year}年{display}"
    if region and region not in display:
        display = f"{region}{display}"
    meta["doc_title"] = display
    return meta


# ---------------------------------------------------------------- parsing
def _paragraph_segments(path: tuple[str, ...], para: str) -> tuple[str | None, list[tuple[tuple[str, ...], str]]]:
    """Split one body paragraph into (section, text) runs using its L3 topic and L4 labels."""
    sents = split_sentences(para)
    if len(sents) < 2 or not is_topic_sentence(sents[0]):
        return None, [(path, para)]
    topic = label_title(sents[0])
    l3 = path + (topic,)
    runs: list[tuple[tuple[str, ...], list[str]]] = [(l3, [sents[0]])]
    for k, s in enumerate(sents[1:], start=1):
        if k < len(sents) - 1 and is_clause_label(s):
            runs.append((l3 + (label_title(s),), [s]))
        else:
            runs[-1][1].append(s)
    if len(runs) > 1 and len(runs[0][1]) == 1:
        runs[1][1].insert(0, runs.pop(0)[1][0])  # a bare topic sentence opens its first clause's text
    return topic, [(sec, "".join(ss)) for sec, ss in runs]


def _clean(p: Paragraph) -> Paragraph:
    text = fix_spacing(p.text.replace("**", "")).strip()
    return Paragraph(text, p.level, p.bold, tuple(fix_spacing(r) for r in p.bold_runs))


def _heading_levels(body: list[Paragraph]) -> dict:
    """Numbered styles in use take levels 1.. in HEADING_STYLES order; unnumbered hinted headings come below
    them, ranked by their hint (Word/HTML level first, bold-only last)."""
    styles = sorted({k for p in body if (k := heading_style(p.text)) is not None})
    hints = sorted({(p.level or 9) for p in body if heading_style(p.text) is None and _is_hinted_heading(p)})
    levels = {("style", k): i + 1 for i, k in enumerate(styles)}
    levels.update({("hint", h): len(styles) + i + 1 for i, h in enumerate(hints)})
    return levels


def parse_paragraphs(paragraphs: list[Paragraph], doc: str, path: str = "") -> Document:
    """Parse reader paragraphs (+ hints) into a Document with section-tagged segments."""
    paras = [c for c in (_clean(p) for p in paragraphs) if c.text]
    front, body, back = _split_front_back(paras)
    body = _join_page_breaks(body)
    d = Document(doc=doc, path=path, meta=_front_meta([p.text for p in front], [p.text for p in back]))
    levels = _heading_levels(body)
    stack: list[str] = []  # heading titles by level - 1
    pieces: list[str] = []
    offset = 0
    for p in body:
        para = p.text
        k = heading_style(para)
        level = levels[("style", k)] if k is not None else \
            (levels[("hint", p.level or 9)] if _is_hinted_heading(p) else 0)
        if level:
            stack = stack[: level - 1] + [None] * max(0, level - 1 - len(stack)) + [heading_title(para)]
            d.outline.append(tuple(x for x in stack if x))
            pieces.append(para)
            offset += len(para) + 1
            continue
        base = tuple(x for x in stack if x)
        topic, runs = _paragraph_segments(base, para)
        if topic:
            d.outline.append(base + (topic,))
        cursor = 0
        for section, text in runs:
            at = para.find(text, cursor)
            d.segments.append(Segment(section=section, text=text, start=offset + at))
            cursor = at + len(text)
        pieces.append(para)
        offset += len(para) + 1
    d.text = "\n".join(pieces)
    return d


def parse(raw: str, doc: str, path: str = "") -> Document:
    """Parse raw report text (.txt/.md conventions: blank lines between paragraphs) into a Document."""
    return parse_paragraphs(text_paragraphs(raw), doc, path)


def parse_file(path: str | Path, title: str | None = None, year: int | None = None,
               region: str | None = None) -> Document:
    """Read any supported report file and parse it; metadata and the doc id (`qinshui-2023`) included.

    `title`, `year` and `region` are the last fallbacks, used only where the report and its file say nothing.
    """
    p = Path(path)
    source = read_source(p)
    if count_cjk("".join(x.text for x in source.paragraphs)) == 0:
        raise InputError(f"{p}: no Chinese text found; is this a government report?")
    d = parse_paragraphs(source.paragraphs, doc="", path=str(p))
    if not d.segments:
        raise InputError(f"{p}: no report text found (only headings or front matter)")
    d.meta = report_meta(d.meta, source.meta, p.stem, {"title": title, "year": year, "region": region})
    d.meta["format"] = source.kind
    d.doc = doc_id(d.meta.get("region"), d.meta.get("year"), p.stem)
    return d
