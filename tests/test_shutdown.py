"""Stopping the real server with SIGTERM or SIGINT keeps every answered search in the query log."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import ROOT, start_server

QUERIES = [json.loads(line)["query"] for line in (ROOT / "eval" / "questions.jsonl").open(encoding="utf-8")][:40]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX stop signals")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_keeps_every_answered_search(real_index, tmp_path, sig):
    """The signal comes right after the 20th answer, with searches still in flight: the writer holds the last
    rows back to batch them (LINGER_SECONDS), so a process that ends as soon as uvicorn stops loses them."""
    db = tmp_path / "q.sqlite3"
    base, proc, log = start_server(real_index, tmp_path, "--log-db", str(db))
    answered, lock, twentieth = [], threading.Lock(), threading.Event()

    def search(q: str) -> None:
        try:
            ok = requests.get(base + "/api/search", params={"q": q, "k": 3}, timeout=30).status_code == 200
        except requests.RequestException:  # refused or cut off once the server stops: never answered
            return
        with lock:
            answered.extend([q] if ok else [])
            if len(answered) == 20:
                twentieth.set()

    try:
        with ThreadPoolExecutor(4) as pool:
            for q in QUERIES:
                pool.submit(search, q)
            assert twentieth.wait(60), "20 searches were not answered in 60 s"
            proc.send_signal(sig)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    output = Path(log.name).read_text(encoding="utf-8")
    assert rc == -sig, output[-2000:]  # ended by the signal itself, as without a server
    assert "Traceback" not in output
    with sqlite3.connect(db) as con:
        logged = [q for (q,) in con.execute("SELECT query FROM queries")]
    assert len(answered) >= 20
    assert sorted(set(answered) - set(logged)) == []  # every answered search is in the log
    assert len(logged) == len(set(logged)) and set(logged) <= set(QUERIES)
