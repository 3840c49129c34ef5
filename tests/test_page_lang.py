"""The page says it is Chinese: `<html lang="zh-CN">` as served (Gradio's template says en) and after Gradio's script
has run (its i18n sets the browser's language); nothing else the service sends changes (web/middleware.py)."""

import asyncio
import http.client
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import open_page
from reportsearch.web.middleware import KEEP_LANG, SNIFF, EdgeMiddleware

HTML_TAG = re.compile(rb"\A\s*<!doctype html>\s*<html\b([^>]*)>", re.IGNORECASE)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def fetch(base: str, path: str, method: str = "GET", **headers) -> tuple[int, dict, bytes]:
    """One request over its own connection: status, headers (lower-case names), and exactly the body bytes the
    connection carried until it closed, so a Content-Length that does not match the body shows."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path, headers={"Connection": "close", **headers})
        resp = conn.getresponse()
        resp_headers = {k.lower(): v for k, v in resp.getheaders()}
        body = resp.fp.read() if method != "HEAD" else b""  # to the close, not to Content-Length
        return resp.status, resp_headers, body
    finally:
        conn.close()


def html_lang(body: bytes) -> str | None:
    tag = HTML_TAG.match(body)
    lang = tag and re.search(rb'\slang="([^"]*)"', tag.group(1))
    return lang.group(1).decode() if lang else None


@pytest.mark.parametrize("path", ["/", "/?q=%E6%95%99%E8%82%B2&k=3", "/?view=api"])
def test_the_page_is_served_as_chinese(server, path):
    status, headers, body = fetch(server, path, **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "content-encoding" not in headers  # Gradio compresses only paths with a file extension, never the page
    assert int(headers["content-length"]) == len(body)
    assert html_lang(body) == "zh-CN", body[:200]
    head = body.index(b"<head>") + len(b"<head>")
    assert body[head:head + len(KEEP_LANG)] == KEEP_LANG  # before Gradio's own scripts
    assert body.rstrip().endswith(b"</html>")


def test_head_says_the_length_get_sends(server):
    _, get, body = fetch(server, "/")
    status, head, _ = fetch(server, "/", "HEAD")
    assert status == 200 and int(head["content-length"]) == int(get["content-length"]) == len(body)


def test_json_and_english_pages_go_out_as_the_app_sent_them(server):
    status, headers, body = fetch(server, "/api/search?q=%E5%81%9C%E8%BD%A6&k=2")
    assert status == 200 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body) and body.startswith(b'{"query":"')
    assert KEEP_LANG not in body
    status, headers, body = fetch(server, "/api/docs")  # FastAPI's Swagger UI: English, and no language said
    assert status == 200 and int(headers["content-length"]) == len(body)
    assert b"zh-CN" not in body and KEEP_LANG not in body


# the middleware on its own, against hand-made ASGI apps


def run_asgi(app, path="/", sent=None):
    """The messages `app`, wrapped in EdgeMiddleware, sends for one GET `path` (appended to `sent`)."""
    sent = [] if sent is None else sent

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    asyncio.run(EdgeMiddleware(app)(scope, receive, send))
    return sent


def asgi_app(headers, chunks, on_chunk=None):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})
            if on_chunk:
                on_chunk(i)
    return app


GRADIO_LIKE = (b'<!doctype html>\n<html\n\tlang="en"\n\tstyle="margin: 0;"\n>\n\t<head>\n\t\t<meta charset="utf-8" />'
               b"<title>x</title></head><body>" + b"\xe6\x94\xbf" * 3000 + b"</body></html>")


def body_of(sent) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def header(sent, name: bytes):
    return dict(sent[0]["headers"]).get(name)


@pytest.mark.parametrize("size", [1, 7, 300, len(GRADIO_LIKE)])
def test_an_html_document_in_chunks_is_declared_chinese_with_its_length(size):
    chunks = [GRADIO_LIKE[i:i + size] for i in range(0, len(GRADIO_LIKE), size)]
    for with_length in (True, False):
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if with_length:
            headers.append((b"content-length", str(len(GRADIO_LIKE)).encode()))
        sent = run_asgi(asgi_app(headers, chunks))
        body = body_of(sent)
        assert sent[0]["type"] == "http.response.start" and [m["type"] for m in sent].count("http.response.start") == 1
        assert html_lang(body) == "zh-CN" and body.count(KEEP_LANG) == 1
        assert body.replace(KEEP_LANG, b"").replace(b'"zh-CN"', b'"en"') == GRADIO_LIKE
        assert header(sent, b"content-length") == (str(len(body)).encode() if with_length else None)
        assert not sent[-1].get("more_body", False)


@pytest.mark.parametrize("doc", [
    b'<!doctype html><html lang="zh-CN"><head><title>staff</title></head></html>',  # our staff page
    b'<!DOCTYPE html>\n<html>\n<head><title>Swagger UI</title></head></html>',  # FastAPI's /api/docs
    b'<!doctype html><html lang="en-US"><head><title>Swagger UI: OAuth2 Redirect</title></head></html>',
    b'<p>a fragment <html lang="en"><head></p>',
])
def test_other_html_is_left_as_it_is(doc):
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(doc)).encode())]
    sent = run_asgi(asgi_app(headers, [doc]))
    assert body_of(sent) == doc and header(sent, b"content-length") == str(len(doc)).encode()


def test_a_compressed_html_document_is_left_as_it_is():
    import gzip

    doc = gzip.compress(GRADIO_LIKE)
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip"),
               (b"content-length", str(len(doc)).encode())]
    sent = run_asgi(asgi_app(headers, [doc[:100], doc[100:]]))
    assert body_of(sent) == doc and header(sent, b"content-length") == str(len(doc)).encode()


def test_a_message_other_than_body_lets_what_was_held_go_first():
    """An HTML start and its first bytes are held for the sniff; a message of another kind (a server extension's)
    sends them on as they came, the held bytes before it, none lost."""
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<!doctype html>", "more_body": True})
        await send({"type": "http.response.other"})
        await send({"type": "http.response.body", "body": b"<p>x</p>", "more_body": False})

    sent = run_asgi(app)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body", "http.response.other",
                                         "http.response.body"]
    assert body_of(sent) == b"<!doctype html><p>x</p>"


def test_json_goes_out_message_by_message_as_sent():
    """Nothing but HTML waits: each JSON chunk is sent on before the app makes the next, with the same bytes."""
    chunks = [b'{"query":"', b"x" * (SNIFF * 2), b'"}']
    headers = [(b"content-type", b"application/json"), (b"content-length", str(sum(map(len, chunks))).encode())]
    sent, seen_when = [], []
    run_asgi(asgi_app(headers, chunks, on_chunk=lambda i: seen_when.append(len(sent))), "/api/search", sent)
    assert seen_when == [2, 3, 4]  # the start and each chunk, as soon as the app sent it
    assert [m.get("body") for m in sent[1:]] == chunks
    assert sent[0]["headers"][:2] == headers  # the app's own headers first and unchanged, ours after them


@pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                    reason="Debian chromium not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_in_a_browser_the_page_stays_chinese_after_gradio_loads(server, locale):
    """Gradio's i18n sets <html lang> to the browser's language once its script runs ("en" in an English
    browser, "ja" in a Japanese one): the page keeps zh-CN, and still searches."""
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(locale=locale)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            open_page(page, server + "/")
            assert page.evaluate("navigator.language") == locale
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            # whatever sets it later (Gradio's language setting) is put back before the page renders again
            assert page.evaluate("""async () => { document.documentElement.setAttribute('lang', 'en');
                                    await Promise.resolve(); return document.documentElement.lang; }""") == "zh-CN"
            page.locator("#rs-query textarea").fill("停车难怎么解决")
            page.locator("#rs-search").click()
            page.locator("#rs-results .rs-card").first.wait_for(timeout=60_000)
            assert page.evaluate("document.documentElement.lang") == "zh-CN" and errors == []
        finally:
            browser.close()
