"""The same report as .txt, PDF, Word and web page: passage equivalence and read time per format.

python bench/formats.py [--fixtures DIR] [--rounds 5]

Makes the fixtures with scripts/make_fixtures.py (into a temporary folder unless --fixtures names one that
already has them), parses and chunks each, and prints per format: passages, the share of the .txt passages that
come out with identical text (whitespace aside) and identical section path, passages holding page furniture or
site chrome, the doc id and title found, and median times: reading alone (wall clock, and this process's CPU
time, which other jobs on a shared machine do not inflate) and read+parse+chunk.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportsearch.chunking import chunk  # noqa: E402
from reportsearch.parsing import parse_file  # noqa: E402
from reportsearch.readers import read_source  # noqa: E402

REPORT = ROOT / "data" / "qinshui-2023-government-work-report.txt"
FORMATS = ("pdf", "docx", "html")
# text that must never reach a passage: running header/footer, page numbers, site chrome
FURNITURE = re.compile(r"—\s*\d+\s*—|沁水县2023年政府工作报告|版权所有|ICP备|公网安备|网站标识码|发布时间|浏览次数|"
                       r"来源：|分享到|当前位置|首页|政务公开|请输入关键词|搜索|打印本页|关闭窗口|网站地图|字号")


def passage_key(p) -> tuple:
    return tuple(p.section), re.sub(r"\s+", "", p.text)


def compare(reference: list, passages: list) -> dict:
    """How many reference passages come out identical (text without whitespace, section path), and the misses."""
    ref, got = Counter(map(passage_key, reference)), Counter(map(passage_key, passages))
    same = sum((ref & got).values())
    return {"reference": len(reference), "passages": len(passages), "identical": same,
            "share": same / len(reference) if reference else 0.0,
            "missing": list((ref - got).elements()), "extra": list((got - ref).elements()),
            "furniture": [p.text for p in passages if FURNITURE.search(p.text)]}


def make_fixtures(out_dir: Path) -> dict[str, Path]:
    from scripts.make_fixtures import make_all

    return make_all(out_dir)


def measure(fixtures: dict[str, Path], rounds: int = 5) -> list[dict]:
    ref_doc = parse_file(REPORT)
    reference = chunk(ref_doc)
    rows = []
    kinds = [k for k in (*FORMATS, "pdf_ragged") if k in fixtures]
    for kind, path in [("txt", REPORT)] + [(k, fixtures[k]) for k in kinds]:
        parse_ms, read_ms, read_cpu = [], [], []
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            read_source(path)
            read_ms.append((time.perf_counter() - t) * 1000)
            read_cpu.append((time.process_time() - c) * 1000)
            t = time.perf_counter()
            d = parse_file(path)
            ps = chunk(d)
            parse_ms.append((time.perf_counter() - t) * 1000)
        row = compare(reference, ps)
        row.update(format=kind, doc=d.doc, doc_title=d.meta.get("doc_title", ""), year=d.meta.get("year"),
                   read_ms=statistics.median(read_ms), read_cpu_ms=statistics.median(read_cpu),
                   total_ms=statistics.median(parse_ms),
                   size_kb=path.stat().st_size / 1024)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    out = ["| format | size | passages | identical to .txt | furniture/chrome in passages | doc id | title | "
           "read p50 (CPU) | read+parse+chunk p50 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['format']} | {r['size_kb']:.0f} KB | {r['passages']} | {r['identical']}/{r['reference']} "
                   f"({100 * r['share']:.1f}%) | {len(r['furniture'])} | {r['doc']} | {r['doc_title']} | "
                   f"{r['read_ms']:.0f} ms ({r['read_cpu_ms']:.0f} ms) | {r['total_ms']:.0f} ms |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", default=None, help="folder with report.pdf/.docx/.html (made if missing)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.fixtures or tmp)
        if not all((folder / f"report.{k}").exists() for k in FORMATS):
            t = time.perf_counter()
            make_fixtures(folder)
            print(f"made fixtures in {folder} in {time.perf_counter() - t:.1f} s")
        found = {k: folder / f"report.{k}" for k in FORMATS}
        if (folder / "report-ragged.pdf").exists():
            found["pdf_ragged"] = folder / "report-ragged.pdf"
        rows = measure(found, rounds=args.rounds)
    print(table(rows))
    for r in rows:
        for sec, text in r["missing"][:3]:
            print(f"  {r['format']} missing: {' › '.join(sec)} | {text[:60]}")
    return 0 if all(r["share"] >= 0.98 and not r["furniture"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
