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
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

SEARCH_PATH = "/api/search"
MAX_THREADS = 40  # as many as anyio's default thread limiter, which the FastAPI route used


class ThreadPool:
    """Runs blocking calls for the event loop, like `anyio.to_thread.run_sync` at a third of its event-loop CPU a
    call: a `ThreadPoolExecutor` (threads started on demand up to `max_threads`, an idle one reused, later calls
    queued as they waited on anyio's limiter; idle threads stay until the process ends) whose result reaches
    the loop through `run_in_executor`."""

    def __init__(self, max_threads: int = MAX_THREADS):
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.max_threads = max_threads
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="search-worker")

    @property
    def threads(self) -> int:
        """Threads started so far."""
        return len(self._executor._threads)

    def run(self, fn, *args) -> asyncio.Future:
        """Call `fn(*args)` on a pool thread; await the returned future for its result or exception."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)


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
