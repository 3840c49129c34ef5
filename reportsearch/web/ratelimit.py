"""Per-client rate limit on searches: a token bucket per client address, held in memory only, never stored."""

from __future__ import annotations

import math
import threading
import time

from ..errors import RateLimitedError

MAX_CLIENTS = 10_000  # buckets kept at once; full (idle) buckets are dropped first


def client_address(peer: str | None, forwarded_for: str | None, trust_proxy: bool) -> str:
    """The address a search is counted against.

    Without `trust_proxy`, X-Forwarded-For is ignored (any client can write it). Behind a trusted reverse
    proxy the last entry is the address the proxy itself saw; earlier entries are the client's own claims.
    """
    if trust_proxy and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return peer or "unknown"


class RateLimiter:
    """`per_minute` searches per client, in bursts of up to `per_minute`, refilled evenly over the minute.

    A token bucket rather than slowapi: it is 40 lines with no dependency, it smooths bursts instead of
    resetting at a window edge, it computes an exact Retry-After, and the same object serves the JSON API
    and the Gradio page (slowapi only decorates FastAPI routes).
    """

    def __init__(self, per_minute: int, clock=time.monotonic):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, time)
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Spend one token for `client`, or raise RateLimitedError with the seconds until the next one."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimitedError(f"too many searches: the limit is {self.per_minute} per minute; "
                                       f"try again in {wait} s", retry_after=wait)
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._prune(now)

    def _prune(self, now: float) -> None:
        full = [c for c, (t, then) in self._buckets.items() if t + (now - then) * self.rate >= self.per_minute]
        for c in full:
            del self._buckets[c]
        while len(self._buckets) > MAX_CLIENTS:  # all busy: drop the longest idle
            del self._buckets[min(self._buckets, key=lambda c: self._buckets[c][1])]
