"""The index folder as one unit: round trip, manifest checks, atomic writes (fast, with a fake embedder)."""

import json
import shutil

import numpy as np
import pytest

from conftest import REPORT, FakeEmbedder
from reportsearch.engine import SearchEngine
from reportsearch.errors import IndexMismatchError, IndexMissingError, IndexWriteError, InputError
from reportsearch.ingest import build_index
from reportsearch.store import load_index


@pytest.fixture
def small_report(tmp_path):
    p = tmp_path / "data" / "mini.txt"
    p.parent.mkdir()
    p.write_text("一、回顾\n\n（一）民生\n\n坚持教育优先。完成桃园小学主体。\n\n建设健康沁水。加快大医院建设，力争投入使用。",
                 encoding="utf-8")
    return p


def test_round_trip_and_manifest(tmp_path, small_report):
    d = tmp_path / "index"
    m = build_index([small_report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    manifest = json.loads((d / "manifest.json").read_text())
    for key in ("schema", "model", "dim", "count", "sources", "created"):
        assert key in manifest
    assert manifest["count"] == m["count"] == 2 and manifest["dim"] == 64
    assert manifest["sources"][0]["sha256"] and manifest["sources"][0]["path"].endswith("mini.txt")
    rows = [json.loads(x) for x in (d / "passages.jsonl").read_text().splitlines()]
    assert set(rows[0]) >= {"id", "doc", "section", "text"}
    assert not list(d.rglob("*.pkl")) and not list(d.rglob("*.pickle"))
    e = SearchEngine.load(d, embedder=FakeEmbedder())
    assert e.search("桃园小学", "keyword", 1).results[0].passage.text.startswith("坚持教育优先")


def test_missing_index_says_run_ingest(tmp_path):
    with pytest.raises(IndexMissingError, match="python ingest.py"):
        load_index(tmp_path / "nothing")


def restamp(d):
    """Re-record checksums after an edit, as a buggy writer would: what the loader's own cross-checks must catch."""
    from reportsearch import store

    m = json.loads((d / "manifest.json").read_text())
    m["files"] = store._file_digests(d)
    m["manifest_sha256"] = store._manifest_digest(m)
    (d / "manifest.json").write_text(json.dumps(m))


def _built(tmp_path, small_report):
    d = tmp_path / "index"
    build_index([small_report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    return d


def test_count_mismatch_is_named(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    lines = (d / "passages.jsonl").read_text().splitlines()
    (d / "passages.jsonl").write_text(lines[0] + "\n")
    restamp(d)
    with pytest.raises(IndexMismatchError, match="passages.jsonl holds 1 passages but the manifest says 2"):
        load_index(d)


def test_source_change_is_named(tmp_path, small_report, monkeypatch):
    from reportsearch import store

    monkeypatch.setattr(store, "PROJECT", tmp_path)  # sources are checked when recorded project-relative
    d = _built(tmp_path, small_report)
    small_report.write_text(small_report.read_text() + "\n\n新增一句。", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="changed since the index was built"):
        load_index(d)


def test_model_mismatch_is_named(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    with pytest.raises(IndexMismatchError, match="built with 'fake/bigram-hash'"):
        SearchEngine.load(d, model="some/other-model", embedder=FakeEmbedder())


def test_schema_and_dim_mismatch(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    m = json.loads((d / "manifest.json").read_text())
    (d / "manifest.json").write_text(json.dumps(dict(m, dim=128)))
    restamp(d)
    with pytest.raises(IndexMismatchError, match="dimension"):
        load_index(d)
    (d / "manifest.json").write_text(json.dumps(dict(m, schema=99)))
    with pytest.raises(IndexMismatchError, match="schema"):
        load_index(d)


def test_damaged_part_is_named(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    (d / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexMismatchError, match="index file dense.faiss is damaged"):
        load_index(d)
    restamp(d)  # past the checksums, the loader itself still refuses the file
    with pytest.raises(IndexMismatchError, match="incomplete or damaged"):
        load_index(d)


class ExplodingEmbedder(FakeEmbedder):
    def encode_passages(self, texts, progress=False):
        raise KeyboardInterrupt  # an interrupted run


def test_interrupted_build_leaves_old_index(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    before = (d / "manifest.json").read_text()
    with pytest.raises(KeyboardInterrupt):
        build_index([REPORT], index_dir=d, embedder=ExplodingEmbedder(), progress=False, drop_others=True)
    assert (d / "manifest.json").read_text() == before
    assert load_index(d).count == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".index")] == [".index.lock"]  # no temp folder


def test_readme_survives_rebuild(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    (d / "README.md").write_text("keep me")
    build_index([small_report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    assert (d / "README.md").read_text() == "keep me"


def test_interrupted_swap_is_recovered(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    d.rename(tmp_path / ".index.old")  # crash between the two renames
    assert load_index(d).count == 2
    assert (tmp_path / ".index.old").is_dir()  # reading never moves or deletes; the next write recovers


def test_several_reports_make_one_corpus(tmp_path, small_report):
    other = small_report.parent / "other.txt"
    other.write_text("一、甲\n\n坚持就业优先。新增城镇就业3600人。", encoding="utf-8")
    d = tmp_path / "index"
    build_index([small_report.parent], index_dir=d, embedder=FakeEmbedder(), progress=False)
    store = load_index(d)
    assert {p.doc for p in store.passages} == {"mini", "other"}
    assert np.isfinite(store.sentence_vectors).all()


# ---------------------------------------------------------------- error paths (issue 14)
def test_manifest_that_is_not_json_is_named(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    (d / "manifest.json").write_text('{"schema": 2, "count": ', encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="manifest.json is not valid JSON.*python ingest.py"):
        load_index(d)
    (d / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="manifest.json .*damaged"):
        load_index(d)


def test_sentence_rows_and_vectors_that_disagree(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    rows = np.load(d / "sentence_rows.npy")
    assert len(rows) > 1
    np.save(d / "sentence_rows.npy", rows[:-1])
    with pytest.raises(IndexMismatchError, match="sentence_rows.npy is damaged"):
        load_index(d)
    restamp(d)  # consistent checksums over inconsistent parts: the cross-check still refuses
    with pytest.raises(IndexMismatchError, match="sentence vectors and sentence rows disagree"):
        load_index(d)


def test_damaged_keyword_folder_is_named(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    parts = sorted(p for p in (d / "keyword").rglob("*") if p.is_file())
    assert parts, "the keyword index is a folder of plain files"
    for p in parts:
        p.write_bytes(b"\x00garbage")
    with pytest.raises(IndexMismatchError, match=r"index file keyword/\S+ is damaged"):
        load_index(d)
    restamp(d)
    with pytest.raises(IndexMismatchError, match="incomplete or damaged.*python ingest.py"):
        load_index(d)
    parts[0].unlink()
    with pytest.raises(IndexMismatchError, match=r"keyword/\S+ is missing"):
        load_index(d)


def test_leftover_temporary_folders(tmp_path, small_report):
    d = _built(tmp_path, small_report)
    build = tmp_path / ".index.build-killed"  # what a killed ingest leaves (no manifest: never read)
    build.mkdir()
    (build / "passages.jsonl").write_text("half written")
    assert load_index(d).count == 2
    old = tmp_path / ".index.old"  # an interrupted swap: an index this tool made, cleaned up by the next write
    shutil.copytree(d, old)
    build_index([small_report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    assert not old.exists() and load_index(d).count == 2
    assert (build / "passages.jsonl").read_text() == "half written"  # not ours to judge: left untouched
    old.mkdir()
    (old / "notes.txt").write_text("mine")  # something in the way the tool did not make: refused, kept
    with pytest.raises(IndexWriteError, match=r"\.index\.old"):
        build_index([small_report], index_dir=d, embedder=FakeEmbedder(), progress=False)
    assert (old / "notes.txt").read_text() == "mine" and load_index(d).count == 2


def test_missing_source_file(tmp_path, small_report, monkeypatch):
    from reportsearch import store

    with pytest.raises(InputError, match="no such file"):
        build_index([tmp_path / "data" / "gone.txt"], index_dir=tmp_path / "other", embedder=FakeEmbedder(),
                    progress=False)
    assert not (tmp_path / "other").exists()
    monkeypatch.setattr(store, "PROJECT", tmp_path)  # the source is recorded project-relative
    d = _built(tmp_path, small_report)
    small_report.unlink()  # the index is self-contained: a source that is gone is not a reason to refuse it
    e = SearchEngine.load(d, embedder=FakeEmbedder())
    assert e.search("桃园小学", "keyword", 1).results[0].passage.text.startswith("坚持教育优先")


def test_hints_name_the_index_dir_except_for_the_default_one(tmp_path, monkeypatch):
    from reportsearch import store
    from reportsearch.ingest import DEFAULT_INDEX
    from reportsearch.store import ingest_command, rebuild_hint

    bundled = [{"doc": "qinshui-2023", "source": "data/qinshui-2023-government-work-report.txt"}]
    monkeypatch.setattr(store, "recorded_reports", lambda folder: bundled)  # whatever index/ holds today
    assert rebuild_hint(DEFAULT_INDEX) == "run `python ingest.py` to rebuild it"  # data/ is what it reads anyway
    assert ingest_command(DEFAULT_INDEX, "add PATH") == "`python ingest.py add PATH`"
    quoted = f"'{tmp_path}/my idx'"  # a folder with a space, quoted for the shell
    assert ingest_command(tmp_path / "my idx", "add PATH") == f"`python ingest.py add PATH --index-dir {quoted}`"


def test_the_rebuild_hint_names_the_recorded_files_outside_data(tmp_path, monkeypatch):
    """A plain `python ingest.py` rebuilds from data/ only, so an index holding a report from another file (added
    with `ingest.py add reports/…`) is told to rebuild from every recorded file, as a command line gives them
    (relative to the working folder, quoted); files in data/ alone keep the plain command."""
    from reportsearch import store

    monkeypatch.setattr(store, "PROJECT", tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("data/a.txt", "reports/b 2024.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    reports = [{"doc": "a", "source": "data/a.txt"}, {"doc": "b", "source": "reports/b 2024.txt"}]
    assert store.rebuild_advice("idx", reports[:1]) == "run `python ingest.py --index-dir idx` to rebuild it"
    assert store.rebuild_advice("idx", reports) == ("run `python ingest.py data/a.txt 'reports/b 2024.txt' "
                                                    "--index-dir idx` to rebuild it")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # run from another folder: absolute paths, the script's too
    assert store.rebuild_advice("idx", reports[1:]) == (f"run `python {tmp_path}/ingest.py "
                                                        f"'{tmp_path}/reports/b 2024.txt' --index-dir idx` to "
                                                        "rebuild it")
