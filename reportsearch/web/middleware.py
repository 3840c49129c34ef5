"""ASGI middleware for the web edge: security headers on every response, the page's language, and request counts
for /metrics."""

from __future__ import annotations

import re

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


# The page is Chinese, but Gradio's index.html hard-codes `<html lang="en">` (no setting changes it), and once its
# script runs its i18n sets the attribute again to the browser's UI language as Gradio knows it ("en" in an English
# browser). So the served document declares zh-CN, and a script at the top of its <head>, before Gradio's, puts
# zh-CN back whenever anything changes it. Only an HTML document that says `lang="en"` is touched (the staff page
# says zh-CN already; FastAPI's English Swagger pages say no language or en-US), and only its first bytes.
PAGE_LANG = "zh-CN"
KEEP_LANG = ('<script>(() => { const html = document.documentElement, keep = () => { if (html.lang !== "%s") '
             'html.lang = "%s"; }; new MutationObserver(keep).observe(html, {attributeFilter: ["lang"]}); })();'
             '</script>' % (PAGE_LANG, PAGE_LANG)).encode()
_HTML_LANG_EN = re.compile(rb'\A(?:\s|<!--.*?-->|<!doctype[^>]*>)*<html\b[^>]*?\slang=(?P<lang>"en")',
                           re.IGNORECASE | re.DOTALL)
_HEAD = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)
SNIFF = 4096  # bytes of an HTML document that must hold its <html> and <head> tags (Gradio's: the first 300)


def declare_page_lang(body: bytes) -> bytes:
    """`body` with a leading `<html lang="en">` declared zh-CN and KEEP_LANG at the top of its <head>; any other
    body as it is. Looks at the first SNIFF bytes only."""
    start = body[:SNIFF]
    html = _HTML_LANG_EN.match(start)
    head = html and _HEAD.search(start, html.end())
    if not head:
        return body
    return (body[:html.start("lang")] + b'"' + PAGE_LANG.encode() + b'"' + body[html.end("lang"):head.end()]
            + KEEP_LANG + body[head.end():])


def csp_for(path: str, content_type: str) -> str:
    if path == "/api/docs":
        return DOCS_CSP
    if path.startswith("/staff"):
        return STAFF_CSP
    if content_type.startswith("text/html"):
        return PAGE_CSP
    return DATA_CSP


class EdgeMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so Gradio's event streams pass through untouched. Any response but an
    uncompressed HTML document goes out message by message as the app sends it, with the headers added; an HTML
    document's start waits for its first SNIFF bytes (declare_page_lang), Content-Length following the change."""

    def __init__(self, app, telemetry=None):
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        status = [500]
        held: list = []  # an HTML document's start message, then the body bytes seen so far

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                content_type = headers.get("content-type", "")
                headers.setdefault("Content-Security-Policy", csp_for(path, content_type))
                if content_type.startswith("text/html") and "content-encoding" not in headers:
                    held[:] = [message, b""]
                    return
            elif held:
                start, seen = held
                if message["type"] != "http.response.body":  # a server's path-send extension, say: as it came
                    held.clear()
                    await send(start)
                    if seen:
                        await send({"type": "http.response.body", "body": seen, "more_body": True})
                    await send(message)
                    return
                seen += message.get("body", b"")
                if message.get("more_body", False) and len(seen) < SNIFF:
                    held[1] = seen
                    return
                held.clear()
                body = declare_page_lang(seen)
                headers = MutableHeaders(scope=start)
                if len(body) != len(seen) and "content-length" in headers:
                    headers["content-length"] = str(int(headers["content-length"]) + len(body) - len(seen))
                await send(start)
                message = {**message, "body": body}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.telemetry is not None:
                self.telemetry.request(path, status[0])
