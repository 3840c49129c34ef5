"""The compact jieba dictionary segments exactly as jieba with its full dictionary, and survives a damaged cache."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import jieba
import pytest

from reportsearch import wordfreq
from reportsearch.cache import CACHE_ENV
from reportsearch.tokenize import _RUN
from reportsearch.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def full_jieba():
    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    return tk


def _texts() -> list[str]:
    report = [line for f in sorted((ROOT / "data").glob("*.txt")) for line in f.read_text("utf-8").splitlines()]
    queries = [json.loads(line)["query"] for line in (ROOT / "eval/questions.jsonl").read_text("utf-8").splitlines()]
    return report + queries


def test_same_words_as_jieba_on_the_report_and_every_eval_query(full_jieba):
    wf = wordfreq.default()
    runs = [m.group() for t in _texts() for m in _RUN.finditer(fold(t))]
    runs += _texts()  # unfolded, punctuation and all: jieba's own block splitting runs on them too
    assert len(runs) > 2000
    for r in runs:
        assert wf.segment(r) == full_jieba.lcut_for_search(r, HMM=False), r
        assert wf.segment(r, search=False) == full_jieba.lcut(r, HMM=False), r


def test_same_words_as_jieba_on_shuffled_text_either_form_first(full_jieba):
    """Texts no report holds, from the report's own characters with Latin, digits, punctuation and CJK at and
    past the edges of jieba's range mixed in (`鿕`, `鿖`, `㐀`, `﨎`), each asked for in either form first: the
    search form is derived from the plain cut, and the second form asked for comes from the cut kept."""
    rng = random.Random(7)
    chars = sorted(set("".join(_texts())))
    assert len(chars) > 1000
    edge = ["\u4e00", "\u9fd5", "\u9fd6", "\u3400", "\uf90e", "a", "7", " ", "，"]
    texts = []
    for _ in range(1500):
        n = rng.randint(1, 24)
        pool = chars if rng.random() < 0.7 else chars + edge * 20
        texts.append("".join(rng.choice(pool) for _ in range(n)))
    line = "".join(_texts()[:40])
    texts += [line[a:a + rng.randint(2, 30)] for a in (rng.randrange(len(line)) for _ in range(1500))]
    wf = wordfreq.WordFreq(*(getattr(wordfreq.default(), k) for k in ("keys", "freqs", "offsets", "blob", "total")))
    wf.max_len = wordfreq.default().max_len  # a fresh copy: nothing remembered from other tests
    for n, t in enumerate(texts):
        first, then = (True, False) if n % 2 else (False, True)
        want = {True: full_jieba.lcut_for_search(t, HMM=False), False: full_jieba.lcut(t, HMM=False)}
        assert wf.segment(t, search=first) == want[first], t
        assert wf.segment(t, search=then) == want[then], t


def test_lookup_checks_the_word_not_only_its_hash():
    wf = wordfreq.WordFreq.from_freq({"教育": 5, "教": 0, "育": 2}, 7)
    assert wf.lookup(["教育", "教", "育", "医疗", ""]) == [5, 0, 2, None, None]
    assert wf.lookup(["教育", "医疗"]) == [5, None]  # again, from memory
    wf = wordfreq.WordFreq.from_freq({"教育": 5, "教": 0, "育": 2}, 7)
    wf.blob = wf.blob.replace("教育".encode(), "教学".encode())  # same hash slot, different stored word
    assert wf.lookup(["教育"]) == [None]
    assert wf.subset("教育公平") == {"教": 0, "育": 2}


def test_cache_is_written_atomically_and_a_damaged_one_is_rebuilt(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    wordfreq.default.cache_clear()
    try:
        first = wordfreq.default()
        files = list(tmp_path.iterdir())
        assert [f.suffix for f in files] == [".npz"] and files[0].stat().st_size > 1_000_000
        data = bytearray(files[0].read_bytes())
        data[len(data) // 2] ^= 0xFF  # in the middle of the file: one of the arrays
        files[0].write_bytes(bytes(data))
        wordfreq.default.cache_clear()
        with caplog.at_level(logging.WARNING):
            again = wordfreq.default()
        assert "rebuilding the word-frequency cache" in caplog.text
        assert again.total == first.total and len(again) == len(first)
        assert again.segment("推进义务教育优质均衡发展") == first.segment("推进义务教育优质均衡发展")
        wordfreq.default.cache_clear()
        assert len(wordfreq.WordFreq.load(files[0])) == len(first)  # the rebuilt file is whole again
    finally:
        wordfreq.default.cache_clear()
