"""Library benchmark: build, add, re-add, remove and query a library of 20 reports (python bench/library.py).

The 20 reports are copies of the bundled report with a changed meeting date (2004-2023, so doc ids
qinshui-2004 … qinshui-2023) and a few changed figures, as issue 10 allows for timing. They share most of
their text, and the embedding cache embeds a text once however many reports hold it, so the full build
embeds about one report's worth of texts: the table also gives the first add of one report (every text new),
which is what each genuinely different report costs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPORT = ROOT / "data" / "qinshui-2023-government-work-report.txt"
FIGURES = ("新增 5G 基站 65 座", "地区生产总值完成426.8亿元", "城镇居民人均可支配收入达到 37338 元")


def make_copy(text: str, year: int) -> str:
    """The bundled report as if given in `year`: the meeting date and a few figures changed."""
    out = text.replace("2023年2月21日", f"{year}年2月21日")
    for k, fig in enumerate(FIGURES):
        if fig in out:
            out = out.replace(fig, re.sub(r"\d+(\.\d+)?", lambda m: str(int(float(m.group()) * (year - 1990 + k)
                                                                              / 33)), fig, count=1))
    return out


def run(*args) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "ingest.py", *args], cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"ingest.py {' '.join(args)} failed: {p.stderr.strip()}")
    return took, p.stdout.strip().splitlines()[-1]


def du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="query rounds over the question set")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    text = REPORT.read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="bench-library-"))
    rows: list[tuple[str, str, str]] = []
    try:
        lib = work / "reports"
        lib.mkdir()
        first = 2024 - args.reports
        for y in range(first, 2024):
            (lib / f"qinshui-{y}.txt").write_text(make_copy(text, y), encoding="utf-8")
        one = work / "one"
        one.mkdir()
        shutil.copy(REPORT, one / REPORT.name)
        t, out = run(str(one), "--index-dir", str(work / "single"), "--quiet")
        rows.append(("first add of one report (every text new, model loaded)", f"{t:.1f} s", out))
        idx = work / "index"
        t, out = run(str(lib), "--index-dir", str(idx), "--quiet")
        rows.append((f"full build, {args.reports} reports", f"{t:.1f} s", out))
        new = work / "qinshui-2024.txt"
        new.write_text(make_copy(text, 2024), encoding="utf-8")
        t, out = run("add", str(new), "--index-dir", str(idx), "--quiet")
        rows.append((f"add one report to {args.reports}", f"{t:.1f} s", out))
        t, out = run("add", str(new), "--index-dir", str(idx), "--quiet")
        rows.append(("re-add the same report unchanged", f"{t:.1f} s", out))
        t, out = run("remove", f"qinshui-{first}", "--index-dir", str(idx), "--quiet")
        rows.append(("remove one report", f"{t:.1f} s", out))
        rows.append(("index size on disk", f"{du(idx) / 1e6:.1f} MB", f"{args.reports} reports"))

        from reportsearch.engine import SearchEngine
        from reportsearch.evaluation import load_questions
        from reportsearch.store import load_index, read_manifest, verify_files

        for name, folder in (("the bundled report", work / "single"), (f"{args.reports} reports", idx)):
            m = read_manifest(folder)
            ver = []
            for _ in range(20):
                t0 = time.perf_counter()
                verify_files(folder, m)
                ver.append((time.perf_counter() - t0) * 1000)
            rows.append((f"checksum verification on load, {name}", f"{statistics.median(ver):.1f} ms",
                         f"median of 20, {len(m['files'])} files, {du(folder) / 1e6:.1f} MB"))
        t0 = time.perf_counter()
        load_index(idx)
        rows.append(("load the whole index (verify + read)", f"{(time.perf_counter() - t0) * 1000:.0f} ms", ""))
        engine = SearchEngine.load(idx)
        queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
        uncached = engine.with_config(query_cache=0) if hasattr(engine.config, "query_cache") else engine
        lat = []
        for _ in range(args.rounds):
            for q in queries:
                t0 = time.perf_counter()
                uncached.search(q)
                lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
        rows.append((f"hybrid query at {args.reports} reports ({engine.store.count} passages)",
                     f"p50 {p50:.1f} ms, p95 {p95:.1f} ms", f"{len(lat)} searches, query vectors not cached"))
        t0 = time.perf_counter()
        engine.compare(queries[0])
        rows.append(("compare one question across the reports", f"{(time.perf_counter() - t0) * 1000:.0f} ms",
                     f"{len(engine.reports())} reports"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps([{"what": a, "figure": b, "detail": c} for a, b, c in rows], ensure_ascii=False))
    else:
        print(f"| what | figure | detail |\n|---|---|---|")
        for a, b, c in rows:
            print(f"| {a} | {b} | {c} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
