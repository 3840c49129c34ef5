"""The serving process never loads torch when the index uses the default model (it runs on onnxruntime)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import ROOT, start_server, stop_server

CHECK = """
import json, sys
sys.argv = ["serve.py", *sys.argv[1:]]
from reportsearch.cli import serve_main
rc = serve_main()
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
print(json.dumps({"rc": rc, "heavy": heavy}))
"""


def _mapped_libraries(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {line.split()[-1] for line in maps.splitlines() if line.split()[-1].startswith("/")}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def fresh_server(real_index, tmp_path_factory):
    """A server of its own, so its memory reflects these searches and not the fuzzing other tests send."""
    tmp = tmp_path_factory.mktemp("notorch")
    base, proc, log = start_server(real_index, tmp, "--no-log")
    yield base, proc.pid  # serve.py itself, started without a shell
    stop_server(proc, log)


def test_served_page_and_api_do_not_load_torch(fresh_server):
    server, pid = fresh_server
    long = "今年在教育、医疗、养老、住房、就业、交通方面分别有哪些具体安排和目标" * 30  # ~1,000 characters
    queries = ["教育方面有哪些安排", "停车难怎么解决", "How many 5G base stations will be built?", long[:200], long]
    for q in queries * 42:  # 210 searches, short to the 1,000-character cut
        assert requests.get(server + "/api/search", params={"q": q, "k": 5}, timeout=30).status_code == 200
    libs = _mapped_libraries(pid)
    assert not [p for p in libs if "/torch/" in p or "libtorch" in p], "the server process mapped torch"
    assert any("onnxruntime" in p for p in libs), "the default model should run on onnxruntime"
    # uvicorn picks its C HTTP parser and libuv loop only when they import (requirements.txt pins them): without
    # them it falls back, silently, to h11 and asyncio, and each request costs the event loop more CPU
    assert any("/httptools/" in p for p in libs), "the server should parse HTTP with httptools"
    assert any("/uvloop/" in p for p in libs), "the server should run on uvloop"
    rss = _rss_mb(pid)
    assert rss <= 500, f"serving RSS {rss:.0f} MB after 210 searches (target <= 500 MB)"


def test_cli_query_does_not_import_torch(real_index):
    p = subprocess.run([sys.executable, "-c", CHECK, "--index-dir", str(real_index), "--query", "停车难怎么解决",
                        "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.strip().splitlines()
    answer, check = json.loads(lines[0]), json.loads(lines[-1])
    assert answer["results"] and "增加车位供给" in answer["results"][0]["text"]
    assert check == {"rc": 0, "heavy": []}
