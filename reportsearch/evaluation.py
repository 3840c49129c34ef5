"""The regression evaluation: run the real engine over a question set, aggregate per mode and kind, gate on a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from .engine import MODES, SearchEngine
from .errors import InputError
from .jsonlines import read_query_lines
from .metrics import METRICS, is_relevant, mean_scores, score_ranking

KINDS = ("citizen", "keyword", "fact", "synonym", "english", "traditional", "unanswerable")
TOLERANCE = 0.01


def load_questions(path: str | Path) -> list[dict]:
    """The question set: JSON lines with "query", "expected" (a list) and optional "id", "kind", "note"."""
    out = []
    for n, q in read_query_lines(path):
        if not isinstance(q.get("expected"), list):
            raise InputError(f"{path}:{n}: each line needs a list \"expected\" (empty for unanswerable)")
        q.setdefault("id", f"line{n}")
        q.setdefault("kind", "unanswerable" if not q["expected"] else "citizen")
        out.append(q)
    return out


def evaluate_results(questions: Sequence[dict], results: Sequence[dict], passages_text: Sequence[str]) -> dict:
    """Score result lists (the shared JSON shape) against questions; `passages_text` sizes the nDCG ideal."""
    per_q, rows, by_kind = {}, [], {}
    flags_ok = flags_n = false_alarms = answerable = 0
    for q, res in zip(questions, results):
        low = bool(res.get("low_confidence"))
        if not q["expected"]:
            flags_n += 1
            flags_ok += low
            per_q[q["id"]] = {"kind": q["kind"], "pass": low, "low_confidence": low}
            continue
        answerable += 1
        false_alarms += low
        rels = [is_relevant(r["text"], q["expected"]) for r in res["results"]]
        n_rel = sum(is_relevant(t, q["expected"]) for t in passages_text)
        s = score_ranking(rels, n_rel)
        rows.append(s)
        by_kind.setdefault(q["kind"], []).append(s)
        first = next((i + 1 for i, r in enumerate(rels) if r), None)
        per_q[q["id"]] = {"kind": q["kind"], "pass": bool(s["hit@5"]), "rank": first, "low_confidence": low}
    out = dict(mean_scores(rows))
    out["by_kind"] = {k: dict(mean_scores(v), n=len(v)) for k, v in sorted(by_kind.items())}
    out["unanswerable_flag_accuracy"] = round(flags_ok / flags_n, 4) if flags_n else None
    out["false_low_confidence_rate"] = round(false_alarms / answerable, 4) if answerable else None
    out["n_answerable"], out["n_unanswerable"] = answerable, flags_n
    return {"summary": out, "questions": per_q}


def run(engine: SearchEngine, questions: Sequence[dict], modes: Iterable[str] = MODES, k: int = 10) -> dict:
    """Evaluate every mode; returns the --json shape plus per-question detail."""
    texts = [p.text for p in engine.passages]
    report = {"n": len(questions), "modes": {}, "misses": {}, "questions": {}}
    for mode in modes:
        results = [engine.search(q["query"], mode=mode, top_k=k).to_dict() for q in questions]
        ev = evaluate_results(questions, results, texts)
        report["modes"][mode] = ev["summary"]
        report["questions"][mode] = ev["questions"]
        report["misses"][mode] = [{"id": qid, "query": next(q["query"] for q in questions if q["id"] == qid),
                                   "kind": d["kind"], "rank": d.get("rank")}
                                  for qid, d in ev["questions"].items() if not d["pass"]]
    return report


def check_against(report: dict, baseline: dict, tolerance: float = TOLERANCE) -> list[str]:
    """Regressions of the hybrid mode against the accepted baseline; empty when the gate passes."""
    problems = []
    now, then = report["modes"].get("hybrid"), baseline.get("modes", {}).get("hybrid")
    if not now or not then:
        return ["the baseline or this run has no hybrid figures"]
    for m in (*METRICS, "unanswerable_flag_accuracy"):
        if then.get(m) is not None and (now.get(m) or 0) < then[m] - tolerance:
            problems.append(f"hybrid {m} fell from {then[m]:.4f} to {now.get(m) or 0:.4f}")
    was = baseline.get("questions", {}).get("hybrid", {})
    for qid, d in report["questions"].get("hybrid", {}).items():
        if was.get(qid, {}).get("pass") and not d["pass"]:
            problems.append(f"question {qid} passed in the baseline and now fails")
    return problems


def baseline_of(report: dict) -> dict:
    return {"n": report["n"], "modes": report["modes"],
            "questions": {m: {qid: {"pass": d["pass"]} for qid, d in qs.items()}
                          for m, qs in report["questions"].items()}}
