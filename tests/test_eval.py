"""The evaluation harness: question set and split, the gate (paired test, floors), and a recount via serve.py."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from conftest import ROOT
from reportsearch.evaluation import (FLOORS, KINDS, assign_splits, baseline_of, check_against, evaluate_results,
                                     load_questions, paired_p_value, question_changes, run, summarize)
from reportsearch.glossary import load_glossary
from reportsearch.metrics import is_relevant, match_key
from reportsearch.textnorm import fold

QUESTIONS = ROOT / "eval" / "questions.jsonl"


# ---------------------------------------------------------------- the question set
def test_question_set_shape():
    qs = load_questions(QUESTIONS)
    assert len(qs) >= 150 and len({q["id"] for q in qs}) == len(qs)
    assert {q["kind"] for q in qs} == set(KINDS)
    assert all((q["kind"] == "unanswerable") == (not q["expected"]) for q in qs)


def test_split_is_fixed_by_ids_and_balanced_by_kind():
    qs = load_questions(QUESTIONS)
    assert {q["id"]: q["split"] for q in qs} == assign_splits(qs)  # the rule, not a hand-picked set
    for kind, n in Counter(q["kind"] for q in qs).items():
        dev = sum(q["split"] == "dev" for q in qs if q["kind"] == kind)
        assert 0.5 <= dev / n <= 0.7, kind
    assert 0.55 <= sum(q["split"] == "dev" for q in qs) / len(qs) <= 0.65
    assert {q["id"] for q in load_questions(QUESTIONS, split="dev")}.isdisjoint(
        q["id"] for q in load_questions(QUESTIONS, split="test"))


def test_keyword_questions_are_typed_not_copied():
    kw = [q for q in load_questions(QUESTIONS) if q["kind"] == "keyword"]
    for q in kw:  # never the verbatim answer text
        assert all(match_key(q["query"]) != match_key(e) for e in q["expected"]), q["id"]
    assert {q["form"] for q in kw} == {"partial", "number", "abbreviation", "two terms", "traditional"}


def test_unanswerable_questions_in_other_scripts_and_quantity_questions():
    qs = load_questions(QUESTIONS)
    unans = [q["query"] for q in qs if q["kind"] == "unanswerable"]
    assert sum(q.isascii() for q in unans) >= 3  # English
    assert sum(fold(q) != q.lower() and not q.isascii() for q in unans) >= 3  # traditional characters
    assert sum(1 for q in qs if q.get("figure")) >= 40


def test_no_glossary_term_is_an_expected_answer():
    expected = {match_key(e) for q in load_questions(QUESTIONS) for e in q["expected"]}
    terms = {match_key(t) for ts in load_glossary().values() for t in ts}
    assert not terms & expected


def test_every_expectation_and_figure_exists_in_the_report(engine):
    texts = [p.text for p in engine.passages]
    for q in load_questions(QUESTIONS):
        if q["expected"]:
            relevant = [t for t in texts if is_relevant(t, q["expected"])]
            assert relevant, q["id"]
            if q.get("figure"):
                assert any(match_key(q["figure"]) in match_key(t) for t in relevant), q["id"]


# ---------------------------------------------------------------- the real engine against targets and the gate
@pytest.fixture(scope="module")
def full_run(engine):
    return run(engine, load_questions(QUESTIONS))


def test_hybrid_meets_targets_and_beats_single_modes(full_run):
    h, s, k = (full_run["modes"][m] for m in ("hybrid", "semantic", "keyword"))
    assert h["hit@5"] >= 0.95 and h["mrr@10"] >= 0.85
    assert h["mrr@10"] > max(s["mrr@10"], k["mrr@10"]) and h["hit@5"] >= max(s["hit@5"], k["hit@5"])
    assert set(full_run["splits"]) == {"dev", "test"}


def test_gate_passes_on_baseline_fails_on_a_real_regression(engine, full_run):
    baseline = json.loads((ROOT / "eval" / "baseline.json").read_text(encoding="utf-8"))
    assert check_against(full_run, baseline) == []
    # fusion broken either way: the dense side dropped (alpha 0), or the keyword side all but dropped (0.95)
    for alpha in (0.0, 0.95):
        worse = run(engine.with_config(alpha=alpha), load_questions(QUESTIONS), modes=("hybrid",))
        for mode in ("semantic", "keyword"):
            worse["questions"][mode] = full_run["questions"][mode]
        problems = check_against(worse, baseline_of(full_run))
        assert problems and all(p.startswith("hybrid ") for p in problems), (alpha, problems)


def test_gate_does_not_fail_when_one_question_moves(full_run):
    moved = json.loads(json.dumps(full_run))
    rec = next(r for r in moved["questions"]["hybrid"].values() if r.get("rank") == 1)
    rec.update({"rank": None, "pass": False, "hit@1": 0.0, "hit@3": 0.0, "hit@5": 0.0, "mrr@10": 0.0,
                "ndcg@10": 0.0, "low_confidence": True})
    assert check_against(moved, baseline_of(full_run)) == []
    changes = question_changes(moved, baseline_of(full_run))["hybrid"]
    assert len(changes["worse"]) == 2 and changes["better"] == []  # its rank, and the new low-confidence flag


# ---------------------------------------------------------------- the gate's pieces, on hand-built records
def _records(n, rr=1.0, flagged=False, kind="fact"):
    out = {f"a{i}": {"kind": kind, "split": "test", "rank": 1 if rr else None, "hit@1": rr, "hit@3": rr,
                     "hit@5": rr, "mrr@10": rr, "ndcg@10": rr, "low_confidence": False, "pass": bool(rr)}
           for i in range(n)}
    out.update({f"u{i}": {"kind": "unanswerable", "split": "test", "low_confidence": flagged, "pass": flagged}
                for i in range(4)})
    return out


def test_paired_randomization_test():
    assert paired_p_value([0.0] * 50) == 1.0
    assert paired_p_value([-1.0] + [0.0] * 99) > 0.4  # one question moving is noise
    assert paired_p_value([-1.0] * 12) < 0.001 and paired_p_value([1.0] * 12) > 0.99
    assert paired_p_value([-1.0, 0.5] * 8) == paired_p_value([-1.0, 0.5] * 8)  # fixed seed


def test_check_against_floors_and_significance_on_hand_built_records():
    base = {"questions": {m: _records(40, flagged=True) for m in FLOORS}}
    assert check_against(base, base) == []
    now = json.loads(json.dumps(base))
    for i in range(12):
        now["questions"]["keyword"][f"a{i}"].update({"mrr@10": 0.5, "rank": 2, "hit@1": 0.0})
    problems = check_against(now, base)
    assert any(p.startswith("keyword mrr@10 got worse") for p in problems), problems
    now = json.loads(json.dumps(base))
    for r in now["questions"]["semantic"].values():
        if r["kind"] == "unanswerable":
            r["low_confidence"] = False  # "flag nothing": the floor on unanswerable recall catches it
    assert any("semantic unanswerable_flag_accuracy" in p for p in check_against(now, base))
    now = json.loads(json.dumps(base))
    for r in now["questions"]["hybrid"].values():
        r["low_confidence"] = True  # "flag everything": the ceiling on false flags catches it
    assert any("hybrid false_low_confidence_rate" in p for p in check_against(now, base))
    assert check_against({"questions": {}}, base)  # a run without figures never passes


def test_metrics_from_hand_built_results():
    qs = [{"id": "a", "kind": "fact", "split": "dev", "expected": ["甲"], "figure": "3个"},
          {"id": "b", "kind": "unanswerable", "split": "test", "expected": []}]
    res = [{"low_confidence": False, "results": [{"text": "乙", "answer": {"text": "共3个", "figure": {"text": "3个"}}},
                                                 {"text": "甲乙"}]},
           {"low_confidence": True, "results": []}]
    ev = evaluate_results(qs, res, ["甲乙", "乙", "丙"])
    s = ev["summary"]
    assert s["hit@1"] == 0 and s["hit@3"] == 1 and s["mrr@10"] == 0.5 and s["figure@1"] == 1.0
    # the figure must be *the* figure of the answer, not merely a number somewhere in its sentence
    res[0]["results"][0]["answer"]["figure"] = {"text": "共3"}
    assert evaluate_results(qs, res, ["甲乙", "乙", "丙"])["summary"]["figure@1"] == 0.0
    del res[0]["results"][0]["answer"]["figure"]
    assert evaluate_results(qs, res, ["甲乙", "乙", "丙"])["summary"]["figure@1"] == 0.0
    assert s["unanswerable_flag_accuracy"] == 1.0 and s["false_low_confidence_rate"] == 0.0
    assert summarize(r for r in ev["questions"].values() if r["split"] == "test")["n_answerable"] == 0


def test_independent_recount_agrees_with_evaluate(real_index):
    py = sys.executable
    ev = subprocess.run([py, "eval/evaluate.py", "--index-dir", str(real_index), "--mode", "hybrid", "--json"],
                        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert ev.returncode == 0, ev.stderr
    figures = json.loads(ev.stdout)["modes"]["hybrid"]
    out = subprocess.run([py, "serve.py", "--index-dir", str(real_index), "--queries", str(QUESTIONS), "--json",
                          "--top-k", "10"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    qs = load_questions(QUESTIONS)
    assert [r["query"] for r in rows] == [q["query"] for q in qs]
    hits5 = rr = n = 0
    for q, r in zip(qs, rows):  # recount by hand, without the package's metric code
        if not q["expected"]:
            continue
        n += 1
        ranks = [i for i, x in enumerate(r["results"], 1)
                 if any(e.replace(" ", "") in x["text"].replace(" ", "") for e in q["expected"])]
        hits5 += bool(ranks and ranks[0] <= 5)
        rr += 1 / ranks[0] if ranks else 0
    assert abs(hits5 / n - figures["hit@5"]) <= 0.03
    assert abs(rr / n - figures["mrr@10"]) <= 0.03
