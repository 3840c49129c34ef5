"""The page in a real browser (Debian chromium via Playwright) against the real service."""

import os
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian chromium not installed (apt-get install -y chromium)")
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _search(page, text):
    box = page.locator("#rs-query textarea")
    box.fill(text)
    page.locator("#rs-search").click()


def test_citizen_search_context_and_keyword_mode(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/", wait_until="networkidle")
    _search(page, "教育方面有哪些安排")
    card = page.locator("#rs-results .rs-card").filter(has=page.locator(".rs-crumb", has_text="坚持教育优先")).first
    card.wait_for(timeout=60_000)
    assert card.locator("mark").count() > 0
    assert card.locator("strong.answer").count() == 1
    card.locator("summary", has_text="展开上下文").click()
    ctx = card.locator("details.rs-ctx p").first
    ctx.wait_for(state="visible", timeout=10_000)
    assert ctx.inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "search-education.png"), full_page=True)

    page.locator("#rs-mode").get_by_label("关键词", exact=True).check()
    _search(page, "13710")
    # wait for the new results: only a fresh keyword hit has 13710 highlighted in its own text
    hit = page.locator("#rs-results .rs-card").filter(has=page.locator(".rs-text mark", has_text="13710")).first
    hit.wait_for(timeout=60_000)
    assert "坚持跟踪问效" in hit.locator(".rs-crumb").inner_text()
    page.screenshot(path=str(ARTIFACTS / "search-13710-keyword.png"), full_page=True)
    page.close()


def test_hostile_query_is_escaped(server, browser):
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/", wait_until="networkidle")
    _search(page, "<script>alert(1)</script><img src=x onerror=alert(2)>")
    page.locator("#rs-results .rs-card, #rs-results .rs-empty, #rs-results .rs-notice").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.locator("#rs-results script, #rs-results img").count() == 0
    page.close()


def test_phone_width_and_outline(server, browser):
    page = browser.new_page(viewport={"width": 375, "height": 800}, device_scale_factor=2)
    page.goto(server + "/", wait_until="networkidle")
    _search(page, "停车难怎么解决")
    page.locator("#rs-results .rs-card").first.wait_for(timeout=60_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, width
    page.screenshot(path=str(ARTIFACTS / "phone-parking.png"), full_page=True)
    page.get_by_role("tab", name="目录").click()
    page.locator("#rs-outline", has_text="坚持教育优先").wait_for(timeout=10_000)
    page.close()


CSP_PROBE = ("document.addEventListener('securitypolicyviolation', "
             "e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));")


def test_page_works_under_its_content_security_policy(server, browser):
    page = browser.new_page()
    page.add_init_script(CSP_PROBE)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    resp = page.goto(server + "/", wait_until="networkidle")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    _search(page, "停车难怎么解决")
    page.locator("#rs-results .rs-card").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="目录").click()
    page.locator("#rs-outline", has_text="坚持教育优先").wait_for(timeout=10_000)
    assert page.evaluate("window.__csp || []") == [] and errors == []
    page.close()


@pytest.fixture(scope="module")
def staff_server(real_index, tmp_path_factory):
    from test_public import TOKEN, start_server, stop_server

    tmp = tmp_path_factory.mktemp("staff")
    base, proc, log = start_server(real_index, tmp, "--log-db", str(tmp / "q.sqlite3"),
                                   env={"REPORTSEARCH_STAFF_TOKEN": TOKEN})
    yield base, TOKEN
    stop_server(proc, log)


def test_staff_page_chart_tables_and_csv(staff_server, browser):
    import requests

    base, token = staff_server
    for q in ("停车难怎么解决", "停车难怎么解决", "<img src=x onerror=alert(1)>火星移民"):
        assert requests.get(base + "/api/search", params={"q": q}, timeout=60).status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page.add_init_script(CSP_PROBE)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/staff", wait_until="networkidle")
    page.locator("#token").fill("wrong-token")
    page.locator("#login button[type=submit]").click()
    page.locator("#status", has_text="token").wait_for(timeout=10_000)
    page.locator("#token").fill(token)
    page.locator("#login button[type=submit]").click()
    page.locator("#top td", has_text="停车难怎么解决").wait_for(timeout=10_000)
    assert page.locator("#top tr", has_text="停车难怎么解决").locator("td.n").inner_text() == "2"
    assert page.locator("#top td", has_text="<img src=x").count() == 1  # shown as text, not markup
    assert page.locator("#chart svg rect[data-day]").count() == 7
    with page.expect_download() as dl:
        page.locator("#csv").click()
    csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert "top,停车难怎么解决,2" in csv_text
    page.screenshot(path=str(ARTIFACTS / "staff-summary.png"), full_page=True)
    assert dialogs == [] and page.locator("#report img").count() == 0
    assert page.evaluate("window.__csp || []") == []
    page.close()
