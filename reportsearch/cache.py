"""Where derived data that is slow to make is kept between runs: `$REPORTSEARCH_CACHE_DIR` or ~/.cache/reportsearch."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_ENV = "REPORTSEARCH_CACHE_DIR"


def cache_dir() -> Path:
    """`$REPORTSEARCH_CACHE_DIR`, else `$XDG_CACHE_HOME/reportsearch`, else `~/.cache/reportsearch` (without a
    home, a folder of this user's in the temp folder)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "reportsearch"
    try:
        return Path.home() / ".cache" / "reportsearch"
    except RuntimeError:  # no HOME and no passwd entry (a container run as an arbitrary uid)
        return Path(tempfile.gettempdir()) / f"reportsearch-{os.getuid()}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a cache file so that a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remembered(name: str, key: str, make) -> str:
    """`make()` for `key`, remembered in the JSON file `name` of the cache folder (a string per key). A missing,
    damaged or unwritable file only means `make` runs again."""
    path = cache_dir() / name
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(table, dict):
            table = {}
    except (OSError, ValueError):
        table = {}
    value = table.get(key)
    if isinstance(value, str):
        return value
    value = make()
    table[key] = value
    try:
        write_atomic(path, json.dumps(table, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    except OSError as e:
        log.debug("cannot write the cache file %s: %s", path, e)
    return value
