"""Start the service: build the index on first run, load model and index once, serve page and API on one port."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .errors import IndexMissingError

log = logging.getLogger("reportsearch")


def create_app(engine):
    """One ASGI app: the JSON API under /api and the Gradio page at /."""
    import gradio as gr

    from .api import SEARCH_SLOTS, create_api
    from .ui import CSS, create_ui

    slots = threading.BoundedSemaphore(SEARCH_SLOTS)  # shared by page and API: one budget for 2 cores
    app = create_api(engine, slots)
    return gr.mount_gradio_app(app, create_ui(engine, slots), path="/", css=CSS)


def load_or_build(index_dir: str | Path, model: str | None = None, rebuild: bool = False):
    from .engine import SearchEngine
    from .ingest import build_index

    if rebuild:
        log.info("rebuilding the index in %s", index_dir)
        build_index(index_dir=index_dir, model=model)
    try:
        return SearchEngine.load(index_dir, model=model)
    except IndexMissingError:
        log.info("no index in %s yet: building it from data/ (first run)", index_dir)
        build_index(index_dir=index_dir, model=model)
        return SearchEngine.load(index_dir, model=model)


def run_server(index_dir: str | Path, host: str = "127.0.0.1", port: int = 7860, model: str | None = None,
               rebuild: bool = False) -> None:
    import uvicorn

    engine = load_or_build(index_dir, model=model, rebuild=rebuild)
    app = create_app(engine)
    log.info("serving %d passages on http://%s:%d/ (API: /api/search, /api/health)", engine.store.count, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
