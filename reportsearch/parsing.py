"""From raw report text to cleaned paragraphs under a section tree (L1 一、 › L2 （一） › L3 topic › L4 clause)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .textnorm import count_cjk, fix_spacing, split_sentences

_NUM = "一二三四五六七八九十"
L1_RE = re.compile(rf"^([{_NUM}]{{1,3}})、\s*(.+)$")
L2_RE = re.compile(rf"^[（(]\s*([{_NUM}]{{1,3}})\s*[）)]\s*(.+)$")
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
def decode_bytes(data: bytes, name: str = "input") -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK; refuse binary data."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: this looks like a binary file, not a text report")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: cannot decode the text (tried UTF-8 and GB18030); save it as UTF-8")


def read_report(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror})") from e
    text = decode_bytes(data, str(p))
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


def heading_level(text: str) -> int:
    """1 for `一、…`, 2 for `（一）…` or `(一)…`, else 0. Ordinal words like `一是` are not headings."""
    if len(text) > _HEADING_MAX or text[-1:] in "。！？；;":
        return 0
    if L1_RE.match(text):
        return 1
    if L2_RE.match(text):
        return 2
    return 0


def heading_title(text: str) -> str:
    """Canonical heading text: `(五) 聚焦…` → `（五）聚焦…`."""
    m = L2_RE.match(text)
    if m:
        return f"（{m.group(1)}）{m.group(2).strip()}"
    m = L1_RE.match(text)
    return f"{m.group(1)}、{m.group(2).strip()}" if m else text


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


# ---------------------------------------------------------------- structure
def _join_page_breaks(paras: list[str]) -> list[str]:
    """A paragraph that does not end a sentence continues into the next, unless the next is a heading."""
    out: list[str] = []
    for p in paras:
        if out and not ends_terminal(out[-1]) and not heading_level(out[-1]) and not heading_level(p):
            prev = out[-1]
            # an opening quote repeated at the top of the new page: `“承诺制+标准` + `“地+全代办”`
            if p.startswith("“") and prev.count("“") > prev.count("”"):
                p = p[1:]
            out[-1] = prev + p
        else:
            out.append(p)
    return out


def _split_front_back(paras: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Front matter: leading paragraphs before the first sentence or heading. Back matter: short trailing lines."""
    i = 0
    while i < len(paras) and not heading_level(paras[i]) and not re.search(r"[。！？!?]", paras[i]):
        i += 1
    if i == len(paras):  # no sentence at all: treat everything as body
        i = 0
    j = len(paras)
    while j > i + 1 and len(paras[j - 1]) <= 30 and not re.search(r"[。！？!?；]", paras[j - 1]) \
            and not heading_level(paras[j - 1]):
        j -= 1
    return paras[:i], paras[i:j], paras[j:]


def _front_meta(front: list[str], back: list[str]) -> dict:
    meta: dict = {}
    rest = []
    for p in front:
        if "title" not in meta and not p.startswith(("（", "(")):
            meta["title"] = p
        elif p.startswith(("（", "(")):
            meta["meeting"] = p.strip("（）()")
            m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", p)
            if m:
                meta["date"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        elif p.endswith(("：", ":")):
            meta["salutation"] = p
        else:
            rest.append(p)
    if rest:
        meta["speaker"] = " ".join(rest)
    if back:
        meta["back_matter"] = back
    return meta


def _paragraph_segments(path: tuple[str, ...], para: str) -> tuple[str | None, list[tuple[tuple[str, ...], str]]]:
    """Split one body paragraph into (section, text) runs using its L3 topic and L4 labels."""
    sents = split_sentences(para)
    if len(sents) < 2 or not is_topic_sentence(sents[0]):
        return None, [(path, para)]
    topic = sents[0][:-1]
    l3 = path + (topic,)
    runs: list[tuple[tuple[str, ...], list[str]]] = [(l3, [sents[0]])]
    for k, s in enumerate(sents[1:], start=1):
        if k < len(sents) - 1 and is_clause_label(s):
            runs.append((l3 + (s[:-1],), [s]))
        else:
            runs[-1][1].append(s)
    if len(runs) > 1 and len(runs[0][1]) == 1:
        runs[1][1].insert(0, runs.pop(0)[1][0])  # a bare topic sentence opens its first clause's text
    return topic, [(sec, "".join(ss)) for sec, ss in runs]


def parse(raw: str, doc: str, path: str = "") -> Document:
    """Parse raw report text into a Document with section-tagged segments."""
    paras = [clean_paragraph(p) for p in re.split(r"\n\s*\n", raw.replace("\r\n", "\n").replace("\r", "\n"))]
    paras = [p for p in paras if p]
    front, body, back = _split_front_back(paras)
    body = _join_page_breaks(body)
    d = Document(doc=doc, path=path, meta=_front_meta(front, back))
    l1: str | None = None
    l2: str | None = None
    pieces: list[str] = []
    offset = 0
    for para in body:
        level = heading_level(para)
        if level == 1:
            l1, l2 = heading_title(para), None
            d.outline.append((l1,))
        elif level == 2:
            l2 = heading_title(para)
            d.outline.append(tuple(x for x in (l1, l2) if x))
        if level:
            pieces.append(para)
            offset += len(para) + 1
            continue
        base = tuple(x for x in (l1, l2) if x)
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


def parse_file(path: str | Path) -> Document:
    p = Path(path)
    return parse(read_report(p), doc=p.stem, path=str(p))
