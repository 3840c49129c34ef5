"""Issue 11 figures: rank-1 on the `time` pairs, figure accuracy, and hit@1 of the main set, per split and boost."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportsearch.engine import SearchEngine  # noqa: E402
from reportsearch.evaluation import load_questions, run  # noqa: E402
from reportsearch.figures import figure_accuracy  # noqa: E402
from reportsearch.metrics import is_relevant  # noqa: E402


def score(engine, questions, mode="hybrid"):
    res = [engine.search(q["query"], mode=mode, top_k=10).to_dict() for q in questions]
    out = {}
    for split in ("dev", "test", None):
        idx = [n for n, q in enumerate(questions) if split is None or q.get("split") == split]
        qs, rs = [questions[n] for n in idx], [res[n] for n in idx]
        ans = [(q, r) for q, r in zip(qs, rs) if q["expected"]]
        hit1 = sum(bool(r["results"]) and is_relevant(r["results"][0]["text"], q["expected"]) for q, r in ans)
        time = [(q, r) for q, r in ans if q["kind"] == "time"]
        t1 = sum(bool(r["results"]) and is_relevant(r["results"][0]["text"], q["expected"]) for q, r in time)
        fig = figure_accuracy(qs, rs)
        out[split or "all"] = {"hit@1": f"{hit1}/{len(ans)}", "time@1": f"{t1}/{len(time)}",
                               "figure_acc": fig["figure_accuracy"], "n_fig": fig["n"], "fig_misses": fig["misses"],
                               "time_misses": [q["id"] for q, r in time if not (r["results"] and is_relevant(
                                   r["results"][0]["text"], q["expected"]))]}
    return out


def latency(engine, queries, rounds: int) -> None:
    import statistics
    import time

    off = engine.with_config(time_boost=0.0, measure_boost=0.0, low_conf_english_glossary=False)
    for q in queries:
        engine.search(q)  # fill the query-vector cache: this measures ranking and answers, not embedding
    times: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):  # interleaved, so machine load hits both alike
        for name, eng in (("off", off), ("on", engine)):
            for q in queries:
                t = time.perf_counter()
                eng.search(q, top_k=5)
                times[name].append((time.perf_counter() - t) * 1000)
    for name, v in times.items():
        v.sort()
        print(f"{name}: p50 {statistics.median(v):.2f} ms, p95 {v[int(len(v) * 0.95)]:.2f} ms, n={len(v)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index-dir", default="index")
    ap.add_argument("--questions", nargs="+", default=["eval/questions.jsonl"])
    ap.add_argument("--boost", type=float, nargs="*", default=None, help="time_boost values to compare")
    ap.add_argument("--penalty", type=float, default=None)
    ap.add_argument("--measure", type=float, nargs="*", default=None, help="measure_boost values to compare")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--split", default=None, help="only this split (tune on dev)")
    ap.add_argument("--before-after", action="store_true",
                    help="evaluation.run on each question file with issue 11's ranking changes off, then on")
    ap.add_argument("--latency", type=int, default=0, metavar="ROUNDS",
                    help="median search time with issue 11's ranking changes off vs on (query vectors cached)")
    args = ap.parse_args()
    engine = SearchEngine.load(args.index_dir)
    if args.latency:
        latency(engine, [q["query"] for path in args.questions for q in load_questions(path)], args.latency)
        return
    if args.before_after:
        off = engine.with_config(time_boost=0.0, measure_boost=0.0, low_conf_english_glossary=False)
        keys = ("hit@1", "hit@5", "mrr@10", "unanswerable_flag_accuracy", "false_low_confidence_rate", "figure@1")
        for path in args.questions:
            qs = load_questions(path)
            for name, eng in (("before", off), ("after", engine)):
                rep = run(eng, qs)
                for split, by_mode in rep["splits"].items():
                    for mode, m in by_mode.items():
                        print(path, name, split, mode, {k: m.get(k) for k in keys})
        return
    for path in args.questions:
        qs = load_questions(path, args.split)
        for b in args.boost if args.boost is not None else [None]:
            for m in args.measure if args.measure is not None else [None]:
                changes = {k: v for k, v in (("time_boost", b), ("time_penalty", args.penalty),
                                             ("measure_boost", m)) if v is not None}
                eng = engine.with_config(**changes) if changes else engine
                c = eng.config
                for split, r in score(eng, qs, args.mode).items():
                    print(path, f"time={c.time_boost} penalty={c.time_penalty} measure={c.measure_boost}", split, r)


if __name__ == "__main__":
    main()
