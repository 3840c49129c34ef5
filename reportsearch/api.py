"""The JSON API: GET /api/search and GET /api/health, with 4xx JSON for bad parameters and never a 500."""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .engine import MODES, SearchEngine, check_top_k
from .errors import QueryError, ReportSearchError

log = logging.getLogger(__name__)
SEARCH_SLOTS = 2  # concurrent searches; more only oversubscribes the 2 CPU cores (see bench/load.py)


def create_api(engine: SearchEngine, slots: threading.BoundedSemaphore | None = None) -> FastAPI:
    app = FastAPI(title="Report search API", docs_url="/api/docs", openapi_url="/api/openapi.json",
                  redoc_url=None)
    slots = slots or threading.BoundedSemaphore(SEARCH_SLOTS)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - defensive
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)

    @app.get("/api/health")
    def health():
        m = engine.store.manifest
        return {"status": "ok", "passages": engine.store.count, "model": m.get("model"),
                "documents": sorted(engine.store.documents), "created": m.get("created")}

    @app.get("/api/search")
    def search(q: str | None = None, k: str = "5", mode: str = "hybrid", section: str | None = None):
        try:
            if q is None:
                raise QueryError("missing parameter q: add ?q=your+question")
            try:
                top_k = check_top_k(int(k))
            except ValueError:
                raise QueryError(f"k must be a whole number from 1 to 50, got {k!r}") from None
            if mode not in MODES:
                raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
            with slots:
                r = engine.search(q, mode=mode, top_k=top_k, section=section or None)
        except QueryError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        except ReportSearchError as e:
            return JSONResponse({"error": str(e)}, status_code=503)
        return r.to_dict()

    return app
