"""Live index updates: watch the index manifest and swap a newly written, verified version into the service."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from ..store import manifest_identity
from .slots import counted

log = logging.getLogger("reportsearch")

POLL_SECONDS = 1.0


class IndexWatcher:
    """Polls `index_dir/manifest.json`; when another manifest appears, loads it and hands it to `on_swap`.

    Polling (not inotify) because the index folder itself is replaced by a rename on every write, which
    inotify watches do not follow. A version that fails to verify or load is logged and skipped; the
    service keeps the engine it has, and a later version is tried again.
    """

    def __init__(self, index_dir: str | Path, current: Callable[[], object], load: Callable[[Path], object],
                 on_swap: Callable[[object], None], poll: float = POLL_SECONDS):
        self.index_dir = Path(index_dir)
        self.current, self.load, self.on_swap, self.poll = current, load, on_swap, poll
        self.failed: tuple | None = None  # the manifest (version, SHA-256) that did not load
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-watcher", daemon=True)

    def start(self) -> "IndexWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> bool:
        """One poll: True when a new version was swapped in. New: a manifest other than the one being served
        (its SHA-256), whatever its version: an index deleted and built again, or rebuilt over a manifest that did
        not read, starts again at version 1 (a higher version alone was new, and such an index was never served)."""
        found = manifest_identity(self.index_dir)
        if found is None or found == self.failed:
            return False
        version, digest = found
        current = self.current()
        have = getattr(current, "version", 0)
        serving = (getattr(getattr(current, "store", None), "manifest", None) or {}).get("manifest_sha256")
        if (digest == serving) if serving and digest else version <= have:
            return False
        try:
            engine = self.load(self.index_dir)
        except Exception as e:  # a damaged or half-written version must never take the service down
            self.failed = found
            log.warning("index version %s in %s was not loaded, still serving version %s: %s",
                        version, self.index_dir, have, e)
            return False
        self.on_swap(engine)
        self.failed = None
        log.warning("now serving index version %s (%s)", getattr(engine, "version", version),
                    counted(getattr(getattr(engine, "store", None), "count", 0), "passage"))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.check()
            except Exception:  # pragma: no cover - the watcher thread must survive anything
                log.exception("index watcher")
