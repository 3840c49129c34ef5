"""The CLIs as a user runs them: exit codes, one-line errors, JSON output, batch mode, bad ingest input."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT


def run(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_query_json(real_index):
    p = run("serve.py", "--index-dir", str(real_index), "--query", "13710", "--mode", "keyword", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["mode"] == "keyword" and "13710" in d["results"][0]["text"]


def test_query_human_readable(real_index):
    p = run("serve.py", "--index-dir", str(real_index), "-q", "停车难怎么解决", "-k", "2")
    assert p.returncode == 0, p.stderr
    assert "增加车位供给" in p.stdout and "答：" in p.stdout and "Traceback" not in p.stderr


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_query_exits_2_with_one_line(real_index, q):
    p = run("serve.py", "--index-dir", str(real_index), "--query", q)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and p.stderr.startswith("error:")


def test_missing_index_says_run_ingest(tmp_path):
    p = run("serve.py", "--index-dir", str(tmp_path / "none"), "--query", "教育")
    assert p.returncode == 1 and "python ingest.py" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("option", [("--search-slots", "0"), ("--max-waiting", "-1"), ("--wait-timeout", "0")])
def test_bad_server_limits_exit_with_one_line(tmp_path, option):
    p = run("serve.py", "--index-dir", str(tmp_path / "none"), *option)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert [line for line in p.stderr.splitlines() if line.startswith("error:")] and option[0] in p.stderr


def test_a_port_in_use_stops_the_start_at_once_with_one_line(tmp_path):
    """The port is bound before the model and index load: a port in use, out of range or on an address that is
    not this machine's is one `error:` line, before a first-run build would start (no index folder made)."""
    import socket
    from pathlib import Path

    nonlocal_bind = Path("/proc/sys/net/ipv4/ip_nonlocal_bind")  # where 1, any address binds: case left out
    foreign = nonlocal_bind.exists() and nonlocal_bind.read_text().strip() == "0"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = [(("--port", str(port)), f"127.0.0.1:{port}: address already in use"),
                 (("--port", "70000"), "port must be 0-65535"),
                 (("--host", "192.0.2.1"), "192.0.2.1:7860: cannot assign requested address")]
        for args, says in cases[:3 if foreign else 2]:
            p = run("serve.py", "--index-dir", str(tmp_path / "none"), "--no-log", *args, timeout=120)
            assert p.returncode == 1 and p.stderr.startswith("error: cannot listen on "), p.stderr
            assert says in p.stderr and p.stderr.strip().count("\n") == 0 and "serving" not in p.stdout
            assert not (tmp_path / "none").exists()


def test_long_query_truncated_with_notice(real_index):
    p = run("serve.py", "--index-dir", str(real_index), "--query", "教育" * 600, "--json")
    assert p.returncode == 0 and "truncated" in p.stderr
    d = json.loads(p.stdout)
    assert len(d["query"]) == 1000 and "truncated" in d["notices"][0]  # as the API gives it (it was missing)
    text = run("serve.py", "--index-dir", str(real_index), "--query", "教育" * 600)
    assert text.returncode == 0 and "注意：" in text.stdout and "truncated" in text.stdout


def test_a_search_with_nothing_found_says_so_without_a_tip_about_the_results(real_index):
    p = run("serve.py", "--index-dir", str(real_index), "-q", "地区生产总值", "--section", "不存在的章节")
    assert p.returncode == 0 and "没有找到相关段落（只在所选的报告、年份或章节中找过" in p.stdout
    assert "以下结果仅供参考" not in p.stdout  # there are no results below


def test_output_to_a_reader_that_stops_early_is_no_traceback(real_index, tmp_path):
    """`serve.py --json … | head` ended with a BrokenPipeError traceback."""
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(json.dumps({"query": q}, ensure_ascii=False) for q in ["教育", "就业", "交通"] * 10),
                 encoding="utf-8")
    p = subprocess.Popen([sys.executable, "serve.py", "--index-dir", str(real_index), "--queries", str(f), "--json",
                          "-k", "50"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.read(10)  # the reader takes a little, then goes (30 lines of 50 results: well past a pipe's 64 KB)
    p.stdout.close()
    err = p.stderr.read().decode("utf-8", "replace")
    assert p.wait(timeout=300) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    # one short answer, still in the output buffer when the reader is gone (it left before the model loaded)
    p = subprocess.Popen([sys.executable, "serve.py", "--index-dir", str(real_index), "-q", "教育", "-k", "1", "--json"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode("utf-8", "replace")
    assert p.wait(timeout=300) == 0 and "BrokenPipe" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize("args", [["list", "--json"], ["list"]], ids=["json", "table"])
def test_the_report_list_to_a_reader_that_stops_early_is_no_traceback(lib, fake_embedder, unbuffered, args):
    """`ingest.py list --json --index-dir … | head -1` ended with a BrokenPipeError traceback (where stdout is
    unbuffered, as PYTHONUNBUFFERED=1 makes it in many containers)."""
    import os

    from reportsearch.ingest import build_index

    src, idx = lib
    build_index([src], index_dir=idx, embedder=fake_embedder, progress=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | (
        {"PYTHONUNBUFFERED": unbuffered} if unbuffered else {})
    p = subprocess.Popen([sys.executable, "ingest.py", *args, "--index-dir", str(idx)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader goes before the list is printed
    err = p.stderr.read().decode("utf-8", "replace")
    assert p.wait(timeout=300) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    full = run("ingest.py", *args, "--index-dir", str(idx))  # and with a reader that stays, all of it
    assert full.returncode == 0, full.stderr
    rows = [r["doc"] for r in json.loads(full.stdout)] if "--json" in args else \
        [line.split()[0] for line in full.stdout.splitlines()[1:]]
    assert sorted(rows) == ["a", "b"]


def test_batch_mode_keeps_input_order(real_index, tmp_path):
    f = tmp_path / "q.jsonl"
    qs = ["13710", "   ", "停车难怎么解决", "乙类乙管"]
    f.write_text("\n".join(json.dumps({"query": q}, ensure_ascii=False) for q in qs), encoding="utf-8")
    p = run("serve.py", "--index-dir", str(real_index), "--queries", str(f), "--json", "--top-k", "3")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["13710", "   ", "停车难怎么解决", "乙类乙管"]
    assert "error" in rows[1] and rows[1]["results"] == []
    assert len(rows[0]["results"]) == 3


def test_batch_lines_may_set_their_own_top_k_section_doc_and_year(real_index, tmp_path):
    """A line's own `top_k` (or `k`), `section`, `doc` and `year` were silently ignored; now they apply, and a
    bad one is that line's error."""
    f = tmp_path / "q.jsonl"
    lines = [{"query": "教育", "top_k": 2}, {"query": "教育", "k": 1, "section": "一、2022年工作回顾"},
             {"query": "教育", "doc": "qinshui-2023", "year": 2023}, {"query": "教育", "year": 1999},
             {"query": "教育", "top_k": 0}, {"query": "教育", "doc": 5}, {"query": "教育", "year": [2023]},
             {"query": "教育", "section": []}, {"query": "教育", "year": "2023", "k": "2"}]
    f.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    p = run("serve.py", "--index-dir", str(real_index), "--queries", str(f), "--json", "--top-k", "4")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [len(r["results"]) for r in rows[:3]] == [2, 1, 4]
    assert rows[1]["results"][0]["section"][0] == "一、2022年工作回顾"
    assert "no report for the year 1999" in rows[3]["error"] and "top_k" in rows[4]["error"]
    assert "doc must be" in rows[5]["error"] and "year must be" in rows[6]["error"]  # not a traceback ending the batch
    assert "section must be" in rows[7]["error"]
    assert len(rows[8]["results"]) == 2 and {x["year"] for x in rows[8]["results"]} == {2023}  # "2023", "2" as the API


@pytest.fixture
def built_small(tmp_path):
    data = tmp_path / "ok.txt"
    data.write_text("一、甲\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    idx = tmp_path / "index"
    p = run("ingest.py", str(data), "--index-dir", str(idx), "--quiet", timeout=600)
    assert p.returncode == 0, p.stderr
    assert "Building index from tokens" not in p.stderr  # bm25s's own debug line, once printed on every ingest
    assert p.stdout.startswith("indexed 1 passages") and "index version" not in p.stderr  # the summary once
    return idx


def test_add_prints_its_summary_once_on_stdout_and_quiet_leaves_only_warnings(built_small, tmp_path):
    """`ingest.py add` printed its summary twice, through the log on stderr and on stdout, and `--quiet` still
    printed the log's progress notes (new-user walkthrough)."""
    for year, quiet in (("2024", []), ("2025", ["--quiet"])):
        f = tmp_path / f"qinshui-{year}.txt"
        f.write_text(f"一、乙\n\n坚持就业优先。{year}年新增城镇就业3600人。", encoding="utf-8")
        p = run("ingest.py", "add", str(f), "--index-dir", str(built_small), "--region", "沁水县", *quiet)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(f"added qinshui-{year}: embedded ") and p.stdout.count("\n") == 1, p.stdout
        assert "index version" not in p.stderr and "added" not in p.stderr
        assert ("embedding 1 new passages with" in p.stderr) != bool(quiet), p.stderr  # progress: not when quiet
        if quiet:
            assert p.stderr == ""


def test_quiet_turns_off_the_progress_bar_of_the_first_model_build(tmp_path, monkeypatch, capfd, caplog):
    """`ingest.py --quiet` showed the progress bar of a first run's default-model build (new-user walkthrough): the
    flag reaches the builder. The build's slow steps are stubbed (the real one takes minutes); its warning still
    prints."""
    import logging
    import os

    from conftest import REPORT_A, FakeEmbedder
    from reportsearch import cli, defaultmodel
    from reportsearch.embedders import onnx

    for name in ("REPORTSEARCH_MODEL", "REPORTSEARCH_DEFAULT_VARIANT", "TRANSFORMERS_VERBOSITY",
                 "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(name, raising=False)  # and restored after the CLI's own setdefault
    stubs = {"read_e5_bin": lambda src: {}, "export_onnx": lambda out: None,
             "write_sentencepiece": lambda parsed, out: None,
             "_write_model": lambda parsed, out: (out / "config.json").write_text("{}", encoding="utf-8")}
    for name, stub in stubs.items():
        monkeypatch.setattr(defaultmodel, name, stub)
    monkeypatch.setattr(onnx, "OnnxEmbedder", lambda *a, **k: FakeEmbedder())
    report = tmp_path / "a.txt"
    report.write_text(REPORT_A, encoding="utf-8")
    level = logging.getLogger("reportsearch").level
    try:
        for quiet in (["--quiet"], []):
            monkeypatch.setenv("REPORTSEARCH_MODEL_DIR", str(tmp_path / f"model{len(quiet)}"))
            caplog.clear()
            assert cli.ingest_main([str(report), "--index-dir", str(tmp_path / f"index{len(quiet)}"), *quiet]) == 0
            err = capfd.readouterr().err
            assert ("building default model" in err) != bool(quiet), err  # the bar
            assert "building the default model" in caplog.text  # the warning, quiet or not
            assert os.path.isfile(tmp_path / f"model{len(quiet)}" / "config.json")
    finally:
        logging.getLogger("reportsearch").setLevel(level)


def test_list_is_newest_first_and_remove_names_each_report_once(tmp_path, fake_embedder):
    """`ingest.py list` listed reports in the order they were added, and `ingest.py remove x x` said `removed x, x`
    (and its summary twice, on stderr too) (new-user walkthrough)."""
    from conftest import REPORT_A
    from reportsearch.ingest import ingest_paths

    idx = tmp_path / "index"
    for name, year in (("notes", None), ("b", 2022), ("c", 2024), ("a", 2024)):
        f = tmp_path / f"{name}.txt"
        f.write_text(REPORT_A.replace("教育", f"教育{name}"), encoding="utf-8")
        ingest_paths([f], idx, rebuild=False, embedder=fake_embedder, progress=False, year=year)
    want = ["a-2024", "c-2024", "b-2022", "notes"]
    p = run("ingest.py", "list", "--index-dir", str(idx))
    assert p.returncode == 0 and [line.split()[0] for line in p.stdout.splitlines()[1:]] == want, p.stdout
    p = run("ingest.py", "list", "--index-dir", str(idx), "--json")
    assert [r["doc"] for r in json.loads(p.stdout)] == want
    p = run("ingest.py", "remove", "notes", "b-2022", "notes", "--index-dir", str(idx))
    assert p.returncode == 0 and p.stdout.startswith("removed notes, b-2022: embedded nothing new;"), p.stdout
    assert p.stderr == ""


@pytest.mark.parametrize("name,content", [
    ("missing.txt", None), ("empty.txt", b""), ("binary.txt", b"\x00\x01\x02PK\x03\x04"),
    ("english.txt", b"No Chinese text at all."), ("latin1.txt", b"caf\xe9 \xff\xfe\xfd"),
])
def test_bad_ingest_input_leaves_old_index(built_small, tmp_path, name, content):
    before = (built_small / "manifest.json").read_bytes()
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    p = run("ingest.py", str(path), "--index-dir", str(built_small), "--quiet")
    assert p.returncode != 0
    assert p.stderr.strip().count("\n") == 0 and p.stderr.startswith("error:"), p.stderr
    assert (built_small / "manifest.json").read_bytes() == before


def test_a_rebuild_that_would_drop_an_added_report_is_one_error_line_until_told(built_small, tmp_path):
    ok, other = tmp_path / "ok.txt", tmp_path / "other.txt"
    other.write_text("一、乙\n\n坚持就业优先。新增城镇就业3600人。", encoding="utf-8")
    assert run("ingest.py", "add", str(other), "--index-dir", str(built_small), "--quiet").returncode == 0
    before = (built_small / "manifest.json").read_bytes()
    p = run("ingest.py", str(ok), "--index-dir", str(built_small), "--quiet")
    assert p.returncode == 2 and p.stderr.startswith("error:") and p.stderr.strip().count("\n") == 0, p.stderr
    assert "also holds other" in p.stderr and f"--drop-others --index-dir {built_small}`" in p.stderr
    assert (built_small / "manifest.json").read_bytes() == before
    p = run("ingest.py", str(ok), "--index-dir", str(built_small), "--quiet", "--drop-others")
    assert p.returncode == 0, p.stderr
    lst = run("ingest.py", "list", "--index-dir", str(built_small), "--json")
    assert [r["doc"] for r in json.loads(lst.stdout)] == ["ok"]


@pytest.mark.parametrize("year", ["-3", "0", "99999", "20x4"])
def test_a_year_that_is_no_report_year_is_refused(built_small, tmp_path, year):
    """`--year -3` made the doc id `ok--3` and `--year 0` was dropped without a word (new-user walkthrough)."""
    before = (built_small / "manifest.json").read_bytes()
    f = tmp_path / "ok.txt"
    p = run("ingest.py", "add", str(f), "--index-dir", str(built_small), "--year", year, "--quiet")
    assert p.returncode == 2 and "error: argument --year: a report year is a year from 1949 to 2100" in p.stderr
    assert "Traceback" not in p.stderr and (built_small / "manifest.json").read_bytes() == before


def test_the_missing_metadata_warning_comes_once_the_index_is_written(tmp_path, fake_embedder, caplog):
    import logging

    from reportsearch.ingest import ingest_paths

    f = tmp_path / "notes.txt"
    f.write_text("一、甲\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    (tmp_path / "idx").write_text("a file in the way", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="reportsearch"), pytest.raises(Exception):
        ingest_paths([f], tmp_path / "idx", embedder=fake_embedder, progress=False)
    assert not [r for r in caplog.records if "no year or region" in r.getMessage()]  # a failed run: its error alone
    with caplog.at_level(logging.WARNING, logger="reportsearch"):
        ingest_paths([f], tmp_path / "idx2", embedder=fake_embedder, progress=False)
    assert len([r for r in caplog.records if "no year or region found" in r.getMessage()]) == 1


def test_a_report_without_year_or_region_is_added_with_a_warning_that_says_what_to_give(tmp_path, fake_embedder):
    import logging

    from reportsearch.ingest import prepare_report, warn_missing_meta

    f = tmp_path / "notes.txt"
    f.write_text("一、甲\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("reportsearch").addHandler(handler)
    try:
        r = prepare_report(f)
        with_meta = prepare_report(f, year=2024, region="沁水县")
        warn_missing_meta(f, r)
        warn_missing_meta(f, with_meta)
    finally:
        logging.getLogger("reportsearch").removeHandler(handler)
    said = [x.getMessage() for x in records if x.levelno == logging.WARNING]
    assert r.doc == "notes" and with_meta.doc == "qinshui-2024"
    assert len(said) == 1 and "no year or region found" in said[0] and "give --year and --region" in said[0]


def test_gbk_report_is_ingested(tmp_path, fake_embedder):
    from reportsearch.ingest import build_index

    f = tmp_path / "gbk.txt"
    f.write_bytes("一、回顾\n\n坚持教育优先。完成桃园小学主体。".encode("gbk"))
    m = build_index([f], index_dir=tmp_path / "i", embedder=fake_embedder, progress=False)
    assert m["count"] == 1


# ---------------------------------------------------------------- bad report files of every format (issue 9)
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Real broken files: made by scripts/make_fixtures.py from the first paragraphs of the report."""
    from scripts.make_fixtures import (make_damaged_pdf, make_empty_docx, make_encrypted_pdf, make_no_article_html,
                                       make_pdf, make_scanned_pdf, report_blocks)

    d = tmp_path_factory.mktemp("bad")
    blocks = report_blocks()[:14]
    pdf = make_pdf(blocks, d / "good.pdf")
    (d / "notes.xyz").write_text("一、甲\n\n坚持教育优先。", encoding="utf-8")
    (d / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return {"scanned.pdf": make_scanned_pdf(blocks, d / "scanned.pdf"),
            "encrypted.pdf": make_encrypted_pdf(pdf, d / "encrypted.pdf"),
            "damaged.pdf": make_damaged_pdf(pdf, d / "damaged.pdf"),
            "empty.docx": make_empty_docx(d / "empty.docx"),
            "no-article.html": make_no_article_html(d / "no-article.html"),
            "notes.xyz": d / "notes.xyz", "old.doc": d / "old.doc"}


@pytest.mark.parametrize("name,reason", [
    ("scanned.pdf", "no text layer; scanned PDFs need OCR first"), ("encrypted.pdf", "password-protected"),
    ("damaged.pdf", "damaged or not a PDF"), ("empty.docx", "the Word file has no text"),
    ("no-article.html", "no article text found"), ("notes.xyz", "unsupported file type '.xyz'"),
    ("old.doc", "save it as .docx"),
])
def test_bad_report_files_leave_old_index(built_small, bad_files, tmp_path, name, reason):
    before = (built_small / "manifest.json").read_bytes()
    good = tmp_path / "good.txt"
    good.write_text("一、回顾\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    for paths in ([bad_files[name]], [good, bad_files[name]]):  # one bad file among several: nothing is written
        p = run("ingest.py", *map(str, paths), "--index-dir", str(built_small), "--quiet")
        assert p.returncode != 0
        assert p.stderr.startswith("error:") and p.stderr.strip().count("\n") == 0, p.stderr
        assert str(bad_files[name]) in p.stderr and reason in p.stderr, p.stderr
        assert (built_small / "manifest.json").read_bytes() == before


def test_two_years_is_an_error_one_year_twice_is_that_year(real_index):
    """`--year 2022 --year 2023` searched 2023 alone (the last one won) where the API answers `year=` twice with a
    400; now it is an error naming both, before the index loads. The same year twice is that year."""
    p = run("serve.py", "--index-dir", str(real_index), "-q", "教育", "--year", "2022", "--year", "2023")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1] == ("serve.py: error: --year given twice (2022, 2023): a search reads "
                                                "one year's report; use --doc once per report for several")
    p = run("serve.py", "--index-dir", str(real_index), "-q", "教育", "--year", "2023", "--year", "2023", "--json")
    assert p.returncode == 0, p.stderr
    assert {x["year"] for x in json.loads(p.stdout)["results"]} == {2023}


def test_remove_of_an_unknown_id_lists_the_known_ones_newest_year_first(tmp_path, fake_embedder):
    """`ingest.py remove zzz` listed the known ids in the order they were added (walkthrough); it lists them as
    the search errors do (engine.reports, `ingest.py list`): newest year first, then by doc id, no year last."""
    from conftest import REPORT_A
    from reportsearch.ingest import ingest_paths

    idx = tmp_path / "index"
    for name, year in (("notes", None), ("b", 2022), ("c", 2024), ("a", 2024)):
        f = tmp_path / f"{name}.txt"
        f.write_text(REPORT_A.replace("教育", f"教育{name}"), encoding="utf-8")
        ingest_paths([f], idx, rebuild=False, embedder=fake_embedder, progress=False, year=year)
    p = run("ingest.py", "remove", "zzz", "--index-dir", str(idx))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == "error: no report 'zzz' in the index; known: a-2024, c-2024, b-2022, notes\n"


def test_serve_rebuild_with_a_query_rebuilds_then_answers(real_index, tmp_path):
    """`serve.py --rebuild --query 教育` ignored --rebuild and answered from the index as it was (walkthrough). It
    rebuilds from data/ first, as before serving the page; its progress and summary go to stderr, the answer alone
    to stdout."""
    import shutil

    from reportsearch.store import read_manifest

    idx = tmp_path / "index"
    shutil.copytree(real_index, idx)
    version = read_manifest(idx)["version"]
    p = run("serve.py", "--rebuild", "-q", "教育", "-k", "1", "--json", "--index-dir", str(idx))
    assert p.returncode == 0, p.stderr
    assert read_manifest(idx)["version"] == version + 1  # a new version written
    assert "unchanged qinshui-2023: embedded nothing new" in p.stderr  # the rebuild's summary, on stderr
    assert p.stdout.count("\n") == 1 and json.loads(p.stdout)["results"][0]["doc"] == "qinshui-2023"


def test_ingest_output_writes_every_count_with_thousands_separators(monkeypatch, capsys, tmp_path):
    """`indexed 1013 passages …: … reused the vectors of 3,406` (walkthrough): one style for every number."""
    from reportsearch import cli, ingest, store
    from reportsearch.library import UpdateResult

    result = UpdateResult(manifest={"count": 1013, "model": "m", "version": 3, "reports": [{"doc": "x"}] * 6},
                          embedded=1013, pooled=2393, reused=3406)
    monkeypatch.setattr(ingest, "ingest_paths", lambda *a, **k: result)
    assert cli.ingest_main([str(tmp_path), "--index-dir", str(tmp_path / "index"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("indexed 1,013 passages from 6 report(s) with m") and "1013" not in out, out
    assert "embedded 1,013 new passages (+2,393 sentence vectors" in out and "of 3,406 passages" in out
    assert "1,013 passages (0.0 s)" in result.summary()
    reports = [{"doc": "x-2024", "year": 2024, "passages": 1013, "added": "2026-11-30", "title": "X"}]
    monkeypatch.setattr(store, "read_manifest", lambda folder: {"reports": reports})
    assert cli.library_main(["list", "--index-dir", str(tmp_path / "index")]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["x-2024", "2024", "1,013"]


def test_reports_and_a_models_link_are_git_ignored(tmp_path):
    """The README adds files from reports/, which git listed as untracked; `/models/` matched a models folder but
    not a `models` symlink to one (REPORTSEARCH_MODEL_DIR elsewhere, linked in)."""
    import shutil

    git = shutil.which("git")
    if git is None:
        pytest.skip("no git")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    (repo / "reports").mkdir()
    (repo / "reports" / "qinshui-2024.pdf").write_bytes(b"%PDF")
    (tmp_path / "built-models").mkdir()
    (repo / "models").symlink_to(tmp_path / "built-models")
    (repo / "kept.txt").write_text("x", encoding="utf-8")
    subprocess.run([git, "init", "-q"], cwd=repo, check=True)
    p = subprocess.run([git, "status", "--porcelain", "--untracked-files=all"], cwd=repo, capture_output=True,
                       text=True, check=True)
    assert sorted(p.stdout.splitlines()) == ["?? .gitignore", "?? kept.txt"], p.stdout
