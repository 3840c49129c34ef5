"""The query log: what residents ask, in SQLite, with no client address, user agent, cookie or session id.

One row per search: the minute (server local time), the query cut at 200 characters, mode, filters (as
service.describe_filters words them: `二、…`, `doc=qinshui-2024`, `year=2024`, `compare | doc=…`), the
low-confidence flag, the ids of the top 3 results and the latency. Writes go through a bounded queue to one
writer thread, so a search never waits on the disk: a full queue, a locked database or a full disk drops
the row and counts it. Rows older than `days` are pruned at start and daily.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import ReportSearchError
from ..textnorm import fold

log = logging.getLogger(__name__)
DEFAULT_DB = Path(__file__).resolve().parents[2] / "var" / "queries.sqlite3"
MAX_QUERY_CHARS = 200
RETENTION_DAYS = 90
PENDING = 1000  # rows waiting for the writer; more are dropped
PRUNE_EVERY = 24 * 3600.0
WAKE_SECONDS = 3600.0
LINGER_SECONDS = 0.2  # after the first queued row, wait this long so that one commit writes many rows
_TS = "%Y-%m-%d %H:%M"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    ts TEXT NOT NULL,             -- minute, server local time: YYYY-MM-DD HH:MM
    query TEXT NOT NULL,          -- at most 200 characters
    mode TEXT NOT NULL,
    section TEXT,                 -- the filters, if any: `heading | doc=… | year=…`, `compare` leading for 按年份对比
    top_k INTEGER NOT NULL,
    low_confidence INTEGER NOT NULL,
    results INTEGER NOT NULL,     -- how many results were returned
    top_ids TEXT NOT NULL,        -- JSON list of the ids of the top 3 results
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queries_ts ON queries (ts);
"""
_COLUMNS = ("ts", "query", "mode", "section", "top_k", "low_confidence", "results", "top_ids", "latency_ms")
_INSERT = f"INSERT INTO queries ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_TRAILING = re.compile(r"[\s?？。.!！,，、;；:：~～…]+$")


def group_key(query: str) -> str:
    """Near-duplicates share a key: the same text after folding, spacing and trailing punctuation removed."""
    return _TRAILING.sub("", re.sub(r"\s+", " ", fold(query)).strip())


class QueryLog:
    """Append-only log of searches with a background writer; `summary` reads it for the staff view."""

    def __init__(self, path: str | Path = DEFAULT_DB, days: int = RETENTION_DAYS, pending: int = PENDING,
                 on_drop=None):
        if days < 1:
            raise ValueError("days must be at least 1")
        self.path = Path(path)
        self.days = days
        self.dropped: Counter = Counter()
        self._on_drop = on_drop or (lambda reason, n: None)
        self._queue: queue.Queue = queue.Queue(maxsize=pending)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._session() as db:
                db.executescript(_SCHEMA)
            try:
                os.chmod(self.path, 0o600)  # the server's own account only
            except OSError:
                pass
            self.prune()
        except (OSError, sqlite3.Error) as e:
            raise ReportSearchError(f"cannot open the query log {self.path}: {e}; "
                                    "choose another --log-db or turn it off with --no-log") from None
        self._last_prune = time.monotonic()
        self._writer = threading.Thread(target=self._run, name="querylog-writer", daemon=True)
        self._writer.start()

    def _connect(self, timeout: float = 0.5) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
        # WAL with synchronous=NORMAL: a commit appends to the log without an fsync (a power cut may lose the
        # last rows of a query log, never corrupt it), and readers (the staff view) never block the writer
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def _session(self, timeout: float = 5.0):
        """A short-lived connection: committed on success, always closed."""
        db = self._connect(timeout)
        try:
            with db:
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------ writing
    def record(self, query: str, mode: str, section: str | None, top_k: int, low_confidence: bool,
               top_ids: list[str], latency_ms: float, results: int, when: datetime | None = None) -> None:
        """Queue one row; never blocks and never raises."""
        row = ((when or datetime.now()).strftime(_TS), query[:MAX_QUERY_CHARS], mode,
               section[:MAX_QUERY_CHARS] if section else None, int(top_k), int(bool(low_confidence)),
               int(results), json.dumps(list(top_ids[:3])), round(float(latency_ms), 2))
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._drop("queue_full", 1)

    def _drop(self, reason: str, n: int) -> None:
        with self._lock:
            self.dropped[reason] += n
        try:
            self._on_drop(reason, n)
        except Exception:  # noqa: BLE001 - counting must never break the writer
            log.exception("query log drop callback failed")

    def _run(self) -> None:
        db = None
        while True:
            try:
                batch = [self._queue.get(timeout=WAKE_SECONDS)]  # wakes to prune even when nobody searches
                if batch[0] is not None and self._queue.qsize() < 200:
                    time.sleep(LINGER_SECONDS)  # one commit for the rows of the next moment, not one per search
            except queue.Empty:
                batch = []
            while len(batch) < 200:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            rows = [r for r in batch if r is not None]
            try:
                if rows:
                    db = db or self._connect()
                    with db:
                        db.executemany(_INSERT, rows)
            except Exception as e:  # noqa: BLE001 - locked, full disk, read-only: drop and count
                log.warning("query log: dropped %d row(s): %s", len(rows), e)
                self._drop("write_error", len(rows))
                if db is not None:
                    db.close()
                db = None
            finally:
                for _ in batch:
                    self._queue.task_done()
            if stop:
                if db is not None:
                    db.close()
                return
            if time.monotonic() - self._last_prune > PRUNE_EVERY:
                self._last_prune = time.monotonic()
                try:
                    self.prune()
                except sqlite3.Error as e:
                    log.warning("query log: pruning failed: %s", e)

    def prune(self, now: datetime | None = None) -> int:
        cutoff = ((now or datetime.now()) - timedelta(days=self.days)).strftime(_TS)
        with self._session() as db:
            n = db.execute("DELETE FROM queries WHERE ts < ?", (cutoff,)).rowcount
        if n:
            log.info("query log: pruned %d row(s) older than %d days", n, self.days)
        return n

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued row is written (or dropped); True when the queue drained in time."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._writer.join(timeout)

    # ------------------------------------------------------------ reading
    def summary(self, days: int = 7, limit: int = 20, now: datetime | None = None) -> dict:
        """Top questions, unanswered questions, searches per day and the filters searches used most (限定报告, year,
        section; 按年份对比 as `compare`) over the last `days` days (today included)."""
        now = now or datetime.now()
        first = (now - timedelta(days=days - 1)).date()
        since = first.strftime("%Y-%m-%d")
        with self._session() as db:
            rows = db.execute("SELECT query, COUNT(*), SUM(low_confidence OR results = 0) FROM queries "
                              "WHERE ts >= ? GROUP BY query", (since,)).fetchall()
            per_day = dict(db.execute("SELECT substr(ts, 1, 10), COUNT(*) FROM queries WHERE ts >= ? "
                                      "GROUP BY 1", (since,)).fetchall())
            filters = db.execute("SELECT section, COUNT(*) FROM queries WHERE ts >= ? AND section IS NOT NULL "
                                 "GROUP BY section ORDER BY 2 DESC, 1 LIMIT ?", (since, limit)).fetchall()
        total, unanswered, variants = Counter(), Counter(), defaultdict(Counter)
        for text, n, bad in rows:
            key = group_key(text)
            total[key] += n
            unanswered[key] += bad or 0
            variants[key][text] += n

        def shown(key: str) -> str:  # the most frequent spelling of the group
            return max(variants[key].items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))[0][:MAX_QUERY_CHARS]

        def top(counter: Counter) -> list[dict]:
            items = sorted(((k, n) for k, n in counter.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
            return [{"query": shown(k), "count": n} for k, n in items[:limit]]

        days_list = [(first + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]
        return {"days": days, "from": days_list[0], "to": days_list[-1],
                "searches": sum(total.values()), "unanswered_searches": sum(unanswered.values()),
                "top": top(total), "unanswered": top(unanswered),
                "per_day": [{"day": d, "searches": per_day.get(d, 0)} for d in days_list],
                "filters": [{"filter": f, "count": n} for f, n in filters]}
