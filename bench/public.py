"""What running in public costs per search: bare engine.search vs Service.search (rate limit, slot, metrics, log).

    python bench/public.py [--rounds 5] [--index-dir index]

Both variants run the same questions in one process, interleaved round by round; the query log goes to a
temporary file. Prints the median per-search time of each and the difference.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, med

from reportsearch.engine import SearchEngine
from reportsearch.evaluation import load_questions
from reportsearch.web.server import build_service


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    args = ap.parse_args()
    engine = SearchEngine.load(args.index_dir)
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        service = build_service(engine, rate_limit=1_000_000, log_db=Path(tmp) / "q.sqlite3")
        bare_fn = lambda q: engine.search(q, mode="hybrid", top_k=5)  # noqa: E731
        wrapped_fn = lambda q: service.search(q, mode="hybrid", top_k=5, client="203.0.113.1")  # noqa: E731
        for q in queries[:10]:  # warm-up
            bare_fn(q), wrapped_fn(q)
        bare, wrapped = [], []
        for _ in range(args.rounds):
            for fn, out in ((bare_fn, bare), (wrapped_fn, wrapped)):
                t = time.perf_counter()
                for q in queries:
                    fn(q)
                out.append((time.perf_counter() - t) * 1000 / len(queries))
        service.querylog.flush()
        rows = service.querylog.summary(days=1)["searches"]
        service.querylog.close()
    b, w = med(bare), med(wrapped)
    print(f"{len(queries)} questions x {args.rounds} rounds, hybrid, k=5 (per-search medians of the rounds)")
    print(f"engine.search  {b:.2f} ms  (spread {statistics.pstdev(bare):.2f})")
    print(f"Service.search {w:.2f} ms  (spread {statistics.pstdev(wrapped):.2f})")
    print(f"overhead       {w - b:+.2f} ms per search; {rows} rows logged, {sum(service.querylog.dropped.values())} "
          f"dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
