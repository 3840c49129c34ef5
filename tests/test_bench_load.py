"""bench/load.py's lean HTTP client reads what Python's http.client reads: status, body, and a closing server."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from load import RawConnection, StdlibConnection, run_load  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless a response says otherwise
    seen: list[tuple[int, str]] = []  # (the client's port, so its connection; the path) of every request

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.seen.append((self.client_address[1], self.path))
        close = "close" in self.path
        status = 400 if "bad" in self.path else 200
        answer = {"path": self.path, "results": [] if status == 200 else None,
                  "pad": "文" * (70_000 if "big" in self.path else 3)}
        if "noresults" in self.path:
            del answer["results"]
        body = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("kind", [RawConnection, StdlibConnection])
def test_both_clients_read_the_same_responses_on_one_connection(server, kind):
    conn = kind("127.0.0.1", server)
    try:
        got = [conn.get(p) for p in ("/api/search?q=%E6%95%99%E8%82%B2", "/big", "/bad", "/x")]
        assert [(s, c) for s, _, c in got] == [(200, False), (200, False), (400, False), (200, False)]
        assert [json.loads(b)["path"] for _, b, _ in got] == ["/api/search?q=%E6%95%99%E8%82%B2", "/big", "/bad", "/x"]
        assert len(json.loads(got[1][1])["pad"]) == 70_000  # a body longer than one read
        status, body, closes = conn.get("/close")
        assert status == 200 and closes and json.loads(body)["path"] == "/close"
    finally:
        conn.close()


def test_the_lean_client_raises_when_the_server_has_closed(server):
    conn = RawConnection("127.0.0.1", server)
    try:
        assert conn.get("/close")[2]
        with pytest.raises(OSError):  # run_load counts it as an error and opens a new connection
            conn.get("/again")
    finally:
        conn.close()


@pytest.mark.parametrize("client", ["raw", "http.client"])
def test_run_load_counts_every_answer_that_is_not_a_200_with_results(server, client):
    """A 400, and a 200 whose JSON has no `results`, are errors; the rest are not. Every request is timed."""
    base = f"http://127.0.0.1:{server}"
    r = run_load(base, ["教育", "bad", "noresults", "close"], clients=2, requests=4, client=client)
    assert r["n"] == 8 and len(r["errors"]) == 4  # each client asks all four: "bad" and "noresults" fail
    assert sorted("q=bad" in e for e in r["errors"]) == [False, False, True, True]
    r = run_load(base, ["教育"], clients=1, requests=3, keepalive=False, client=client)
    assert r["n"] == 3 and not r["errors"] and r["client_cpu_ms"] > 0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk; CI installs it)")
def test_the_wrk_load_asks_and_counts_as_run_load_does(server):
    """bench/load.py's wrk load: each client's questions in order on its own connection (a new one after the
    server's `Connection: close`), each 400 and each 200 without `results` an error naming its question."""
    base = f"http://127.0.0.1:{server}"
    qs = ["a0", "bad0", "close0", "noresults0", "b1", "bad1", "close1", "noresults1"]
    _Handler.seen.clear()
    r = run_load(base, qs, clients=2, requests=4, client="wrk")
    assert r["n"] == 8 and 0 < r["p50"] <= r["p95"] <= r["max"] and r["rps"] > 0 and r["client_cpu_ms"] > 0
    errors = sorted((e.split()[1], parse_qs(urlsplit(e.split()[-1]).query)["q"][0]) for e in r["errors"])
    assert errors == [("200", "noresults0"), ("200", "noresults1"), ("400", "bad0"), ("400", "bad1")]
    asked: dict[int, list[str]] = {}
    for port, path in _Handler.seen:
        asked.setdefault(port, []).append(parse_qs(urlsplit(path).query)["q"][0])
    assert sorted(asked.values()) == [["a0", "bad0", "close0"], ["b1", "bad1", "close1"], ["noresults0"],
                                      ["noresults1"]]
    with pytest.raises(ValueError):
        run_load(base, ["a0"], clients=1, requests=1, keepalive=False, client="wrk")
