"""Shared fixtures: a fake embedder for fast unit tests, and the real default model + real index for the rest."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "data" / "qinshui-2023-government-work-report.txt"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# derived-data cache (word frequencies, pinyin) in a folder of this test session's own, servers and CLIs included:
# the tests build it and never read what an earlier version left in ~/.cache/reportsearch
os.environ["REPORTSEARCH_CACHE_DIR"] = CACHE_DIR = tempfile.mkdtemp(prefix="reportsearch-test-cache-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CACHE_DIR, ignore_errors=True)


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams vectors: offline, instant, good enough to exercise plumbing."""

    name = "fake/bigram-hash"
    dim = 64
    prompts: dict = {}

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(max(1, len(text) - 1)):
            h = int(hashlib.md5(text[i:i + 2].encode()).hexdigest()[:8], 16)
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_queries(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts, progress=False):
        return self.encode_queries(texts)


# two small reports for the library tests (add, replace, remove, the embedding cache)
REPORT_A = "一、回顾\n\n（一）民生\n\n坚持教育优先。完成桃园小学主体。\n\n建设健康沁水。加快大医院建设，力争投入使用。"
REPORT_B = "一、安排\n\n（一）产业\n\n推进煤炭转型。新建5G基站80座。\n\n优化营商环境。推行一件事一次办。"


@pytest.fixture
def lib(tmp_path):
    """(a source folder holding REPORT_A and REPORT_B as a.txt and b.txt, an index folder not made yet)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(REPORT_A, encoding="utf-8")
    (src / "b.txt").write_text(REPORT_B, encoding="utf-8")
    return src, tmp_path / "index"


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from reportsearch.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, real_embedder):
    """The real report indexed with the real default model, built once per test session."""
    from reportsearch.ingest import build_index

    d = tmp_path_factory.mktemp("index") / "index"
    build_index([REPORT], index_dir=d, embedder=real_embedder, progress=False)
    return d


def fake_engine(root: Path, name: str, text: str):
    """A SearchEngine over one report `text`, written as `root/data/NAME` and indexed into `root/index` with the
    FakeEmbedder (fast tests of what lies around the model)."""
    from reportsearch.engine import SearchEngine
    from reportsearch.ingest import build_index

    report = root / "data" / name
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    build_index([report], index_dir=root / "index", embedder=FakeEmbedder(), progress=False)
    return SearchEngine.load(root / "index", embedder=FakeEmbedder())


def index_with_copies(real_index, root: Path, copies: dict[str, str], embedder):
    """A copy of the real index under `root`, with report texts `copies` (file name -> text) added to it;
    returns (index folder, the add's UpdateResult)."""
    from reportsearch.ingest import ingest_paths

    index = root / "index"
    shutil.copytree(real_index, index)
    paths = []
    for name, text in copies.items():
        (root / name).write_text(text, encoding="utf-8")
        paths.append(root / name)
    return index, ingest_paths(paths, index, rebuild=False, embedder=embedder, progress=False)


@pytest.fixture(scope="session")
def engine(real_index, real_embedder):
    from reportsearch.engine import SearchEngine

    return SearchEngine.load(real_index, embedder=real_embedder)


def start_server(index_dir, tmp, *args, env=None):
    """python serve.py on a free loopback port (`--port 0`: the server binds it, and its start-up line names it,
    so no other process can take it in between) with extra options; returns (base URL, process, log file)."""
    import re

    import requests

    fd, name = tempfile.mkstemp(prefix="server-", suffix=".log", dir=tmp)
    os.close(fd)
    log_path = Path(name)
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--index-dir", str(index_dir),
                             "--port", "0", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    deadline, base = time.time() + 180, None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {log_path.read_text()[-2000:]}")
        if base is None:
            m = re.search(r"^serving .* on (http://127\.0\.0\.1:\d+)/", log_path.read_text(errors="replace"), re.M)
            base = m and m.group(1)
        try:
            if base and requests.get(base + "/api/health", timeout=2).status_code == 200:
                return base, proc, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 180 s")


def open_page(page, url, ready="html[data-rs-ready]", timeout=60_000):
    """Go to `url` and wait until the app says it is ready (the search page sets `<html data-rs-ready>` after its
    load events), not until the network goes quiet: `networkidle` timed out in CI on a page that had loaded. On a
    timeout the error names the requests still open."""
    pending = {}
    page.on("request", lambda r: pending.__setitem__(id(r), r.url))
    page.on("requestfinished", lambda r: pending.pop(id(r), None))
    page.on("requestfailed", lambda r: pending.pop(id(r), None))
    resp = page.goto(url, wait_until="load", timeout=timeout)
    try:
        page.locator(ready).first.wait_for(state="attached", timeout=timeout)
    except Exception as e:
        raise AssertionError(f"{url}: {ready} not seen in {timeout} ms; open requests: {sorted(pending.values())}") from e
    return resp


def stop_server(proc, log):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def server(real_index):
    """The real service (python serve.py) on a free loopback port, against the session index."""
    base, proc, log = start_server(real_index, real_index.parent, "--log-db",
                                   str(real_index.parent / "queries.sqlite3"))
    yield base
    stop_server(proc, log)
