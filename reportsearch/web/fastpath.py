"""GET /api/search without FastAPI's per-request machinery: the same answer, less event-loop CPU.

The search is the one route that runs under load, and on 2 cores the event-loop thread's CPU is taken from the
searches. Through FastAPI's route, a search request cost the event loop ~2.9 ms of CPU under 8 clients, of
which the app (parameter solving with pydantic, anyio's to_thread hand-off, the exception and exit-stack
middleware, the route list) ~0.67 ms in-process and more under GIL contention; the rest is uvicorn's HTTP.
This ASGI middleware answers GET /api/search itself (~0.18 ms in-process; ~1.9 ms a request all told under 8
clients, `python bench/server_cpu.py`): it reads the query string the way Starlette and FastAPI do
(`parse_qsl(..., keep_blank_values=True)`, the last value of a repeated scalar parameter, every `doc`), runs
`api.search_response` (the function the FastAPI route runs) on a small thread pool, and sends that response.
Every other request, HEAD included, goes on to the FastAPI app, which still declares /api/search for the
OpenAPI schema. It sits inside `EdgeMiddleware` (security headers, request counts) and FastAPI's
`ServerErrorMiddleware` (an unexpected error is the same 500 JSON). tests/test_api_fastpath.py compares its
answers with the route's, headers and bytes."""

from __future__ import annotations

import asyncio
import queue
import threading
from urllib.parse import parse_qsl

SEARCH_PATH = "/api/search"
MAX_THREADS = 40  # as many as anyio's default thread limiter, which the FastAPI route used
IDLE_SECONDS = 10.0  # a thread idle this long ends, as anyio's worker threads do


def _deliver(fut: asyncio.Future, result, exc) -> None:
    if not fut.cancelled():
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)


class ThreadPool:
    """Runs blocking calls for the event loop, like `anyio.to_thread.run_sync` at a third of its event-loop
    CPU a call: a queue, threads started on demand up to `max_threads` (later calls wait in the queue, as
    they waited on anyio's limiter) and ended after `idle_seconds` without work, and a result handed back
    with one `call_soon_threadsafe`."""

    def __init__(self, max_threads: int = MAX_THREADS, idle_seconds: float = IDLE_SECONDS):
        if max_threads < 1 or idle_seconds <= 0:
            raise ValueError("max_threads must be at least 1 and idle_seconds > 0")
        self.max_threads, self.idle_seconds = max_threads, idle_seconds
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads that finished a call and will take the next one
        self._threads = 0

    def run(self, fn, *args) -> asyncio.Future:
        """Call `fn(*args)` on a pool thread; await the returned future for its result or exception."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = self._threads < self.max_threads
                self._threads += start
        self._jobs.put((fn, args, fut, loop))
        if start:
            threading.Thread(target=self._work, name="search-worker", daemon=True).start()
        return fut

    def _work(self) -> None:
        while True:
            try:
                fn, args, fut, loop = self._jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # no call was promised to an idle thread in the meantime: this one ends
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue
            try:
                result, exc = fn(*args), None
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting request, as anyio does
                result, exc = None, e
            with self._lock:  # free before the result is out: the client's next request finds this thread
                self._idle += 1
            try:
                loop.call_soon_threadsafe(_deliver, fut, result, exc)
            except RuntimeError:  # the loop closed while this call ran (server shutdown)
                pass
            del fn, args, fut, loop, result, exc  # hold nothing while idle


class SearchFastPath:
    """Pure ASGI: answers GET /api/search through `handle(client_host, forwarded_for, params)`, a blocking
    function returning a Starlette response; passes everything else on."""

    def __init__(self, app, handle, pool: ThreadPool | None = None):
        self.app = app
        self.handle = handle
        self.pool = pool or ThreadPool()

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["path"] != SEARCH_PATH or scope["method"] != "GET"
                or scope.get("root_path")):  # behind a root path: left to Starlette's routing
            await self.app(scope, receive, send)
            return
        # as Starlette's QueryParams and Headers read them
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        forwarded = None
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
                break
        client = scope.get("client")
        response = await self.pool.run(self.handle, client[0] if client else None, forwarded, params)
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
