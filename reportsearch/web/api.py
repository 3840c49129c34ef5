"""The JSON API: /api/search, /api/compare, /api/health and /metrics; 4xx JSON for bad parameters, never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.routing import Route

from ..engine import MAX_TOP_K, MODES, check_top_k
from ..errors import QueryError, ReportSearchError, ServiceLimitError

log = logging.getLogger(__name__)
DEFAULT_K, DEFAULT_MODE = "5", "hybrid"  # also what an empty `k=` or `mode=` means (HTML forms send empty fields)


class FigureOut(BaseModel):
    text: str
    start: int
    end: int


class AnswerOut(BaseModel):
    text: str
    start: int
    end: int
    figure: FigureOut | None = None  # the figure a quantity question asks for, as a span of the passage text


class ReportFields(BaseModel):
    """How every response names a report (records.py: `Passage.doc`, `doc_title`, `year`)."""

    doc: str
    doc_title: str
    year: int | None


class PassageFields(ReportFields):
    id: str
    section: list[str]
    text: str


class CopyOut(ReportFields):
    """The same passage, word for word, in another report."""

    id: str


class HitOut(PassageFields):
    rank: int
    score: float
    highlights: list[list[int]]
    answer: AnswerOut
    neighbors: list[str]
    also_in: list[CopyOut]  # other reports holding this text word for word, newest first (shown once, here)
    # what the query asks for word for word (a number, a quoted phrase, a one-term query) that this text lacks
    missing: list[str]


class SearchOut(BaseModel):
    query: str
    mode: str
    low_confidence: bool
    results: list[HitOut]
    notices: list[str] | None = None


class ReportOut(ReportFields):
    passages: int


class HealthOut(BaseModel):
    status: str
    passages: int
    model: str | None
    documents: list[str]
    reports: list[ReportOut]
    version: int
    created: str | None


class ReportHitOut(ReportFields):
    hit: HitOut | None


class CompareOut(BaseModel):
    query: str
    mode: str
    reports: list[ReportHitOut]


class Problem(BaseModel):
    error: str


class PassageOut(PassageFields):
    start: int
    end: int
    neighbors: list[str]
    permalink: str
    section_path: list[str]
    section_text: str


def _problem(message: str, status: int, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _rejected(service, e: QueryError) -> JSONResponse:
    """A search's bad parameter, found before the search reaches the service: its 400, counted on /metrics as
    `bad_request`, as the service counts one the engine finds (an empty `q`, an unknown `doc`), once a request."""
    service.telemetry.search("api", "bad_request")
    return _error(e)


def _error(e: ReportSearchError) -> JSONResponse:
    """Package errors as HTTP: a bad parameter 400, a limit 429/503 with Retry-After, anything else 503."""
    if isinstance(e, QueryError):
        return _problem(str(e), 400)
    if isinstance(e, ServiceLimitError):
        return _problem(str(e), e.status, e.retry_after)
    return _problem(str(e), 503)


def _year(year: str | list[str] | None) -> int | None:
    """The `year` filter, from its one value or from every value the query string gave (`year` is not
    repeatable, as `doc` is: two different years are a 400, the same year twice is that year, an empty one none)."""
    if isinstance(year, list):
        given = list(dict.fromkeys(y for y in year if y))
        if len(given) > 1:
            raise QueryError(f"give one year; got {' and '.join(f'year={y}' for y in given)}. To search several "
                             "reports, repeat doc instead: doc=<doc id>&doc=<doc id>")
        year = given[0] if given else None
    if year in (None, ""):
        return None
    try:
        return int(year)
    except ValueError:
        raise QueryError(f"year must be a year such as 2023, got {year!r}") from None


def _k(k: str) -> int:
    """The API's `k`; its QueryError names `k` (the engine's own names `top_k`)."""
    try:
        return check_top_k(int(k))
    except (ValueError, QueryError):
        raise QueryError(f"k must be a whole number from 1 to {MAX_TOP_K}, got {k!r}") from None


def _docs(doc: list[str] | None) -> list[str] | None:
    """The `doc` filter: every non-empty value, or None (no filter)."""
    return [d for d in doc or [] if d] or None


def _every(name: str, params: list[tuple[str, str]]) -> list[str]:
    """Every value of a parameter in the query string's pairs, in order (Starlette's `getlist`)."""
    return [v for key, v in params if key == name]


def _checked(q: str | None, k: str, mode: str, year: str | list[str] | None) -> tuple[int, str, int | None]:
    """(top_k, mode, year) of a search's parameters, an empty `k` or `mode` the default; QueryError (400) for a
    bad one."""
    if q is None:
        raise QueryError("missing parameter q: add ?q=your+question")
    top_k, mode = _k(k or DEFAULT_K), mode or DEFAULT_MODE
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    return top_k, mode, _year(year)


def search_response(service, client: str, q: str | None, k: str = DEFAULT_K, mode: str = DEFAULT_MODE,
                    section: str | None = None, doc: list[str] | None = None,
                    year: str | list[str] | None = None, admitted: bool = False) -> JSONResponse:
    """/api/search once its parameters are read: the search (blocking) and its JSON answer or 4xx/503 problem.
    `year`: its value, or every value given (see `_year`). `admitted`: `admit_search` already took the client's
    rate-limit token."""
    try:
        top_k, mode, year_ = _checked(q, k, mode, year)
    except QueryError as e:
        return _rejected(service, e)
    try:
        r = service.search(q, mode=mode, top_k=top_k, section=section or None, client=client, source="api",
                           docs=_docs(doc), year=year_, admitted=admitted)
    except ReportSearchError as e:
        return _error(e)
    return JSONResponse(r.to_dict())  # already plain JSON: skips jsonable_encoder (~0.5 ms of GIL a request)


def admit_search(service, host: str | None, forwarded_for: str | None,
                 params: list[tuple[str, str]]) -> JSONResponse | None:
    """Before a search queues for a slot (web/fastpath.py, on the event loop): its 400 (a bad parameter, checked
    first, as the route does) or 429 (the client's rate limit, whose token it takes), or None when it may queue.
    A client over its limit is answered at once and holds no place in the queue."""
    last = dict(params)
    try:
        _checked(last.get("q"), last.get("k", DEFAULT_K), last.get("mode", DEFAULT_MODE), _every("year", params))
    except QueryError as e:
        return _rejected(service, e)
    try:
        service.admit(service.client(host, forwarded_for), "api")  # a refusal is counted there (rate_limited)
    except ReportSearchError as e:
        return _error(e)
    return None


def search_refused(service, error: ServiceLimitError) -> JSONResponse:
    """A search turned away before it ran (the fast path's queue full, or its wait too long): counted as busy
    and answered as the slots' own refusal is."""
    service.telemetry.search("api", "busy")
    return _error(error)


def search_from_query(service, host: str | None, forwarded_for: str | None,
                      params: list[tuple[str, str]], admitted: bool = False) -> JSONResponse:
    """`search_response` from the raw query string's pairs, read as the route reads its parameters: the last
    value of a repeated parameter, every `doc` (none: None) and every `year`, a missing one its default."""
    last = dict(params)
    return search_response(service, service.client(host, forwarded_for), last.get("q"), last.get("k", DEFAULT_K),
                           last.get("mode", DEFAULT_MODE), last.get("section"), _every("doc", params) or None,
                           _every("year", params), admitted)


def compare_response(service, client: str, q: str | None, mode: str = DEFAULT_MODE, doc: list[str] | None = None,
                     year: str | list[str] | None = None, k: str | None = None) -> JSONResponse | dict:
    """/api/compare once its parameters are read: read as /api/search reads them, but a `k` is a 400 (one passage
    a report) that points to /api/search."""
    try:
        _, mode, year_ = _checked(q, DEFAULT_K, mode, year)
        if k:
            raise QueryError(f"k does not apply here, got {k!r}: /api/compare gives the one best passage of each "
                             "report; for more passages of one report ask /api/search?doc=<doc id>&k=<k>")
    except QueryError as e:
        return _rejected(service, e)
    try:
        r = service.compare(q, mode=mode, client=client, source="api", docs=_docs(doc), year=year_)
    except ReportSearchError as e:
        return _error(e)
    return r.to_dict()


def create_api(service) -> FastAPI:
    """The API reads `service.engine` on each request, so swapping the index is one assignment."""
    app = FastAPI(title="Report search API", docs_url="/api/docs", openapi_url="/api/openapi.json",
                  redoc_url=None)
    retry = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "string"}}}

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - defensive
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)

    @app.get("/api/health", response_model=None, responses={200: {"model": HealthOut}})
    async def health():
        """Liveness: answered on the event loop, never waits behind searches."""
        engine = service.engine
        store = engine.store
        m = store.manifest
        return {"status": "ok", "passages": store.count, "model": m.get("model"),
                "documents": sorted(store.documents), "reports": engine.reports(), "version": store.version,
                "created": m.get("created")}

    @app.get("/api/search", response_model=None, responses={
        200: {"model": SearchOut}, 400: {"model": Problem, "description": "bad parameter"},
        429: {"model": Problem, "description": "rate limit: too many searches from this client", "headers": retry},
        503: {"model": Problem, "description": "busy: every search slot taken and the wait queue full",
              "headers": retry}})
    def search(request: Request, q: str | None = None, k: str = DEFAULT_K, mode: str = DEFAULT_MODE,
               section: str | None = None, doc: list[str] | None = Query(None), year: str | None = None):
        """Search the reports. `q` is required (cut at 1,000 characters), `k` 1-50, `mode` one of
        hybrid, semantic, keyword (an empty `k` or `mode`: the default); `section` keeps only passages under that
        heading; `doc` (repeatable) and `year` (one: two different years are a 400) keep only those reports.
        Filters apply before the top-k cut."""
        # GET requests are answered by fastpath.SearchFastPath (server.create_app) with this same function;
        # every `year` given, not FastAPI's last one, so that two different years are a 400
        return search_response(service, _client(request), q, k, mode, section, doc,
                               request.query_params.getlist("year"))

    @app.get("/api/compare", response_model=None, responses={
        200: {"model": CompareOut}, 400: {"model": Problem, "description": "bad parameter"},
        429: {"model": Problem, "description": "rate limit: too many searches from this client", "headers": retry},
        503: {"model": Problem, "description": "busy: every search slot taken and the wait queue full",
              "headers": retry}})
    def compare(request: Request, q: str | None = None, mode: str = DEFAULT_MODE,
                doc: list[str] | None = Query(None), year: str | None = None, k: str | None = None):
        """One question asked of every report, or of those `doc` (repeatable) and `year` keep, read as on
        /api/search: the best passage of each, newest report first; `hit` is null where a report has nothing
        above the low-confidence line. There is one passage a report, so a `k` is a 400: for more passages of
        one report ask /api/search?doc=<doc id>&k=<k>."""
        return compare_response(service, _client(request), q, mode, doc, request.query_params.getlist("year"), k)

    def _client(request: Request) -> str:
        return service.client(request.client.host if request.client else None,
                              request.headers.get("x-forwarded-for"))

    @app.get("/api/passages/{pid}", response_model=None, responses={
        200: {"model": PassageOut}, 404: {"model": Problem, "description": "no passage with that id"}})
    def passage(pid: str):
        """One passage for the reading view: text, report, section path, its neighbours' ids and the text of
        its whole section (L1 › L2). Permalink: `/?p=<id>`."""
        from .reading import engine_passage_view

        v = engine_passage_view(service.engine, pid)
        return v if v is not None else _problem(f"unknown passage id {pid[:100]!r}", 404)

    @app.get("/api/figures.csv", include_in_schema=False)
    def figures_csv(request: Request, q: str = ""):
        """Every figure of the reports (the 数据 tab), filtered by `q`, as CSV in UTF-8 with BOM; each row's link is
        absolute (the request's base URL, root path included), for a spreadsheet to follow."""
        from .reading import engine_figure_rows, figures_csv, filter_rows

        engine = service.engine
        body = figures_csv(filter_rows(engine_figure_rows(engine), q[:200], engine.glossary), str(request.base_url))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="figures.csv"'})

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        body, content_type = service.telemetry.render()
        return Response(body, media_type=content_type)

    staff_routes = []
    if service.staff_token:
        from .staff import create_staff_router

        staff = create_staff_router(service)
        app.include_router(staff)
        # FastAPI keeps an included router as one entry of app.routes, not as its routes: listed here for the 405s
        staff_routes = staff.routes

    def wrong_method(request: Request):
        """Another method on a read-only path: 405 with Allow, as JSON (the page mounted at / answered 404)."""
        return JSONResponse({"error": f"{request.method} is not allowed on {request.url.path}: use GET"},
                            status_code=405, headers={"Allow": "GET"})

    # every path so far answers GET only (the API, /metrics, the staff view, the schema and its docs); HEAD too
    # where the path does not answer it itself (FastAPI's routes do not; the schema's and docs' do)
    for route in [*app.routes, *staff_routes]:
        if isinstance(route, Route) and route.methods and route.methods <= {"GET", "HEAD"}:
            methods = ["POST", "PUT", "PATCH", "DELETE"] + ([] if "HEAD" in route.methods else ["HEAD"])
            app.add_api_route(route.path, wrong_method, methods=methods, include_in_schema=False)

    def not_found(request: Request):
        """A path of the API or of the staff view that does not exist: 404 in the API's own JSON (the page mounted
        at / answered Gradio's `{"detail": "Not Found"}`). The page's own paths stay Gradio's."""
        return _problem(f"no such path {request.url.path[:100]!r}: the API's paths are listed in /api/openapi.json "
                        "(/api/search, /api/compare, /api/health, /api/passages/<id>, /api/figures.csv)", 404)

    # after every route of the API and the staff view, before the page that server.create_app mounts at /
    for path in ("/api/{rest:path}", "/staff", "/staff/{rest:path}"):
        app.add_api_route(path, not_found, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                          include_in_schema=False)
    return app
