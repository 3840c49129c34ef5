"""ASGI middleware for the web edge: security headers on every response, and request counts for /metrics."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

# The Gradio page: its own scripts and styles (Gradio inlines its config and evaluates component JS, hence
# 'unsafe-inline' and 'unsafe-eval' for scripts), data:/blob: images, same-origin fetches and event streams,
# no third-party origin at all (so no web fonts or CDNs: the page works offline), no plugins, no framing by others.
PAGE_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; frame-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
# JSON, CSV, metrics: nothing may run or load.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The staff page runs only its own script file: no inline script at all.
STAFF_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# FastAPI's Swagger UI at /api/docs loads its files from a CDN (it only works online).
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # queries in URLs never leak to other sites
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def csp_for(path: str, content_type: str) -> str:
    if path == "/api/docs":
        return DOCS_CSP
    if path.startswith("/staff"):
        return STAFF_CSP
    if content_type.startswith("text/html"):
        return PAGE_CSP
    return DATA_CSP


class EdgeMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so Gradio's event streams pass through untouched."""

    def __init__(self, app, telemetry=None):
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        status = [500]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp_for(path, headers.get("content-type", "")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.telemetry is not None:
                self.telemetry.request(path, status[0])
