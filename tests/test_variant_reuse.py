"""Cached vectors and the model's runtime: an index never holds vectors of two variants, and says which it holds."""

import logging
import sys

import numpy as np
import pytest

from conftest import REPORT_A as A, FakeEmbedder
from reportsearch.ingest import ingest_paths, remove_reports
from reportsearch.store import load_index


class VariantEmbedder(FakeEmbedder):
    """The fake model on one of its runtimes: the same name, vectors of its own (rolled by the variant) and the
    backend it reports, as OnnxEmbedder does; counts what it embeds."""

    def __init__(self, variant):
        self.variant, self.texts = variant, 0
        self.backend = {"backend": "fake-runtime", "variant": variant}

    def _vec(self, text):
        return np.roll(super()._vec(text), ("int8", "fp32", "torch").index(self.variant))

    def encode_passages(self, texts, progress=False):
        self.texts += len(texts)
        return super().encode_passages(texts)


class PoolingVariantEmbedder(VariantEmbedder):
    """One that pools sentence vectors from its passage runs (late), as the ONNX variants do; a span's vector is
    the fake vector of its own text."""

    def encode_passages_and_spans(self, texts, spans, progress=False):
        from reportsearch.embedders import encode_spans_alone

        return self.encode_passages(texts), encode_spans_alone(self, texts, spans)


KINDS = {"separate": VariantEmbedder, "late": PoolingVariantEmbedder}


def add(paths, index, variant, kind="separate", rebuild=False):
    e = KINDS[kind](variant) if variant else FakeEmbedder()
    return ingest_paths(paths, index, rebuild=rebuild, embedder=e, progress=False), e


def backend(variant):
    return {"backend": "fake-runtime", "variant": variant}


def made_by(index, e) -> bool:
    """Every passage and sentence vector of the index is `e`'s vector of its text."""
    store = load_index(index)
    passages = store.dense.index.reconstruct_n(0, store.count)
    sentences = [store.passages[i].text[a:b] for i, a, b in store.sentence_rows.tolist()]
    return (np.allclose(passages, e.encode_queries([p.text for p in store.passages]), atol=1e-6)
            and np.allclose(store.sentence_vectors, e.encode_queries(sentences), atol=1e-6))


def every_vector(index) -> int:
    store = load_index(index)
    return store.count + len(store.sentence_rows)


@pytest.mark.parametrize("kind", KINDS)
def test_adding_with_another_variant_re_embeds_everything(lib, kind, caplog):
    """`REPORTSEARCH_DEFAULT_VARIANT=fp32 ingest.py add` on an int8 index: int8 vectors of the old reports and
    fp32 vectors of the new one under a manifest that said fp32, before; now every vector is fp32."""
    src, index = lib
    r1, _ = add([src / "a.txt"], index, "int8", kind)
    assert r1.manifest["backend"] == backend("int8") and r1.manifest["sentence_vectors"] == kind
    with caplog.at_level(logging.INFO, logger="reportsearch.library"):
        r2, e2 = add([src / "b.txt"], index, "fp32", kind)
    assert r2.reused == 0 and e2.texts == r2.embedded + r2.pooled == every_vector(index)
    assert load_index(index).manifest["backend"] == backend("fp32") and made_by(index, e2)
    assert "the index was embedded with fake-runtime int8; re-embedding everything with fake-runtime fp32" \
        in caplog.text


@pytest.mark.parametrize("kind", KINDS)
def test_adding_with_the_same_variant_reuses(lib, kind, caplog):
    src, index = lib
    r1, e1 = add([src / "a.txt"], index, "fp32", kind)
    with caplog.at_level(logging.INFO, logger="reportsearch.library"):
        r2, e2 = add([src / "b.txt"], index, "fp32", kind)
    assert r2.reused == r1.embedded + r1.pooled and 0 < e2.texts == r2.embedded + r2.pooled
    assert r2.reused + e2.texts == every_vector(index) and "re-embedding" not in caplog.text
    assert load_index(index).manifest["backend"] == backend("fp32") and made_by(index, e1)


def test_removing_keeps_the_vectors_and_the_variant_recorded(lib, monkeypatch):
    """A removal embeds nothing beside the vectors it keeps, whatever variant the environment asks for."""
    src, index = lib
    _, e = add([src / "a.txt", src / "b.txt"], index, "int8")
    monkeypatch.setenv("REPORTSEARCH_DEFAULT_VARIANT", "fp32")
    r = remove_reports(["a"], index)  # would fail loading the fake model by name if it tried to embed
    assert r.embedded == 0 and r.reused == every_vector(index) > 0
    assert load_index(index).manifest["backend"] == backend("int8") and made_by(index, e)


def test_an_add_of_texts_the_index_holds_embeds_nothing_and_keeps_its_variant(lib):
    """Nothing new to embed: the model does not run, so the index stays one variant and says which."""
    src, index = lib
    _, e = add([src / "a.txt"], index, "int8")
    (src / "c.txt").write_text(A, encoding="utf-8")  # another report, word for word the same as `a`
    r, fp32 = add([src / "c.txt"], index, "fp32")
    # c's rows take a's vectors: each is reused once, and c's rows repeat a's texts
    assert r.added == ["c"] and r.embedded == fp32.texts == 0 and r.reused == r.shared == every_vector(index) // 2
    assert load_index(index).manifest["backend"] == backend("int8") and made_by(index, e)


def test_unchanged_add_with_another_variant_writes_nothing(lib):
    src, index = lib
    add([src / "a.txt"], index, "int8")
    before = (index / "manifest.json").read_bytes()
    r, fp32 = add([src / "a.txt"], index, "fp32")
    assert r.unchanged == ["a"] and fp32.texts == 0 and (index / "manifest.json").read_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_rebuild_with_another_variant_re_embeds_everything(lib, kind):
    src, index = lib
    add([src / "a.txt"], index, "int8", kind)
    r, e = add([src / "a.txt"], index, "fp32", kind, rebuild=True)
    assert r.reused == 0 and e.texts == every_vector(index)
    assert load_index(index).manifest["backend"] == backend("fp32") and made_by(index, e)


def test_an_index_that_records_no_backend_is_re_embedded_by_a_model_that_reports_one(lib, caplog):
    """No `backend`: an embedder that reports none made it (indexes older than `backend` also predate `embedding`
    and are not reused for an add anyway), so a model that says what it runs on re-embeds everything."""
    src, index = lib
    add([src / "a.txt"], index, None)
    assert "backend" not in load_index(index).manifest
    with caplog.at_level(logging.INFO, logger="reportsearch.library"):
        r, e = add([src / "b.txt"], index, "int8")
    assert r.reused == 0 and e.texts == every_vector(index) and made_by(index, e)
    assert load_index(index).manifest["backend"] == backend("int8")
    assert "embedded with an unrecorded runtime; re-embedding everything with fake-runtime int8" in caplog.text


@pytest.mark.parametrize("variant", ["int8", "fp32"])
def test_expected_backend_is_what_load_embedder_gives(variant, monkeypatch):
    """Known without loading the model, for the manifest check; the ONNX variants load in well under a second."""
    from reportsearch.embedders import VARIANT_ENV, expected_backend, load_embedder

    monkeypatch.setenv(VARIANT_ENV, variant)
    assert expected_backend() == load_embedder(None).backend == {"backend": "onnxruntime", "variant": variant}


class StubSentenceTransformer:
    """sentence_transformers.SentenceTransformer without torch: importing and loading torch costs ~25 s here."""

    prompts: dict = {}

    def __init__(self, path, device=None):
        pass

    def get_embedding_dimension(self):
        return 384


def test_expected_backend_of_torch_and_other_models(monkeypatch):
    import types

    from reportsearch.defaultmodel import DEFAULT_MODEL_ID
    from reportsearch.embedders import MODEL_ENV, VARIANT_ENV, expected_backend, load_embedder
    from reportsearch.errors import ModelError

    monkeypatch.setitem(sys.modules, "sentence_transformers",
                        types.SimpleNamespace(SentenceTransformer=StubSentenceTransformer))
    torch = {"backend": "sentence-transformers", "variant": "torch"}
    for spec, variant in ((DEFAULT_MODEL_ID, "torch"), ("BAAI/bge-small-zh-v1.5", None)):
        assert expected_backend(spec, variant) == load_embedder(spec, variant).backend == torch
    monkeypatch.setenv(VARIANT_ENV, "fp16")
    assert expected_backend("BAAI/bge-small-zh-v1.5") == torch  # the variant is the default model's only
    with pytest.raises(ModelError, match="unknown default-model variant 'fp16'"):
        expected_backend()
    monkeypatch.setenv(MODEL_ENV, "BAAI/bge-small-zh-v1.5")
    assert expected_backend() == torch


def test_recorded_variant_of_a_manifest():
    from reportsearch.defaultmodel import DEFAULT_MODEL_ID
    from reportsearch.embedders import recorded_variant

    onnx = {"backend": "onnxruntime", "variant": "fp32"}
    assert recorded_variant({"model": DEFAULT_MODEL_ID, "backend": onnx}) == "fp32"
    assert recorded_variant({"model": DEFAULT_MODEL_ID}) is None  # older indexes record none
    assert recorded_variant({"model": "BAAI/bge-small-zh-v1.5", "backend": onnx}) is None  # another model
    assert recorded_variant({"model": DEFAULT_MODEL_ID, "backend": {"variant": "fp16"}}) is None


def test_queries_run_on_the_variant_the_index_was_embedded_with(real_index, real_embedder, monkeypatch, caplog):
    """$REPORTSEARCH_DEFAULT_VARIANT=fp32 against an int8 index: the queries stay int8 (as the passages), with one
    line saying so; a live swap's embedder of another runtime is not reused."""
    from reportsearch.embedders import VARIANT_ENV
    from reportsearch.engine import SearchEngine

    assert load_index(real_index).manifest["backend"] == {"backend": "onnxruntime", "variant": "int8"}
    monkeypatch.setenv(VARIANT_ENV, "fp32")
    with caplog.at_level(logging.INFO, logger="reportsearch"):
        engine = SearchEngine.load(real_index)
    assert engine.embedder.backend == {"backend": "onnxruntime", "variant": "int8"}
    assert "embedded with the int8 variant" in caplog.text
    assert SearchEngine.load(real_index, embedder=real_embedder).embedder is real_embedder  # same runtime: kept
    other = VariantEmbedder("fp32")
    other.name, other.dim = real_embedder.name, real_embedder.dim
    assert SearchEngine.load(real_index, embedder=other).embedder.backend["variant"] == "int8"


def test_a_live_swap_to_another_runtime_checks_the_new_model_runs(real_index, real_embedder, monkeypatch):
    """The watcher reuses the serving embedder only for the same runtime; a new one must pass `ready()` (as at
    start) before it serves, or the swap fails and the current version stays."""
    from types import SimpleNamespace

    from reportsearch.embedders.onnx import OnnxEmbedder
    from reportsearch.engine import SearchEngine
    from reportsearch.errors import ModelError
    from reportsearch.web.server import watch_index

    other = VariantEmbedder("fp32")
    other.name, other.dim = real_embedder.name, real_embedder.dim
    service = SimpleNamespace(engine=SearchEngine.load(real_index, embedder=real_embedder))
    watcher = watch_index(service, real_index, poll=3600)
    try:
        assert watcher.load(real_index).embedder is real_embedder  # same runtime: kept, nothing loaded
        service.engine = SearchEngine.load(real_index, embedder=real_embedder).with_config()
        service.engine.embedder = other  # serving another runtime than the index records
        checked = []
        monkeypatch.setattr(OnnxEmbedder, "ready", lambda self: checked.append(self.variant))
        assert watcher.load(real_index).embedder.backend["variant"] == "int8" and checked == ["int8"]

        def broken(self):
            raise ModelError("cannot load the model")

        monkeypatch.setattr(OnnxEmbedder, "ready", broken)
        with pytest.raises(ModelError):
            watcher.load(real_index)
    finally:
        watcher.stop()


def test_an_unknown_variant_in_the_environment_does_not_stop_an_index_that_records_its_own(real_index, monkeypatch):
    from reportsearch.embedders import VARIANT_ENV
    from reportsearch.engine import SearchEngine

    monkeypatch.setenv(VARIANT_ENV, "fp16")
    assert SearchEngine.load(real_index).embedder.backend == {"backend": "onnxruntime", "variant": "int8"}
