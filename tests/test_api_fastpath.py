"""GET /api/search's fast path (web/fastpath.py) answers exactly as the FastAPI route did, and its thread pool."""

import asyncio
import threading
import time

import pytest
from starlette.testclient import TestClient

from conftest import FakeEmbedder, fake_engine
from reportsearch.engine import SearchEngine
from reportsearch.ingest import build_index
from reportsearch.web.fastpath import SearchFastPath, ThreadPool


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory):
    return fake_engine(tmp_path_factory.mktemp("fastpath"), "qinshui-2023.txt",
                       "一、回顾\n\n（一）民生\n\n坚持教育优先，完成桃园小学主体。新建5G基站300个。\n\n"
                       "（二）健康\n\n建设健康沁水。加快大医院建设，力争投入使用。\n\n"
                       "二、今年安排\n\n解决停车难，新增停车位1200个。扩大家庭医生签约覆盖率。")


@pytest.fixture(scope="module")
def apps(small_engine):
    """(the served app; the same app without the fast path, so FastAPI's own route answers), one service."""
    from reportsearch.web.middleware import EdgeMiddleware
    from reportsearch.web.server import build_service, create_app

    service = build_service(small_engine, trust_proxy=True)
    served, route = create_app(service), create_app(service)
    assert [m.cls for m in served.user_middleware][:2] == [EdgeMiddleware, SearchFastPath]
    route.user_middleware = [m for m in route.user_middleware if m.cls is not SearchFastPath]
    with TestClient(served) as a, TestClient(route) as b:
        yield a, b, service


QUERIES = [
    "q=教育", "q=%E6%95%99%E8%82%B2&k=3&mode=keyword", "q=停车&mode=semantic&k=50", "", "q=", "q=+++",
    "k=abc&q=x", "q=教育&k=0", "q=教育&k=51", "q=教育&k=", "q=教育&k=%202", "mode=fuzzy&q=x", "q=教育&mode=",
    "q=a&q=停车&k=9&k=2", "q=教育&doc=&doc=qinshui-2023", "q=教育&doc=nosuch", "q=教育&doc=", "q=教育&year=2023",
    "q=教育&year=1999", "q=教育&year=abc", "q=教育&year=", "q=教育&section=（一）民生", "q=教育&section=",
    "q=教育&section=没有这个章节", "q=%ZZ%E6%95", "q=a%2Bb+c&k=1", "q=" + "停车" * 600, "q=<script>alert(1)</script>",
    "q=教育&unknown=1&Q=x", "q&k", "q=%00", "q=教育&k=5&mode=hybrid&section=（二）健康&doc=qinshui-2023&year=2023",
    "q=教育&year=2023&year=2024", "q=教育&year=2023&year=2023", "q=教育&year=&year=2023", "q=教育&year=abc&year=2023",
    "year=2023&year=2024", "q=教育&k=0&year=2023&year=2024",
]


@pytest.mark.parametrize("query", QUERIES)
def test_fast_path_answers_as_the_fastapi_route(apps, query):
    fast, route, _ = apps
    a, b = fast.get("/api/search?" + query), route.get("/api/search?" + query)
    assert a.status_code == b.status_code and a.content == b.content
    assert a.headers.raw == b.headers.raw  # the same headers in the same order, security headers included


@pytest.mark.parametrize("query", QUERIES)
def test_fast_path_counts_each_search_as_the_fastapi_route(apps, query):
    """/metrics' outcome of each: a 400 is one bad_request (one read before the search was not counted at all on
    either path), a 200 one ok, the same on both paths."""
    from reportsearch.web.telemetry import OUTCOMES

    fast, route, service = apps

    def outcomes():
        get = service.telemetry.registry.get_sample_value
        return {o: get("reportsearch_searches_total", {"source": "api", "outcome": o}) or 0 for o in OUTCOMES}

    moved = []
    for client in (fast, route):
        before = outcomes()
        status = client.get("/api/search?" + query).status_code
        after = outcomes()
        moved.append((status, {o: after[o] - before[o] for o in after if after[o] != before[o]}))
    assert moved[0] == moved[1] == (moved[0][0], {"bad_request" if moved[0][0] == 400 else "ok": 1})


@pytest.mark.parametrize("k", ["0", "51", "99", "-1", "x", "2.5"])
def test_every_k_error_names_k(apps, k):
    """The API's parameter is `k`: its range errors named the engine's `top_k` (`k=x` already said `k`)."""
    for client in apps[:2]:
        r = client.get(f"/api/search?q=教育&k={k}")
        assert r.status_code == 400 and r.json() == {"error": f"k must be a whole number from 1 to 50, got {k!r}"}


def test_an_empty_mode_or_k_is_the_default(apps):
    """An HTML form submits its empty fields: `mode=` and `k=` mean the default, as an empty `year=` or `doc=` does
    (an empty `mode=` was a 400 "unknown mode ''"); a bad value is still a 400."""
    fast, route, _ = apps
    plain = route.get("/api/search?q=教育").content
    for client in (fast, route):
        for query in ("q=教育&mode=", "q=教育&k=", "q=教育&mode=&k=&year=&doc="):
            r = client.get("/api/search?" + query)
            assert r.status_code == 200 and r.content == plain, query
        assert client.get("/api/search?q=教育&mode=fuzzy").status_code == 400


def test_two_different_years_are_a_400_not_the_last_one(apps):
    """`year=2023&year=2024` searched 2024 alone, silently (FastAPI keeps the last value); `doc` is repeatable, so
    a user asking for two years expected both. The same year twice is that year, an empty one no filter."""
    fast, route, _ = apps
    one = route.get("/api/search?q=教育&year=2023").content
    for client in (fast, route):
        r = client.get("/api/search?q=教育&year=2023&year=2024")
        assert r.status_code == 400, r.text
        assert r.json()["error"].startswith("give one year; got year=2023 and year=2024")
        assert "doc=" in r.json()["error"]  # what to do instead
        for query in ("q=教育&year=2023&year=2023", "q=教育&year=&year=2023", "q=教育&year=2023&year="):
            r = client.get("/api/search?" + query)
            assert r.status_code == 200 and r.content == one, query


def test_fast_path_passes_other_requests_on(apps):
    fast, route, _ = apps
    for method, path in (("HEAD", "/api/search?q=x"), ("POST", "/api/search?q=x"), ("GET", "/api/search/?q=x"),
                         ("GET", "/api/searchx?q=x"), ("GET", "/api/health")):
        a = fast.request(method, path, follow_redirects=False)
        b = route.request(method, path, follow_redirects=False)
        assert a.status_code == b.status_code and a.content == b.content, (method, path)
        assert a.headers.get("content-security-policy") == b.headers.get("content-security-policy")
    assert fast.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]


def test_fast_path_reads_the_client_address_as_the_route_did(apps):
    """With --trust-proxy the last X-Forwarded-For entry is the client the rate limit counts."""
    fast, _, service = apps
    seen = []
    real = service.client
    service.client = lambda peer, forwarded: seen.append((peer, forwarded)) or real(peer, forwarded)
    try:
        fast.get("/api/search?q=教育", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    finally:
        service.client = real
    # read on the event loop for the rate limit, then again by the search: the same peer and header each time
    assert seen and set(seen) == {("testclient", "203.0.113.9, 198.51.100.7")}
    assert real("testclient", "203.0.113.9, 198.51.100.7") == "198.51.100.7"


def test_fast_path_counts_requests_and_searches(apps):
    fast, _, service = apps

    def value(name, **labels):
        return service.telemetry.registry.get_sample_value(name, labels) or 0

    before = (value("reportsearch_http_requests_total", endpoint="/api/search", status="200"),
              value("reportsearch_http_requests_total", endpoint="/api/search", status="400"),
              value("reportsearch_searches_total", source="api", outcome="ok"))
    assert fast.get("/api/search?q=教育").status_code == 200
    assert fast.get("/api/search?q=教育&k=0").status_code == 400
    after = (value("reportsearch_http_requests_total", endpoint="/api/search", status="200"),
             value("reportsearch_http_requests_total", endpoint="/api/search", status="400"),
             value("reportsearch_searches_total", source="api", outcome="ok"))
    assert [y - x for x, y in zip(before, after)] == [1, 1, 1]


def test_unexpected_error_is_the_same_500_json(apps):
    fast, route, service = apps
    real = service.search

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    service.search = broken
    try:
        a = TestClient(fast.app, raise_server_exceptions=False).get("/api/search?q=教育")
        b = TestClient(route.app, raise_server_exceptions=False).get("/api/search?q=教育")
    finally:
        service.search = real
    assert a.status_code == b.status_code == 500 and a.content == b.content
    assert a.json() == {"error": "internal error; see the server log"}


# ---------------------------------------------------------------- /api/compare
@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The API of an index of two reports, 2023 and 2024."""
    from reportsearch.web.api import create_api
    from reportsearch.web.server import build_service

    d = tmp_path_factory.mktemp("library")
    (d / "data").mkdir()
    paths = [d / "data" / f"qinshui-{year}.txt" for year in (2023, 2024)]
    for path, figure in zip(paths, (65, 80)):
        path.write_text(f"一、安排\n\n（一）产业\n\n新建5G基站{figure}座。推进煤炭转型。\n\n优化营商环境。", encoding="utf-8")
    build_index(paths, index_dir=d / "index", embedder=FakeEmbedder(), progress=False)
    with TestClient(create_api(build_service(SearchEngine.load(d / "index", embedder=FakeEmbedder())))) as client:
        yield client


def test_compare_keeps_the_reports_doc_and_year_name(library):
    """`doc` and `year` were ignored: every report was compared."""
    def compared(query):
        r = library.get("/api/compare?q=5G基站&" + query)
        assert r.status_code == 200, r.text
        return [x["doc"] for x in r.json()["reports"]]

    both = ["qinshui-2024", "qinshui-2023"]
    assert compared("") == both and compared("doc=&year=&mode=&k=") == both  # empty fields: no filter, defaults
    assert compared("doc=qinshui-2023") == ["qinshui-2023"] and compared("year=2024") == ["qinshui-2024"]
    assert compared("doc=qinshui-2023&doc=qinshui-2024") == both
    # a doc and a year that keep no report: the unknown-filter 400 naming each report's year (engine, d898451)
    r = library.get("/api/compare?q=5G基站&doc=qinshui-2023&year=2024")
    assert r.status_code == 400 and r.json()["error"].endswith("'qinshui-2023' is of 2023")


@pytest.mark.parametrize("query", ["doc=nosuch", "doc=qinshui-2023&doc=nosuch", "year=1999", "year=abc",
                                   "mode=fuzzy", ""])
def test_compare_answers_a_bad_filter_as_search_does(library, query):
    q = "" if query == "" else "q=5G基站&"  # the last: no q at all
    a, b = library.get("/api/compare?" + q + query), library.get("/api/search?" + q + query)
    assert a.status_code == b.status_code == 400 and a.json() == b.json()


def test_compare_refuses_two_years_as_search_does(library):
    a = library.get("/api/compare?q=5G基站&year=2023&year=2024")
    b = library.get("/api/search?q=5G基站&year=2023&year=2024")
    assert a.status_code == b.status_code == 400 and a.json() == b.json()
    assert a.json()["error"].startswith("give one year;")
    r = library.get("/api/compare?q=5G基站&year=2024&year=2024")
    assert r.status_code == 200 and [x["doc"] for x in r.json()["reports"]] == ["qinshui-2024"]


def test_compare_refuses_k_and_points_to_search(library):
    """Compare gives one passage a report; `k` was silently ignored."""
    r = library.get("/api/compare?q=5G基站&k=3")
    assert r.status_code == 400 and "one best passage" in r.json()["error"]
    assert "/api/search?doc=" in r.json()["error"]
    params = library.get("/api/openapi.json").json()["paths"]["/api/compare"]["get"]["parameters"]
    assert {p["name"] for p in params} == {"q", "mode", "doc", "year", "k"}


# ---------------------------------------------------------------- the thread pool
def test_pool_returns_results_and_raises_errors():
    pool = ThreadPool(max_threads=2)

    async def main():
        assert await pool.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ZeroDivisionError):
            await pool.run(lambda: 1 / 0)
        return threading.current_thread()

    assert asyncio.run(main()) is threading.main_thread()


def test_pool_caps_its_threads_and_queues_the_rest():
    pool = ThreadPool(max_threads=3)
    gate = threading.Event()
    running, peak, lock = [0], [0], threading.Lock()

    def work(i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(10)
        with lock:
            running[0] -= 1
        return i

    async def main():
        futs = [pool.run(work, i) for i in range(10)]
        deadline = time.time() + 10
        while running[0] < 3 and time.time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert running[0] == 3 and not any(f.done() for f in futs)  # the other 7 wait in the queue
        gate.set()
        return await asyncio.gather(*futs)

    assert asyncio.run(main()) == list(range(10))
    assert peak[0] == 3 and pool.threads == 3


def _idle_threads(pool: ThreadPool) -> int:
    return pool._executor._idle_semaphore._value


def test_pool_reuses_an_idle_thread():
    pool = ThreadPool(max_threads=8)

    async def main():
        names = set()
        for _ in range(20):
            names.add(await pool.run(lambda: threading.get_ident()))
            # ThreadPoolExecutor's thread marks itself idle just after it delivers the result: wait for that,
            # or a call that arrives in between starts a second thread (a race, not a failure to reuse)
            deadline = time.time() + 10
            while _idle_threads(pool) < 1 and time.time() < deadline:
                await asyncio.sleep(0.001)
        return names

    names = asyncio.run(main())
    assert len(names) == 1 and pool.threads == 1  # one call at a time on an idle thread: never one per call


def test_pool_runs_a_lone_call_after_a_burst_past_its_cap():
    """A burst larger than the pool, a quiet spell, then one call: it must run at once (an earlier pool counted
    a queued call's thread as idle once too often and left such a call waiting with no thread to run it)."""
    pool = ThreadPool(max_threads=2)
    gate = threading.Event()

    async def main():
        futs = [pool.run(lambda i=i: (gate.wait(10), i)[1]) for i in range(6)]
        await asyncio.sleep(0.1)
        gate.set()
        assert await asyncio.gather(*futs) == list(range(6))
        await asyncio.sleep(0.5)
        assert await asyncio.wait_for(pool.run(lambda: 7), timeout=5) == 7  # the bug left it waiting for ever

    asyncio.run(main())
    assert pool.threads == 2


# ---------------------------------------------------------------- the queue in front of the slots
def _search_scope(q: str) -> dict:
    return {"type": "http", "path": "/api/search", "method": "GET", "query_string": f"q={q}".encode(),
            "headers": [], "client": ("127.0.0.1", 5000)}


async def _call(app, scope) -> tuple[int, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


def test_fast_path_queues_searches_in_front_of_the_slots():
    """One pool thread a slot; a search that cannot start waits in the queue, up to the slots' limits: beyond
    `max_waiting` queued it is refused at once, and one that waited `timeout` seconds is refused when its turn
    comes; both as the slots' own refusal (503, Retry-After) through `refuse`, and nothing else is lost."""
    from starlette.responses import JSONResponse

    from reportsearch.web.slots import SearchSlots

    slots = SearchSlots(slots=1, max_waiting=2, timeout=0.5)
    gate, started, ran = threading.Event(), threading.Event(), []

    def handle(host, forwarded, params):
        q = dict(params)["q"]
        if q == "first":
            started.set()
            gate.wait(10)
        ran.append(q)
        return JSONResponse({"q": q})

    def refuse(error):
        return JSONResponse({"error": str(error)}, status_code=503, headers={"Retry-After": str(error.retry_after)})

    app = SearchFastPath(None, handle, slots=slots, refuse=refuse, admit=lambda host, forwarded, params: None)
    assert app.pool.max_threads == 1

    async def main():
        first = asyncio.ensure_future(_call(app, _search_scope("first")))
        while not started.is_set():
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        queued = [asyncio.ensure_future(_call(app, _search_scope(q))) for q in ("second", "third")]
        await asyncio.sleep(0.05)
        full = await _call(app, _search_scope("fourth"))  # 1 running + 2 queued: refused without waiting
        # without yielding to the loop: the queued searches' timeouts, which only the loop runs, are still pending
        assert not any(f.done() for f in queued)
        assert app.pending == 3 and slots.queued == 2  # /metrics: waiting
        answers = [await f for f in queued]  # at the timeout, while "first" still holds the only thread
        waited = time.perf_counter() - t0
        assert not first.done() and 0.45 < waited < 3, waited
        gate.set()
        return await first, answers, full

    first, queued, full = asyncio.run(main())
    assert first == (200, b'{"q":"first"}')
    assert full[0] == 503 and b"1 search running, 2 waiting" in full[1]
    assert all(status == 503 and b"no search slot came free in 0.5 s" in body for status, body in queued)
    assert ran == ["first"] and app.pending == 0 and slots.queued == 0


def test_fast_path_refusals_are_counted_as_busy(apps):
    from reportsearch.errors import BusyError
    from reportsearch.web.api import search_refused

    _, _, service = apps
    count = lambda: service.telemetry.registry.get_sample_value(  # noqa: E731
        "reportsearch_searches_total", {"source": "api", "outcome": "busy"}) or 0
    before = count()
    r = search_refused(service, BusyError("the service is busy", retry_after=2))
    assert r.status_code == 503 and r.headers["Retry-After"] == "2" and count() == before + 1


def test_the_served_fast_path_has_one_thread_a_slot(small_engine):
    from reportsearch.web.server import build_service, create_app

    service = build_service(small_engine, search_slots=3)
    app = create_app(service)
    with TestClient(app) as client:
        assert client.get("/api/search?q=教育").status_code == 200
        fast = app.middleware_stack
        while not isinstance(fast, SearchFastPath):
            fast = fast.app
        assert fast.pool.max_threads == 3 and fast.slots is service.slots


def test_a_client_over_its_rate_limit_is_answered_at_once_and_never_queued(small_engine):
    """Its 429 comes from the event loop before the queue, so one client's flood cannot fill the queue that
    others wait in; a bad parameter is still a 400 first, as through the route; each search takes one token."""
    from reportsearch.web.server import build_service, create_app

    service = build_service(small_engine, rate_limit=2)
    app = create_app(service)
    with TestClient(app) as client:
        fast = app.middleware_stack
        while not isinstance(fast, SearchFastPath):
            fast = fast.app
        ran = []
        real = fast.handle
        fast.handle = lambda *a: ran.append(a) or real(*a)
        try:
            statuses = [client.get("/api/search?q=教育").status_code for _ in range(3)]
            bad = client.get("/api/search?q=教育&k=abc")
        finally:
            fast.handle = real
    assert statuses == [200, 200, 429] and len(ran) == 2  # the third never reached the pool
    assert bad.status_code == 400 and "k must be" in bad.json()["error"]
    limited = service.telemetry.registry.get_sample_value("reportsearch_searches_total",
                                                          {"source": "api", "outcome": "rate_limited"})
    assert limited == 1


def test_a_cancelled_wait_leaves_the_queue_count():
    """A forced shutdown cancels the waiting requests: the /metrics count of queued searches goes back down."""
    from starlette.responses import JSONResponse

    from reportsearch.web.slots import SearchSlots

    slots = SearchSlots(slots=1, max_waiting=4, timeout=5)
    gate, started = threading.Event(), threading.Event()

    def handle(host, forwarded, params):
        started.set()
        gate.wait(10)
        return JSONResponse({})

    app = SearchFastPath(None, handle, slots=slots, refuse=lambda e: JSONResponse({}, status_code=503),
                         admit=lambda host, forwarded, params: None)

    async def main():
        first = asyncio.ensure_future(_call(app, _search_scope("first")))
        while not started.is_set():
            await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(_call(app, _search_scope("second")))
        await asyncio.sleep(0.05)
        assert slots.queued == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert slots.queued == 0 and app.pending == 1
        gate.set()
        await first

    asyncio.run(main())
    assert app.pending == 0 and slots.queued == 0


class _RecordingSemaphore:
    """A semaphore that records the timeout of every blocking acquire."""

    def __init__(self, sem: threading.Semaphore):
        self.sem, self.timeouts = sem, []

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if blocking:
            self.timeouts.append(timeout)
        return self.sem.acquire(blocking, timeout)

    def release(self) -> None:
        self.sem.release()


def test_time_in_the_queue_counts_against_the_slot_wait():
    """A search that waited in the fast path's queue and then waits for a slot held by the page's search waits
    `timeout` in all, not `timeout` twice."""
    from starlette.responses import JSONResponse

    from reportsearch.errors import BusyError
    from reportsearch.web.slots import SearchSlots

    slots = SearchSlots(slots=1, max_waiting=4, timeout=0.5)
    page_holds, page_gate, first_started = threading.Event(), threading.Event(), threading.Event()
    slots._sem = _RecordingSemaphore(slots._sem)

    def page_search():  # the page's searches take a slot directly, not through the fast path
        with slots.slot():
            page_holds.set()
            page_gate.wait(10)

    def handle(host, forwarded, params):
        if dict(params)["q"] == "first":  # holds the only pool thread for 0.3 s without a slot
            first_started.set()
            time.sleep(0.3)
            return JSONResponse({"q": "first"})
        try:
            with slots.slot():
                return JSONResponse({"q": "second"})
        except BusyError as e:
            return JSONResponse({"error": str(e)}, status_code=503)

    app = SearchFastPath(None, handle, slots=slots, refuse=lambda e: JSONResponse({"error": str(e)}, status_code=503),
                         admit=lambda host, forwarded, params: None)
    page = threading.Thread(target=page_search)
    page.start()
    page_holds.wait(5)

    async def main():
        first = asyncio.ensure_future(_call(app, _search_scope("first")))
        while not first_started.is_set():
            await asyncio.sleep(0.01)
        t = time.perf_counter()
        second = await _call(app, _search_scope("second"))  # ~0.3 s in the queue, then the slot's wait
        return await first, second, time.perf_counter() - t

    try:
        first, second, waited = asyncio.run(main())
    finally:
        page_gate.set()
        page.join(5)
    assert first[0] == 200
    assert second[0] == 503 and b"no search slot came free in 0.5 s" in second[1]
    # The queue time (~0.3 s: the first search's sleep, less the few ms before the second queued) counts: the
    # slot's wait gets what is left (~0.2 s), or none when nothing is left; before, it got the full 0.5 s. Checked
    # on the wait itself, which tolerates a 0.25 s stall, not on the clock.
    timeouts = slots._sem.timeouts  # the page's search took its slot without waiting: only the second's wait
    assert len(timeouts) <= 1 and all(t is not None and t < 0.45 for t in timeouts), timeouts
    assert 0.45 < waited < 3, waited
    assert slots.waiting == 0 and slots.queued == 0


def test_health_answers_while_every_slot_and_queue_place_is_taken(small_engine):
    """Health runs on the event loop: with the only slot held by a search that cannot finish, the wait queue
    full and further searches refused, /api/health still answers (it would hang if it waited for a slot or a
    pool thread). The end-to-end versions (test_api.py, test_public.py) time it under real load."""
    from reportsearch.web.server import build_service, create_app

    gate, started = threading.Event(), threading.Event()

    class Held:  # the engine, but its searches wait for `gate`
        def __getattr__(self, name):
            return getattr(small_engine, name)

        def search(self, *args, **kwargs):
            started.set()
            gate.wait(30)
            return small_engine.search(*args, **kwargs)

    service = build_service(Held(), search_slots=1, max_waiting=2, wait_timeout=30)
    with TestClient(create_app(service)) as client:
        answers = {}

        def search(i):
            answers[i] = client.get(f"/api/search?q=教育{i}")

        threads = [threading.Thread(target=search, args=(0,))]
        threads[0].start()
        assert started.wait(10)
        threads += [threading.Thread(target=search, args=(i,)) for i in (1, 2)]
        for t in threads[1:]:
            t.start()
        deadline = time.time() + 10
        while service.slots.queued < 2 and time.time() < deadline:
            time.sleep(0.01)
        try:
            assert service.slots.queued == 2 and service.slots.running == 1
            refused = client.get("/api/search?q=教育3")  # the queue is full: refused at once
            health = client.get("/api/health")
            assert refused.status_code == 503 and "1 search running, 2 waiting" in refused.json()["error"]
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert not answers  # every search still held
        finally:
            gate.set()
            for t in threads:
                t.join(30)
    assert sorted(answers) == [0, 1, 2] and all(r.status_code == 200 for r in answers.values())
