"""The one object the web edge holds: the current engine (a swap is one assignment) and the public-service parts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from .errors import BusyError, QueryError, RateLimitedError
from .querylog import QueryLog
from .ratelimit import RateLimiter, client_address
from .records import SearchResponse
from .slots import SearchSlots
from .telemetry import Telemetry

log = logging.getLogger(__name__)


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
               client: str = "unknown", source: str = "api") -> SearchResponse:
        """Rate limit, wait for a slot (bounded), search, then count and log without waiting on the disk."""
        tm = self.telemetry
        try:
            if self.limiter is not None:
                self.limiter.take(client)
            engine = self.engine  # one read: a swap during this search does not mix two indexes
            with self.slots.slot():
                t0 = time.perf_counter()
                r = engine.search(query, mode=mode, top_k=top_k, section=section)
                seconds = time.perf_counter() - t0
        except RateLimitedError:
            tm.search(source, "rate_limited")
            raise
        except BusyError:
            tm.search(source, "busy")
            raise
        except QueryError:
            tm.search(source, "bad_request")
            raise
        except Exception:
            tm.search(source, "error")
            raise
        tm.search(source, "ok", r.mode, seconds, r.low_confidence)
        if self.querylog is not None:
            self.querylog.record(r.query, r.mode, section, top_k, r.low_confidence,
                                 [h.passage.id for h in r.results[:3]], seconds * 1000, len(r.results))
        return r
