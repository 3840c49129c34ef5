"""The evaluation harness: question-set shape, targets, the baseline gate, and an independent recount via serve.py."""

import json
import subprocess
import sys

from conftest import ROOT
from reportsearch.evaluation import KINDS, check_against, evaluate_results, load_questions, run
from reportsearch.metrics import is_relevant

QUESTIONS = ROOT / "eval" / "questions.jsonl"


def test_question_set_shape():
    qs = load_questions(QUESTIONS)
    assert len(qs) >= 100 and len({q["id"] for q in qs}) == len(qs)
    assert {q["kind"] for q in qs} == set(KINDS)
    assert all((q["kind"] == "unanswerable") == (not q["expected"]) for q in qs)


def test_every_expectation_exists_in_the_report(engine):
    texts = [p.text for p in engine.passages]
    for q in load_questions(QUESTIONS):
        if q["expected"]:
            assert any(is_relevant(t, q["expected"]) for t in texts), q["id"]


def test_hybrid_meets_targets_and_beats_single_modes(engine):
    rep = run(engine, load_questions(QUESTIONS))
    h, s, k = (rep["modes"][m] for m in ("hybrid", "semantic", "keyword"))
    assert h["hit@5"] >= 0.95 and h["mrr@10"] >= 0.85
    assert h["mrr@10"] > max(s["mrr@10"], k["mrr@10"]) and h["hit@5"] >= max(s["hit@5"], k["hit@5"])


def test_gate_passes_on_baseline_and_flags_a_regression(engine):
    baseline = json.loads((ROOT / "eval" / "baseline.json").read_text(encoding="utf-8"))
    rep = run(engine, load_questions(QUESTIONS), modes=("hybrid",))
    assert check_against(rep, baseline) == []
    worse = json.loads(json.dumps(rep))
    worse["modes"]["hybrid"]["mrr@10"] -= 0.05
    qid = next(q for q, d in worse["questions"]["hybrid"].items() if d["pass"])
    worse["questions"]["hybrid"][qid]["pass"] = False
    problems = check_against(worse, baseline)
    assert any("mrr@10" in p for p in problems) and any(qid in p for p in problems)


def test_metrics_from_hand_built_results():
    qs = [{"id": "a", "kind": "fact", "expected": ["甲"]}, {"id": "b", "kind": "unanswerable", "expected": []}]
    res = [{"low_confidence": False, "results": [{"text": "乙"}, {"text": "甲乙"}]},
           {"low_confidence": True, "results": []}]
    ev = evaluate_results(qs, res, ["甲乙", "乙", "丙"])
    s = ev["summary"]
    assert s["hit@1"] == 0 and s["hit@3"] == 1 and s["mrr@10"] == 0.5
    assert s["unanswerable_flag_accuracy"] == 1.0 and s["false_low_confidence_rate"] == 0.0


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
