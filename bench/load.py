"""Concurrent load over loopback: 8 clients x 25 searches against /api/search of a real serve.py.

    python bench/load.py [--clients 8] [--requests 25] [--url http://127.0.0.1:PORT] [--index-dir index]
                         [--cache] [--threads N] [--new-connections] [--client raw|http.client|wrk]

Without --url it starts `python serve.py` on a free loopback port and stops it afterwards; the query-vector
cache is off there unless --cache (every request is then a real search), and --threads sets onnxruntime's
query threads. Every request of a run asks a distinct question where the question set allows. Traffic goes
to 127.0.0.1 only; the loops are bounded and stop by themselves. Exits non-zero on any error. The clients
speak HTTP/1.1 over raw sockets (`RawConnection`) unless --client http.client, or --client wrk: the same
requests from wrk, a load generator written in C (Debian package `wrk`), whose CPU a request is about 60% of the
raw-socket clients' (all of them share the server's two cores).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

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
            time.sleep(0.2)
    raise SystemExit("server not ready in time")


def start_server(index_dir: str | None = None, cache: bool = False, threads: int | None = None,
                 extra_args: tuple[str, ...] = (), checkout: Path = ROOT):
    """`python CHECKOUT/serve.py` (default: this one) on a free loopback port; returns (process, base URL) once
    /api/health answers."""
    port = free_port()
    env = dict(os.environ)
    if not cache:
        env["REPORTSEARCH_QUERY_CACHE"] = "0"
    if threads:
        env["REPORTSEARCH_ORT_THREADS"] = str(threads)
    cmd = [sys.executable, str(Path(checkout) / "serve.py"), "--port", str(port)]
    if index_dir:
        cmd += ["--index-dir", str(index_dir)]
    cmd += list(extra_args)
    if "--no-log" not in extra_args and "--log-db" not in extra_args:  # never into the site's real query log
        cmd += ["--log-db", str(Path(tempfile.mkdtemp(prefix="bench-querylog-")) / "queries.sqlite3")]
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
    except BaseException:
        proc.kill()
        raise
    return proc, base


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RawConnection:
    """A lean HTTP/1.1 client for GET requests over one socket: the request as bytes, the status line and
    headers split by hand, the body read by its Content-Length (what the server sends). It costs the load about
    half the CPU of `http.client`, whose header parsing goes through the `email` package (`bench/search.py`
    runs one load with each); the clients share the server's two cores, so their CPU is taken from it."""

    def __init__(self, host: str, port: int, timeout: float = 60):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def get(self, path: str) -> tuple[int, bytes, bool]:
        """(status, body, whether the server closes the connection after it)."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("latin-1"))
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        size = int(headers[b"content-length"])
        while len(self.buf) < size:
            self._fill()
        body, self.buf = self.buf[:size], self.buf[size:]
        return status, body, headers.get(b"connection", b"").lower() == b"close"

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


class StdlibConnection:
    """The same requests through Python's `http.client` (the load generator of earlier rounds)."""

    def __init__(self, host: str, port: int, timeout: float = 60):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes, bool]:
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        return r.status, r.read(), r.will_close

    def close(self) -> None:
        self.conn.close()


CLIENTS = {"raw": RawConnection, "http.client": StdlibConnection, "wrk": None}  # wrk: run_wrk

# wrk's script: connection c (one a wrk thread) sends PATHS[c] in order, one request at a time, checks each answer
# as run_load does (a 200 holding "results"; a failed one is printed), and once it has them all says so and stops
WRK_SCRIPT = """
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  mine = PATHS[id]
  got = 0
end
-- the next path is the one after the last answered: wrk's own trial call of request() before the run sends
-- nothing, and after a lost connection wrk asks again for the request it lost
function request()
  return wrk.format("GET", mine[(got % #mine) + 1])
end
function response(status, headers, body)
  got = got + 1
  if status ~= 200 or not body:find('"results"', 1, true) then
    io.write("WRKBAD " .. status .. " " .. mine[((got - 1) % #mine) + 1] .. "\\n")
  end
  if got == #mine then
    io.write("WRKDONE\\n")
    wrk.thread:stop()
  end
  io.stdout:flush()
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("got") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"n": %d, "p50_us": %d, "p95_us": %d, "max_us": %d, "socket_errors": %d}\\n',
    n, latency:percentile(50), latency:percentile(95), latency.max, e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(base: str, queries: list[str], clients: int = 8, requests: int = 25, offset: int = 0,
            limit_s: float = 300) -> dict:
    """`run_load`'s load (the same questions to the same clients in the same order, each client's connection
    kept open) sent by wrk, one thread and connection a client; the same figures back. Latency percentiles are
    wrk's: the value at that rank (not interpolated), after wrk's correction for coordinated omission, which
    adds samples for answers slower than twice the mean interval between a connection's requests (a p50 0-2%
    above `common.percentile` of the same times). A 200 counts when its body holds `"results"` (the JSON is
    not parsed). The wall time runs from wrk's start, its script's parsing included, until every client has
    its `requests` answers; `client_cpu_ms` is wrk's CPU (user + system, start-up included) a request."""
    if shutil.which("wrk") is None:
        raise SystemExit("error: --client wrk needs wrk on the PATH (Debian: apt-get install wrk)")
    paths = [["/api/search?" + urllib.parse.urlencode({"q": queries[(offset + c * requests + i) % len(queries)],
                                                        "k": 5}) for i in range(requests)] for c in range(clients)]
    # URL-encoded paths hold no quote or backslash: each goes into the Lua script as a plain string
    script = "PATHS = {" + ",".join("{" + ",".join(f'"{p}"' for p in ps) + "}" for ps in paths) + "}\n"
    errors: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as f:
        f.write(script + WRK_SCRIPT)
        f.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(["wrk", f"-t{clients}", f"-c{clients}", f"-d{int(limit_s)}s", "--timeout", "10s",
                                 "-s", f.name, base], stdout=subprocess.PIPE, text=True)
        finished, wall, summary, stopper = 0, None, None, None
        try:
            for line in proc.stdout:
                if line.startswith("WRKDONE"):
                    finished += 1
                    if finished == clients:
                        wall = time.perf_counter() - t0
                        # wrk then prints its summary and runs done(); it ignores SIGINT until its threads have
                        # started, so the signal is sent again until it ends
                        stopper = threading.Thread(target=_interrupt_until_ended, args=(proc,), daemon=True)
                        stopper.start()
                elif line.startswith("WRKBAD "):
                    status, path = line.split()[1:3]
                    errors.append(f"status {status} or no results: {path}")
                elif line.startswith("WRKJSON "):
                    summary = json.loads(line.split(" ", 1)[1])
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if summary is None:
        raise RuntimeError(f"wrk printed no summary (exit status {proc.returncode})")
    wall = wall if wall is not None else time.perf_counter() - t0
    n = summary["n"]
    errors += ["a socket error (connect, read, write or a 10 s timeout)"] * summary["socket_errors"]
    errors += [f"no answer in {limit_s:g} s"] * max(0, clients * requests - n)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"n": n, "wall": wall, "rps": n / wall, "errors": errors, "p50": summary["p50_us"] / 1000,
            "p95": summary["p95_us"] / 1000, "max": summary["max_us"] / 1000,
            "client_cpu_ms": 1000 * cpu / max(1, n)}


def _interrupt_until_ended(proc) -> None:
    while proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)


def ask_every_question(base: str, queries: list[str]) -> dict:
    """Every question once, from 2 clients (`run_load`'s figures back): warms a server's threads and arenas and
    its per-string caches, and, with the query-vector cache on, fills it, so that later loads all hit."""
    return run_load(base, queries, 2, (len(queries) + 1) // 2)


def run_load(base: str, queries: list[str], clients: int = 8, requests: int = 25, offset: int = 0,
             keepalive: bool = True, client: str = "raw") -> dict:
    """`clients` threads, each sending `requests` searches back to back; returns latencies and errors.

    Each client keeps its connection open between requests, as browsers and HTTP libraries do (`keepalive`);
    without it every request opens a new connection. A response counts when it is a 200 whose JSON has
    `results`. The clients run on the same cores as the server, so their own CPU per request
    (`client_cpu_ms`) is reported: it is taken from the server's budget. `client`: "raw" (`RawConnection`),
    "http.client", or "wrk" (`run_wrk`: one wrk process, its own CPU counted the same way)."""
    if client == "wrk":
        if not keepalive:
            raise ValueError("the wrk load keeps each client's connection open")
        return run_wrk(base, queries, clients, requests, offset)
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    connect = CLIENTS[client]

    def one_client(c: int) -> None:
        conn = None
        for i in range(requests):
            q = queries[(offset + c * requests + i) % len(queries)]
            path = "/api/search?" + urllib.parse.urlencode({"q": q, "k": 5})
            t = time.perf_counter()
            try:
                if conn is None:
                    conn = connect(host, port)
                status, raw, closes = conn.get(path)
                body = json.loads(raw)
                ok = status == 200 and "results" in body
                if not keepalive or closes:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure is counted
                ok, body = False, str(e)
                if conn is not None:
                    conn.close()
                    conn = None
            ms = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(ms)
                if not ok:
                    errors.append(str(body)[:200])
        if conn is not None:
            conn.close()

    t0, cpu0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=one_client, args=(c,)) for c in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"n": len(lat), "wall": wall, "rps": len(lat) / wall, "errors": errors,
            "p50": percentile(lat, 50), "p95": percentile(lat, 95), "max": max(lat),
            "client_cpu_ms": 1000 * cpu / max(1, len(lat))}


def questions() -> list[str]:
    return list(dict.fromkeys(q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=25)
    ap.add_argument("--url", default=None)
    ap.add_argument("--index-dir", default=None)
    ap.add_argument("--cache", action="store_true", help="keep the server's query-vector cache on")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime query threads in the server")
    ap.add_argument("--new-connections", action="store_true",
                    help="open a new connection for every request instead of keeping each client's open")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="raw",
                    help="the clients' HTTP code: a lean raw-socket client (default), Python's http.client, or wrk "
                         "(a C load generator: apt-get install wrk)")
    args = ap.parse_args()
    proc, base = (None, args.url) if args.url else start_server(args.index_dir, args.cache, args.threads)
    try:
        r = run_load(base, questions(), args.clients, args.requests, keepalive=not args.new_connections,
                     client=args.client)
        print(f"{args.clients} clients x {args.requests} searches = {r['n']} requests in {r['wall']:.1f} s "
              f"({r['rps']:.1f} req/s); errors: {len(r['errors'])}; the clients' own CPU "
              f"{r['client_cpu_ms']:.2f} ms a request "
              f"({'new connection each' if args.new_connections else 'kept open'}, {args.client})")
        print(f"latency p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, max {r['max']:.0f} ms"
              + (f"; server RSS {rss_mb(proc.pid):.0f} MB" if proc else ""))
        for e in r["errors"][:5]:
            print("error:", e)
        return 1 if r["errors"] else 0
    finally:
        if proc is not None:
            stop_server(proc)


if __name__ == "__main__":
    raise SystemExit(main())
