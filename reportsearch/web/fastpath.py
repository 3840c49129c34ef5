"""GET /api/search without FastAPI's per-request machinery: the same answer, less event-loop CPU.

The search is the one route that runs under load, and on 2 cores the event-loop thread's CPU is taken from the
searches. Through FastAPI's route, a search request cost the event loop ~2.9 ms of CPU under 8 clients, of
which the app (parameter solving with pydantic, anyio's to_thread hand-off, the exception and exit-stack
middleware, the route list) ~0.67 ms in-process and more under GIL contention; the rest is uvicorn's HTTP.
This ASGI middleware answers GET /api/search itself (~0.18 ms in-process; ~1.9 ms a request all told under 8
clients, `python bench/server_cpu.py`): it reads the query string the way Starlette and FastAPI do
(`parse_qsl(..., keep_blank_values=True)`, the last value of a repeated scalar parameter, every `doc` and every
`year`, so that two different years are the route's 400), runs
`api.search_response` (the function the FastAPI route runs) on a small thread pool, and sends that response.
Every other request, HEAD included, goes on to the FastAPI app, which still declares /api/search for the
OpenAPI schema. It sits inside `EdgeMiddleware` (security headers, request counts) and FastAPI's
`ServerErrorMiddleware` (an unexpected error is the same 500 JSON). tests/test_api_fastpath.py compares its
answers with the route's, headers and bytes."""

from __future__ import annotations

import asyncio
import threading
import time
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
    function returning a Starlette response; passes everything else on.

    With `slots` (the service's SearchSlots) the pool has one thread a slot, and a search that cannot start
    waits in the pool's queue, not in a thread of its own blocked on the slots: under 8 clients on 2 cores that
    was ~12% more searches a second (`python bench/ab.py`, README "Speed"). The queue keeps the slots'
    limits: a search that finds `slots.max_waiting` others queued, or that waits `slots.timeout` seconds
    without a thread taking it, is answered `refuse(error)` (a 503 with Retry-After, as the slots' own refusal);
    one that a thread takes and that then waits for a slot (the page's searches hold slots too) waits only what
    is left of `slots.timeout` (`slots.already_waited`).
    The page's searches wait on the slots themselves, with their own `max_waiting`. Before it queues,
    `admit(client_host, forwarded_for, params)` answers a bad parameter or a client over its rate limit at once
    (None: it may queue), so that one client's flood cannot fill the queue; `handle` is then told the
    rate-limit token was taken.
    """

    def __init__(self, app, handle, pool: ThreadPool | None = None, slots=None, refuse=None, admit=None):
        if slots is not None and (refuse is None or admit is None):
            raise ValueError("a fast path with slots needs `admit` and `refuse` for the searches it turns away")
        self.app = app
        self.handle = handle
        self.slots, self.refuse, self.admit = slots, refuse, admit
        self.pool = pool or ThreadPool(slots.slots if slots is not None else MAX_THREADS)
        self.pending = 0  # searches handed to the pool and not answered yet; read and written on the loop only

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
        host = client[0] if client else None
        if self.slots is None:
            response = await self.pool.run(self.handle, host, forwarded, params)
        elif (response := self.admit(host, forwarded, params)) is not None:
            pass  # a bad parameter or a client over its rate limit: answered at once, never queued
        elif self.pending >= self.pool.max_threads + self.slots.max_waiting:
            response = self.refuse(self.slots.queue_full(self.pending - self.pool.max_threads))
        else:
            response = await self._wait_in_queue(host, forwarded, params)
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _wait_in_queue(self, host, forwarded, params):
        """The search's answer, or the slots' 503 once it has waited `slots.timeout` seconds without a pool
        thread taking it; a search that started runs to its end, as one holding a slot does."""
        ticket = _Ticket()
        self.pending += 1
        self.slots.count_queued(1)
        fut = self.pool.run(self._queued, ticket, host, forwarded, params)
        try:
            try:
                return await asyncio.wait_for(asyncio.shield(fut), self.slots.timeout)
            except asyncio.TimeoutError:
                if ticket.take("dropped"):
                    self.slots.count_queued(-1)
                    return self.refuse(self.slots.waited_too_long())
                return await fut
        except BaseException:  # cancelled (a forced shutdown): a search still queued leaves the count
            if ticket.take("dropped"):
                self.slots.count_queued(-1)
            raise
        finally:
            self.pending -= 1

    def _queued(self, ticket: "_Ticket", host, forwarded, params):
        if not ticket.take("running"):
            return None  # dropped by the loop after waiting too long: its 503 is sent already
        self.slots.count_queued(-1)
        with self.slots.already_waited(time.monotonic() - ticket.since):  # the slot's wait gets what is left
            return self.handle(host, forwarded, params)


class _Ticket:
    """A queued search's place: taken by a pool thread ("running") or dropped by the loop ("dropped"),
    whichever comes first."""

    __slots__ = ("lock", "state", "since")

    def __init__(self):
        self.lock = threading.Lock()
        self.state = "queued"
        self.since = time.monotonic()

    def take(self, state: str) -> bool:
        with self.lock:
            if self.state != "queued":
                return False
            self.state = state
            return True
