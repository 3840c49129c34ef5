"""Chunking rules and the acceptance checks on the bundled report."""

import pytest

from conftest import REPORT
from reportsearch.chunking import chunk, split_text
from reportsearch.parsing import parse, parse_file
from reportsearch.textnorm import count_cjk


@pytest.fixture(scope="module")
def passages():
    return chunk(parse_file(REPORT))


def _with(passages, needle):
    found = [p for p in passages if needle in p.text]
    assert len(found) == 1, (needle, len(found))
    return found[0]


def test_5g_base_stations_section(passages):
    p = _with(passages, "5G基站65座")
    assert p.section[:3] == ("二、2023年工作安排", "（一）聚焦产业转型，构筑高质量发展新优势", "赋能发力数字产业")


def test_qinhe_belt_under_rural_revitalisation(passages):
    p = _with(passages, "提速建设沁河生态经济带")
    assert p.section[1].startswith("（五）聚焦乡村振兴")


def test_clause_keeps_its_label_and_not_its_sibling(passages):
    p = _with(passages, "续建10个煤矿智能化工作面")
    assert "加快智能改造" in p.section or p.text.startswith("加快智能改造")
    assert "原煤产量稳定在4000万吨左右" not in p.text


def test_no_passage_exceeds_400_characters(passages):
    assert max(len(p.text) for p in passages) <= 400


def test_passages_hold_97_percent_of_cjk(passages):
    raw = REPORT.read_text(encoding="utf-8")
    assert sum(count_cjk(p.text) for p in passages) / count_cjk(raw) >= 0.97


def test_section_path_is_not_pasted_into_text(passages):
    assert not any(p.text.startswith("二、2023年工作安排") for p in passages)


def test_sibling_clauses_are_never_merged(passages):
    labels = {p.section[3] for p in passages if len(p.section) == 4}
    for p in passages:
        inner = [lab for lab in labels if f"。{lab}。" in p.text and (len(p.section) < 4 or lab != p.section[3])]
        assert not inner, (p.section, inner)


def test_ids_are_stable_and_unique(passages):
    again = chunk(parse_file(REPORT))
    assert [p.id for p in passages] == [p.id for p in again]
    assert len({p.id for p in passages}) == len(passages)


def test_long_clause_is_split_on_sentence_boundaries():
    body = "".join(f"第{i}项工作要抓紧推进落实到位。" for i in range(40))
    d = parse(f"一、甲\n\n（一）乙\n\n优化提升煤炭产业。着力稳产保供。{body}", "t")
    ps = chunk(d, max_chars=120)
    assert len(ps) > 1 and all(len(p.text) <= 120 for p in ps)
    assert all(p.text.endswith("。") for p in ps)
    assert "".join(p.text for p in ps) == d.segments[0].text


def test_split_text_keeps_every_character():
    t = "甲乙丙。" * 50 + "丁戊；" * 30
    assert "".join(split_text(t, 60)) == t
