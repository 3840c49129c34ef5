"""Search slots: at most N searches run at once; a bounded wait queue with a timeout, never an unbounded wait."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from ..errors import BusyError

SEARCH_SLOTS = 2  # concurrent searches; more only oversubscribes the 2 CPU cores (see bench/load.py)
MAX_WAITING = 32  # searches allowed to wait for a slot; one more is refused at once
WAIT_TIMEOUT = 10.0  # seconds a search may wait for a slot


def counted(n: int, noun: str) -> str:
    """`1 search`, `2 searches`, `12,345 passages`: a count and its noun, in the singular for one."""
    return f"{n:,} {noun if n == 1 else noun + ('es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's')}"


class SearchSlots:
    """A semaphore with a bounded number of waiters; the page and the API share one for the CPU budget."""

    def __init__(self, slots: int = SEARCH_SLOTS, max_waiting: int = MAX_WAITING, timeout: float = WAIT_TIMEOUT):
        if slots < 1 or max_waiting < 0 or timeout <= 0:
            raise ValueError("slots must be >= 1, max_waiting >= 0 and timeout > 0")
        self.slots, self.max_waiting, self.timeout = slots, max_waiting, timeout
        self._sem = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self.waiting = 0
        self.running = 0
        self.queued = 0  # searches waiting in the fast path's queue in front of the slots (web/fastpath.py)
        self._spent = threading.local()  # seconds this thread's search already waited in that queue

    def count_queued(self, n: int) -> None:
        """A search enters (+1) or leaves (-1) the fast path's queue."""
        with self._lock:
            self.queued += n

    def queue_full(self, waiting: int) -> BusyError:
        """The refusal of a search that finds every slot busy and `waiting` others already queued."""
        return BusyError(f"the service is busy ({counted(self.slots, 'search')} running, {waiting} waiting); try "
                         "again in a moment", retry_after=2)

    def waited_too_long(self) -> BusyError:
        """The refusal of a search that waited `timeout` seconds without a slot."""
        return BusyError(f"the service is busy: no search slot came free in {self.timeout:g} s; try again in a "
                         "moment", retry_after=max(1, round(self.timeout / 2)))

    @contextmanager
    def already_waited(self, seconds: float):
        """A slot wait in the block (on this thread) counts `seconds` the search already spent in the fast path's
        queue, so that its whole wait stays within `timeout` (a page search may hold the slot it then needs)."""
        self._spent.seconds = seconds
        try:
            yield
        finally:
            self._spent.seconds = 0.0

    @contextmanager
    def slot(self):
        """Hold one slot for the block; raise BusyError when the queue is full or the wait times out (`timeout`
        in all, with the time counted by `already_waited`)."""
        if not self._sem.acquire(blocking=False):
            with self._lock:
                if self.waiting >= self.max_waiting:
                    raise self.queue_full(self.waiting)
                self.waiting += 1
            try:
                left = self.timeout - getattr(self._spent, "seconds", 0.0)
                got = left > 0 and self._sem.acquire(timeout=left)
            finally:
                with self._lock:
                    self.waiting -= 1
            if not got:
                raise self.waited_too_long()
        with self._lock:
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._sem.release()
