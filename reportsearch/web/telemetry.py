"""Prometheus metrics for /metrics: requests, search latency, low confidence, the index served, log failures."""

from __future__ import annotations

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

disable_created_metrics()  # no `*_created` series: counters and histograms only, as dashboards expect
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# each its own `endpoint` label; "/" is a load of the page (a visit, a permalink, a /?q= link), apart from "page",
# the files and calls that Gradio's page then makes (its config, scripts, styles, icons)
NAMED_PATHS = frozenset({"/api/search", "/api/compare", "/api/health", "/api/figures.csv", "/api/staff/summary",
                         "/api/staff/summary.csv", "/api/openapi.json", "/api/docs", "/metrics", "/staff",
                         "/staff/staff.js", "/staff/staff.css", "/"})
PASSAGES = "/api/passages/"
# `outcome` of reportsearch_searches_total: answered; a 4xx for a bad parameter (missing, empty or blank `q`, bad `k`,
# `mode` or `year`, an unknown `doc` or year, a `k` on /api/compare); refused by the rate limit; refused for want of a
# slot; any other failure (the 503 of an index that cannot answer)
OUTCOMES = ("ok", "bad_request", "rate_limited", "busy", "error")


def endpoint_label(path: str) -> str:
    """A bounded set of label values, whatever paths clients request (one label for every passage id)."""
    if path in NAMED_PATHS:
        return path
    if path.startswith(PASSAGES) and len(path) > len(PASSAGES):
        return PASSAGES + "{id}"
    if path.startswith("/api/"):
        return "/api/other"
    if path.startswith("/gradio_api/"):
        return "/gradio_api"
    return "page"


class _ServiceCollector:
    """Read at scrape time from the service, so a swapped-in index shows at once."""

    def __init__(self, service):
        self.service = service

    def collect(self):
        store = self.service.engine.store
        m = store.manifest
        info = InfoMetricFamily("reportsearch_index", "The index being served")
        info.add_metric([], {"version": str(m.get("version", 0)), "model": str(m.get("model", "")),
                             "created": str(m.get("created", ""))})
        yield info
        yield GaugeMetricFamily("reportsearch_index_version", "Version number of the index being served",
                                value=float(m.get("version", 0) or 0))
        yield GaugeMetricFamily("reportsearch_index_passages", "Passages in the index", value=store.count)
        yield GaugeMetricFamily("reportsearch_index_reports", "Reports in the index", value=len(store.documents))
        slots = self.service.slots
        yield GaugeMetricFamily("reportsearch_searches_running", "Searches holding a slot now", value=slots.running)
        yield GaugeMetricFamily("reportsearch_searches_waiting", "Searches waiting for a slot now",
                                value=slots.waiting + slots.queued)


class Telemetry:
    """One registry per app (not the global one), so tests and several apps in a process do not collide."""

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("reportsearch_http_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "status"], registry=r)
        self.searches = Counter("reportsearch_searches", "Searches by source (api, page) and outcome "
                                f"({', '.join(OUTCOMES)})", ["source", "outcome"], registry=r)
        self.latency = Histogram("reportsearch_search_seconds", "Search latency, from slot to result",
                                 ["mode"], buckets=LATENCY_BUCKETS, registry=r)
        self.low_confidence = Counter("reportsearch_low_confidence", "Searches flagged low confidence",
                                      registry=r)
        self.log_failures = Counter("reportsearch_querylog_failures", "Query log rows dropped, by reason "
                                    "(queue_full, write_error)", ["reason"], registry=r)
        for reason in ("queue_full", "write_error"):
            self.log_failures.labels(reason)  # exported as 0 from the start

    def watch(self, service) -> None:
        self.registry.register(_ServiceCollector(service))

    def request(self, path: str, status: int) -> None:
        self.requests.labels(endpoint_label(path), str(status)).inc()

    def search(self, source: str, outcome: str, mode: str | None = None, seconds: float | None = None,
               low_confidence: bool = False) -> None:
        if outcome not in OUTCOMES:  # the README lists them: a new one is documented there first
            raise ValueError(f"unknown search outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        self.searches.labels(source, outcome).inc()
        if seconds is not None and mode:
            self.latency.labels(mode).observe(seconds)
        if low_confidence:
            self.low_confidence.inc()

    def log_dropped(self, reason: str, n: int = 1) -> None:
        self.log_failures.labels(reason).inc(n)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
