"""The public-service pieces without a server: token bucket, bounded search slots, the query log."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timedelta

import pytest

from reportsearch.errors import BusyError, RateLimitedError
from reportsearch.web.querylog import QueryLog, group_key
from reportsearch.web.ratelimit import RateLimiter, client_address
from reportsearch.web.server import effective_rate_limit
from reportsearch.web.slots import SearchSlots


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_token_bucket_per_client_with_retry_after():
    clock = Clock()
    rl = RateLimiter(3, clock=clock)
    for _ in range(3):
        rl.take("a")
    with pytest.raises(RateLimitedError) as e:
        rl.take("a")
    assert e.value.retry_after == 20 and e.value.status == 429
    rl.take("b")  # another client has its own bucket
    clock.t += 19.9
    with pytest.raises(RateLimitedError):
        rl.take("a")
    clock.t += 20.1
    rl.take("a")


def test_forwarded_for_only_behind_a_trusted_proxy():
    assert client_address("127.0.0.1", "1.2.3.4", trust_proxy=False) == "127.0.0.1"
    assert client_address("127.0.0.1", "6.6.6.6, 1.2.3.4", trust_proxy=True) == "1.2.3.4"
    assert client_address("127.0.0.1", " , ", trust_proxy=True) == "127.0.0.1"
    assert client_address(None, None, trust_proxy=True) == "unknown"


def test_default_rate_limit_depends_on_the_address():
    assert effective_rate_limit("127.0.0.1", None) == 0 and effective_rate_limit("localhost", None) == 0
    assert effective_rate_limit("0.0.0.0", None) == 120 and effective_rate_limit("::", None) == 120
    assert effective_rate_limit("0.0.0.0", 0) == 0 and effective_rate_limit("127.0.0.1", 7) == 7


def test_slots_queue_is_bounded_and_the_wait_times_out():
    slots = SearchSlots(slots=1, max_waiting=1, timeout=1.0)
    held, release = threading.Event(), threading.Event()
    outcome = []

    def holder():
        with slots.slot():
            held.set()
            release.wait(5)

    def waiter():
        try:
            with slots.slot():
                outcome.append("ran")
        except BusyError as e:
            outcome.append(e)

    t1 = threading.Thread(target=holder)
    t1.start()
    held.wait(5)
    t2 = threading.Thread(target=waiter)
    t2.start()
    deadline = time.time() + 5
    while slots.waiting < 1 and time.time() < deadline:
        time.sleep(0.005)
    t = time.perf_counter()
    with pytest.raises(BusyError) as e:  # queue full: refused at once, not after the timeout
        with slots.slot():
            pass
    assert "1 search running, 1 waiting" in str(e.value)  # the full queue's refusal, not the timeout's
    assert time.perf_counter() - t < 0.5 and e.value.retry_after >= 1
    t2.join(5)
    assert isinstance(outcome[0], BusyError) and "no search slot" in str(outcome[0])  # waited 1 s, gave up
    release.set()
    t1.join(5)
    with slots.slot():  # free again
        assert slots.running == 1
    assert slots.running == 0 and slots.waiting == 0


def test_search_slots_are_set_by_the_server_option():
    from reportsearch.web.server import build_service

    assert build_service(object(), search_slots=5).slots.slots == 5
    assert build_service(object()).slots.slots == SearchSlots().slots == 2


def _record(log, q, when=None, low=False, results=5):
    log.record(q, "hybrid", None, 5, low, ["a", "b", "c", "d"], 12.5, results, when=when)


def test_query_log_groups_prunes_and_cuts(tmp_path):
    db = tmp_path / "q.sqlite3"
    log = QueryLog(db, days=30)
    assert db.stat().st_mode & 0o077 == 0  # readable by the server's own account only
    now = datetime.now()
    _record(log, "停车难怎么解决", when=now - timedelta(days=40))  # past retention
    _record(log, "停车难怎么解决")
    _record(log, "停車難怎麼解決？")
    _record(log, "ＬＮＧ加气站")
    _record(log, "lng加气站", low=True)
    _record(log, "无人回答的问题", results=0)
    _record(log, "长" * 500)
    assert log.flush()
    s = log.summary(days=7)
    top = {r["query"]: r["count"] for r in s["top"]}
    assert top["停车难怎么解决"] == 2 and sum(top.values()) == s["searches"]
    assert group_key("ＬＮＧ加气站") == group_key("lng加气站 ？")
    assert {r["query"]: r["count"] for r in s["unanswered"]} in (
        {"ＬＮＧ加气站": 1, "无人回答的问题": 1}, {"lng加气站": 1, "无人回答的问题": 1})
    assert "长" * 200 in top and all(len(q) <= 200 for q in top)
    assert log.prune() == 1  # the 40-day-old row
    assert top_after(log)["停车难怎么解决"] == 2
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT top_ids FROM queries LIMIT 1").fetchone()[0] == '["a", "b", "c"]'
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # commits without an fsync each
    siblings = sorted(db.parent.glob(db.name + "*"))
    assert len(siblings) == 3 and all(f.stat().st_mode & 0o077 == 0 for f in siblings), siblings  # -wal, -shm too
    log.close()
    assert QueryLog(db, days=30).summary(days=30)["searches"] == 6  # reopened: pruned at start, rest kept


def top_after(log):
    return {r["query"]: r["count"] for r in log.summary(days=90)["top"]}


def test_a_locked_database_drops_the_row_and_counts_it(tmp_path):
    drops = []
    log = QueryLog(tmp_path / "q.sqlite3", on_drop=lambda reason, n: drops.append((reason, n)))
    locker = sqlite3.connect(tmp_path / "q.sqlite3", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    t = time.perf_counter()
    _record(log, "教育")
    # the search never waits on the disk: a write in the caller would block for the 0.5 s busy timeout and have
    # dropped the row already; the writer thread lingers 0.2 s for more rows before it even tries
    assert time.perf_counter() - t < 0.3 and log.dropped["write_error"] == 0
    assert log.flush(timeout=10)
    assert log.dropped["write_error"] == 1 and drops == [("write_error", 1)]
    locker.execute("ROLLBACK")
    locker.close()
    _record(log, "教育")
    assert log.flush() and log.summary()["searches"] == 1  # the writer recovers
    log.close()


def test_a_full_queue_drops_instead_of_waiting(tmp_path):
    log = QueryLog(tmp_path / "q.sqlite3", pending=1)
    locker = sqlite3.connect(tmp_path / "q.sqlite3", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the writer is stuck on its busy timeout
    t = time.perf_counter()
    for _ in range(50):
        _record(log, "教育")
    assert time.perf_counter() - t < 0.5
    assert log.dropped["queue_full"] >= 40
    locker.execute("ROLLBACK")
    locker.close()
    log.flush(timeout=10)
    log.close()


def test_the_listening_socket_gives_connections_tcp_nodelay():
    """serve.py binds its own sockets (web/server.bind_sockets); asyncio sets TCP_NODELAY on the connections it
    accepts only when the socket names IPPROTO_TCP. Without it, replies waited on delayed ACKs (bench/ab.py:
    12% fewer requests a second under 8 clients)."""
    import asyncio
    import socket

    from reportsearch.web.server import bind_sockets

    async def accepted_nodelay() -> int:
        got = asyncio.get_running_loop().create_future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                got.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        [sock] = bind_sockets("127.0.0.1", 0)
        with sock:
            server = await asyncio.get_running_loop().create_server(Protocol, sock=sock)
            _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
            try:
                return await asyncio.wait_for(got, 10)
            finally:
                writer.close()
                server.close()

    assert asyncio.run(accepted_nodelay()) == 1


def test_bind_sockets_binds_every_address_and_names_what_went_wrong():
    import socket

    from reportsearch.errors import ListenError
    from reportsearch.web.server import bind_sockets, listen

    socks = bind_sockets("", 0)  # every address: 0.0.0.0 and, where the machine has IPv6, ::
    try:
        assert len({s.getsockname()[1] for s in socks}) == 1  # port 0: one free port for all of them
        for s in socks:
            assert s.proto == socket.IPPROTO_TCP
            if s.family == socket.AF_INET6:  # as asyncio binds: IPv6 only, so :: does not also take 0.0.0.0
                assert s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        for s in socks:
            s.close()
    for port, says in ((70000, "the port must be 0-65535"), (-1, "the port must be 0-65535")):
        with pytest.raises(ListenError, match=says):
            bind_sockets("127.0.0.1", port)
    with pytest.raises(ListenError, match=r"^cannot listen on nosuch\.invalid:80: .* \(see --host\)$"):
        bind_sockets("nosuch.invalid", 80)

    [first] = bind_sockets("127.0.0.1", 0)
    port = first.getsockname()[1]
    [second] = bind_sockets("127.0.0.1", port)  # neither listens yet: Linux lets both bind (SO_REUSEADDR)
    try:
        listen([first], "127.0.0.1")
        with pytest.raises(ListenError, match=f"^cannot listen on 127.0.0.1:{port}: address already in use"):
            listen([second], "127.0.0.1")  # the second to listen: one line, not uvicorn's traceback
        with pytest.raises(ListenError, match="address already in use .another server is running there"):
            bind_sockets("127.0.0.1", port)  # once one listens, binding is refused at once
    finally:
        first.close()
        second.close()


def test_the_staff_summary_counts_the_filters_searches_used(tmp_path):
    """The log kept each search's filters (限定报告, year, section; 按年份对比 as `compare`) but the summary showed
    none of them: `filters` lists the most used, counted over the same days."""
    log = QueryLog(tmp_path / "q.sqlite3")
    old = datetime.now() - timedelta(days=10)
    for q, filters, when in (("教育", "doc=qinshui-2024", None), ("医疗", "doc=qinshui-2024", None),
                             ("5G", "compare | doc=qinshui-2024", None), ("5G", "compare", None),
                             ("教育", None, None), ("教育", "year=2023", old)):
        log.record(q, "hybrid", filters, 5, False, ["a"], 10.0, 1, when=when)
    assert log.flush()
    s = log.summary(days=7)
    assert s["filters"] == [{"filter": "doc=qinshui-2024", "count": 2}, {"filter": "compare", "count": 1},
                            {"filter": "compare | doc=qinshui-2024", "count": 1}], s["filters"]
    assert len(log.summary(days=7, limit=1)["filters"]) == 1 and log.summary(days=30)["filters"][-1]["count"] == 1
    log.close()


def test_the_staff_csv_speaks_chinese_and_names_the_filters(tmp_path):
    """summary.csv had an English header (kind,query_or_day,count) and kinds (top, unanswered, per_day) under a
    Chinese staff page; the JSON keeps its keys, with a Chinese label for each filter."""
    import csv
    import io
    from types import SimpleNamespace

    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from reportsearch.web import staff

    log = QueryLog(tmp_path / "q.sqlite3")
    for q, filters, low in (("停车难", "doc=qinshui-2024", False), ("停车难", None, False),
                            ("=火星", "compare | year=2023", True)):
        log.record(q, "hybrid", filters, 5, low, ["a"], 10.0, 1)
    token = "t" * 32
    engine = SimpleNamespace(reports=lambda: [{"doc": "qinshui-2024", "doc_title": "沁水县2024年政府工作报告"}])
    app = FastAPI()
    app.include_router(staff.create_staff_router(SimpleNamespace(staff_token=token, querylog=log, engine=engine)))
    client, auth = TestClient(app), {"Authorization": f"Bearer {token}"}
    r = client.get("/api/staff/summary.csv", headers=auth)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["类别", "问题、日期或限定条件", "次数"], rows[0]
    assert ["最常问的问题", "停车难", "2"] in rows and ["报告没有回答的问题", "'=火星", "1"] in rows
    assert [r[0] for r in rows[1:]].count("每日检索次数") == 7
    assert not {"top", "unanswered", "per_day", "kind"} & {r[0] for r in rows}
    assert ["限定条件", "报告：沁水县2024年政府工作报告", "1"] in rows and ["限定条件", "按年份对比；年份：2023", "1"] in rows
    s = client.get("/api/staff/summary", headers=auth).json()
    assert {"top", "unanswered", "per_day", "searches"} <= set(s)  # the JSON API's keys are unchanged
    assert {f["filter"]: f["label"] for f in s["filters"]} == {
        "doc=qinshui-2024": "报告：沁水县2024年政府工作报告", "compare | year=2023": "按年份对比；年份：2023"}
    assert staff.filter_label("二、2024年工作安排 | doc=gone-2020") == "章节：二、2024年工作安排；报告：gone-2020"
    log.close()


def test_compare_and_passages_have_their_own_metrics_label():
    """/api/compare was counted as endpoint="/api/other"."""
    from reportsearch.web.telemetry import endpoint_label

    assert endpoint_label("/api/compare") == "/api/compare"
    assert endpoint_label("/api/figures.csv") == "/api/figures.csv"
    assert endpoint_label("/api/passages/qinshui-2024-abc") == endpoint_label("/api/passages/x") == "/api/passages/{id}"
    assert endpoint_label("/api/passages/") == endpoint_label("/api/nope") == "/api/other"
    assert endpoint_label("/api/search") == "/api/search" and endpoint_label("/gradio_api/x") == "/gradio_api"


def test_every_path_of_the_staff_view_has_its_own_metrics_label():
    """/staff/staff.css was counted as endpoint="page" (the Gradio page's label) while /staff/staff.js had its own."""
    from types import SimpleNamespace

    from reportsearch.web.staff import create_staff_router
    from reportsearch.web.telemetry import endpoint_label

    paths = {r.path for r in create_staff_router(SimpleNamespace(staff_token="t" * 20)).routes}
    assert {"/staff", "/staff/staff.js", "/staff/staff.css"} <= paths
    assert {p: endpoint_label(p) for p in paths} == {p: p for p in paths}
    assert endpoint_label("/staff/other.css") == "page" and endpoint_label("/") == "/"
