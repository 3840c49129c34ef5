"""The live swap's watcher (web/watcher.py) on real index folders with a fake embedder: what counts as new."""

import shutil

from conftest import FakeEmbedder
from reportsearch.engine import SearchEngine
from reportsearch.ingest import build_index
from reportsearch.web.watcher import IndexWatcher

TEXT = "一、回顾\n\n（一）民生\n\n坚持教育优先。完成桃园小学主体。\n\n建设健康沁水。加快大医院建设。\n"


def _build(index, text=TEXT):
    src = index.parent / "r.txt"
    src.write_text(text, encoding="utf-8")
    build_index([src], index_dir=index, embedder=FakeEmbedder(), progress=False)


def test_an_index_deleted_and_built_again_is_served_though_its_version_starts_again(tmp_path):
    """`rm -rf index && python ingest.py` (or a rebuild over a manifest that did not read) writes version 1 again:
    the watcher, which took only a higher version as new, kept serving the old index until a restart
    (review). A manifest other than the one served is new, whatever its version; the one served is not."""
    index = tmp_path / "index"
    _build(index)
    _build(index, TEXT + "\n提高公卫水平。\n")  # version 2
    serving = [SearchEngine.load(index, embedder=FakeEmbedder())]
    assert serving[0].version == 2
    watcher = IndexWatcher(index, lambda: serving[0], lambda d: SearchEngine.load(d, embedder=FakeEmbedder()),
                           lambda e: serving.__setitem__(0, e), poll=3600)
    assert not watcher.check()  # the manifest being served: nothing to do
    shutil.rmtree(index)
    _build(index, TEXT + "\n扩大家庭医生签约。\n")  # from scratch: version 1
    assert watcher.check() and serving[0].version == 1
    assert any("家庭医生" in p.text for p in serving[0].passages)
    assert not watcher.check()
    _build(index, TEXT)  # version 2 again, another index than the version 2 served before
    assert watcher.check() and serving[0].version == 2 and not watcher.check()


def test_a_version_that_does_not_load_is_tried_once(tmp_path):
    index = tmp_path / "index"
    _build(index)
    serving = [SearchEngine.load(index, embedder=FakeEmbedder())]
    tries = []

    def load(d):
        tries.append(d)
        raise RuntimeError("damaged")

    watcher = IndexWatcher(index, lambda: serving[0], load, lambda e: serving.__setitem__(0, e), poll=3600)
    _build(index, TEXT + "\n提高公卫水平。\n")
    assert not watcher.check() and not watcher.check() and len(tries) == 1 and serving[0].version == 1


def test_the_swap_is_logged_with_its_passage_count(tmp_path, caplog):
    index = tmp_path / "index"
    _build(index, "坚持教育优先。\n")
    serving = [SearchEngine.load(index, embedder=FakeEmbedder())]
    watcher = IndexWatcher(index, lambda: serving[0], lambda d: SearchEngine.load(d, embedder=FakeEmbedder()),
                           lambda e: serving.__setitem__(0, e), poll=3600)
    shutil.rmtree(index)
    _build(index, "扩大家庭医生签约。\n")
    assert serving[0].store.count == 1
    with caplog.at_level("WARNING"):
        assert watcher.check()
    assert serving[0].store.count == 1 and "now serving index version 1 (1 passage)" in caplog.text  # not "passages"
