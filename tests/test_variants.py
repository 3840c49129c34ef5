"""Reports shaped differently from the bundled one: variants made by rewriting its markers, each parsed whole."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from reportsearch.chunking import MAX_CHARS, chunk
from reportsearch.parsing import L1_RE, L2_RE, parse_file
from reportsearch.textnorm import is_cjk
from scripts.make_fixtures import report_blocks

CN = "一二三四五六七八九十"


def _l1(text: str) -> re.Match:
    return L1_RE.match(text)


def _ordinal_labels(block: dict) -> str:
    """`有序提升产能。` → `一是有序提升产能。` for every clause label of a topic paragraph."""
    text, at = block["text"], 0
    for k, label in enumerate(block["labels"]):
        at = text.find(label, at)
        text = text[:at] + f"{CN[k] if k < 10 else '十' + CN[k - 10]}是" + text[at:]
        at += len(label) + 2
    return text


def _rewrite(kind: str, b: dict) -> tuple[str | None, bool]:
    """(new text or None to drop, is_heading) for one block of the report."""
    t, role = b["text"], b["role"]
    if kind == "part" and role == "h1":
        return f"第{_l1(t).group(1)}部分　{_l1(t).group(2)}", True
    if kind == "arabic" and role == "h1":
        return f"{CN.index(_l1(t).group(1)) + 1}. {_l1(t).group(2)}", True
    if kind == "arabic" and role == "h2":
        m = L2_RE.match(t)
        return f"（{CN.index(m.group(1)) + 1}）{m.group(2)}", True
    if kind == "no_l2" and role == "h2":
        return None, False
    if kind == "bold" and role == "h1":
        return f"**{_l1(t).group(2)}**", True
    if kind == "bold" and role == "h2":
        return f"**{L2_RE.match(t).group(2)}**", True
    if kind == "yishi" and role == "p" and b["labels"]:
        return _ordinal_labels(b), False
    if kind == "no_front" and role == "front":
        return None, False
    return t, role in ("h1", "h2")


VARIANTS = ("part", "yishi", "arabic", "no_l2", "bold", "no_front")


@pytest.fixture(scope="module")
def blocks():
    return report_blocks()


def make_variant(kind: str, blocks: list[dict], folder) -> tuple:
    paras, body = [], []
    for b in blocks:
        text, heading = _rewrite(kind, b)
        if text is None:
            continue
        paras.append(text)
        if b["role"] == "p" and not heading:
            body.append(text)
    name = "沁水县2023年政府工作报告.txt" if kind == "no_front" else f"variant-{kind}.txt"
    path = folder / name
    path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return path, body


@pytest.mark.parametrize("kind", VARIANTS)
def test_variant_is_parsed_whole(kind, blocks, tmp_path):
    path, body = make_variant(kind, blocks, tmp_path)
    d = parse_file(path)
    passages = chunk(d)
    assert passages
    want = Counter(c for t in body for c in t if is_cjk(c))
    got = Counter(c for p in passages for c in p.text if is_cjk(c))
    kept = sum((want & got).values()) / sum(want.values())
    assert kept >= 0.99, (kind, kept)
    assert sum(bool(p.section) for p in passages) / len(passages) >= 0.90
    assert max(len(p.text) for p in passages) <= MAX_CHARS
    assert d.doc == "qinshui-2023" and d.meta["doc_title"] == "沁水县2023年政府工作报告"


def _paths(kind, blocks, tmp_path):
    path, _ = make_variant(kind, blocks, tmp_path)
    return [p.section for p in chunk(parse_file(path))]


def test_part_headings_are_level_one(blocks, tmp_path):
    paths = _paths("part", blocks, tmp_path)
    assert ("第二部分 2023年工作安排", "（一）聚焦产业转型，构筑高质量发展新优势", "优化提升煤炭产业", "有序提升产能") in paths


def test_arabic_numbering_gives_two_levels(blocks, tmp_path):
    paths = _paths("arabic", blocks, tmp_path)
    assert ("2. 2023年工作安排", "（1）聚焦产业转型，构筑高质量发展新优势", "优化提升煤炭产业", "有序提升产能") in paths


def test_ordinal_labels_keep_their_clause_paths(blocks, tmp_path):
    paths = _paths("yishi", blocks, tmp_path)
    assert ("二、2023年工作安排", "（一）聚焦产业转型，构筑高质量发展新优势", "优化提升煤炭产业", "有序提升产能") in paths


def test_without_l2_topics_sit_under_l1(blocks, tmp_path):
    paths = _paths("no_l2", blocks, tmp_path)
    assert ("二、2023年工作安排", "优化提升煤炭产业", "有序提升产能") in paths
    assert all(not p or not p[-1].startswith("（") for p in paths)


def test_bold_only_headings_become_sections(blocks, tmp_path):
    """Bold alone cannot tell 一、 from （一）: both become top-level sections, and topics/clauses sit below them."""
    path, _ = make_variant("bold", blocks, tmp_path)
    d = parse_file(path)
    assert [o for o in d.outline if len(o) == 1][:3] == [("2022年工作回顾",), ("2023年工作安排",),
                                                          ("聚焦产业转型，构筑高质量发展新优势",)]
    paths = [p.section for p in chunk(d)]
    assert ("聚焦产业转型，构筑高质量发展新优势", "优化提升煤炭产业", "有序提升产能") in paths


def test_no_front_matter_falls_back_to_the_file_name(blocks, tmp_path):
    path, _ = make_variant("no_front", blocks, tmp_path)
    d = parse_file(path)
    assert (d.doc, d.meta["year"], d.meta["region"]) == ("qinshui-2023", 2023, "沁水县")
    assert "date" not in d.meta and d.meta["title"] == "沁水县2023年政府工作报告"
