"""The report library: add/replace/remove without a full rebuild, the embedding cache, versions and checksums."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPORT, REPORT_B as B, ROOT, FakeEmbedder, index_with_copies
from reportsearch.errors import IndexDamagedError, IndexMismatchError, InputError
from reportsearch.ingest import ingest_paths, remove_reports
from reportsearch.library import EMBEDDING_PROCEDURE
from reportsearch.store import load_index


class CountingEmbedder(FakeEmbedder):
    """Counts what it embeds; the factory below counts how often the model is loaded."""

    def __init__(self):
        self.texts = 0

    def encode_passages(self, texts, progress=False):
        self.texts += len(texts)
        return super().encode_passages(texts)


def add(paths, index, rebuild=False):
    e = CountingEmbedder()
    r = ingest_paths(paths, index, rebuild=rebuild, embedder=e, progress=False)
    return r, e


def test_add_reuses_cached_vectors_and_embeds_only_new_texts(lib):
    src, index = lib
    r1, e1 = add([src / "a.txt"], index)
    assert r1.added == ["a"] and r1.embedded == e1.texts > 0 and r1.reused == 0
    assert r1.manifest["version"] == 1
    before = (index / "manifest.json").read_bytes()
    r2, e2 = add([src / "a.txt"], index)  # unchanged: nothing embedded, nothing written
    assert r2.unchanged == ["a"] and r2.embedded == 0 and e2.texts == 0 and r2.reused == r1.embedded
    assert (index / "manifest.json").read_bytes() == before and r2.manifest["version"] == 1
    assert f"embedded nothing new; reused the vectors of {r1.embedded} passages and sentences already embedded" \
        in r2.summary()
    r3, e3 = add([src / "b.txt"], index)  # one more report: only its texts
    assert r3.added == ["b"] and e3.texts == r3.embedded > 0 and r3.reused == r1.embedded
    store = load_index(index)
    assert [r["doc"] for r in store.manifest["reports"]] == ["a", "b"] and store.version == 2
    assert {p.doc for p in store.passages} == {"a", "b"}


def test_the_summary_says_what_was_embedded_and_what_reused_in_plain_words():
    """`embedded 169 new texts (+410 sentence vectors from the same run), reused 0`: "reused 0" meant nothing to a
    new user (new-user walkthrough); it counts the passages and sentences whose text was already embedded."""
    from reportsearch.library import UpdateResult

    late = UpdateResult(manifest={}, embedded=1, pooled=6, reused=12152).vectors()
    assert late == ("embedded 1 new passage (+6 sentence vectors from the same run); reused the vectors of 12,152 "
                    "passages and sentences already embedded")
    shared = UpdateResult(manifest={}, reused=579, shared=1579).vectors()
    assert shared == ("embedded nothing new; reused the vectors of 579 passages and sentences already embedded; "
                      "1,579 more passages and sentences repeat one of those texts")
    assert UpdateResult(manifest={}, embedded=579).vectors() == (
        "embedded 579 new passages and sentences; reused the vectors of 0 passages and sentences already embedded")


@pytest.mark.parametrize("kind", ["separate", "late"])
def test_reused_counts_the_vectors_taken_from_the_index_once_each(lib, kind):
    """Adding a second year's copy of a report said `reused the vectors of 1,148 …` to an index that held 579
    vectors (walkthrough): it counted every passage and sentence of the new index that the model did not run on.
    It counts the vectors taken from the current index, once each; the rows that repeat a text are said apart."""
    from conftest import REPORT_A

    src, index = lib
    embedder = CountingEmbedder if kind == "separate" else PoolingEmbedder
    run = lambda paths: ingest_paths(paths, index, rebuild=False, embedder=embedder(), progress=False)  # noqa
    r1 = run([src / "a.txt"])
    held = load_index(index)
    assert held.manifest["sentence_vectors"] == kind
    vectors = len({bytes(k) for k in (*held.passage_keys, *held.sentence_keys)})
    assert r1.reused == 0 and r1.embedded + r1.pooled == vectors
    (src / "c.txt").write_text(REPORT_A, encoding="utf-8")  # another report, word for word `a`
    r = run([src / "c.txt"])
    after = load_index(index)
    rows = after.count + len(after.sentence_rows)
    assert r.embedded == r.pooled == 0 and r.reused == vectors < rows and r.reused + r.shared == rows
    assert r.summary().startswith(f"added c: embedded nothing new; reused the vectors of {vectors} passages and "
                                  f"sentences already embedded; {rows - vectors} more passages and sentences repeat "
                                  f"one of those texts; index version 2")
    again = run([src / "c.txt"])  # unchanged: nothing written, the same count
    assert again.unchanged == ["c"] and (again.reused, again.shared) == (r.reused, r.shared)
    gone = remove_reports(["a"], index)  # the vectors of c's texts are kept, once each
    assert gone.reused == vectors and gone.shared == rows // 2 - vectors


def test_two_files_that_give_one_doc_id_are_refused_naming_both(tmp_path):
    """The error named only the second file (new-user walkthrough). Both are named, with how to tell them apart:
    ids from file names (no region or year in the text) by --region/--year one at a time or a new file name; the
    same region and year is one report given twice (a .txt and a .pdf of it, say)."""
    import shutil

    for year in ("2023", "2024"):
        (tmp_path / year).mkdir()
        (tmp_path / year / "notes.txt").write_text("一、甲\n\n坚持教育优先。完成桃园小学主体。", encoding="utf-8")
    a, b = (tmp_path / y / "notes.txt" for y in ("2023", "2024"))
    with pytest.raises(InputError) as e:
        add([a, b], tmp_path / "index")
    assert str(e.value) == (f"{a.resolve()} and {b.resolve()} both give the doc id 'notes' (no region or year found "
                            f"in them): if they are different reports, add them one at a time, each with its own "
                            f"--region or --year (`python ingest.py add FILE --index-dir {tmp_path / 'index'}`), or "
                            f"rename one of the files")
    twice = [tmp_path / "report.txt", tmp_path / "copy.txt"]
    for f in twice:
        shutil.copy(REPORT, f)
    with pytest.raises(InputError, match=r"report.txt and .*copy.txt both give the doc id 'qinshui-2023' \(the same "
                                         r"region and year\): give one version of a report at a time$"):
        add(twice, tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_vectors_reused_are_the_vectors_stored(lib):
    src, index = lib
    add([src / "a.txt", src / "b.txt"], index)
    before = load_index(index)
    remove_reports(["a"], index)
    after = load_index(index)
    keep = [i for i, p in enumerate(before.passages) if p.doc == "b"]
    got = after.dense.index.reconstruct_n(0, after.count)
    assert np.allclose(got, before.dense.index.reconstruct_n(0, before.count)[keep])
    assert [p.id for p in after.passages] == [before.passages[i].id for i in keep]
    assert after.sentence_rows[:, 0].max() < after.count  # sentence rows renumbered to the new passage rows


def test_replace_same_doc_id_and_remove(lib):
    src, index = lib
    add([src / "a.txt", src / "b.txt"], index)
    (src / "b.txt").write_text(B.replace("80座", "90座"), encoding="utf-8")
    r, e = add([src / "b.txt"], index)
    assert r.replaced == ["b"] and 0 < e.texts < r.reused  # only the changed texts are embedded
    texts = " ".join(p.text for p in load_index(index).passages)
    assert "90座" in texts and "80座" not in texts
    r = remove_reports(["a"], index)
    assert r.removed == ["a"] and r.embedded == 0
    assert [x["doc"] for x in load_index(index).manifest["reports"]] == ["b"]


def test_unknown_doc_and_bad_path_change_nothing(lib):
    src, index = lib
    add([src / "a.txt"], index)
    before = (index / "manifest.json").read_bytes()
    with pytest.raises(InputError, match="no report 'zzz'.*known: a"):
        remove_reports(["zzz"], index)
    with pytest.raises(InputError, match="no such file"):
        add([src / "b.txt", src / "missing.txt"], index)
    assert (index / "manifest.json").read_bytes() == before


def test_other_model_is_refused_for_add(lib):
    src, index = lib
    add([src / "a.txt"], index)

    class Other(CountingEmbedder):
        name = "other/model"

    with pytest.raises(IndexMismatchError, match="built with 'fake/bigram-hash'"):
        ingest_paths([src / "b.txt"], index, rebuild=False, embedder=Other(), progress=False)


def test_rebuild_reuses_the_cache_too(lib):
    src, index = lib
    add([src / "a.txt"], index)
    r, e = add([src / "a.txt"], index, rebuild=True)
    assert e.texts == 0 and r.embedded == 0


def test_every_flipped_byte_in_every_file_is_a_named_error(lib):
    src, index = lib
    add([src / "a.txt", src / "b.txt"], index)
    files = [p for p in sorted(index.rglob("*")) if p.is_file()]
    assert {"manifest.json", "dense.faiss", "passages.jsonl", "sentences.npy"} <= {p.name for p in files}
    for f in files:
        data = f.read_bytes()
        for at in (0, len(data) // 2, len(data) - 1):
            flipped = bytearray(data)
            flipped[at] ^= 0x01
            f.write_bytes(bytes(flipped))
            with pytest.raises(IndexMismatchError) as err:
                load_index(index)
            if f.name != "manifest.json":  # the manifest may also fail as bad JSON or a bad schema number
                assert f"index file {f.relative_to(index).as_posix()} is damaged" in str(err.value)
            f.write_bytes(data)
    assert load_index(index).count > 0


def test_damage_names_the_file_and_says_how_to_fix(lib):
    src, index = lib
    add([src / "a.txt"], index)
    f = index / "dense.faiss"
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(IndexDamagedError) as e:
        load_index(index)
    # a.txt lies outside the project, so the manifest knows its name only: the hint says so, with a PATH for it
    assert str(e.value) == (f"index file dense.faiss is damaged: run `python ingest.py PATH --index-dir {index}` to "
                            f"rebuild it, PATH being the file of a (recorded by its name only, a.txt: it was read "
                            f"from outside the project)")


def damage(index):
    f = index / "dense.faiss"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))


def test_a_damaged_library_names_the_one_rebuild_that_keeps_every_report(lib, monkeypatch, caplog):
    """A damaged index of several reports said `run python ingest.py --index-dir X to rebuild it`, and that
    command was refused: it would drop the reports added with `add`, named by doc id only, though the manifest
    records their files (walkthrough). The error now names those files, the command it names works, and the
    rebuild says what it does (it reused nothing: the vectors are in the damaged index) without asking for
    itself."""
    import logging
    import shlex

    from reportsearch import store

    src, index = lib
    monkeypatch.setattr(store, "PROJECT", src.parent)  # the reports are files of the project, as reports/ is
    monkeypatch.chdir(src.parent)
    add([src / "a.txt"], index)
    add([src / "b.txt"], index)
    damage(index)
    cmd = f"`python ingest.py src/a.txt src/b.txt --index-dir {index}`"
    want = f"index file dense.faiss is damaged: run {cmd} to rebuild it"
    with pytest.raises(IndexDamagedError) as e:
        load_index(index)  # what serve.py says
    assert str(e.value) == want
    with pytest.raises(IndexDamagedError) as e:
        add([src / "b.txt"], index)  # what `ingest.py add` says
    assert str(e.value) == want
    with pytest.raises(InputError) as e:  # a rebuild from a.txt alone (say `ingest.py` from data/) is refused ...
        add([src / "a.txt"], index, rebuild=True)
    assert f"also holds b, which a rebuild from these files would drop: give their files too ({cmd})" in str(e.value)
    said = lambda: [r.getMessage() for r in caplog.records  # noqa: E731 - the library's warnings
                    if r.name == "reportsearch.library" and r.levelno >= logging.WARNING]
    assert said() == []  # ... and it did not say it was replacing the index
    paths = shlex.split(cmd.strip("`"))[2:-2]
    assert paths == ["src/a.txt", "src/b.txt"]
    r, emb = add(paths, index, rebuild=True)  # the command the error gives
    assert [x["doc"] for x in load_index(index).manifest["reports"]] == ["a", "b"]
    assert r.reused == 0 and r.embedded == emb.texts > 0
    assert said() == [f"the index in {index}/ does not load (index file dense.faiss is damaged): this "
                               f"rebuild replaces it and reuses none of its vectors"]

    # a recorded file that is gone: named, with a PATH for it, and the rebuild without it
    damage(index)
    (src.parent / "moved").mkdir()
    (src / "b.txt").rename(src.parent / "moved" / "b.txt")
    with pytest.raises(IndexDamagedError) as e:
        load_index(index)
    assert str(e.value) == (f"index file dense.faiss is damaged: run `python ingest.py src/a.txt PATH --index-dir "
                            f"{index}` to rebuild it, PATH being the file of b (src/b.txt, no longer there); or run "
                            f"`python ingest.py src/a.txt --drop-others --index-dir {index}` to rebuild it without b")
    with pytest.raises(InputError, match=r"give their files too \(`python ingest.py src/a.txt PATH --index-dir "
                                         r".*`, PATH being the file of b \(src/b.txt, no longer there\)\)"):
        add([src / "a.txt"], index, rebuild=True)
    add(["src/a.txt", "moved/b.txt"], index, rebuild=True)  # the first command, PATH given
    assert [x["doc"] for x in load_index(index).manifest["reports"]] == ["a", "b"]


def test_a_rebuild_does_not_silently_drop_reports_added_to_the_library(lib):
    """`ingest.py` (a rebuild from data/, say) into a library that also holds a report added with `ingest.py add`
    is refused, naming that report, and changes nothing; given every report's file, or told to drop the others,
    it rebuilds. The same holds for a damaged index whose manifest still reads (the repair its error asks for)."""
    src, index = lib
    add([src / "a.txt"], index)
    add([src / "b.txt"], index)
    before = (index / "manifest.json").read_bytes()
    with pytest.raises(InputError, match=rf"{index}/ also holds b, which a rebuild .* would drop.*"
                                         rf"`python ingest.py add PATH --index-dir {index}`.*--drop-others"):
        add([src / "a.txt"], index, rebuild=True)
    assert (index / "manifest.json").read_bytes() == before
    f = index / "dense.faiss"
    f.write_bytes(f.read_bytes()[:-7] + b"garbage")
    with pytest.raises(InputError, match="also holds b"):
        add([src / "a.txt"], index, rebuild=True)
    r, _ = add([src / "a.txt", src / "b.txt"], index, rebuild=True)  # every report's file: the repair
    assert [x["doc"] for x in r.manifest["reports"]] == ["a", "b"]
    r = ingest_paths([src / "a.txt"], index, rebuild=True, embedder=CountingEmbedder(), progress=False,
                     drop_others=True)
    assert [x["doc"] for x in load_index(index).manifest["reports"]] == ["a"] and r.manifest["version"] == 4


def test_the_drop_check_reads_an_older_manifest_and_knows_a_file_under_a_new_doc_id(lib):
    """A manifest of an older schema, or one edited by hand (its checksum off), still lists its reports: the
    rebuild still refuses to drop them. A report whose file is given again under another doc id (after --year and
    --region) is not dropped but renamed."""
    src, index = lib
    add([src / "a.txt"], index)
    add([src / "b.txt"], index)
    m = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    (index / "manifest.json").write_text(json.dumps(dict(m, schema=1)), encoding="utf-8")
    with pytest.raises(InputError, match="also holds b"):
        add([src / "a.txt"], index, rebuild=True)
    r = ingest_paths([src / "a.txt", src / "b.txt"], index, rebuild=True, embedder=CountingEmbedder(),
                     progress=False)
    assert [x["doc"] for x in r.manifest["reports"]] == ["a", "b"]
    r = ingest_paths([src / "b.txt"], index, rebuild=True, embedder=CountingEmbedder(), progress=False,
                     drop_others=True)
    r = ingest_paths([src / "b.txt"], index, rebuild=True, embedder=CountingEmbedder(), progress=False,
                     year=2024, region="沁水县")  # b's own file, now qinshui-2024: nothing is lost
    assert [x["doc"] for x in r.manifest["reports"]] == ["qinshui-2024"]


def test_a_rebuild_from_the_files_keeps_the_metadata_a_report_was_added_with(lib, caplog):
    """A report whose text gives no year, region or title, added with --region/--year/--title, became doc
    `plan` with none of them when the library was rebuilt from its files (the repair a damaged index's error
    asks for): the drop check let it through by its SHA-256. A file the index records takes its report's recorded
    metadata as fallbacks, in a rebuild and in another `add`; what the command line gives still wins."""
    from conftest import REPORT_A

    src, index = lib
    plan = src / "plan.txt"
    plan.write_text(REPORT_A, encoding="utf-8")
    add([src / "b.txt"], index)
    given = dict(region="阳城县", year=2025, title="阳城县2025年政府工作报告")
    ingest_paths([plan], index, rebuild=False, embedder=CountingEmbedder(), progress=False, **given)
    keep = ("doc", "title", "year", "region", "sha256", "passages", "source")

    def recorded():
        store = load_index(index)
        return ({r["doc"]: {k: r.get(k) for k in keep} for r in store.manifest["reports"]},
                {d: store.documents[d]["meta"].get("doc_title") for d in store.documents})

    before = recorded()
    plan_record = before[0]["yangcheng-2025"]
    assert {k: plan_record[k] for k in ("title", "year", "region", "source")} == {
        "title": "阳城县2025年政府工作报告", "year": 2025, "region": "阳城县", "source": "plan.txt"}
    caplog.clear()
    r, _ = add([src / "b.txt", plan], index, rebuild=True)  # the rebuild from the files, no fallbacks given
    assert r.unchanged == ["b", "yangcheng-2025"] and recorded() == before
    assert "plan.txt" not in caplog.text  # no warning that it has no year or region
    damage(index)  # the repair a damaged index asks for reads the manifest leniently
    r, _ = add([src / "b.txt", plan], index, rebuild=True)
    assert sorted(r.added) == ["b", "yangcheng-2025"] and recorded() == before  # added: the index did not load
    r, _ = add([plan], index)  # another `add` of the same file: the same report, unchanged
    assert r.unchanged == ["yangcheng-2025"] and r.added == [] and recorded() == before
    r = ingest_paths([plan], index, rebuild=True, embedder=CountingEmbedder(), progress=False, year=2026,
                     drop_others=True)  # the command line wins; what it does not give still comes from the record
    assert [(x["doc"], x["year"], x["region"], x["title"]) for x in r.manifest["reports"]] == [
        ("yangcheng-2026", 2026, "阳城县", "阳城县2026年政府工作报告")]  # not the title that names 2025


def test_an_index_whose_manifest_no_longer_reads_can_be_rebuilt(lib):
    """A manifest that is not JSON any more used to leave the index stuck: loading said to rebuild, and the
    rebuild refused the folder as not made by this tool. The folder holds only an index's own files, so the
    rebuild may replace it (which reports it held cannot be told any more); one foreign file still stops it."""
    from reportsearch.errors import IndexMismatchError as Mismatch
    from reportsearch.errors import IndexWriteError

    src, index = lib
    add([src / "a.txt"], index)
    (index / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(Mismatch, match=rf"not valid JSON; run `python ingest.py --index-dir {index}`"):
        load_index(index)
    for foreign in (index / "notes.txt", index / "keyword" / "thesis.docx"):  # one file not of an index's
        foreign.write_text("mine", encoding="utf-8")
        with pytest.raises(IndexWriteError, match="not an index folder"):
            add([src / "a.txt"], index, rebuild=True)
        foreign.unlink()
    r, e = add([src / "a.txt"], index, rebuild=True)
    assert e.texts > 0 and load_index(index).manifest["reports"][0]["doc"] == "a"


def test_a_folder_with_a_manifest_of_another_tool_is_never_taken_for_a_damaged_index(tmp_path, lib):
    """Only a manifest that no longer reads as JSON beside an index's own files lets a rebuild replace a folder
    that `is_our_index` does not recognise: a readable manifest.json of something else is refused as before."""
    from reportsearch.errors import IndexWriteError

    src, _ = lib
    other = tmp_path / "other"
    (other / "keyword").mkdir(parents=True)
    (other / "manifest.json").write_text('{"name": "my-extension"}', encoding="utf-8")
    for name in ("passages.jsonl", "dense.faiss", "README.md"):
        (other / name).write_text("mine", encoding="utf-8")
    before = sorted(p.relative_to(other).as_posix() for p in other.rglob("*"))
    with pytest.raises(IndexWriteError, match="not an index folder"):
        add([src / "a.txt"], other, rebuild=True)
    (other / "manifest.json").write_text("{", encoding="utf-8")
    (other / "passages.jsonl").unlink()  # unreadable, but without an index's own files
    with pytest.raises(IndexWriteError, match="not an index folder"):
        add([src / "a.txt"], other, rebuild=True)
    assert sorted(p.relative_to(other).as_posix() for p in other.rglob("*")) == [b for b in before
                                                                                 if b != "passages.jsonl"]


def test_cli_add_unchanged_embeds_nothing_without_loading_the_model(real_index, tmp_path):
    import shutil

    index = tmp_path / "lib"
    shutil.copytree(real_index, index)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "ingest.py", "add", str(REPORT), "--index-dir", str(index), "--quiet"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr
    assert "embedded nothing new; reused the vectors of" in p.stdout and "unchanged" in p.stdout
    lst = subprocess.run([sys.executable, "ingest.py", "list", "--index-dir", str(index), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    rows = json.loads(lst.stdout)
    assert len(rows) == 1 and {"doc", "title", "year", "region", "passages", "sha256", "added"} <= set(rows[0])
    assert rows[0]["passages"] == load_index(index).count
    bad = subprocess.run([sys.executable, "ingest.py", "remove", "nope", "--index-dir", str(index)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and bad.stderr.startswith("error:") and rows[0]["doc"] in bad.stderr
    assert "sentence_transformers" not in p.stderr and took < 60


def test_filters_apply_before_the_candidate_cut(lib):
    from reportsearch.engine import SearchEngine

    src, index = lib
    add([src / "a.txt", src / "b.txt"], index)
    b_rows = [p for p in load_index(index).passages if p.doc == "b"]
    # as many candidates per side as report b has passages: filtered after the cut, the query's best
    # candidates (all in report a) would leave nothing; filtered before it, every passage of b can come back
    e = SearchEngine.load(index, embedder=FakeEmbedder()).with_config(candidates=len(b_rows))
    assert len(e.passages) > len(b_rows)
    for mode in ("hybrid", "semantic", "keyword"):
        r = e.search("桃园小学 教育", mode=mode, top_k=5, docs=["b"])  # the query matches report a, not b
        assert {h.passage.doc for h in r.results} <= {"b"}
        if mode != "keyword":  # keyword mode returns only passages that contain a query term
            assert len(r.results) == len(b_rows), mode
    r = e.search("教育", mode="semantic", top_k=5, section="（一）产业")
    assert r.results and all("（一）产业" in h.passage.section for h in r.results)
    with pytest.raises(Exception, match="unknown report 'zzz'; known: a, b"):
        e.search("教育", docs=["zzz"])


def test_the_same_paragraph_in_two_years_reports_is_shown_once_the_newer_copy(tmp_path):
    """A paragraph kept word for word from one year's report to the next scores the same in both: the newer
    report's copy is shown (it used to be the older one, by row order), in every mode, once, naming the others
    (they filled the top results, one per year: new-user walkthrough)."""
    from reportsearch.engine import SearchEngine
    from reportsearch.fusion import newer_first_on_ties

    body = "\n\n一、工作回顾\n\n坚持就业优先。新增城镇就业3600人，城镇调查失业率控制在5.5%以内。\n"
    for year in (2023, 2024, 2022):
        (tmp_path / f"r{year}.txt").write_text(f"沁水县{year}年政府工作报告{body}", encoding="utf-8")
    index = tmp_path / "index"
    ingest_paths([tmp_path / "r2023.txt", tmp_path / "r2024.txt", tmp_path / "r2022.txt"], index,
                 embedder=FakeEmbedder(), progress=False)
    e = SearchEngine.load(index, embedder=FakeEmbedder())
    for mode in ("hybrid", "semantic", "keyword"):
        r = e.search("城镇就业", mode=mode, top_k=3)
        assert [h.passage.year for h in r.results] == [2024], mode
        assert [o.year for o in r.results[0].also_in] == [2023, 2022], mode
        assert r.to_dict()["results"][0]["also_in"][0] == {"id": r.results[0].also_in[0].id, "doc": "qinshui-2023",
                                                          "doc_title": "沁水县2023年政府工作报告", "year": 2023}
        one = e.search("城镇就业", mode=mode, top_k=3, year=2023).results  # a chosen year: that report's copy
        assert [h.passage.year for h in one] == [2023] and [o.year for o in one[0].also_in] == [2024, 2022], mode
    ranked = [(i, 1.0) for i in range(3)]  # the tie the engine breaks: rows in the order ingested (2023, 2024, 2022)
    assert [e.passages[i].year for i, _ in newer_first_on_ties(ranked, lambda i: e.passages[i].year)] == \
        [2024, 2023, 2022]


def test_the_section_choices_follow_the_chosen_report(lib):
    from reportsearch.engine import SearchEngine
    from reportsearch.web.ui import ALL_REPORTS, ALL_SECTIONS, section_choices

    src, index = lib
    add([src / "a.txt", src / "b.txt"], index)
    e = SearchEngine.load(index, embedder=FakeEmbedder())
    assert e.sections() == ["（一）民生", "（一）产业"] and e.sections("b") == ["（一）产业"] and e.sections("zz") == []
    assert section_choices(e, "b", "（一）民生") == {"choices": [ALL_SECTIONS, "（一）产业"], "value": ALL_SECTIONS}
    assert section_choices(e, "a", "（一）民生")["value"] == "（一）民生"  # the report has it: it stays chosen
    assert section_choices(e, ALL_REPORTS, None) == {"choices": [ALL_SECTIONS, "（一）民生", "（一）产业"],
                                                     "value": ALL_SECTIONS}


TWO_YEARS_5G = "今年新增5G基站多少座"


@pytest.fixture(scope="module")
def two_years(real_index, real_embedder, tmp_path_factory):
    """The report as shipped (2023) and a copy edited into a 2024 report whose 5G figure is 80座."""
    text = REPORT.read_text(encoding="utf-8")
    assert "2023年2月21日" in text and "新增 5G 基站 65 座" in text
    copy = text.replace("2023年2月21日", "2024年2月20日").replace("新增 5G 基站 65 座", "新增 5G 基站 80 座")
    index, r = index_with_copies(real_index, tmp_path_factory.mktemp("two-years"),
                                 {"qinshui-2024-report.txt": copy}, real_embedder)
    assert r.added == ["qinshui-2024"] and 0 < r.embedded < 10 and r.reused > 500  # only the edited texts
    return index


def test_doc_and_year_filters_give_each_reports_own_figure(two_years, real_embedder):
    from reportsearch.engine import SearchEngine
    from reportsearch.errors import QueryError

    e = SearchEngine.load(two_years, embedder=real_embedder)
    assert [r["doc"] for r in e.reports()] == ["qinshui-2024", "qinshui-2023"]
    by_doc = e.search(TWO_YEARS_5G, top_k=1, docs=["qinshui-2024"]).results[0]
    by_year = e.search(TWO_YEARS_5G, top_k=1, year=2023).results[0]
    assert "80座" in by_doc.passage.text and by_doc.passage.doc == "qinshui-2024"
    assert "65座" in by_year.passage.text and by_year.passage.year == 2023
    with pytest.raises(QueryError, match="no report for the year 1999; years in the index: 2024, 2023"):
        e.search(TWO_YEARS_5G, year=1999)
    c = e.compare(TWO_YEARS_5G).to_dict()
    assert [x["year"] for x in c["reports"]] == [2024, 2023]
    assert "80座" in c["reports"][0]["hit"]["text"] and "65座" in c["reports"][1]["hit"]["text"]
    assert c["reports"][0]["doc_title"].startswith("沁水县2024年")


def test_a_rebuild_repairs_a_damaged_index_that_add_refuses(lib):
    src, index = lib
    add([src / "a.txt"], index)
    f = index / "dense.faiss"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(IndexDamagedError):
        add([src / "b.txt"], index)  # adding needs the current index intact
    r, e = add([src / "a.txt"], index, rebuild=True)  # the rebuild the error message asks for
    assert r.embedded == e.texts > 0 and load_index(index).count > 0


def test_concurrent_writers_lose_no_report(lib):
    import threading

    src, index = lib
    add([src / "a.txt"], index)
    for name, text in (("c", B.replace("80座", "81座")), ("d", B.replace("80座", "82座"))):
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    errors = []

    def writer(path):
        try:
            add([path], index)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(src / n,)) for n in ("b.txt", "c.txt", "d.txt")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = load_index(index)
    assert [r["doc"] for r in store.manifest["reports"]][0] == "a" and store.version == 4
    assert sorted(r["doc"] for r in store.manifest["reports"]) == ["a", "b", "c", "d"]


def test_sentence_vectors_come_from_the_passage_run_with_the_default_model(lib, real_embedder):
    """The ONNX default model reads each passage once (its sentences' vectors are pooled from that run); the
    index records it; an unchanged re-add reuses every vector; `separate` embeds sentences on their own."""
    src, index = lib
    r = ingest_paths([src / "a.txt"], index, rebuild=False, embedder=real_embedder, progress=False)
    store = load_index(index)
    assert store.manifest["sentence_vectors"] == "late"
    assert r.embedded == store.count and r.pooled == len(store.sentence_rows) > store.count and r.reused == 0
    assert "sentence vectors from the same run" in r.summary()
    passage_vecs = store.dense.index.reconstruct_n(0, store.count)
    assert np.allclose(passage_vecs, real_embedder.encode_passages([p.text for p in store.passages]), atol=1e-5)
    again = ingest_paths([src / "a.txt"], index, rebuild=False, embedder=real_embedder, progress=False)
    assert again.embedded == again.pooled == 0 and again.reused == store.count + len(store.sentence_rows)

    sep = ingest_paths([src / "a.txt"], index, rebuild=True, embedder=real_embedder, progress=False,
                       sentence_vectors="separate")
    plain = load_index(index)
    assert plain.manifest["sentence_vectors"] == "separate" and sep.pooled == 0
    # the passage vectors are the same in both kinds and are reused; every sentence runs on its own
    assert sep.reused == plain.count and sep.embedded == len(plain.sentence_rows)
    texts = [plain.passages[i].text[a:b] for i, a, b in plain.sentence_rows.tolist()]
    assert np.allclose(plain.sentence_vectors, real_embedder.encode_passages(texts), atol=1e-5)
    b = ingest_paths([src / "b.txt"], index, rebuild=False, embedder=real_embedder, progress=False)  # kind kept
    assert load_index(index).manifest["sentence_vectors"] == "separate" and b.pooled == 0


def test_late_sentence_vectors_need_an_embedder_that_can_pool(lib):
    src, index = lib
    r, _ = add([src / "a.txt"], index)
    assert r.manifest["sentence_vectors"] == "separate"  # the fake embedder cannot pool: the default follows
    with pytest.raises(InputError, match="late sentence vectors need"):
        ingest_paths([src / "a.txt", src / "b.txt"], index, embedder=CountingEmbedder(), progress=False,
                     sentence_vectors="late")  # a rebuild keeping a
    assert [d["doc"] for d in load_index(index).manifest["reports"]] == ["a"]


class PoolingEmbedder(CountingEmbedder):
    """A fake that can pool: a span's vector is the fake vector of the span's own text."""

    def encode_passages_and_spans(self, texts, spans, progress=False):
        from reportsearch.embedders import encode_spans_alone

        return self.encode_passages(texts), encode_spans_alone(self, texts, spans)


def test_passages_that_share_an_embedding_text_get_their_own_sentence_vectors():
    """`加快发展` as a title over `推进改革。` embeds as `加快发展。推进改革。`, the same text as a passage that says
    both: one model run for both, each sentence the vector of its own words."""
    from reportsearch.library import UpdateResult, _late_vectors, embedding_text, sentence_table
    from reportsearch.records import Passage

    ps = [Passage("p1", "d", ("一、回顾", "（一）民生", "加快发展"), "推进改革。"),
          Passage("p2", "d", ("一、回顾", "（一）民生"), "加快发展。推进改革。")]
    ptexts = [embedding_text(p) for p in ps]
    assert ptexts[0] == ptexts[1]
    _, rows = sentence_table(ps)
    e, result = PoolingEmbedder(), UpdateResult(manifest={})
    _, _, sent_vecs, _ = _late_vectors(ps, ptexts, rows, {}, "m", lambda: e, result, False)
    want = {(0, 0): "推进改革。", (1, 0): "加快发展。", (1, 5): "推进改革。"}
    for (i, a, b), v in zip(rows.tolist(), sent_vecs):
        assert np.allclose(v, e._vec(want[(i, a)])), (i, a, b)
    assert result.embedded == 1 and result.pooled == 2  # one run; two distinct spans of it


def test_removing_from_an_index_made_by_an_older_version_embeds_nothing(lib):
    src, index = lib
    add([src / "a.txt"], index)
    add([src / "b.txt"], index)
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedding"] == EMBEDDING_PROCEDURE
    manifest.pop("embedding")  # as written before vectors were made one passage per run
    from reportsearch.store import _manifest_digest

    manifest["manifest_sha256"] = _manifest_digest(manifest)
    (index / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    r = remove_reports(["a"], index)  # would fail loading the fake model by name if it tried to embed
    assert r.removed == ["a"] and r.embedded == 0 and r.reused > 0
    assert "embedding" not in load_index(index).manifest  # still says how its vectors were made: the old way
    r2, e2 = add([src / "a.txt"], index)  # adding to it: nothing of the old procedure is reused
    assert r2.reused == 0 and e2.texts > 0 and load_index(index).manifest["embedding"] == EMBEDDING_PROCEDURE
