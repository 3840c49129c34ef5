"""Reading JSON-lines files of queries, with one clear InputError per bad line."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import InputError


def read_query_lines(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; each object must have a string "query"."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    rows = []
    for n, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise InputError(f"{p}:{n}: not valid JSON ({e.msg})") from e
        if not isinstance(obj, dict) or not isinstance(obj.get("query"), str):
            raise InputError(f"{p}:{n}: each line needs a string \"query\" field")
        rows.append((n, obj))
    if not rows:
        raise InputError(f"{p}: no queries in this file")
    return rows
