"""Two servers under the same load, alternating round by round in one run: an A/B of a server change.

    python bench/ab.py [--rounds 6] [--a CHECKOUT] [--b CHECKOUT] [--a-args "..."] [--b-args "..."]
                       [--clients 8] [--requests 25] [--index-dir index] [--new-connections]
                       [--client raw|http.client|wrk]

Each side is `python CHECKOUT/serve.py` (default: this checkout for both) with its own extra options, e.g. an
older commit (`git worktree add /tmp/old HEAD~1`) against this one, or `--a-args "--search-slots 2" --b-args
"--search-slots 3"`. Every round starts each side afresh on a free loopback port, warms it, runs 8 clients x 25
distinct searches with the query-vector cache off (bench/load.py's load, connections kept open unless
--new-connections; the clients on raw sockets unless --client http.client, the load generator of rounds
before 30 Nov, 11:00), and stops it; the order of the sides alternates each round (the machines are noisy).
Reports req/s, p50 and how busy the cores were (from /proc/stat), per round and as medians. Exits non-zero on
any error.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import time
from pathlib import Path

from common import ROOT, busy_share, cpu_ticks
from load import CLIENTS, questions, run_load, start_server, stop_server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--a", type=Path, default=ROOT, help="checkout of side A (default: this one)")
    ap.add_argument("--b", type=Path, default=ROOT, help="checkout of side B (default: this one)")
    ap.add_argument("--a-args", default="", help="extra serve.py options of side A")
    ap.add_argument("--b-args", default="", help="extra serve.py options of side B")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=25)
    ap.add_argument("--new-connections", action="store_true", help="a new connection for every request")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="raw", help="the clients' HTTP code (bench/load.py)")
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    args = ap.parse_args()
    sides = {"A": (args.a.resolve(), shlex.split(args.a_args)), "B": (args.b.resolve(), shlex.split(args.b_args))}
    for name, (checkout, extra) in sides.items():
        print(f"{name}: {checkout}/serve.py {' '.join(extra)}")
    qs = questions()
    results: dict[str, list[dict]] = {k: [] for k in sides}
    errors = 0
    for r in range(args.rounds):
        for name in (("A", "B") if r % 2 == 0 else ("B", "A")):
            checkout, extra = sides[name]
            proc, base = start_server(args.index_dir, extra_args=tuple(extra), checkout=checkout)
            try:
                run_load(base, qs, args.clients, 5, offset=100, client=args.client)  # warm threads and arenas
                before = cpu_ticks()
                x = run_load(base, qs, args.clients, args.requests, keepalive=not args.new_connections,
                             client=args.client)
                after = cpu_ticks()
            finally:
                stop_server(proc)
            time.sleep(1)  # let it finish exiting: its teardown is not the next side's cost
            x["busy"] = 100 * busy_share(before, after)
            errors += len(x["errors"])
            results[name].append(x)
            print(f"round {r + 1} {name}: {x['rps']:.1f} req/s, p50 {x['p50']:.1f} ms, p95 {x['p95']:.1f} ms, "
                  f"cores {x['busy']:.0f}% busy, errors {len(x['errors'])}", flush=True)
    for name, xs in results.items():
        print(f"{name} median of {len(xs)}: {statistics.median(x['rps'] for x in xs):.1f} req/s, "
              f"p50 {statistics.median(x['p50'] for x in xs):.1f} ms, "
              f"cores {statistics.median(x['busy'] for x in xs):.0f}% busy")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
