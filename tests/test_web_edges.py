"""The web edge's answers at its edges: other methods on the staff view, unknown paths, how /metrics counts
rejected searches, the busy message's grammar and the README's list of metrics labels (in-process, fake model)."""

import re

import pytest
from starlette.testclient import TestClient

from conftest import ROOT, fake_engine

TOKEN = "edge-test-staff-token-0123456789"
STAFF_PATHS = ["/staff", "/staff/staff.js", "/staff/staff.css", "/api/staff/summary", "/api/staff/summary.csv"]
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory):
    return fake_engine(tmp_path_factory.mktemp("edges"), "qinshui-2023.txt",
                       "一、回顾\n\n（一）民生\n\n坚持教育优先，完成桃园小学主体。新建5G基站300个。\n\n"
                       "二、今年安排\n\n解决停车难，新增停车位1200个。扩大家庭医生签约覆盖率。")


def _client(engine, staff_token=None, fast=True):
    from reportsearch.web.fastpath import SearchFastPath
    from reportsearch.web.server import build_service, create_app

    service = build_service(engine, staff_token=staff_token)
    app = create_app(service)
    if not fast:  # FastAPI's own route answers GET /api/search
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SearchFastPath]
    return TestClient(app), service


@pytest.fixture(scope="module")
def staff_on(small_engine):
    client, service = _client(small_engine, TOKEN)
    with client:
        yield client, service


@pytest.fixture(scope="module")
def staff_off(small_engine):
    client, service = _client(small_engine)
    with client:
        yield client, service


@pytest.fixture(scope="module")
def route(small_engine):
    client, service = _client(small_engine, fast=False)
    with client:
        yield client, service


# ---------------------------------------------------------------- 1. other methods on the staff view
@pytest.mark.parametrize("path", STAFF_PATHS)
def test_another_method_on_the_staff_view_is_405_json(staff_on, path):
    """They were Gradio's 404 {"detail": "Not Found"}: FastAPI keeps an included router as one entry of
    app.routes, so the staff router's paths never got their 405 routes."""
    client, _ = staff_on
    get = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert get.status_code in (200, 503), get.text  # served (503: the summary of a service without a query log)
    for method in OTHER_METHODS:
        r = client.request(method, path)
        assert r.status_code == 405 and r.headers["allow"] == "GET", (method, path, r.text)
        assert r.json() == {"error": f"{method} is not allowed on {path}: use GET"}


@pytest.mark.parametrize("path", STAFF_PATHS)
def test_the_staff_view_off_stays_404_for_every_method(staff_off, path):
    client, _ = staff_off
    for method in ["GET", *OTHER_METHODS]:
        r = client.request(method, path)
        assert r.status_code == 404 and "allow" not in r.headers, (method, path)
        # a public site says nothing of a staff view: the same words as any path that does not exist
        assert r.json()["error"].startswith(f"no such path {path!r}: the API's paths are listed in ")


@pytest.mark.parametrize("path", ["/api/search?q=x", "/api/health", "/api/compare?q=x", "/metrics",
                                  "/api/passages/x", "/api/figures.csv", "/staff", "/api/staff/summary"])
def test_head_on_a_get_only_path_is_405_not_404(staff_on, path):
    """HEAD fell through to the page mounted at / (Gradio's 404); the README: another method than GET is a 405."""
    client, _ = staff_on
    r = client.head(path)
    assert r.status_code == 405 and r.headers["allow"] == "GET" and r.content == b""


def test_paths_that_answer_head_still_do(staff_on):
    client, _ = staff_on
    for path in ("/api/openapi.json", "/api/docs", "/"):  # the schema and its docs (Starlette), the page (Gradio)
        assert client.head(path).status_code == 200, path


# ---------------------------------------------------------------- 3. unknown paths in the API's own JSON
@pytest.mark.parametrize("path", ["/api/nosuch", "/api/search/", "/api/searchx", "/api/passages/", "/api/passages/a/b",
                                  "/api/staff/nosuch", "/staff/nosuch", "/api/" + "x" * 300])
def test_unknown_api_paths_are_404_with_an_error_not_detail(staff_on, path):
    client, _ = staff_on
    for method in ("GET", "POST", "DELETE"):
        r = client.request(method, path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json", (method, path)
        error = r.json()["error"]  # was {"detail": "Not Found"}
        assert error.startswith(f"no such path {path[:100]!r}: ") and "/api/openapi.json" in error
        assert "/api/search" in error and len(error) < 300


def test_the_pages_own_paths_stay_gradios(staff_on):
    """Gradio serves its page, config, assets and /gradio_api/ under /; none of that moves."""
    client, _ = staff_on
    assert client.get("/").status_code == 200 and client.get("/config").status_code == 200
    assert client.get("/gradio_api/info").status_code == 200
    assert client.get("/nosuch").status_code == 404  # Gradio's answer for its own unknown paths


# ---------------------------------------------------------------- 2. every rejected search counts as bad_request
SEARCHES = ["q=", "", "q=%20%20", "q=x&mode=fuzzy", "q=x&k=abc", "q=x&k=0", "q=x&k=51", "q=x&doc=nosuch",
            "q=x&year=1999", "q=x&year=abc", "q=x&year=2023&year=2024", "k=abc", "q=教育", "q=教育&k=&mode=",
            "q=教育&doc=qinshui-2023&year=2023"]
COMPARES = ["q=x&k=3", "", "q=", "q=%20", "q=x&mode=fuzzy", "q=x&doc=nosuch", "q=x&year=abc", "q=x&year=1999",
            "q=教育", "q=教育&k="]


def _outcomes(service) -> dict:
    from reportsearch.web.telemetry import OUTCOMES

    get = service.telemetry.registry.get_sample_value
    return {o: get("reportsearch_searches_total", {"source": "api", "outcome": o}) or 0 for o in OUTCOMES}


@pytest.mark.parametrize("fixture", ["staff_off", "route"])
@pytest.mark.parametrize("path,query", [("/api/search", q) for q in SEARCHES] + [("/api/compare", q) for q in COMPARES])
def test_every_rejected_search_counts_once_as_bad_request(request, fixture, path, query):
    """A bad `q`, `k`, `mode` or `year` read before the search (and `k` on /api/compare) were not counted at all,
    on the fast path or the route; an empty `q` or an unknown doc/year, found by the engine, were."""
    client, service = request.getfixturevalue(fixture)
    before = _outcomes(service)
    r = client.get(f"{path}?{query}")
    after = _outcomes(service)
    moved = {o: after[o] - before[o] for o in after if after[o] != before[o]}
    assert r.status_code in (200, 400), r.text
    assert moved == ({"bad_request": 1} if r.status_code == 400 else {"ok": 1}), (r.status_code, r.text)


# ---------------------------------------------------------------- 4. one search, not "1 searches"
def test_counts_read_in_the_singular_for_one():
    from reportsearch.web.slots import SearchSlots, counted

    assert [counted(n, "search") for n in (0, 1, 2)] == ["0 searches", "1 search", "2 searches"]
    assert counted(1, "passage") == "1 passage" and counted(169, "passage") == "169 passages"
    assert counted(1, "day") == "1 day" and counted(90, "day") == "90 days"
    assert counted(12345, "passage") == "12,345 passages"  # as ingest writes its counts
    assert "(1 search running, 0 waiting)" in str(SearchSlots(slots=1).queue_full(0))
    assert "(2 searches running, 3 waiting)" in str(SearchSlots(slots=2).queue_full(3))


# ---------------------------------------------------------------- 5. the README names the labels /metrics uses
def _metrics_bullet(readme: str) -> str:
    start = readme.index("- **Metrics.**")
    end = readme.index("\n- **", start + 1)
    return " ".join(readme[start:end].split())


def test_the_readme_names_the_metrics_labels(staff_on):
    """Page loads are counted as endpoint="/" (apart from "page", Gradio's files), reportsearch_index_info has a
    `created` label, and searches have an `error` outcome: the README's list named none of them."""
    from reportsearch.web.telemetry import NAMED_PATHS, OUTCOMES, endpoint_label

    client, _ = staff_on
    bullet = _metrics_bullet((ROOT / "README.md").read_text(encoding="utf-8"))
    assert endpoint_label("/") == "/" and endpoint_label("/assets/index.js") == endpoint_label("/config") == "page"
    for label in ("/", "page", "/api/other", "/gradio_api", "/api/passages/{id}", "/api/search", "/api/compare"):
        assert f"`{label}`" in bullet, label
    assert "/" in NAMED_PATHS
    metrics = client.get("/metrics").text
    served = re.search(r"^reportsearch_index_info\{(.*)\} 1\.0$", metrics, re.M).group(1)
    documented = re.search(r"`reportsearch_index_info\{([a-z_,]*)\}`", bullet).group(1)
    assert set(re.findall(r'(\w+)="', served)) == set(documented.split(",")) == {"version", "model", "created"}
    listed = re.search(r"`reportsearch_searches_total\{source,outcome\}` \(([a-z_, ]+)[;)]", bullet).group(1)
    assert [o.strip() for o in listed.split(",")] == list(OUTCOMES)
