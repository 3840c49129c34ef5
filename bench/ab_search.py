"""Two checkouts' in-process search CPU, alternating round by round in one run: an A/B of a search-path change.

    python bench/ab_search.py --a CHECKOUT [--b CHECKOUT] [--rounds 30] [--mode hybrid] [--cache 0]
                              [--index-dir index] [--same-results]

Each side is one long-lived `python` process importing CHECKOUT's `reportsearch` (default B: this checkout; A
e.g. `git worktree add /tmp/old HEAD~1`), both loading the same index and the same model folder (this
checkout's, or $REPORTSEARCH_MODEL_DIR). A round is one side's searches over all 196 eval questions, one after
another, timed by the thread's CPU clock; the sides take turns, the order alternating (the machines are noisy,
and their speed drifts within minutes). Reports each side's median CPU a search, in how many rounds B was
faster, and the median of B/A over paired rounds. `--cache 0` (the default) turns the query-vector cache off, so
every search runs the model; `--cache 4096` times the search work alone. `--same-results` also checks that both
sides return the same JSON for every question in every mode (exits non-zero if not).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT

MODES = ("hybrid", "semantic", "keyword")


def worker(checkout: str, index_dir: str, mode: str, cache: int) -> None:
    """One side: answers "round" with the CPU ms a search of one round, "dump" with every answer as JSON."""
    sys.path.insert(0, checkout)
    from reportsearch.evaluation import load_questions
    from reportsearch.web.server import load_or_build

    qs = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    engine = load_or_build(index_dir).with_config(query_cache=cache)
    for q in qs:  # warm: threads, arenas and, with a cache, every vector
        engine.search(q, mode=mode)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "dump":
            out = [engine.with_config(query_cache=0).search(q, mode=m, top_k=10).to_dict() for q in qs for m in MODES]
            print(json.dumps(out, ensure_ascii=False, sort_keys=True), flush=True)
            continue
        t = time.thread_time()
        for q in qs:
            engine.search(q, mode=mode)
        print((time.thread_time() - t) / len(qs) * 1000, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, help="checkout of side A (required)")
    ap.add_argument("--b", type=Path, default=ROOT, help="checkout of side B (default: this one)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--mode", choices=MODES, default="hybrid")
    ap.add_argument("--cache", type=int, default=0, help="query vectors cached (0: off, every search embeds)")
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--same-results", action="store_true", help="also compare every answer of both sides")
    ap.add_argument("--worker", nargs=4, metavar=("CHECKOUT", "INDEX", "MODE", "CACHE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        checkout, index_dir, mode, cache = args.worker
        worker(checkout, index_dir, mode, int(cache))
        return 0
    if args.a is None:
        ap.error("--a CHECKOUT is required")
    from reportsearch.defaultmodel import default_model_dir

    env = dict(os.environ, REPORTSEARCH_MODEL_DIR=str(default_model_dir()))  # one model for both sides
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    procs = {k: subprocess.Popen([sys.executable, __file__, "--worker", str(path), str(Path(args.index_dir).resolve()),
                                  args.mode, str(args.cache)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, env=env) for k, path in sides.items()}
    try:
        for k, p in procs.items():
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"side {k} ({sides[k]}) did not start")

        def ask(k: str, what: str) -> str:
            procs[k].stdin.write(what + "\n")
            procs[k].stdin.flush()
            return procs[k].stdout.readline()

        ms: dict[str, list[float]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for k in (("A", "B") if r % 2 == 0 else ("B", "A")):
                ms[k].append(float(ask(k, "round")))
        same = ask("A", "dump") == ask("B", "dump") if args.same_results else None
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait()
    what = f"{args.mode}, query-vector cache {'off' if args.cache <= 0 else args.cache}"
    for k, path in sides.items():
        print(f"{k} {path}: median {statistics.median(ms[k]):.3f} ms CPU a search ({what}), "
              f"min {min(ms[k]):.3f}")
    ratios = sorted(b / a for a, b in zip(ms["A"], ms["B"]))
    q = len(ratios) // 4
    print(f"B faster in {sum(b < a for a, b in zip(ms['A'], ms['B']))}/{args.rounds} rounds; B/A over paired "
          f"rounds: median {statistics.median(ratios):.3f} (quartiles {ratios[q]:.3f}-{ratios[-1 - q]:.3f})")
    if same is not None:
        print("same answers on both sides (every question, every mode, top 10):", "yes" if same else "NO")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
