"""Make real PDF / Word / web-page fixtures of a report from its .txt: python scripts/make_fixtures.py OUT_DIR.

Writes report.pdf (headless Chromium print: A4, running header, `— N —` footer, the browser's own page breaks),
report-ragged.pdf (the same at 12 pt, ragged right, another header, `第N页 共M页` footers),
report.docx (python-docx: heading styles for 一、/（一）, bold clause labels), report.html (a county-site page in
GB18030 declaring gb2312, with navigation, breadcrumb, info line, share bar and footer around the article),
scanned.pdf (an image-only PDF), encrypted.pdf, damaged.pdf, empty.docx and no-article.html.
Nothing here is hand-edited: every file is generated from data/'s report, so the tests can rebuild them.
"""

from __future__ import annotations

import argparse
import base64
import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportsearch.parsing import ends_terminal, heading_level, is_clause_label, is_topic_sentence  # noqa: E402
from reportsearch.readers.text import decode_bytes, text_paragraphs  # noqa: E402
from reportsearch.textnorm import fix_spacing, split_sentences  # noqa: E402

REPORT = ROOT / "data" / "qinshui-2023-government-work-report.txt"
CHROMIUM = "/usr/bin/chromium"
RUNNING_HEADER = "沁水县2023年政府工作报告"
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif"


# ---------------------------------------------------------------- the report as paragraphs
def report_blocks(src: Path = REPORT) -> list[dict]:
    """The report's paragraphs (page breaks of the .txt repaired), each with its role and bold stretches."""
    paras = text_paragraphs(decode_bytes(src.read_bytes(), str(src)))
    merged: list[list] = []  # [text, bold_runs]
    body = False
    for p in paras:
        t = fix_spacing(p.text)
        if body and not ends_terminal(merged[-1][0]) and not heading_level(merged[-1][0]) and not heading_level(t):
            prev = merged[-1][0]
            if t.startswith("“") and prev.count("“") > prev.count("”"):
                t = t[1:]
            merged[-1] = [prev + t, merged[-1][1] + list(p.bold_runs)]
        else:
            merged.append([t, list(p.bold_runs)])
        body = body or "。" in t or bool(heading_level(t))
    blocks, front = [], True
    for k, (t, runs) in enumerate(merged):
        if front and ("。" in t or heading_level(t)):
            front = False
        role = "front" if front else {1: "h1", 2: "h2"}.get(heading_level(t), "p")
        if k >= len(merged) - 2 and len(t) <= 30 and "。" not in t:
            role = "back"
        blocks.append({"text": t, "role": role, "bold": [fix_spacing(r) for r in runs], "labels": clause_labels(t)})
    return blocks


def clause_labels(text: str) -> list[str]:
    """The clause-label sentences of a topic paragraph (the ones the parser finds by shape)."""
    sents = split_sentences(text)
    if len(sents) < 2 or not is_topic_sentence(sents[0]):
        return []
    return [s for k, s in enumerate(sents[1:], start=1) if k < len(sents) - 1 and is_clause_label(s)]


def spans(text: str, bold: list[str]) -> list[tuple[str, bool]]:
    """Cut a paragraph into (piece, is_bold) runs; bold stretches are matched left to right."""
    out, cursor = [], 0
    for b in bold:
        at = text.find(b, cursor)
        if at < 0 or not b:
            continue
        if at > cursor:
            out.append((text[cursor:at], False))
        out.append((b, True))
        cursor = at + len(b)
    if cursor < len(text):
        out.append((text[cursor:], False))
    return out


def article_html(blocks: list[dict]) -> str:
    """The report as HTML: headings as <h2>/<h3>, bold runs as <strong>, front matter centred."""
    out = []
    for b in blocks:
        inner = "".join(f"<strong>{html.escape(s)}</strong>" if bold else html.escape(s)
                        for s, bold in spans(b["text"], b["bold"]))
        if b["role"] == "h1":
            out.append(f"<h2>{inner}</h2>")
        elif b["role"] == "h2":
            out.append(f"<h3>{inner}</h3>")
        elif b["role"] == "front":
            cls = "title" if b is blocks[0] else ("salute" if b["text"].endswith("：") else "center")
            out.append(f'<p class="{cls}">{inner}</p>')
        elif b["role"] == "back":
            out.append(f'<p class="right">{inner}</p>')
        else:
            out.append(f"<p>{inner}</p>")
    return "\n".join(out)


# ---------------------------------------------------------------- PDF (headless Chromium)
PRINT_CSS = f"""
@page {{ size: A4; margin: 28mm 26mm 26mm 28mm; }}
body {{ font-family: {FONT}; font-size: 16pt; line-height: 1.6; }}
p {{ text-indent: 2em; text-align: justify; margin: 0; }}
h2, h3 {{ font-size: 16pt; font-weight: bold; text-indent: 2em; margin: 0; }}
p.title {{ font-size: 22pt; text-align: center; text-indent: 0; margin: 12pt 0; }}
p.center {{ text-align: center; text-indent: 0; }} p.salute {{ text-indent: 0; }}
p.right {{ text-align: right; }}
"""


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def make_pdf(blocks: list[dict], out: Path, ragged: bool = False) -> Path:
    """The issue's PDF; `ragged=True` is a second layout: 12 pt, ragged right, a right-aligned header line and
    `第N页 共M页` footers."""
    from playwright.sync_api import sync_playwright

    css = PRINT_CSS
    header = (f"<div style=\"width:100%;font-size:9pt;font-family:{FONT};text-align:center;"
              f"border-bottom:0.5pt solid #000;margin:0 26mm 0 28mm;padding-bottom:2pt\">{RUNNING_HEADER}</div>")
    footer = (f"<div style=\"width:100%;font-size:11pt;font-family:{FONT};text-align:center\">"
              f"— <span class=\"pageNumber\"></span> —</div>")
    if ragged:
        css = css.replace("text-align: justify", "text-align: left").replace("font-size: 16pt; line-height: 1.6",
                                                                             "font-size: 12pt; line-height: 1.4")
        header = (f"<div style=\"width:100%;font-size:8pt;font-family:{FONT};text-align:right;margin-right:20mm\">"
                  "沁水县人民政府</div>")
        footer = (f"<div style=\"width:100%;font-size:9pt;font-family:{FONT};text-align:center\">"
                  "第<span class=\"pageNumber\"></span>页 共<span class=\"totalPages\"></span>页</div>")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>{RUNNING_HEADER}</title>"
           f"<style>{css}</style></head><body>{article_html(blocks)}</body></html>")
    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page()
        page.set_content(doc, wait_until="load")
        page.pdf(path=str(out), format="A4", display_header_footer=True, header_template=header,
                 footer_template=footer, prefer_css_page_size=True, print_background=False)
        browser.close()
    return out


def make_scanned_pdf(blocks: list[dict], out: Path) -> Path:
    """An image-only PDF: a screenshot of report text, printed as a picture (no text layer)."""
    from playwright.sync_api import sync_playwright

    body = article_html(blocks[:12])
    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport={"width": 794, "height": 1123})
        page.set_content(f"<html><head><meta charset='utf-8'><style>{PRINT_CSS}</style></head>"
                         f"<body style='margin:60px'>{body}</body></html>")
        png = page.screenshot(full_page=False)
        page.set_content("<html><body style='margin:0'><img style='width:100%' "
                         f"src='data:image/png;base64,{base64.b64encode(png).decode()}'></body></html>")
        page.pdf(path=str(out), format="A4")
        browser.close()
    return out


def make_encrypted_pdf(src: Path, out: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(str(src)))
    w.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with open(out, "wb") as f:
        w.write(f)
    return out


def make_damaged_pdf(src: Path, out: Path) -> Path:
    """The real PDF's header, then garbage where the objects and cross-reference table should be."""
    data = src.read_bytes()
    out.write_bytes(data[:16] + bytes((i * 37 + 11) % 251 for i in range(4096)))
    return out


# ---------------------------------------------------------------- Word
def make_docx(blocks: list[dict], out: Path) -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    d = docx.Document()
    for b in blocks:
        if b["role"] in ("h1", "h2"):
            d.add_heading(b["text"], level=1 if b["role"] == "h1" else 2)
            continue
        p = d.add_paragraph()
        if b["role"] == "front":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b["role"] == "back":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        bold = sorted(set(b["bold"]) | set(b["labels"]), key=lambda s: b["text"].find(s))
        for piece, is_bold in spans(b["text"], bold):
            p.add_run(piece).bold = is_bold or None
    d.core_properties.title = RUNNING_HEADER
    d.save(str(out))
    return out


def make_empty_docx(out: Path) -> Path:
    import docx

    docx.Document().save(str(out))
    return out


# ---------------------------------------------------------------- web page
SITE_TOP = """<div class="top"><div class="logo">沁水县人民政府</div>
<div class="search"><form action="/search"><input type="text" name="q" placeholder="请输入关键词">
<button type="submit">搜索</button></form></div></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/zjqs/">走进沁水</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt;
<a href="/zwgk/zfgzbg/">政府工作报告</a></div>"""
SITE_BOTTOM = """<div class="footer"><p><a href="/about">关于我们</a> | <a href="/map">网站地图</a> | <a href="/contact">联系我们</a></p>
<p>版权所有：沁水县人民政府　主办：沁水县人民政府办公室</p>
<p>晋ICP备05001234号　晋公网安备14052102000123号　网站标识码：1405210001</p></div>"""


def page_html(article: str, title: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
            f"<meta charset='gb2312'><title>{title}</title>"
            "<style>body{font-family:sans-serif}.nav li{display:inline}</style>"
            "<script>var _hmt=_hmt||[];function share(){return '分享到微信';}</script></head><body>"
            f"{SITE_TOP}{article}{SITE_BOTTOM}<script>document.write('访问统计');</script></body></html>")


def make_html(blocks: list[dict], out: Path) -> Path:
    article = (f"<div class='article'><h1 class='article-title'>{RUNNING_HEADER}</h1>"
               "<div class='info'>发布时间：2023-02-27 09:30　来源：沁水县人民政府办公室　浏览次数：3862　"
               "字号：[<a href='#'>大</a> <a href='#'>中</a> <a href='#'>小</a>]</div>"
               f"<div class='TRS_Editor'>{article_html(blocks)}</div>"
               "<div class='share'>分享到：<a href='#'>微信</a> <a href='#'>微博</a> <a href='#'>QQ空间</a>"
               "　<a href='javascript:window.print()'>【打印本页】</a>　<a href='javascript:window.close()'>【关闭窗口】</a>"
               "</div></div>")
    out.write_bytes(page_html(article, f"{RUNNING_HEADER}_沁水县人民政府").encode("gb18030"))
    return out


def make_no_article_html(out: Path) -> Path:
    out.write_bytes(page_html("<div class='list'><ul><li><a href='/a'>关于做好春耕生产的通知</a></li>"
                              "<li><a href='/b'>县政府召开常务会议</a></li></ul></div>", "沁水县人民政府")
                    .encode("gb18030"))
    return out


def make_all(out_dir: Path, src: Path = REPORT, pdf: bool = True) -> dict[str, Path]:
    """Every fixture into out_dir; pdf=False skips the browser-made ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks = report_blocks(src)
    made = {"docx": make_docx(blocks, out_dir / "report.docx"), "html": make_html(blocks, out_dir / "report.html"),
            "empty_docx": make_empty_docx(out_dir / "empty.docx"),
            "no_article_html": make_no_article_html(out_dir / "no-article.html")}
    if pdf:
        made["pdf"] = make_pdf(blocks, out_dir / "report.pdf")
        made["pdf_ragged"] = make_pdf(blocks, out_dir / "report-ragged.pdf", ragged=True)
        made["scanned_pdf"] = make_scanned_pdf(blocks, out_dir / "scanned.pdf")
        made["encrypted_pdf"] = make_encrypted_pdf(made["pdf"], out_dir / "encrypted.pdf")
        made["damaged_pdf"] = make_damaged_pdf(made["pdf"], out_dir / "damaged.pdf")
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", help="folder to write the fixtures into (created if missing)")
    ap.add_argument("--source", default=str(REPORT), help="the .txt report to render (default: data/'s)")
    ap.add_argument("--no-pdf", action="store_true", help="skip the fixtures that need Chromium")
    args = ap.parse_args(argv)
    for name, path in make_all(Path(args.out_dir), Path(args.source), pdf=not args.no_pdf).items():
        print(f"{name}\t{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
