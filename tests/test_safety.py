"""Never delete what the tool did not make: index and model folders are refused unless empty or our own."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, FakeEmbedder
from reportsearch import store
from reportsearch.defaultmodel import ensure_default_model
from reportsearch.errors import IndexWriteError, ModelError
from reportsearch.ingest import build_index
from reportsearch.store import load_index

MINI = "一、回顾\n\n（一）民生\n\n坚持教育优先。完成桃园小学主体。\n\n建设健康沁水。加快大医院建设，力争投入使用。"


def snapshot(folder: Path) -> dict:
    """Every file under a folder with its bytes' SHA-256 (and the folder's entries), to prove nothing changed."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def report(tmp_path):
    p = tmp_path / "src" / "mini.txt"
    p.parent.mkdir()
    p.write_text(MINI, encoding="utf-8")
    return p


@pytest.fixture
def user_folder(tmp_path):
    d = tmp_path / "thesis"
    (d / "chapters").mkdir(parents=True)
    (d / "thesis.docx").write_bytes(b"PK\x03\x04 my thesis, not backed up")
    (d / "chapters" / "one.md").write_text("第一章", encoding="utf-8")
    return d


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_ingest_refuses_a_user_folder_and_leaves_it_byte_identical(report, user_folder):
    before = snapshot(user_folder)
    p = run("ingest.py", str(report), "--index-dir", str(user_folder), "--quiet")
    assert p.returncode != 0
    assert p.stderr.startswith("error:") and p.stderr.strip().count("\n") == 0, p.stderr
    assert str(user_folder) in p.stderr and "Traceback" not in p.stderr
    assert snapshot(user_folder) == before


def test_ingest_refuses_the_data_folder(tmp_path):
    data = ROOT / "data"
    before = snapshot(data)
    p = run("ingest.py", "--index-dir", "data", "--quiet")
    assert p.returncode != 0 and p.stderr.startswith("error:") and "data" in p.stderr, p.stderr
    assert snapshot(data) == before


def test_serve_refuses_to_build_into_a_user_folder(user_folder):
    before = snapshot(user_folder)
    p = run("serve.py", "--index-dir", str(user_folder), "--rebuild", "--port", "0")
    assert p.returncode != 0 and "error:" in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert "is not an index folder" in p.stderr and str(user_folder) in p.stderr, p.stderr  # the refusal itself
    assert snapshot(user_folder) == before


def test_a_file_given_as_index_dir_is_refused(report, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("keep", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="not a folder"):
        build_index([report], index_dir=f, embedder=FakeEmbedder(), progress=False)
    assert f.read_text(encoding="utf-8") == "keep"


def test_empty_and_readme_only_folders_and_own_index_are_accepted(report, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    build_index([report], index_dir=empty, embedder=FakeEmbedder(), progress=False)
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "README.md").write_text("about this folder", encoding="utf-8")
    build_index([report], index_dir=shipped, embedder=FakeEmbedder(), progress=False)
    build_index([report], index_dir=shipped, embedder=FakeEmbedder(), progress=False)  # our own index: rebuilt
    assert (shipped / "README.md").read_text(encoding="utf-8") == "about this folder"
    assert load_index(shipped).count == 2
    # no leftover temporary or previous-version folders; the writers' lock files stay (empty, reused)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".empty.lock", ".shipped.lock", "empty", "shipped", "src"]
    assert all(p.stat().st_size == 0 for p in tmp_path.glob(".*.lock"))


def test_a_foreign_old_sibling_is_not_deleted(report, tmp_path):
    d = tmp_path / "index"
    build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    squatter = tmp_path / ".index.old"
    squatter.mkdir()
    (squatter / "mine.txt").write_text("not the tool's", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="in the way"):
        build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    assert (squatter / "mine.txt").read_text(encoding="utf-8") == "not the tool's"
    assert load_index(d).count == 2


def test_reading_an_interrupted_swap_deletes_nothing_and_the_next_write_recovers(report, tmp_path):
    d = tmp_path / "index"
    build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    old = tmp_path / ".index.old"
    d.rename(old)  # a crash between the swap's two renames
    before = snapshot(old)
    assert load_index(d).count == 2  # served from the previous index, read-only
    assert snapshot(old) == before and not d.exists()
    build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    assert load_index(d).count == 2 and not old.exists()


def test_model_dir_with_user_files_is_refused_and_untouched(user_folder, monkeypatch):
    before = snapshot(user_folder)
    monkeypatch.setenv("REPORTSEARCH_MODEL_DIR", str(user_folder))
    with pytest.raises(ModelError, match="did not make"):
        ensure_default_model()
    assert snapshot(user_folder) == before


def test_model_dir_refusal_from_the_cli(report, user_folder, tmp_path):
    before = snapshot(user_folder)
    p = run("ingest.py", str(report), "--index-dir", str(tmp_path / "idx"), "--quiet",
            env={"REPORTSEARCH_MODEL_DIR": str(user_folder)})
    assert p.returncode != 0 and p.stderr.startswith("error:") and str(user_folder) in p.stderr, p.stderr
    assert p.stderr.strip().count("\n") == 0
    assert snapshot(user_folder) == before and not (tmp_path / "idx").exists()


def test_manifest_records_portable_source_paths(report, tmp_path, monkeypatch):
    d = tmp_path / "index"
    build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in m["sources"]] == ["mini.txt"]  # outside the project: the file name only
    assert str(tmp_path) not in (d / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in (d / "documents.json").read_text(encoding="utf-8")
    assert store.portable_path(ROOT / "data" / "x.txt") == "data/x.txt"
    monkeypatch.setattr(store, "PROJECT", tmp_path)  # inside the project: relative, and still checked
    build_index([report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in m["sources"]] == ["src/mini.txt"]
