"""The regression evaluation: run the real engine over a question set, aggregate per mode, split and kind, gate it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .engine import MODES, SearchEngine
from .errors import InputError
from .jsonlines import read_query_lines
from .metrics import METRICS, is_relevant, match_key, mean_scores, score_ranking

KINDS = ("citizen", "keyword", "fact", "synonym", "english", "traditional", "time", "unanswerable")
SPLITS = ("dev", "test")
DEV_SHARE = 0.6
HEADLINE = "test"  # what the README and the gate print first; tuning scripts read only `dev`
SIGNIFICANCE = 0.05  # one-sided p-value below which a paired change counts
PERMUTATIONS = 10_000
SEED = 20230221  # fixed: the same two runs always give the same p-values

# Absolute floors per mode, on all questions: crossing one fails the gate whatever the test says.
# They sit below today's figures by a margin, so one question moving never crosses them.
FLOORS = {
    "hybrid": {"hit@5": 0.90, "mrr@10": 0.78, "kind_hit@5": 0.70, "unanswerable_flag_accuracy": 0.60,
               "false_low_confidence_rate": 0.08, "figure@1": 0.60},
    "semantic": {"hit@5": 0.82, "mrr@10": 0.65, "kind_hit@5": 0.45, "unanswerable_flag_accuracy": 0.60,
                 "false_low_confidence_rate": 0.12, "figure@1": 0.45},
    "keyword": {"hit@5": 0.82, "mrr@10": 0.70, "kind_hit@5": 0.40, "unanswerable_flag_accuracy": 0.60,
                "false_low_confidence_rate": 0.10, "figure@1": 0.55},
}
CEILINGS = ("false_low_confidence_rate",)  # floors that are maxima


def load_questions(path: str | Path, split: str | None = None) -> list[dict]:
    """The question set: JSON lines with "query", "expected" (a list) and optional "id", "kind", "split",
    "figure" (the figure text a quantity question must show in the top answer sentence), "form", "note".

    `split` ("dev" or "test") keeps only that part; tuning code passes "dev".
    """
    out = []
    for n, q in read_query_lines(path):
        if not isinstance(q.get("expected"), list):
            raise InputError(f"{path}:{n}: each line needs a list \"expected\" (empty for unanswerable)")
        q.setdefault("id", f"line{n}")
        q.setdefault("kind", "unanswerable" if not q["expected"] else "citizen")
        if q.get("split") not in (None, *SPLITS):
            raise InputError(f"{path}:{n}: split must be one of {', '.join(SPLITS)}, got {q['split']!r}")
        if "figure" in q and not (isinstance(q["figure"], str) and q["figure"].strip() and q["expected"]):
            raise InputError(f"{path}:{n}: \"figure\" must be the figure text of an answerable question")
        out.append(q)
    if split is not None:
        if split not in SPLITS:
            raise InputError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        out = [q for q in out if q.get("split") == split]
    return out


def split_rank(qid: str) -> str:
    return hashlib.sha256(qid.encode("utf-8")).hexdigest()


def assign_splits(questions: Sequence[dict]) -> dict[str, str]:
    """The fixed dev/test split: within each kind, ids ordered by SHA-256, the first 60% (rounded) are dev.

    It depends on ids and kinds only, never on results. Adding questions to a kind can move a few existing
    ones between the parts; the stored `split` field is checked against this rule by the tests, so any move
    shows in the diff of eval/questions.jsonl.
    """
    out: dict[str, str] = {}
    kinds: dict[str, list[str]] = {}
    for q in questions:
        kinds.setdefault(q["kind"], []).append(q["id"])
    for ids in kinds.values():
        ids = sorted(ids, key=split_rank)
        n_dev = int(len(ids) * DEV_SHARE + 0.5)
        out.update({qid: ("dev" if i < n_dev else "test") for i, qid in enumerate(ids)})
    return out


def _figure_shown(q: dict, res: dict) -> bool | None:
    """figure@1: the rank-1 answer states the expected figure as *the* figure (`answer.figure`), not merely
    somewhere in its sentence (None for questions without a `figure`)."""
    if not q.get("figure"):
        return None
    top = res["results"][:1]
    figure = ((top[0].get("answer") or {}).get("figure") or {}) if top else {}
    return bool(figure) and match_key(q["figure"]) == match_key(figure.get("text", ""))


def evaluate_results(questions: Sequence[dict], results: Sequence[dict], passages_text: Sequence[str]) -> dict:
    """Score result lists (the shared JSON shape) against questions; `passages_text` sizes the nDCG ideal.

    Returns {"summary": figures, "questions": {id: per-question record}}; `summarize` rebuilds the figures
    from the records, so a gate can recompute them for any subset.
    """
    per_q = {}
    for q, res in zip(questions, results):
        low = bool(res.get("low_confidence"))
        rec = {"kind": q["kind"], "split": q.get("split"), "low_confidence": low}
        if not q["expected"]:
            rec["pass"] = low
        else:
            rels = [is_relevant(r["text"], q["expected"]) for r in res["results"]]
            n_rel = sum(is_relevant(t, q["expected"]) for t in passages_text)
            rec.update(score_ranking(rels, n_rel))
            rec["rank"] = next((i + 1 for i, r in enumerate(rels) if r), None)
            rec["pass"] = bool(rec["hit@5"])
            fig = _figure_shown(q, res)
            if fig is not None:
                rec["figure@1"] = fig
        per_q[q["id"]] = rec
    return {"summary": summarize(per_q.values()), "questions": per_q}


def summarize(records: Iterable[dict]) -> dict:
    """Mean metrics over answerable records, per kind, unanswerable recall, false flags and figure@1."""
    records = list(records)
    ans = [r for r in records if "rank" in r]
    unans = [r for r in records if "rank" not in r]
    figs = [r["figure@1"] for r in ans if "figure@1" in r]
    out = dict(mean_scores(ans))
    kinds: dict[str, list[dict]] = {}
    for r in ans:
        kinds.setdefault(r["kind"], []).append(r)
    out["by_kind"] = {k: dict(mean_scores(v), n=len(v)) for k, v in sorted(kinds.items())}
    flagged = sum(r["low_confidence"] for r in unans)
    out["unanswerable_flag_accuracy"] = round(flagged / len(unans), 4) if unans else None
    out["false_low_confidence_rate"] = round(sum(r["low_confidence"] for r in ans) / len(ans), 4) if ans else None
    out["figure@1"] = round(sum(figs) / len(figs), 4) if figs else None
    out["n_answerable"], out["n_unanswerable"], out["n_figure"] = len(ans), len(unans), len(figs)
    return out


def run(engine: SearchEngine, questions: Sequence[dict], modes: Iterable[str] = MODES, k: int = 10) -> dict:
    """Evaluate every mode; figures on all questions ("modes") and per split ("splits"), plus per question."""
    texts = [p.text for p in engine.passages]
    queries = {q["id"]: q["query"] for q in questions}
    report = {"n": len(questions), "modes": {}, "splits": {}, "misses": {}, "questions": {}}
    present = [s for s in SPLITS if any(q.get("split") == s for q in questions)]
    for mode in modes:
        results = [engine.search(q["query"], mode=mode, top_k=k).to_dict() for q in questions]
        ev = evaluate_results(questions, results, texts)
        report["modes"][mode] = ev["summary"]
        report["questions"][mode] = ev["questions"]
        for s in present:
            report["splits"].setdefault(s, {})[mode] = summarize(
                d for d in ev["questions"].values() if d["split"] == s)
        report["misses"][mode] = [{"id": qid, "query": queries[qid], "kind": d["kind"], "rank": d.get("rank")}
                                  for qid, d in ev["questions"].items() if not d["pass"]]
    return report


# ---------------------------------------------------------------- the gate
def paired_p_value(diffs: Sequence[float], permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """One-sided paired randomization (sign-flip) test: P(mean diff <= observed) under "no change".

    Small p means "this run is worse than the baseline on these questions"; pass -diffs for "better".
    """
    d = np.asarray([x for x in diffs if x], dtype=np.float64)
    if not len(d):
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(permutations, len(d)))
    null = (signs * d).sum(axis=1)
    return float((np.sum(null <= d.sum() + 1e-12) + 1) / (permutations + 1))


def _paired(now: dict, was: dict, key: str, sign: float = 1.0) -> tuple[list[float], int]:
    """Per-question differences (now - baseline, times sign) on questions both runs have with that key."""
    diffs = [sign * (float(now[q][key]) - float(was[q][key])) for q in now if key in now[q] and key in was.get(q, {})]
    return diffs, len(diffs)


# (name, per-question key, sign, which records): the measures the paired test runs on
# nDCG@10 sees every relevant passage's rank, so it is the most sensitive: fusion α = 0.05 moves it with
# p = 0.014 where MRR@10 gives p = 0.065 (141 answerable questions, measured for issue 14).
PAIRED = (("ndcg@10", "ndcg@10", 1.0, lambda r: "rank" in r), ("mrr@10", "mrr@10", 1.0, lambda r: "rank" in r),
          ("hit@5", "hit@5", 1.0, lambda r: "rank" in r),
          ("figure@1", "figure@1", 1.0, lambda r: "figure@1" in r),
          ("unanswerable flagged", "low_confidence", 1.0, lambda r: "rank" not in r),
          ("no false low-confidence", "low_confidence", -1.0, lambda r: "rank" in r))


def compare(now: dict, was: dict) -> list[dict]:
    """Paired tests of one mode's per-question records against the baseline's; one row per measure."""
    rows = []
    for name, key, sign, keep in PAIRED:
        a = {q: r for q, r in now.items() if keep(r)}
        b = {q: r for q, r in was.items() if keep(r)}
        diffs, n = _paired(a, b, key, sign)
        delta = sum(diffs) / n if n else 0.0
        rows.append({"measure": name, "n": n, "delta": round(delta, 4), "p_worse": paired_p_value(diffs),
                     "p_better": paired_p_value([-x for x in diffs])})
    return rows


def floor_problems(mode: str, summary: dict) -> list[str]:
    floors = FLOORS.get(mode, {})
    out = []
    for m, floor in floors.items():
        if m == "kind_hit@5":
            for kind, k in summary.get("by_kind", {}).items():
                if k["hit@5"] < floor:
                    out.append(f"{mode} hit@5 of {kind} questions is {k['hit@5']:.3f}, below the floor {floor}")
            continue
        v = summary.get(m)
        if v is None:
            continue
        if m in CEILINGS and v > floor:
            out.append(f"{mode} {m} is {v:.3f}, above the ceiling {floor}")
        elif m not in CEILINGS and v < floor:
            out.append(f"{mode} {m} is {v:.3f}, below the floor {floor}")
    return out


def check_against(report: dict, baseline: dict, alpha: float = SIGNIFICANCE) -> list[str]:
    """Regressions of every mode against the accepted baseline; empty when the gate passes.

    A mode fails when it crosses a floor (computed here from its per-question records), or when a paired
    randomization test over the questions both runs share says it got worse (one-sided p < alpha).
    """
    problems = []
    for mode in MODES:
        now = report.get("questions", {}).get(mode)
        was = baseline.get("questions", {}).get(mode)
        if not now or not was:
            problems.append(f"the baseline or this run has no {mode} figures")
            continue
        problems += floor_problems(mode, summarize(now.values()))
        for row in compare(now, was):
            if row["delta"] < 0 and row["p_worse"] < alpha:
                problems.append(f"{mode} {row['measure']} got worse by {-row['delta']:.3f} per question "
                                f"over {row['n']} questions (paired randomization test, p = {row['p_worse']:.4f})")
    return problems


def question_changes(report: dict, baseline: dict) -> dict[str, dict[str, list[str]]]:
    """Per mode, the questions whose rank or flag moved against the baseline: {"better": [...], "worse": [...]}."""
    out = {}
    for mode, now in report.get("questions", {}).items():
        was = baseline.get("questions", {}).get(mode, {})
        better, worse = [], []
        for qid, r in now.items():
            b = was.get(qid)
            if b is None:
                continue
            if "rank" in r and "rank" in b:
                old, new = b["rank"] or 99, r["rank"] or 99
                if old != new:
                    text = f"{qid} rank {b['rank'] or '-'} → {r['rank'] or '-'}"
                    (better if new < old else worse).append(text)
            if "low_confidence" not in b:
                continue  # a baseline written before per-question records were kept
            if "rank" in r:
                if r["low_confidence"] != b["low_confidence"]:
                    (worse if r["low_confidence"] else better).append(
                        f"{qid} {'now' if r['low_confidence'] else 'no longer'} flagged low-confidence")
                if "figure@1" in r and "figure@1" in b and r["figure@1"] != b["figure@1"]:
                    (better if r["figure@1"] else worse).append(
                        f"{qid} figure {'now' if r['figure@1'] else 'no longer'} in the top answer sentence")
            elif r["low_confidence"] != b["low_confidence"]:
                (better if r["low_confidence"] else worse).append(
                    f"{qid} (unanswerable) {'now' if r['low_confidence'] else 'no longer'} flagged")
        out[mode] = {"better": better, "worse": worse}
    return out


def baseline_of(report: dict) -> dict:
    """What eval/baseline.json keeps: the figures and every question's record, per mode."""
    keep = ("kind", "split", "pass", "rank", "low_confidence", *METRICS, "figure@1")
    return {"n": report["n"], "modes": report["modes"], "splits": report.get("splits", {}),
            "questions": {m: {qid: {k: d[k] for k in keep if k in d} for qid, d in qs.items()}
                          for m, qs in report["questions"].items()}}
