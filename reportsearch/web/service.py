"""The one object the web edge holds: the current engine (a swap is one assignment) and the public-service parts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ..errors import BusyError, QueryError, RateLimitedError
from .querylog import QueryLog
from .ratelimit import RateLimiter, client_address
from ..records import Comparison, SearchResponse
from .slots import SearchSlots
from .telemetry import Telemetry

log = logging.getLogger(__name__)
# a failed search's outcome label for /metrics, first match wins (as the except clauses it replaces did)
_OUTCOMES = ((RateLimitedError, "rate_limited"), (BusyError, "busy"), (QueryError, "bad_request"))


@dataclass
class Service:
    """API and page read `service.engine` on every request; never capture the engine itself."""

    engine: object  # SearchEngine
    slots: SearchSlots = field(default_factory=SearchSlots)
    limiter: RateLimiter | None = None  # None: no rate limit
    querylog: QueryLog | None = None  # None: --no-log
    telemetry: Telemetry = field(default_factory=Telemetry)
    trust_proxy: bool = False
    staff_token: str | None = None  # None: the staff view is off

    def __post_init__(self):
        self.telemetry.watch(self)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, self.trust_proxy)

    def search(self, query: str, mode: str = "hybrid", top_k: int = 5, section: str | None = None,
               client: str = "unknown", source: str = "api", docs: list[str] | None = None,
               year: int | None = None, admitted: bool = False) -> SearchResponse:
        """Rate limit (unless `admitted` took the token already), wait for a slot (bounded), search, then count
        and log without waiting on the disk."""
        return self._run(lambda engine: engine.search(query, mode=mode, top_k=top_k, section=section, docs=docs,
                                                      year=year),
                         client, source, top_k, describe_filters(section, docs, year), admitted)

    def admit(self, client: str, source: str = "api") -> None:
        """Take one search of the client's rate limit; RateLimitedError (counted) when it has none left."""
        if self.limiter is not None:
            try:
                self.limiter.take(client)
            except RateLimitedError:
                self.telemetry.search(source, "rate_limited")
                raise

    def compare(self, query: str, mode: str = "hybrid", client: str = "unknown", source: str = "api",
                docs: list[str] | None = None, year: int | None = None) -> Comparison:
        """The same question asked of every report (or of those `docs` and `year` keep): one search's limits, slot
        and log line."""
        return self._run(lambda engine: engine.compare(query, mode=mode, docs=docs, year=year), client, source, 1,
                         describe_filters("compare", docs, year))  # logged as "compare", then its filters

    def _run(self, work, client: str, source: str, top_k: int, filters: str | None, admitted: bool = False):
        tm = self.telemetry
        try:
            if self.limiter is not None and not admitted:
                self.limiter.take(client)
            engine = self.engine  # one read: a swap during this search does not mix two indexes
            with self.slots.slot():
                t0 = time.perf_counter()
                r = work(engine)
                seconds = time.perf_counter() - t0
        except Exception as e:  # counted by outcome, then handed on to the edge that translates it
            tm.search(source, next((label for cls, label in _OUTCOMES if isinstance(e, cls)), "error"))
            raise
        if isinstance(r, Comparison):  # logged as one search: unanswered when no report has an answer
            hits = [x.hit for x in r.reports if x.hit is not None]
            low = not hits
        else:
            hits, low = list(r.results), r.low_confidence
        tm.search(source, "ok", r.mode, seconds, low)
        if self.querylog is not None:
            self.querylog.record(r.query, r.mode, filters, top_k, low, [h.passage.id for h in hits[:3]],
                                 seconds * 1000, len(hits))
        return r


def describe_filters(section: str | None, docs: list[str] | None, year: int | None) -> str | None:
    """The filters of a search as the query log keeps them (no filter: None)."""
    parts = ([section] if section else []) + [f"doc={d}" for d in docs or []] + ([f"year={year}"] if year else [])
    return " | ".join(parts) or None
