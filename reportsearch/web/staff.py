"""The staff view behind a bearer token: what residents ask, what the report does not answer, searches per day."""

from __future__ import annotations

import csv
import hmac
import io
import logging
import sqlite3

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from .api import Problem

log = logging.getLogger(__name__)
TOKEN_ENV = "REPORTSEARCH_STAFF_TOKEN"
MAX_DAYS = 366
_bearer = HTTPBearer(auto_error=False, description=f"the token set in ${TOKEN_ENV}")


class QueryCount(BaseModel):
    query: str
    count: int


class DayCount(BaseModel):
    day: str
    searches: int


class FilterCount(BaseModel):
    filter: str  # as the query log keeps it: `doc=qinshui-2024`, `year=2024`, a heading, `compare | doc=…`
    label: str  # the same in the staff page's words: `报告：沁水县2024年政府工作报告`
    count: int


class StaffSummary(BaseModel):
    days: int
    searches: int
    unanswered_searches: int
    top: list[QueryCount]
    unanswered: list[QueryCount]
    per_day: list[DayCount]
    filters: list[FilterCount]


# summary.csv: the staff page's own words for its header and the kind of each row (the JSON keeps its keys)
CSV_HEADER = ("类别", "问题、日期或限定条件", "次数")
CSV_KINDS = {"top": "最常问的问题", "unanswered": "报告没有回答的问题", "per_day": "每日检索次数",
             "filters": "限定条件"}


def staff_token(env: dict) -> str | None:
    token = (env.get(TOKEN_ENV) or "").strip()
    if token and len(token) < 16:
        log.warning("%s is shorter than 16 characters; use a long random token", TOKEN_ENV)
    return token or None


def _error(message: str, status: int, **headers) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _csv_cell(value) -> str:
    """Plain text in a spreadsheet: a query starting with = + - @ must not run as a formula."""
    s = str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def filter_label(logged: str, titles: dict[str, str] | None = None) -> str:
    """A logged filter string in Chinese: `compare | doc=qinshui-2024 | year=2024` ->
    `按年份对比；报告：沁水县2024年政府工作报告；年份：2024` (`titles`: doc id -> report title; a report no longer
    in the index keeps its doc id). Anything else is a section heading."""
    titles = titles or {}
    out = []
    for part in logged.split(" | "):
        if part == "compare":
            out.append("按年份对比")
        elif part.startswith("doc="):
            out.append(f"报告：{titles.get(part[4:], part[4:])}")
        elif part.startswith("year="):
            out.append(f"年份：{part[5:]}")
        else:
            out.append(f"章节：{part}")
    return "；".join(out)


def _report_titles(service) -> dict[str, str]:
    try:
        return {r["doc"]: r["doc_title"] for r in service.engine.reports()}
    except Exception:  # noqa: BLE001 - labels are a courtesy; the summary must not fail for them
        return {}


def create_staff_router(service) -> APIRouter:
    router = APIRouter()
    errors = {401: {"model": Problem}, 400: {"model": Problem}, 503: {"model": Problem}}

    def summary_or_error(credentials: HTTPAuthorizationCredentials | None, days: str):
        expected = service.staff_token
        given = credentials.credentials if credentials is not None else ""
        if not expected or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return _error("a valid staff token is required: send Authorization: Bearer <token>", 401,
                          **{"WWW-Authenticate": "Bearer"})
        try:
            n = int(days)
            if not 1 <= n <= MAX_DAYS:
                raise ValueError
        except ValueError:
            return _error(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}", 400)
        if service.querylog is None:
            return _error("the query log is off (serve.py --no-log), so there is nothing to summarize", 503)
        service.querylog.flush(timeout=2.0)
        try:
            s = service.querylog.summary(days=n)
        except sqlite3.Error as e:
            log.warning("staff summary failed: %s", e)
            return _error("the query log cannot be read right now; try again", 503, **{"Retry-After": "5"})
        titles = _report_titles(service)
        s["filters"] = [{**f, "label": filter_label(f["filter"], titles)} for f in s.get("filters", [])]
        return s

    @router.get("/api/staff/summary", response_model=None, tags=["staff"],
                responses={200: {"model": StaffSummary}, **errors})
    def summary(days: str = "7", credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)):
        """Top questions, unanswered questions, searches per day and the filters used most (report, year, section;
        按年份对比 as `compare`) over the last `days` days (default 7).

        Questions that are the same after folding (traditional/simplified, full/half width, case, trailing
        punctuation) count as one. Requires `Authorization: Bearer <REPORTSEARCH_STAFF_TOKEN>`."""
        return summary_or_error(credentials, days)

    @router.get("/api/staff/summary.csv", response_model=None, tags=["staff"],
                responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **errors})
    def summary_csv(days: str = "7", credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)):
        """The same summary as CSV rows, in the staff page's words: 类别 (最常问的问题, 报告没有回答的问题,
        每日检索次数, 限定条件), 问题、日期或限定条件, 次数."""
        s = summary_or_error(credentials, days)
        if isinstance(s, Response):
            return s
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CSV_HEADER)
        for kind in ("top", "unanswered"):
            w.writerows([CSV_KINDS[kind], _csv_cell(row["query"]), row["count"]] for row in s[kind])
        w.writerows([CSV_KINDS["per_day"], row["day"], row["searches"]] for row in s["per_day"])
        w.writerows([CSV_KINDS["filters"], _csv_cell(row["label"]), row["count"]] for row in s["filters"])
        return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="queries-{s["from"]}-{s["to"]}.csv"',
            "Cache-Control": "no-store"})

    @router.get("/staff", include_in_schema=False)
    def page():
        return HTMLResponse(STAFF_HTML, headers={"Cache-Control": "no-store"})

    @router.get("/staff/staff.js", include_in_schema=False)
    def script():
        return Response(STAFF_JS, media_type="text/javascript; charset=utf-8")

    @router.get("/staff/staff.css", include_in_schema=False)
    def style():
        return Response(STAFF_CSS, media_type="text/css; charset=utf-8")

    return router


STAFF_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>群众在问什么 · 工作人员</title><link rel="stylesheet" href="/staff/staff.css"></head>
<body><main>
<h1>群众在问什么</h1>
<p class="note">只显示检索记录的汇总：不记录IP地址、浏览器信息或身份。问题最长保留200字。</p>
<form id="login"><label>工作人员令牌 <input id="token" type="password" autocomplete="off" required></label>
<label>时间范围 <select id="days"><option value="7">最近7天</option><option value="30">最近30天</option>
<option value="90">最近90天</option></select></label>
<button type="submit">查看</button> <button type="button" id="csv" disabled>导出CSV</button></form>
<p id="status" role="status"></p>
<section id="report" hidden>
<p id="totals"></p>
<h2>每日检索次数</h2><div id="chart"></div>
<div class="cols"><div><h2>最常问的问题</h2><table id="top"><thead><tr><th>问题</th><th>次数</th></tr></thead>
<tbody></tbody></table></div>
<div><h2>报告没有回答的问题</h2><table id="unanswered"><thead><tr><th>问题</th><th>次数</th></tr></thead>
<tbody></tbody></table></div></div>
<h2>检索时选定的范围</h2><p class="note">限定报告、年份或章节的检索，以及“按年份对比”；不限定的检索不在此列。</p>
<table id="filters"><thead><tr><th>限定条件</th><th>次数</th></tr></thead><tbody></tbody></table>
</section></main><script src="/staff/staff.js"></script></body></html>
"""

STAFF_CSS = """
body{font-family:system-ui,"Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0;background:#f8fafc;color:#1f2937}
main{max-width:1000px;margin:0 auto;padding:16px}
h1{color:#8a1c1c;font-size:22px}h2{font-size:16px;margin-top:20px}
.note{color:#555;font-size:13px}
form{display:flex;gap:12px;flex-wrap:wrap;align-items:center}
input,select,button{font-size:14px;padding:4px 8px}
button{border:1px solid #b91c1c;background:#fff;color:#b91c1c;border-radius:6px;cursor:pointer}
button[type=submit]{background:#b91c1c;color:#fff}
table{border-collapse:collapse;width:100%;font-size:14px;background:#fff}
td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-all}
td.n,th:last-child{text-align:right;width:4em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:700px){.cols{grid-template-columns:1fr}}
#chart svg{width:100%;height:auto;background:#fff;border:1px solid #e5e7eb}
#status{color:#7c2d12}
"""

STAFF_JS = r"""
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const LABEL_PX = 38;  // room for one day label ("05-21" at 11 px) and a gap
  let last = null;

  function headers() { return { Authorization: 'Bearer ' + $('token').value }; }
  function days() { return encodeURIComponent($('days').value); }

  // the API's errors in the page's words, in Chinese as the search page's notices (web/ui.py error_notice)
  function problem(r, body) {
    const wait = r.headers.get('Retry-After');
    if (r.status === 401) return '工作人员令牌不正确或未填写，请向系统管理员索取（服务器上 REPORTSEARCH_STAFF_TOKEN 的值）。';
    if (r.status === 503 && wait) return `检索记录暂时无法读取，请${wait}秒后再试。`;
    if (r.status === 503) return '服务器没有保存检索记录（以 --no-log 启动），没有可汇总的内容。';
    return `无法加载（HTTP ${r.status}）` + (body && body.error ? '：' + body.error : '');
  }

  function fillTable(id, rows, text = (row) => row.query) {
    const body = $(id).querySelector('tbody');
    body.replaceChildren();
    if (!rows.length) {
      const tr = body.insertRow(); const td = tr.insertCell(); td.colSpan = 2; td.textContent = '（无）';
    }
    for (const row of rows) {
      const tr = body.insertRow();
      tr.insertCell().textContent = text(row);  // text, never HTML
      const n = tr.insertCell(); n.className = 'n'; n.textContent = String(row.count);
    }
  }

  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // drawn at the width it is shown at, in CSS pixels (a 900-wide drawing scaled to a phone had 4 px labels), with
  // a day label every `step` bars, counted back from the last day, so that labels never overlap
  function chart(perDay) {
    const W = Math.max(280, Math.round($('chart').getBoundingClientRect().width) || 900), H = 220, pad = 30;
    const n = perDay.length, max = Math.max(1, ...perDay.map((d) => d.searches));
    const bw = (W - 2 * pad) / Math.max(1, n), step = Math.ceil(LABEL_PX / bw);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': '每日检索次数' });
    root.appendChild(svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: '#9ca3af' }));
    root.appendChild(svg('text', { x: 2, y: pad, 'font-size': 11, fill: '#555' }, String(max)));
    perDay.forEach((d, i) => {
      const h = (H - 2 * pad) * d.searches / max;
      const x = pad + i * bw;
      const bar = svg('rect', { x: x + bw * 0.1, y: H - pad - h, width: Math.max(1, bw * 0.8), height: h,
                                fill: '#b91c1c', 'data-day': d.day });
      bar.appendChild(svg('title', {}, `${d.day}：${d.searches}次`));
      root.appendChild(bar);
      if ((n - 1 - i) % step === 0) {
        root.appendChild(svg('text', { x: x + bw / 2, y: H - pad + 16, 'font-size': 11, 'text-anchor': 'middle',
                                       fill: '#555' }, d.day.slice(5)));
      }
    });
    $('chart').replaceChildren(root);
  }

  async function load(ev) {
    ev.preventDefault();
    $('status').textContent = '加载中…';
    try {
      const r = await fetch('/api/staff/summary?days=' + days(), { headers: headers(), cache: 'no-store' });
      const body = await r.json();
      if (!r.ok) { $('status').textContent = problem(r, body); $('report').hidden = true;
                   $('csv').disabled = true; return; }
      last = body;
      $('totals').textContent = `${body.from} 至 ${body.to}：共 ${body.searches} 次检索，` +
        `其中 ${body.unanswered_searches} 次报告中可能没有答案。`;
      $('report').hidden = false;  // first: the chart is drawn at its shown width
      chart(body.per_day);
      fillTable('top', body.top);
      fillTable('unanswered', body.unanswered);
      fillTable('filters', body.filters || [], (row) => row.label);
      $('csv').disabled = false; $('status').textContent = '';
    } catch (e) { $('status').textContent = '无法加载：' + e; }
  }

  async function exportCsv() {
    const r = await fetch('/api/staff/summary.csv?days=' + days(), { headers: headers(), cache: 'no-store' });
    if (!r.ok) { $('status').textContent = problem(r, await r.json().catch(() => null)); return; }
    const name = (r.headers.get('Content-Disposition') || '').match(/filename="([^"]+)"/);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = name ? name[1] : 'queries.csv';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  $('login').addEventListener('submit', load);
  $('csv').addEventListener('click', exportCsv);
  window.addEventListener('resize', () => { if (last && !$('report').hidden) chart(last.per_day); });
})();
"""
