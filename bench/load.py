"""Concurrent load over loopback: 8 clients x 25 searches against /api/search of a real serve.py.

    python bench/load.py [--clients 8] [--requests 25] [--url http://127.0.0.1:PORT]

Without --url it starts `python serve.py` on a free loopback port and stops it afterwards. Traffic goes to
127.0.0.1 only; the loops are bounded and stop by themselves. Exits non-zero on any error.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from common import ROOT, percentile

from reportsearch.evaluation import load_questions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("serve.py exited before it was ready")
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server not ready in time")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=25)
    ap.add_argument("--url", default=None)
    args = ap.parse_args()
    proc = None
    base = args.url
    if base is None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base, proc)
        queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
        lat: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(c: int) -> None:
            for i in range(args.requests):
                q = queries[(c * args.requests + i) % len(queries)]
                url = base + "/api/search?" + urllib.parse.urlencode({"q": q, "k": 5})
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=60) as r:
                        body = json.loads(r.read())
                        ok = r.status == 200 and "results" in body
                except Exception as e:  # noqa: BLE001 - every failure is counted
                    ok, body = False, str(e)
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    lat.append(ms)
                    if not ok:
                        errors.append(str(body)[:200])

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
        n = len(lat)
        print(f"{args.clients} clients x {args.requests} searches = {n} requests in {wall:.1f} s "
              f"({n / wall:.1f} req/s); errors: {len(errors)}")
        print(f"latency p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, "
              f"max {max(lat):.0f} ms")
        for e in errors[:5]:
            print("error:", e)
        return 1 if errors else 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    raise SystemExit(main())
